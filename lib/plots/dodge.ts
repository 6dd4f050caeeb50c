/**
 * Marks that sit on each other, spread apart along x so that every series stays visible.
 * The rule works in pixels, where overlap happens: two marks of different series whose
 * centres are closer than {@linkcode DODGE_NEAR} px (about a marker's size, on the chart's
 * own x and y scales, log or linear) are in one cluster, clusters are closed transitively
 * (a mark near either of two near marks joins them), and each cluster is laid out along x
 * {@linkcode DODGE_STEP} px apart, symmetric about the cluster's true x, in design order
 * (lib/strategies/registry.ts, the legend's). A spread never moves a mark more than a
 * bounded share of the smallest gap between x ticks ({@linkcode DODGE_MAX_SHARE}), so a
 * mark never reaches its neighbour's tick; the x tick stays the value. Lines and rows are
 * not touched: a figure records its rows by key (./drawn.ts), not by where they are drawn.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { dodgeMarks, DODGE_STEP } from "./dodge.ts";
 * const px = { apply: (v: number) => v, invert: (p: number) => p };
 * const at = dodgeMarks(
 *   [{ panel: "4K", series: "rmap", x: 100, y: 50 }, { panel: "4K", series: "full-walk", x: 100, y: 52 }],
 *   { x: px, y: px },
 *   [0, 100, 200],
 * );
 * // full-walk comes first in design order: left of the true x, rmap right of it.
 * assertEquals(at, [100 + DODGE_STEP / 2, 100 - DODGE_STEP / 2]);
 * ```
 * @module
 */

import * as Plot from "@observablehq/plot";
import { strategyOrder } from "./style.ts";

/** Centres of marks of different series closer than this (px) are in one cluster. */
export const DODGE_NEAR = 10;

/** Distance (px) along x between the marks of a spread cluster. */
export const DODGE_STEP = 10;

/** The largest shift of a mark, as a share of the smallest gap (px) between x ticks. */
export const DODGE_MAX_SHARE = 0.4;

/** A scale from data to pixels and back (Plot's `chart.scale("x")` is one). */
export interface PixelScale {
  /** Data value to pixel. */
  apply(v: number): number;
  /** Pixel to data value. */
  invert(p: number): number;
}

/** One mark: its panel (facet), its series (design) and its data x and y. */
export interface DodgeMark {
  /** Panel the mark is drawn in: marks of different panels never meet. */
  panel: string | number;
  /** Series (design name): the cluster's order is the designs' order. */
  series: string;
  /** Data x. */
  x: number;
  /** Data y. */
  y: number;
}

/**
 * The data x each mark is drawn at (same order as `marks`): the rule of the module doc on
 * the chart's `scales`, with at most {@linkcode DODGE_MAX_SHARE} of the smallest pixel gap
 * between the x ticks `xTicks` as the largest shift (a cluster too wide for that is spread
 * closer than {@linkcode DODGE_STEP}).
 */
export function dodgeMarks(
  marks: readonly DodgeMark[],
  scales: { x: PixelScale; y: PixelScale },
  xTicks: readonly number[],
): number[] {
  const px = marks.map((m) => scales.x.apply(m.x));
  const py = marks.map((m) => scales.y.apply(m.y));
  const tickPx = [...new Set(xTicks.map((t) => scales.x.apply(t)))].sort((a, b) => a - b);
  const gaps = tickPx.slice(1).map((p, i) => p - tickPx[i]).filter((g) => g > 0);
  const maxShift = DODGE_MAX_SHARE * (gaps.length > 0 ? Math.min(...gaps) : Infinity);
  const rank = new Map(strategyOrder(marks.map((m) => m.series)).map((s, i) => [s, i]));
  const parent = marks.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const near = (at: number[], i: number, j: number) =>
    marks[i].panel === marks[j].panel && marks[i].series !== marks[j].series &&
    Math.hypot(at[i] - at[j], py[i] - py[j]) < DODGE_NEAR;
  let at = px.slice();
  // Join marks that are near (first where they are, then where the spread put them) until
  // a spread puts no mark near one of another cluster: clusters only grow, so this ends.
  for (let round = 0; round <= marks.length; round++) {
    let joined = false;
    for (let i = 0; i < marks.length; i++) {
      for (let j = i + 1; j < marks.length; j++) {
        if (root(i) !== root(j) && (near(px, i, j) || near(at, i, j))) {
          parent[root(i)] = root(j);
          joined = true;
        }
      }
    }
    if (!joined && round > 0) break;
    at = spread(marks, px, root, rank, maxShift);
  }
  return at.map((p, i) => (p === px[i] ? marks[i].x : scales.x.invert(p)));
}

/**
 * Each cluster's marks DODGE_STEP px apart about its mean x, in design order (then x),
 * closer when that would move a mark more than `maxShift`; a cluster whose marks already
 * lie that far from its mean stays where it is.
 */
function spread(
  marks: readonly DodgeMark[],
  px: readonly number[],
  root: (i: number) => number,
  rank: ReadonlyMap<string, number>,
  maxShift: number,
): number[] {
  const clusters = new Map<number, number[]>();
  marks.forEach((_, i) => clusters.set(root(i), [...(clusters.get(root(i)) ?? []), i]));
  const at = px.slice();
  for (const c of clusters.values()) {
    if (c.length < 2) continue;
    c.sort((a, b) => rank.get(marks[a].series)! - rank.get(marks[b].series)! || px[a] - px[b]);
    const centre = c.reduce((s, i) => s + px[i], 0) / c.length;
    const off = Math.max(...c.map((i) => Math.abs(px[i] - centre)));
    const half = (c.length - 1) / 2;
    // No mark moves more than maxShift: |centre - x| <= off, plus half the spread's width.
    if (off >= maxShift) continue;
    const step = Math.min(DODGE_STEP, (maxShift - off) / half);
    c.forEach((i, k) => (at[i] = centre + (k - half) * step));
  }
  return at;
}

/**
 * The x and y scales of a chart as Plot lays it out (facets, margins, insets): the plot
 * rendered once from `options`, its scales read back.
 */
export function chartScales(options: Plot.PlotOptions): { x: PixelScale; y: PixelScale } {
  const chart = Plot.plot(options) as unknown as {
    scale(name: string): PixelScale | undefined;
  };
  const x = chart.scale("x"), y = chart.scale("y");
  if (!x?.invert || !y?.invert) throw new Error("chartScales: the chart has no continuous x and y");
  return { x, y };
}

/**
 * Where a figure's marks are: the fields of its records that hold the data x and y, and
 * the one that holds the panel, as Plot's `fx` (panels side by side) or `fy` (stacked).
 */
export interface DodgeChannels {
  /** Field of the data x. */
  x: string;
  /** Field of the data y. */
  y: string;
  /** Field of the panel, when panels sit side by side. */
  fx?: string;
  /** Field of the panel, when panels are stacked. */
  fy?: string;
}

/**
 * Records with `xd`, the x each is drawn at ({@linkcode dodgeMarks} on the chart that
 * `options` lays out with these records drawn as dots at `channels`, undodged), and
 * whether any moved.
 */
export function dodgeRecords<T extends Record<string, unknown>>(
  data: readonly T[],
  channels: DodgeChannels,
  options: Plot.PlotOptions,
  xTicks: readonly number[],
): { data: (T & { xd: number })[]; moved: boolean } {
  const panel = channels.fx ?? channels.fy;
  const x = (d: T) => d[channels.x] as number;
  const xd = dodgeMarks(
    data.map((d) => ({
      panel: panel === undefined ? "" : d[panel] as string | number,
      series: String(d.strategy),
      x: x(d),
      y: d[channels.y] as number,
    })),
    chartScales({ ...options, marks: [Plot.dot(data, { ...channels })] }),
    xTicks,
  );
  return {
    data: data.map((d, i) => ({ ...d, xd: xd[i] })),
    moved: xd.some((v, i) => v !== x(data[i])),
  };
}

/** The footnote of a figure whose marks were spread. */
export const DODGE_NOTE =
  "Points that sit on each other are spread slightly along x; the x tick is the value.";
