/**
 * Where a figure's text lands, measured from its SVG: every `<text>` (and each of its
 * `<tspan>` lines) as a box in the figure's pixels, from the positions, transforms
 * (translate, and rotate in steps of 90°), nested `<svg>` offsets, font sizes and text
 * anchors the SVG gives, and the advance widths of DejaVu Sans, the font the figures name
 * first ({@linkcode FONT} in ./style.ts). {@linkcode overlappingText} lists the pairs of
 * boxes that overlap, so that a test can hold a figure to "no text drawn over other text"
 * at the size it is read (a mail attachment: a PNG 1200 px wide).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { overlappingText, textBoxes } from "./textbox.ts";
 * const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50" font-size="10">' +
 *   '<text x="10" y="20">soft lockup</text><text x="30" y="22">20 s</text>' +
 *   '<text x="10" y="45">fine</text></svg>';
 * assertEquals(textBoxes(svg).length, 3);
 * assertEquals(overlappingText(svg).map(([a, b]) => [a.text, b.text]), [["soft lockup", "20 s"]]);
 * ```
 * @module
 */

import { ASCENT, DESCENT, textWidth } from "./font.ts";
import { type DomElement, parseSvg } from "./svg.ts";

/** One line of text as drawn: its box in the figure's pixels. */
export interface TextBox {
  /** The text. */
  readonly text: string;
  /** Left, top, right, bottom, px. */
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/** An affine map as [a, b, c, d, e, f] (SVG's matrix order). */
export type Matrix = [number, number, number, number, number, number];

const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];

function multiply(m: Matrix, n: Matrix): Matrix {
  return [
    m[0] * n[0] + m[2] * n[1],
    m[1] * n[0] + m[3] * n[1],
    m[0] * n[2] + m[2] * n[3],
    m[1] * n[2] + m[3] * n[3],
    m[0] * n[4] + m[2] * n[5] + m[4],
    m[1] * n[4] + m[3] * n[5] + m[5],
  ];
}

/**
 * The matrix of an SVG `transform` attribute (translate, rotate, scale, matrix); its last
 * two entries are where the element's origin lands.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseTransform } from "./textbox.ts";
 * assertEquals(parseTransform("translate(12,40)"), [1, 0, 0, 1, 12, 40]);
 * assertEquals(parseTransform(null), [1, 0, 0, 1, 0, 0]);
 * ```
 */
export function parseTransform(t: string | null): Matrix {
  let m = IDENTITY;
  if (!t) return m;
  for (const [, fn, argText] of t.matchAll(/(\w+)\s*\(([^)]*)\)/g)) {
    const a = argText.split(/[\s,]+/).filter((s) => s !== "").map(Number);
    let n: Matrix;
    if (fn === "translate") n = [1, 0, 0, 1, a[0] ?? 0, a[1] ?? 0];
    else if (fn === "scale") n = [a[0], 0, 0, a[1] ?? a[0], 0, 0];
    else if (fn === "matrix") n = a as Matrix;
    else if (fn === "rotate") {
      const r = ((a[0] ?? 0) * Math.PI) / 180;
      const [cx, cy] = [a[1] ?? 0, a[2] ?? 0];
      n = multiply(
        multiply([1, 0, 0, 1, cx, cy], [Math.cos(r), Math.sin(r), -Math.sin(r), Math.cos(r), 0, 0]),
        [1, 0, 0, 1, -cx, -cy],
      );
    } else throw new Error(`textBoxes: transform ${fn}() is not handled`);
    m = multiply(m, n);
  }
  return m;
}

/** Inherited text style. */
interface Style {
  size: number;
  anchor: string;
  bold: boolean;
}

function styleOf(el: DomElement, parent: Style): Style {
  const css = el.getAttribute("style") ?? "";
  const cssSize = /font-size:\s*([\d.]+)px/.exec(css)?.[1];
  const attrSize = el.getAttribute("font-size");
  const size = cssSize !== undefined
    ? Number(cssSize)
    : attrSize !== null && /^[\d.]+(px)?$/.test(attrSize)
    ? parseFloat(attrSize)
    : parent.size;
  const weight = /font-weight:\s*(\w+)/.exec(css)?.[1] ?? el.getAttribute("font-weight");
  return {
    size,
    anchor: el.getAttribute("text-anchor") ?? parent.anchor,
    bold: weight === null ? parent.bold : weight === "bold" || Number(weight) >= 600,
  };
}

/** A length attribute in px (`12`, `0.32em`), 0 when absent. */
function length(v: string | null, size: number): number {
  if (v === null || v.trim() === "") return 0;
  const first = v.trim().split(/[\s,]+/)[0];
  return first.endsWith("em") ? parseFloat(first) * size : parseFloat(first);
}

interface Node extends DomElement {
  readonly childNodes: Iterable<Node>;
  readonly nodeType: number;
  readonly textContent: string | null;
}

/** Every line of text in `svgText`, as boxes in the root's pixels. */
export function textBoxes(svgText: string): TextBox[] {
  const root = parseSvg(svgText) as Node;
  const out: TextBox[] = [];
  const rootStyle = styleOf(root, { size: 16, anchor: "start", bold: false });
  const walk = (el: Node, m: Matrix, st: Style) => {
    for (const child of el.childNodes) {
      if (child.nodeType !== 1) continue;
      const tag = child.tagName.toLowerCase();
      if (tag === "style" || tag === "title" || tag === "defs") continue;
      let cm = multiply(m, parseTransform(child.getAttribute("transform")));
      const cs = styleOf(child, st);
      if (tag === "svg") {
        cm = multiply(cm, [
          1,
          0,
          0,
          1,
          Number(child.getAttribute("x") ?? 0),
          Number(child.getAttribute("y") ?? 0),
        ]);
        walk(child, cm, cs);
      } else if (tag === "text") {
        measureText(child, cm, cs, out);
      } else walk(child, cm, cs);
    }
  };
  walk(root, IDENTITY, rootStyle);
  return out;
}

function measureText(el: Node, m: Matrix, st: Style, out: TextBox[]): void {
  const x = length(el.getAttribute("x"), st.size) + length(el.getAttribute("dx"), st.size);
  let y = length(el.getAttribute("y"), st.size) + length(el.getAttribute("dy"), st.size);
  const spans = [...el.childNodes].filter((c) => c.nodeType === 1 && c.tagName === "tspan");
  if (spans.length === 0) {
    box(el.textContent ?? "", x, y, m, st, out);
    return;
  }
  for (const s of spans) {
    const ss = styleOf(s, st);
    const sx = s.getAttribute("x") !== null ? length(s.getAttribute("x"), ss.size) : x;
    y += length(s.getAttribute("dy"), ss.size);
    if (s.getAttribute("y") !== null) y = length(s.getAttribute("y"), ss.size);
    box(s.textContent ?? "", sx, y, m, ss, out);
  }
}

function box(text: string, x: number, y: number, m: Matrix, st: Style, out: TextBox[]): void {
  if (text.trim() === "") return;
  const w = textWidth(text, st.size, st.bold);
  const left = st.anchor === "middle" ? x - w / 2 : st.anchor === "end" ? x - w : x;
  const corners = [
    [left, y - ASCENT * st.size],
    [left + w, y - ASCENT * st.size],
    [left, y + DESCENT * st.size],
    [left + w, y + DESCENT * st.size],
  ].map(([px, py]) => [m[0] * px + m[2] * py + m[4], m[1] * px + m[3] * py + m[5]]);
  out.push({
    text,
    x0: Math.min(...corners.map((c) => c[0])),
    y0: Math.min(...corners.map((c) => c[1])),
    x1: Math.max(...corners.map((c) => c[0])),
    y1: Math.max(...corners.map((c) => c[1])),
  });
}

/**
 * Pairs of text boxes that overlap by more than `tolerance` px both ways (a glyph's side
 * bearing, or one line's descent touching the next one's ascent, is not an overlap).
 */
export function overlappingText(svgText: string, tolerance = 1): [TextBox, TextBox][] {
  const boxes = textBoxes(svgText);
  const out: [TextBox, TextBox][] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
      const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
      if (w > tolerance && h > tolerance) out.push([a, b]);
    }
  }
  return out;
}

/** Text boxes that reach outside the figure (`width` × `height` px) by more than 1 px. */
export function textOutside(svgText: string): TextBox[] {
  const root = parseSvg(svgText);
  const w = Number(root.getAttribute("width")), h = Number(root.getAttribute("height"));
  return textBoxes(svgText).filter((b) => b.x0 < -1 || b.y0 < -1 || b.x1 > w + 1 || b.y1 > h + 1);
}
