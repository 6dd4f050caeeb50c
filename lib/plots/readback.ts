/**
 * A figure's SVG read back, for the checks that hold figures to their rules: where Plot
 * drew each mark ({@linkcode markCentres}), dots of different designs that sit on each
 * other ({@linkcode crowdedDots}: the rule of ./dodge.ts), and axes whose tick labels mix
 * two formats ({@linkcode mixedTickAxes}: the rule of `TickStyle` in ./style.ts).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { markCentres } from "./readback.ts";
 * const svg = `<svg xmlns="http://www.w3.org/2000/svg"><g aria-label="dot" stroke="red">` +
 *   `<g transform="translate(300,0)"><path transform="translate(12,40)" d="M0,0"/></g></g></svg>`;
 * assertEquals(markCentres(svg), [{ panel: "0:translate(300,0)", series: "red", x: 12, y: 40 }]);
 * ```
 * @module
 */

import { type DomElement, parseSvg } from "./svg.ts";
import { parseTransform } from "./textbox.ts";

/** A mark as drawn: its chart and panel, its series (colour) and its centre in px. */
export interface MarkCentre {
  /** Chart index in the figure and the transforms of its facet ("0:translate(305,0)"). */
  panel: string;
  /** The mark's stroke colour, else its fill (one per series for dots). */
  series: string;
  /** Centre x, px, within the panel. */
  x: number;
  /** Centre y, px, within the panel. */
  y: number;
}

type Node = DomElement & { children: Iterable<Node>; parentElement: Node | null };

/**
 * The marks of a figure's SVG drawn by Plot marks whose group is `aria-label` `label`
 * ("dot", "x-axis tick label", …): each symbol, circle or text, by chart and facet, with
 * its centre within that panel. Marks with `fill="none"` (the rings that highlight another
 * dot) belong to no series and are skipped.
 */
export function markCentres(svgText: string, label = "dot"): MarkCentre[] {
  const out: MarkCentre[] = [];
  let chart = -1; // the nested <svg> of each chart; marks in the root alone are chart 0
  const walk = (n: Node, facet: string, mark: Node | null) => {
    for (const c of n.children) {
      const tag = c.tagName.toLowerCase();
      if (tag === "svg") {
        chart++;
        walk(c, "", null);
      } else if (tag === "g") {
        const isMark = mark === null && c.getAttribute("aria-label") === label;
        walk(c, mark ? `${facet}${c.getAttribute("transform") ?? ""}` : "", isMark ? c : mark);
      } else if (mark && ["path", "circle", "text"].includes(tag)) {
        const style = (a: string) => c.getAttribute(a) ?? closest(mark, c, a);
        if (style("fill") === "none") continue;
        const [, , , , tx, ty] = parseTransform(c.getAttribute("transform"));
        out.push({
          panel: `${Math.max(chart, 0)}:${facet}`,
          series: style("stroke") ?? style("fill") ?? "",
          x: tag === "circle" ? Number(c.getAttribute("cx")) + tx : tx,
          y: tag === "circle" ? Number(c.getAttribute("cy")) + ty : ty,
        });
      }
    }
  };
  walk(parseSvg(svgText) as Node, "", null);
  return out;
}

/** An attribute of `el` or of the nearest group between it and the dot mark `top`. */
function closest(top: Node, el: Node, name: string): string | null {
  for (let n = el.parentElement; n; n = n.parentElement) {
    const v = n.getAttribute(name);
    if (v !== null) return v;
    if (n === top) return null;
  }
  return null;
}

/**
 * Pairs of dots of different series in one panel whose centres are closer than `r` px:
 * marks one hides under another.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { crowdedDots } from "./readback.ts";
 * const svg = `<svg xmlns="http://www.w3.org/2000/svg"><g aria-label="dot">` +
 *   `<g stroke="red"><circle cx="10" cy="10" r="3"/></g>` +
 *   `<g stroke="blue"><circle cx="12" cy="10" r="3"/><circle cx="40" cy="10" r="3"/></g></g></svg>`;
 * assertEquals(crowdedDots(svg, 9).length, 1);
 * ```
 */
export function crowdedDots(svgText: string, r: number): [MarkCentre, MarkCentre][] {
  const dots = markCentres(svgText, "dot");
  const out: [MarkCentre, MarkCentre][] = [];
  for (let i = 0; i < dots.length; i++) {
    for (let j = i + 1; j < dots.length; j++) {
      const a = dots[i], b = dots[j];
      if (a.panel === b.panel && a.series !== b.series && Math.hypot(a.x - b.x, a.y - b.y) < r) {
        out.push([a, b]);
      }
    }
  }
  return out;
}

/** One axis of a figure whose tick labels mix the power form and plain digits. */
export interface MixedAxis {
  /** Chart index in the figure and the axis' aria-label ("1: y-axis tick label"). */
  axis: string;
  /** Its tick labels, in drawing order. */
  labels: string[];
}

/** A tick label in the power form: 10ⁿ, or m×10ⁿ. */
const POWER = /(^|×|-)10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+/;

/**
 * Axes (Plot's `x-axis tick label` and `y-axis tick label` marks, one per axis, over all
 * its panels) whose tick labels mix the two formats of `TickStyle` (./style.ts): some in
 * the power form (10ⁿ, m×10ⁿ) and some in plain digits, where 0, 1 and 10 (with or
 * without a unit after them) stand beside either. A label that does not start with a
 * number (a design's name on a categorical band, "maple-v2") is neither.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { mixedTickAxes } from "./readback.ts";
 * const axis = (ticks: string[]) => `<svg xmlns="http://www.w3.org/2000/svg">` +
 *   `<g aria-label="y-axis tick label">${ticks.map((t) => `<text>${t}</text>`).join("")}</g></svg>`;
 * assertEquals(mixedTickAxes(axis(["500,000", "1.0×10⁶"])).length, 1);
 * assertEquals(mixedTickAxes(axis(["1", "10", "10²", "10³"])), []);
 * assertEquals(mixedTickAxes(axis(["0 B", "20,000 B", "40,000 B"])), []);
 * assertEquals(mixedTickAxes(axis(["10²", "10³", "maple-v2"])), []);
 * ```
 */
export function mixedTickAxes(svgText: string): MixedAxis[] {
  const out: MixedAxis[] = [];
  let chart = -1; // the nested <svg> of each chart; marks in the root alone are chart 0
  const walk = (n: Node) => {
    for (const c of n.children) {
      const tag = c.tagName.toLowerCase();
      if (tag === "svg") chart++;
      const label = c.getAttribute("aria-label") ?? "";
      if (tag === "g" && /^[xy]-axis tick label$/.test(label)) {
        const labels = [...c.querySelectorAll("text")].map((t) =>
          ((t as unknown as { textContent: string }).textContent ?? "").trim()
        );
        const power = labels.filter((l) => POWER.test(l));
        const digits = labels.filter((l) =>
          !POWER.test(l) && /^-?\d/.test(l) && !/^-?(0|1|10)(\s.*)?$/.test(l.replace(/[×]$/, ""))
        );
        if (power.length > 0 && digits.length > 0) {
          out.push({ axis: `${Math.max(chart, 0)}: ${label}`, labels });
        }
      } else walk(c);
    }
  };
  walk(parseSvg(svgText) as Node);
  return out;
}
