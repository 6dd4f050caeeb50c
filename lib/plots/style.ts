/**
 * One look for every figure: each strategy's colour, dash, symbol and label (the same in
 * every chart, so a reader learns them once), the figure sizes and fonts, and the tick
 * formats of the log axes (powers of ten, binary sizes).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { axisFormat, strategyStyle } from "./style.ts";
 * assertEquals([strategyStyle("maple-v2").label, axisFormat([1e3, 1e9])(1e9)], ["maple-v2 (rejected)", "10⁹"]);
 * ```
 * @module
 */

import { designNames, findDesign } from "../strategies/registry.ts";

/** How one strategy is drawn. */
export interface StrategyStyle {
  /** Design name (lib/strategies/registry.ts). */
  readonly name: string;
  /** Legend label: the name and whose design it is. */
  readonly label: string;
  /** Line and dot colour. */
  readonly color: string;
  /** SVG stroke-dasharray of its lines ("" = solid). */
  readonly dash: string;
  /** Observable Plot symbol of its dots. */
  readonly symbol: string;
  /** Dots drawn hollow (so that a strategy on top of another still shows). */
  readonly hollow: boolean;
}

/**
 * Colours, dashes and symbols for designs brought from files that give no style of their
 * own: none of them is a built-in design's, nor a threshold line's.
 */
const USER_STYLES: readonly Omit<StrategyStyle, "name" | "label">[] = [
  { color: "#8c564b", dash: "6,2,1,2", symbol: "hexagon", hollow: false },
  { color: "#e377c2", dash: "3,2", symbol: "plus", hollow: false },
  { color: "#bcbd22", dash: "9,2", symbol: "asterisk", hollow: false },
  { color: "#7f7f7f", dash: "1,3", symbol: "triangle2", hollow: true },
];

/**
 * The style of a design: its record's (lib/strategies/), or for a design that gives none
 * (or a name no design has, such as a row of an older CSV) one of its own, stable per name.
 */
export function strategyStyle(name: string): StrategyStyle {
  const d = findDesign(name);
  if (d?.style) return { name, label: d.label, ...d.style };
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return { name, label: d?.label ?? name, ...USER_STYLES[h % USER_STYLES.length] };
}

/** Strategy names in legend order: designs in registry order, then the rest alphabetically. */
export function strategyOrder(names: Iterable<string>): string[] {
  const set = new Set(names);
  const known = designNames().filter((n) => set.has(n));
  const rest = [...set].filter((n) => !known.includes(n)).sort();
  return [...known, ...rest];
}

/** Granules in size order. */
export function granuleOrder(names: Iterable<string>): string[] {
  const size = (g: string) => parseInt(g, 10) || 0;
  return [...new Set(names)].sort((a, b) => size(a) - size(b));
}

/**
 * Colour of the soft-lockup threshold and of the points past it: a magenta that no
 * design's style, no style of a design from a file and no greyed series uses (at least 30
 * CIE76 units from each; style_test.ts checks).
 */
export const LOCKUP_COLOR = "#cc00cc";

/** Colour of the stricter latency line (CFS's scheduling latency): an olive no series uses. */
export const STRICT_COLOR = "#666600";

/** Colour of a series drawn for context only (the rejected patch on the cover figure). */
export const GREYED_COLOR = "#b0b0b0";

/** Colours of the styles given to designs from files that bring none (for tests). */
export function userStyleColors(): string[] {
  return USER_STYLES.map((s) => s.color);
}

/** Font sizes and the figure frame. */
export const FONT = {
  family: "DejaVu Sans, Verdana, Arial, sans-serif",
  title: 18,
  subtitle: 13,
  body: 13,
  note: 12,
} as const;

const SUP: Record<string, string> = {
  "-": "⁻",
  "0": "⁰",
  "1": "¹",
  "2": "²",
  "3": "³",
  "4": "⁴",
  "5": "⁵",
  "6": "⁶",
  "7": "⁷",
  "8": "⁸",
  "9": "⁹",
};

/** 10ⁿ for an exact power of ten (1 and 10 as digits), else a compact number. */
function formatPow10(v: number): string {
  if (v === 0) return "0";
  const e = Math.round(Math.log10(Math.abs(v)));
  if (Math.abs(v - 10 ** e) < 1e-9 * 10 ** e) {
    if (e === 0) return v < 0 ? "-1" : "1";
    if (e === 1) return v < 0 ? "-10" : "10";
    return (v < 0 ? "-" : "") + "10" + String(e).split("").map((c) => SUP[c]).join("");
  }
  return formatCount(v);
}

/** A count with thousands separators, or 1.2×10⁹ past a million. */
export function formatCount(v: number): string {
  if (Math.abs(v) >= 1e6) {
    const e = Math.floor(Math.log10(Math.abs(v)));
    const m = v / 10 ** e;
    return `${m.toFixed(1)}×${formatPow10(10 ** e)}`;
  }
  return Math.round(v * 1000) / 1000 === Math.round(v)
    ? Math.round(v).toLocaleString("en-US")
    : v.toLocaleString("en-US", { maximumFractionDigits: 3 });
}

/**
 * How every tick of one axis is written: `power` (10ⁿ, m×10ⁿ) or `digits` (thousands
 * separators). An axis never mixes the two: it is `power` when some tick is 10⁶ or more
 * in size, or its non-zero ticks span more than three decades (largest over smallest in
 * size > 1000); else `digits`. In `power`, 0, 1 and 10 keep their digits (they read as
 * powers beside 10ⁿ and are shorter); every other tick is 10ⁿ or m×10ⁿ.
 */
export type TickStyle = "power" | "digits";

/** The one style of an axis whose ticks are `ticks` (see {@linkcode TickStyle}). */
export function tickStyle(ticks: readonly number[]): TickStyle {
  const sizes = ticks.map(Math.abs).filter((v) => v > 0);
  if (sizes.length === 0) return "digits";
  const lo = Math.min(...sizes), hi = Math.max(...sizes);
  return hi >= 1e6 || hi / lo > 1e3 * (1 + 1e-9) ? "power" : "digits";
}

/** One tick in a style: "10⁶", "2.5×10⁵", "1" (power), or "250,000", "0.25" (digits). */
export function formatTick(v: number, style: TickStyle): string {
  if (style === "digits" || v === 0) {
    return Math.round(v * 1000) / 1000 === Math.round(v)
      ? Math.round(v).toLocaleString("en-US")
      : v.toLocaleString("en-US", { maximumFractionDigits: 3 });
  }
  const e = Math.floor(Math.log10(Math.abs(v)) + 1e-9);
  const m = Number((v / 10 ** e).toPrecision(3));
  if (Math.abs(m) === 1) return formatPow10(Math.sign(v) * 10 ** e);
  return `${m}×${formatPow10(10 ** e)}`;
}

/**
 * The tick format of an axis with ticks `ticks` (every figure's count axes take theirs
 * from here): each tick in the axis' one {@linkcode TickStyle}, then `unit`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { axisFormat } from "./style.ts";
 * const big = [0, 500000, 1000000, 1500000];
 * assertEquals(big.map(axisFormat(big)), ["0", "5×10⁵", "10⁶", "1.5×10⁶"]);
 * const log = [1, 10, 100, 1000, 10000];
 * assertEquals(log.map(axisFormat(log)), ["1", "10", "10²", "10³", "10⁴"]);
 * const small = [0, 20000, 40000, 60000];
 * assertEquals(small.map(axisFormat(small, " B")), ["0 B", "20,000 B", "40,000 B", "60,000 B"]);
 * ```
 */
export function axisFormat(ticks: readonly number[], unit = ""): (v: number) => string {
  const style = tickStyle(ticks);
  return (v) => formatTick(v, style) + unit;
}

/**
 * {@linkcode axisFormat} for ticks Plot chooses itself (a linear or symlog axis' default
 * ticks): Plot calls a text or tickFormat function with the tick, its index and all the
 * ticks, and this formats the tick by all of them. A log axis' `tickFormat` is called with
 * the tick alone, so that axis must be given its ticks (and `text: axisFormat(ticks)`):
 * then this throws, naming the problem, rather than format a tick on its own.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { tickText } from "./style.ts";
 * assertEquals([0, 500000, 1000000].map(tickText), ["0", "5×10⁵", "10⁶"]);
 * assertThrows(() => tickText(5), Error, "give the axis its ticks");
 * ```
 */
export function tickText(v: number, _i?: number, ticks?: readonly number[]): string {
  if (!Array.isArray(ticks)) {
    throw new Error(
      "tickText: called without the axis' ticks (a log axis?): give the axis its ticks",
    );
  }
  return axisFormat(ticks)(v);
}

/**
 * Ticks of a log axis over [lo, hi] with several labels however short the span: powers of
 * ten over three decades or more, else 1-2-5 steps (1, 2, 5, 10, 20, …), else 1-9 steps.
 */
export function logTicks(lo: number, hi: number): number[] {
  const decades = Math.log10(Math.max(hi, lo * 1.0001) / Math.max(lo, 1e-12));
  const steps = decades >= 3 ? [1] : decades >= 1 ? [1, 2, 5] : [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const out: number[] = [];
  const a = Math.floor(Math.log10(Math.max(lo, 1e-12)));
  const b = Math.ceil(Math.log10(Math.max(hi, 1e-12)));
  for (let e = a; e <= b; e++) {
    for (const s of steps) {
      const t = s * 10 ** e;
      if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) out.push(Number(t.toPrecision(12)));
    }
  }
  return out;
}

/**
 * A duration in seconds as text, three significant digits in the largest unit it reaches
 * once rounded to them: "35.5 s", "6 ms", "590 µs", "80 ns", and "1 ms" for 0.9999996 ms
 * (a tick converted from iterations lands a hair under its power of ten).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { formatSeconds } from "./style.ts";
 * assertEquals([0.0355, 0.0009999996, 999.96e-9].map(formatSeconds), ["35.5 ms", "1 ms", "1 µs"]);
 * ```
 */
export function formatSeconds(seconds: number): string {
  const s = Number(seconds.toPrecision(3));
  const a = Math.abs(s);
  const [v, unit] = a >= 1
    ? [s, "s"]
    : a >= 1e-3
    ? [s * 1e3, "ms"]
    : a >= 1e-6
    ? [s * 1e6, "µs"]
    : [s * 1e9, "ns"];
  return `${
    Number(v.toPrecision(3)).toLocaleString("en-US", { maximumFractionDigits: 3 })
  } ${unit}`;
}

/** Powers of ten covering [lo, hi] (for log axes). */
export function pow10Ticks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const a = Math.floor(Math.log10(Math.max(lo, 1e-12)));
  const b = Math.ceil(Math.log10(Math.max(hi, lo, 1e-12)));
  for (let e = a; e <= b; e++) out.push(10 ** e);
  return out;
}

/**
 * 0 and powers of ten up to the first one at or above `hi` (for symlog axes of counts
 * that may be 0: the largest value always has a labelled tick above it); without 1 over
 * more than three decades, where its label would overlap 0's.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { symlogTicks } from "./style.ts";
 * assertEquals(symlogTicks(50), [0, 1, 10, 100]);
 * assertEquals(symlogTicks(5000), [0, 10, 100, 1000, 10000]);
 * ```
 */
export function symlogTicks(hi: number): number[] {
  const out = [0];
  let v = 1;
  out.push(v);
  while (v < Math.max(hi, 1) * 0.9999) {
    v *= 10;
    out.push(v);
  }
  // Over more than three decades 1 sits too close to 0 for both labels to be read.
  return out.length > 4 ? out.filter((t) => t !== 1) : out;
}

/** Escape text for SVG/HTML. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}
