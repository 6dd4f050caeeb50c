/**
 * The panels of notebook 05's charts (./hostscale.ts, ./hostcost.ts): one value per row
 * against an x, a panel per facet, a line per design in its style, a series that is
 * another's point for point named rather than drawn under it, and marks that sit on each
 * other spread along x (./dodge.ts); the rows recorded in the section's book
 * ({@linkcode hostPanels}). {@linkcode vcpuPanels} is the usual x: L1 vCPUs (log), a panel
 * per working set.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { vcpuPanels } from "./hostpanels.ts";
 * import { DrawnBook } from "./drawn.ts";
 * const row = (strategy: string, vcpus: number) =>
 *   ({ grid_id: "g", point: vcpus, strategy, vcpus, working_set_bytes: 4096 });
 * const points = [1, 8].flatMap((x) =>
 *   ["rmap", "full-walk"].map((s) => ({ row: row(s, x), strategy: s, p: 4096, x, v: 100 * x }))
 * );
 * const book = new DrawnBook("x.csv");
 * const panel = vcpuPanels(points as never, book, {
 *   ticks: [100, 1000], text: String, label: "v", type: "log", domain: [50, 2000],
 * }, String);
 * // The two designs are equal at every point: one is named and not drawn, nothing moves.
 * assertEquals([panel.moved, panel.coincident.length], [false, 1]);
 * assertEquals(book.drawn().lines.length, 1);
 * ```
 * @module
 */

import * as Plot from "@observablehq/plot";
import { type Coincident, coincidentSeries } from "./cost.ts";
import { dodgeRecords } from "./dodge.ts";
import type { DrawnBook } from "./drawn.ts";
import { strategyLineDots } from "./marks.ts";
import type { SweepRecord } from "./results.ts";
import { axisFormat, strategyOrder } from "./style.ts";
import { type DomElement, plotDocument } from "./svg.ts";

const FONT_STYLE = { fontSize: "13px", fontFamily: "DejaVu Sans, Verdana, Arial, sans-serif" };

/**
 * A chart, the strategies it does not draw (another's series point for point), and
 * whether its marks were spread.
 */
export interface HostPanel {
  /** The chart. */
  chart: DomElement;
  /** Series not drawn: each coincides with another at every point. */
  coincident: Coincident[];
  /** Whether any mark was spread off its x. */
  moved: boolean;
}

/** One point of a host-scale chart: its row, its panel `p`, its x and its value `v`. */
export interface HostPoint extends Record<string, unknown> {
  /** The CSV row behind the point. */
  row: SweepRecord;
  /** Its design. */
  strategy: string;
  /** Its panel (facet). */
  p: number | string;
  /** Its x. */
  x: number;
  /** Its value (y). */
  v: number;
}

/** Where a chart of host panels puts its points. */
export interface HostLayout {
  /** The facet (panel) options of Plot. */
  fx: Record<string, unknown>;
  /** The x domain (log). */
  x: [number, number];
  /** The y scale. */
  y: { type: "log" | "linear"; domain: [number, number] };
  /** The x ticks: no mark is spread beyond a share of their smallest gap. */
  xTicks: readonly number[];
  /** Width of the lines. */
  width: number;
}

/**
 * Panels side by side, log x, a line per strategy through its points (a series that is
 * another's point for point is not drawn; marks that sit on each other are spread along x:
 * ./dodge.ts), the rows recorded in `book` (each line one configuration along `xColumn`);
 * axes are marks in `marks`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { hostPanels } from "./hostpanels.ts";
 * import { DrawnBook } from "./drawn.ts";
 * const row = (vcpus: number) => ({ grid_id: "g", point: vcpus, strategy: "rmap", vcpus });
 * const points = [1, 8].map((x) => ({ row: row(x), strategy: "rmap", p: "4K", x, v: x }));
 * const book = new DrawnBook("x.csv");
 * const panel = hostPanels(points as never, book, "vcpus", [], {
 *   fx: { domain: ["4K"] }, x: [0.5, 16], y: { type: "log", domain: [0.5, 16] },
 *   xTicks: [1, 8], width: 2,
 * });
 * assertEquals([panel.moved, book.drawn().rows.length], [false, 2]);
 * ```
 */
export function hostPanels(
  points: readonly HostPoint[],
  book: DrawnBook,
  xColumn: string,
  marks: Plot.Markish[],
  layout: HostLayout,
): HostPanel {
  const coincident = coincidentSeries(
    points.map(({ strategy, p, x, v }) => ({ strategy, p, x, v })),
    ["p", "x"],
    "v",
  );
  const hidden = new Set(coincident.map((c) => c.strategy));
  const shown = points.filter((d) => !hidden.has(d.strategy));
  book.rows(points.map((d) => d.row));
  const plot = {
    document: plotDocument(),
    width: 1020,
    height: 300,
    marginLeft: 80,
    marginRight: 16,
    marginTop: 46,
    marginBottom: 46,
    style: FONT_STYLE,
    fx: layout.fx,
    x: { type: "log", domain: layout.x },
    y: layout.y,
    symbol: { type: "identity" },
  };
  const dodged = dodgeRecords(
    shown,
    { x: "x", y: "v", fx: "p" },
    plot as Plot.PlotOptions,
    layout.xTicks,
  );
  const panels = [...new Set(shown.map((d) => d.p))];
  const all = [...marks];
  for (const s of strategyOrder(shown.map((d) => d.strategy))) {
    const d = dodged.data.filter((q) => q.strategy === s).sort((a, b) => a.x - b.x);
    for (const p of panels) book.line(xColumn, d.filter((q) => q.p === p).map((q) => [q.row]));
    all.push(...strategyLineDots(d, { x: "xd", y: "v", fx: "p" }, s, layout.width));
  }
  const chart = Plot.plot({ ...plot, marks: all } as Plot.PlotOptions) as unknown as DomElement;
  return { chart, coincident, moved: dodged.moved };
}

/** The y axis of a chart against vCPUs: its ticks and their text, label, scale and lines. */
export interface VcpuY {
  /** Tick values. */
  ticks: number[];
  /** Tick text. */
  text: (v: number) => string;
  /** Axis label. */
  label: string;
  /** Scale type. */
  type: "log" | "linear";
  /** Domain. */
  domain: [number, number];
  /** Marks drawn under the series (threshold rules). */
  marks?: Plot.Markish[];
}

/**
 * {@linkcode hostPanels} against L1 vCPUs (log x, a tick at each vCPU count), a panel per
 * working set `p` titled by `title`, the y axis of `y`; lines `width` wide.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { vcpuPanels } from "./hostpanels.ts";
 * import { DrawnBook } from "./drawn.ts";
 * const row = (vcpus: number) => ({ grid_id: "g", point: vcpus, strategy: "rmap", vcpus });
 * const points = [1, 8].map((x) => ({ row: row(x), strategy: "rmap", p: 4096, x, v: x / 10 }));
 * const book = new DrawnBook("x.csv");
 * vcpuPanels(points as never, book, {
 *   ticks: [0, 1], text: String, label: "share", type: "linear", domain: [0, 1],
 * }, (ws) => `${ws} B`);
 * assertEquals(book.drawn().lines[0].x, "vcpus");
 * ```
 */
export function vcpuPanels(
  points: readonly HostPoint[],
  book: DrawnBook,
  y: VcpuY,
  title: (ws: number) => string,
  width = 2.2,
): HostPanel {
  const wss = [...new Set(points.map((d) => d.p as number))].sort((a, b) => a - b);
  const xs = [...new Set(points.map((d) => d.x))].sort((a, b) => a - b);
  const marks: Plot.Markish[] = [
    Plot.frame({ stroke: "#ccc" }),
    Plot.gridY(y.ticks, { stroke: "#ddd", strokeOpacity: 1 }),
    // text, not tickFormat: a log scale blanks formatted ticks that are not powers of 10.
    Plot.axisY(y.ticks, { text: y.text, label: y.label }),
    ...(y.marks ?? []),
    Plot.axisX(xs, {
      text: axisFormat(xs),
      label: "L1 vCPUs →",
      labelAnchor: "center",
      labelOffset: 38,
      labelArrow: "none",
    }),
  ];
  return hostPanels(points, book, "vcpus", marks, {
    fx: { domain: wss, label: null, tickFormat: title, padding: 0.08 },
    x: [xs[0] / 1.4, xs[xs.length - 1] * 1.4],
    y: { type: y.type, domain: y.domain },
    xTicks: xs,
    width,
  });
}
