/**
 * Figures as standalone SVG: Observable Plot renders into a linkedom document (no
 * browser), and {@linkcode composeFigure} wraps the chart in one `<svg>` with its title,
 * subtitle, legend and notes (Plot's own legends and captions are HTML, which an `.svg`
 * file cannot hold). A {@linkcode Figure} displays itself in Deno's Jupyter kernel as
 * `image/svg+xml`, and {@linkcode countMarks} reads an SVG back for tests.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { composeFigure, countMarks, plotDocument } from "./svg.ts";
 * import * as Plot from "@observablehq/plot";
 * const chart = Plot.plot({ document: plotDocument(), width: 300, height: 200,
 *   marks: [Plot.dot([1, 2, 3], { x: (d: number) => d, y: (d: number) => d })] });
 * const fig = composeFigure({ name: "demo", title: "Demo", chart, legend: [] });
 * assertEquals(countMarks(fig.svg).dot, 3);
 * ```
 * @module
 */

import { XMLValidator } from "fast-xml-parser";
import { DOMParser, parseHTML } from "linkedom";
import { type Drawn, FIGURE_MIME } from "./drawn.ts";
import { escapeXml, FONT, strategyStyle } from "./style.ts";
import type { Stated } from "./takeaway.ts";
import { textWidth } from "./font.ts";

/**
 * The part of a DOM element the figures use (lib/ is checked without the DOM library;
 * linkedom provides these at run time).
 */
export interface DomElement {
  /** Tag name. */
  readonly tagName: string;
  /** The element as markup. */
  readonly outerHTML: string;
  /** An attribute, or null. */
  getAttribute(name: string): string | null;
  /** Set an attribute. */
  setAttribute(name: string, value: string): void;
  /** Descendants matching a CSS selector. */
  querySelectorAll(selector: string): Iterable<DomElement> & { readonly length: number };
}

/** The document Plot renders into (one per process is enough). */
let doc: object | null = null;

/** A linkedom document for `Plot.plot({ document })`. */
export function plotDocument(): object {
  if (doc === null) {
    const window = parseHTML(
      "<!DOCTYPE html><html><head></head><body></body></html>",
    ) as unknown as {
      document: object;
    };
    doc = window.document;
  }
  return doc;
}

/** One legend entry. */
export interface LegendItem {
  /** Text. */
  label: string;
  /** Colour. */
  color: string;
  /**
   * `line` (a stroke with an optional dash, and the symbol of its dots when given), `dot`
   * (a symbol), `rule` (a dashed line), `ring`, `tick` (a short vertical stroke) or
   * `heading` (the label alone, starting a new row: what the entries after it are).
   */
  kind: "line" | "dot" | "rule" | "ring" | "tick" | "heading";
  /** stroke-dasharray for `line` and `rule`. */
  dash?: string;
  /** Dot drawn hollow. */
  hollow?: boolean;
  /**
   * Dot shape: `circle` (default), `square`, `triangle`, `diamond`, `star`, `cross`,
   * `times`, `wye`.
   */
  symbol?: string;
}

/**
 * One legend entry per strategy, in the given order: its colour, symbol and (for `line`
 * swatches, the default; `dot` for a figure of dots) its dash.
 */
export function strategyLegend(
  strategies: readonly string[],
  kind: "line" | "dot" = "line",
): LegendItem[] {
  return strategies.map((s) => {
    const st = strategyStyle(s);
    return kind === "line"
      ? {
        label: st.label,
        color: st.color,
        kind,
        dash: st.dash,
        symbol: st.symbol,
        hollow: st.hollow,
      }
      : { label: st.label, color: st.color, kind, symbol: st.symbol, hollow: st.hollow };
  });
}

/** What a figure is made of. */
export interface FigureParts {
  /** File stem (`01-cost-vcpus`); the SVG goes to `<out>/<name>.svg`. */
  name: string;
  /** Title line. */
  title: string;
  /** Line under the title: what is selected and how. */
  subtitle?: string;
  /** The Plot chart (an SVG element), or several stacked top to bottom. */
  chart: DomElement | DomElement[];
  /** Legend entries, drawn above the chart. */
  legend: LegendItem[];
  /** Lines drawn under the chart (assumptions, units, caveats). */
  notes?: string[];
  /** The facts, ratios and constants behind the numbers of the title, subtitle, legend and notes. */
  stated?: Stated;
  /** What the chart drew, per CSV (lib/plots/drawn.ts). */
  drawn?: Drawn[];
}

/** What a figure states and drew, as its Jupyter bundle carries it ({@linkcode FIGURE_MIME}). */
export interface FigureRecord {
  /** File stem. */
  name: string;
  /** Title. */
  title: string;
  /** Facts, ratios and constants of its text. */
  stated: Stated;
  /** What it drew, per CSV. */
  drawn: Drawn[];
  /**
   * Set for a picture drawn elsewhere and shown as it is (a verify report's SVG): the code
   * that drew it, which records no rows here.
   */
  drawnBy?: string;
}

/** The key Deno's Jupyter kernel looks up to display a value (`Deno.jupyter.$display`). */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display");

/** A finished figure: standalone SVG text that shows itself in Jupyter. */
export class Figure {
  /** File stem. */
  readonly name: string;
  /** Title. */
  readonly title: string;
  /** The whole SVG document text. */
  readonly svg: string;
  /** What its text states and what it drew. */
  readonly record: FigureRecord;

  /** A figure from its SVG text (and what it states and drew). */
  constructor(name: string, title: string, svg: string, record?: Partial<FigureRecord>) {
    this.name = name;
    this.title = title;
    this.svg = svg;
    this.record = {
      name,
      title,
      stated: record?.stated ?? { facts: [], ratios: [], constants: [] },
      drawn: record?.drawn ?? [],
      ...(record?.drawnBy === undefined ? {} : { drawnBy: record.drawnBy }),
    };
  }

  /** Deno's Jupyter kernel calls this (Deno.jupyter.$display) to show the value. */
  [JUPYTER_DISPLAY](): Record<string, unknown> {
    return {
      "image/svg+xml": this.svg,
      "text/plain": `[figure ${this.name}: ${this.title}]`,
      [FIGURE_MIME]: this.record,
    };
  }
}

const SYMBOL_PATHS: Record<string, (r: number) => string> = {
  square: (r) => `M${-r},${-r}h${2 * r}v${2 * r}h${-2 * r}z`,
  triangle: (r) => `M0,${-r * 1.2}L${r * 1.1},${r * 0.8}L${-r * 1.1},${r * 0.8}z`,
  diamond: (r) => `M0,${-r * 1.3}L${r},0L0,${r * 1.3}L${-r},0z`,
  star: (r) => {
    let d = "";
    for (let i = 0; i < 10; i++) {
      const a = (Math.PI / 5) * i - Math.PI / 2;
      const rr = i % 2 === 0 ? r * 1.3 : r * 0.55;
      d += `${i === 0 ? "M" : "L"}${(rr * Math.cos(a)).toFixed(2)},${
        (rr * Math.sin(a)).toFixed(2)
      }`;
    }
    return d + "z";
  },
  cross: (r) => `M${-r},0H${r}M0,${-r}V${r}`,
  times: (r) => `M${-r},${-r}L${r},${r}M${-r},${r}L${r},${-r}`,
  wye: (r) => {
    const arm = (a: number) =>
      `M0,0L${(r * 1.2 * Math.cos(a)).toFixed(2)},${(r * 1.2 * Math.sin(a)).toFixed(2)}`;
    return arm(-Math.PI / 2) + arm(Math.PI / 6) + arm((5 * Math.PI) / 6);
  },
};

/** Symbols drawn as strokes only (no fill). */
const STROKED = new Set(["cross", "times", "wye"]);

function symbolSwatch(sym: string, color: string, hollow: boolean, x: number, y: number): string {
  const c = escapeXml(color);
  const paint = STROKED.has(sym)
    ? `fill="none" stroke="${c}" stroke-width="2"`
    : hollow
    ? `fill="white" stroke="${c}" stroke-width="1.8"`
    : `fill="${c}" stroke="${c}"`;
  if (sym === "circle" || !SYMBOL_PATHS[sym]) return `<circle cx="${x}" cy="${y}" r="5" ${paint}/>`;
  return `<path transform="translate(${x},${y})" d="${SYMBOL_PATHS[sym](5)}" ${paint}/>`;
}

function legendSwatch(it: LegendItem, x: number, y: number): string {
  const c = escapeXml(it.color);
  switch (it.kind) {
    case "line":
      return `<line x1="${x}" y1="${y}" x2="${x + 28}" y2="${y}" stroke="${c}" stroke-width="2.5"` +
        (it.dash ? ` stroke-dasharray="${it.dash}"` : "") + "/>" +
        (it.symbol ? symbolSwatch(it.symbol, it.color, it.hollow ?? false, x + 14, y) : "");
    case "rule":
      return `<line x1="${x}" y1="${y}" x2="${x + 28}" y2="${y}" stroke="${c}" stroke-width="2"` +
        ` stroke-dasharray="${it.dash ?? "6,4"}"/>`;
    case "ring":
      return `<circle cx="${x + 14}" cy="${y}" r="7" fill="none" stroke="${c}" stroke-width="2"/>`;
    case "tick":
      return `<line x1="${x + 14}" y1="${y - 7}" x2="${x + 14}" y2="${
        y + 7
      }" stroke="${c}" stroke-width="2"/>`;
    case "heading":
      return "";
    case "dot":
      return symbolSwatch(it.symbol ?? "circle", it.color, it.hollow ?? false, x + 14, y);
  }
}

/**
 * One SVG: white background, title, subtitle, legend rows (wrapped to the chart width),
 * the chart as a nested `<svg>`, then the notes. Legend and notes carry
 * `aria-label="legend"` / `"notes"` so that mark counts skip them.
 */
export function composeFigure(parts: FigureParts): Figure {
  const charts = Array.isArray(parts.chart) ? parts.chart : [parts.chart];
  for (const chart of charts) {
    if (chart.tagName.toLowerCase() !== "svg") {
      throw new Error(
        `figure ${parts.name}: a chart must be an <svg> (no Plot title/legend/caption options)`,
      );
    }
  }
  const cw = Math.max(...charts.map((c) => Number(c.getAttribute("width"))));
  const pad = 16;
  const width = Math.max(cw + 2 * pad, 480);
  const out: string[] = [];
  let y = pad - 6;
  const title: string[] = [];
  for (const line of wrap(parts.title, width - 2 * pad, FONT.title, true)) {
    y += FONT.title + 6;
    title.push(
      `<text x="${pad}" y="${y}" font-size="${FONT.title}" font-weight="bold">${
        escapeXml(line)
      }</text>`,
    );
  }
  out.push(`<g aria-label="title">${title.join("")}</g>`);
  if (parts.subtitle) {
    const sub: string[] = [];
    for (const line of wrap(parts.subtitle, width - 2 * pad, FONT.subtitle)) {
      y += FONT.subtitle + 6;
      sub.push(
        `<text x="${pad}" y="${y}" font-size="${FONT.subtitle}" fill="#444">${
          escapeXml(line)
        }</text>`,
      );
    }
    out.push(`<g aria-label="subtitle">${sub.join("")}</g>`);
  }
  if (parts.legend.length > 0) {
    y += 14;
    const legend: string[] = [];
    let x = pad;
    let ly = y + 8;
    for (const [i, it] of parts.legend.entries()) {
      const heading = it.kind === "heading";
      const w = heading
        ? textWidth(it.label, FONT.body, true) + 14
        : 36 + textWidth(it.label, FONT.body) + 18;
      if ((x + w > width - pad && x > pad) || (heading && i > 0)) {
        x = pad;
        ly += FONT.body + 10;
      }
      legend.push(legendSwatch(it, x, ly));
      legend.push(
        `<text x="${heading ? x : x + 34}" y="${ly + FONT.body * 0.35}" font-size="${FONT.body}"` +
          `${heading ? ' font-weight="bold"' : ""}>${escapeXml(it.label)}</text>`,
      );
      x += w;
    }
    out.push(`<g aria-label="legend">${legend.join("")}</g>`);
    y = ly + 12;
  }
  y += 6;
  charts.forEach((chart, i) => {
    if (i > 0) y += 12;
    chart.setAttribute("x", String(pad));
    chart.setAttribute("y", String(y));
    out.push(chart.outerHTML);
    y += Number(chart.getAttribute("height"));
  });
  if (parts.notes && parts.notes.length > 0) {
    const notes: string[] = [];
    y += 6;
    for (const note of parts.notes) {
      for (const line of wrap(note, width - 2 * pad, FONT.note)) {
        y += FONT.note + 5;
        notes.push(
          `<text x="${pad}" y="${y}" font-size="${FONT.note}" fill="#333">${
            escapeXml(line)
          }</text>`,
        );
      }
    }
    out.push(`<g aria-label="notes">${notes.join("")}</g>`);
  }
  const height = Math.ceil(y + pad);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="${FONT.family}" font-size="${FONT.body}">` +
    `<title>${escapeXml(parts.title)}</title>` +
    `<rect width="100%" height="100%" fill="white"/>${out.join("")}</svg>`;
  return new Figure(parts.name, parts.title, svg, { stated: parts.stated, drawn: parts.drawn });
}

/**
 * Words of `text` in lines no wider than `width` px at `size` px, bold or not (a word too
 * wide alone stays).
 */
export function wrap(text: string, width: number, size: number, bold = false): string[] {
  const lines: string[] = [];
  let cur = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    const next = cur ? cur + " " + word : word;
    if (cur && textWidth(next, size, bold) > width) {
      lines.push(cur);
      cur = word;
    } else cur = next;
  }
  if (cur) lines.push(cur);
  return lines;
}

/** Marks of a chart as Plot draws them, counted per kind. */
export interface MarkCounts {
  /** Paths in `line` marks (one per series and facet). */
  line: number;
  /** Circles or symbol paths in `dot` marks. */
  dot: number;
  /** Lines in `rule` marks. */
  rule: number;
  /** Text elements in `text` marks. */
  text: number;
  /** Rects in `rect`/`bar`/`cell` marks. */
  rect: number;
  /** Lines or paths in `tick` marks. */
  tick: number;
}

/**
 * Parse SVG text (throws when it is not a well-formed `<svg>`) and count the marks Plot
 * drew, by the `aria-label` of their groups (legend and notes are not marks).
 */
export function countMarks(svgText: string): MarkCounts {
  const parsed = parseSvg(svgText);
  const count = (label: string, sel: string) => {
    let n = 0;
    for (const g of parsed.querySelectorAll(`g[aria-label="${label}"]`)) {
      n += g.querySelectorAll(sel).length;
    }
    return n;
  };
  return {
    line: count("line", "path"),
    dot: count("dot", "circle, path"),
    rule: count("rule", "line"),
    text: count("text", "text"),
    rect: count("rect", "rect") + count("bar", "rect") + count("cell", "rect"),
    tick: count("tick", "line, path"),
  };
}

/**
 * Parse SVG text as XML; throws an Error naming the problem (line and column) when it is
 * not well-formed XML or its root is not an `<svg>` in the SVG namespace.
 */
export function parseSvg(svgText: string): DomElement {
  const ok = XMLValidator.validate(svgText);
  if (ok !== true) {
    const e = ok.err;
    throw new Error(`not well-formed SVG: ${e.msg} (line ${e.line}, column ${e.col})`);
  }
  const d = new DOMParser().parseFromString(svgText, "image/svg+xml") as unknown as {
    documentElement: DomElement | null;
  };
  const root = d.documentElement;
  if (!root || root.tagName.toLowerCase() !== "svg") {
    throw new Error(`not an SVG document (root is ${root ? root.tagName : "missing"})`);
  }
  if (root.getAttribute("xmlns") !== "http://www.w3.org/2000/svg") {
    throw new Error("the <svg> root has no SVG namespace");
  }
  return root;
}
