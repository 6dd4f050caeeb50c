/**
 * The figures of a verify report, from the cost check's rows alone: the worst host unmap
 * (iterations, with its estimated time and the soft-lockup threshold) and index bytes per
 * shadow entry against vCPUs, one panel per granule and alias density so that a line joins
 * only points that differ in vCPUs; then, at the populated point, refaults and leaves
 * destroyed per unmap, and insert-lock contention. The verified design is drawn last (on
 * top) and named in every subtitle; marks that sit on another design's are spread along x
 * (../plots/dodge.ts), said in a footnote when any moved; the time figure names the cost
 * model.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { checkCost } from "./cost.ts";
 * import { verifyFigures } from "./figures.ts";
 * const r = checkCost("rmap", ["full-walk"], {
 *   grid: { vcpus: "1,2", granule: "4K", "l1-mem": "4G", alias: "0", "pages-per-context": "8" },
 *   populated: {
 *     vcpus: "1", granule: "4K", "l1-mem": "4G", alias: "0", "working-set": "64K",
 *     "pages-per-context": "8",
 *   },
 *   seed: 1,
 * });
 * const figs = verifyFigures("rmap", r.cost);
 * assertEquals(figs.map((f) => f.name), ["unmap-cost", "index-memory", "refaults", "insert-lock"]);
 * ```
 * @module
 */

import * as Plot from "@observablehq/plot";
import type { SweepRow } from "../sweep/columns.ts";
import {
  composeFigure,
  type DomElement,
  type Figure,
  plotDocument,
  strategyLegend,
} from "../plots/svg.ts";
import {
  axisFormat,
  formatCount,
  formatSeconds,
  logTicks,
  pow10Ticks,
  strategyOrder,
  strategyStyle,
  tickText,
} from "../plots/style.ts";
import { DODGE_NOTE, dodgeRecords } from "../plots/dodge.ts";
import { formatSize } from "../util/size.ts";
import { defaultCostModel } from "../sweep/costmodel.ts";
import type { CostRows } from "./cost.ts";
import { costModelName } from "../sweep/spec.ts";

/** Threshold lines: a colour no design's style uses (black, dashed). */
const THRESHOLD = { stroke: "#000000", strokeDasharray: "6,4" };

/** Designs in legend order with the verified one last, so that it is drawn on top. */
function order(design: string, rows: readonly SweepRow[]): string[] {
  const all = strategyOrder(rows.map((r) => r.strategy));
  return [...all.filter((s) => s !== design), design];
}

function panels(rows: readonly SweepRow[]): string {
  const g = [...new Set(rows.map((r) => r.granule))];
  const a = [...new Set(rows.map((r) => r.alias))];
  return `one panel per host granule (${g.join(", ")}) and alias density (${a.join(", ")})`;
}

/** A bar's value: an integer with separators, else three significant digits. */
const shortNumber = (v: number) =>
  Number.isInteger(v) ? formatCount(v) : Number(v.toPrecision(3)).toLocaleString("en-US");

/** The panel a row is drawn in: its host granule and alias density. */
const panelOf = (r: SweepRow) => `${r.granule} host pages, alias ${r.alias}`;

/**
 * The chart of one y column against vCPUs (log y over the values and `extra`'s `ys`), a
 * line per design, one panel per granule and alias density (stacked, each titled inside),
 * `right` an optional second y axis (the same scale read in other units); and whether a
 * mark was spread off its x.
 */
function byVcpus(
  design: string,
  rows: readonly SweepRow[],
  y: (r: SweepRow) => number,
  label: string,
  extra: { marks: Plot.Markish[]; ys: number[] } = { marks: [], ys: [] },
  right?: { label: string; format: (v: number) => string },
): { chart: DomElement; moved: boolean } {
  const names = order(design, rows);
  const points = names.flatMap((s) =>
    rows.filter((r) => r.strategy === s).sort((a, b) => a.vcpus - b.vcpus)
  ).map((r) => ({ ...r, panel: panelOf(r), v: y(r) }));
  const panelNames = [...new Set(rows.map(panelOf))];
  const xs = [...new Set(points.map((d) => d.vcpus))].sort((a, b) => a - b);
  // The ticks are given (a log axis' tickFormat sees one tick at a time, and all the ticks
  // of an axis share one format: axisFormat).
  const ys = [...rows.map(y), ...extra.ys];
  const lo = Math.min(...ys), hi = Math.max(...ys);
  const p10 = pow10Ticks(lo, hi).filter((t) => t >= lo && t <= hi);
  const near = logTicks(lo / 1.5, hi * 1.5);
  const ticks = p10.length >= 2 ? p10 : near.filter((_, i) => i % Math.ceil(near.length / 5) === 0);
  const domain = [Math.min(lo, ...ticks), Math.max(hi, ...ticks)];
  const marks: Plot.Markish[] = [
    Plot.frame({ stroke: "#ddd" }),
    Plot.text(panelNames, {
      fy: (p: string) => p,
      text: (p: string) => p,
      frameAnchor: "top-left",
      dx: 6,
      dy: 6,
      fontSize: 11,
      fontWeight: "bold",
    }),
    ...extra.marks,
    // A tick at each vCPU count drawn (a spread mark's value is its nearest tick); text,
    // not tickFormat: a log scale blanks formatted ticks that are not powers of 10.
    Plot.gridX(xs),
    Plot.axisX(xs, { label: "vCPUs", text: axisFormat(xs) }),
    Plot.gridY(ticks),
    Plot.axisY(ticks, { anchor: "left", label, text: axisFormat(ticks) }),
  ];
  if (right) {
    marks.push(Plot.axisY(ticks, { anchor: "right", label: right.label, text: right.format }));
  }
  const options = {
    document: plotDocument(),
    width: 760,
    height: 160 * panelNames.length + 50,
    marginLeft: 80,
    marginRight: right ? 80 : 20,
    x: { type: "log", domain: [xs[0] / 1.4, xs[xs.length - 1] * 1.4] },
    y: { type: "log", domain, axis: null, insetTop: 22 },
    fy: { axis: null, domain: panelNames },
  } as Plot.PlotOptions;
  // Marks that sit on another design's are spread along x (../plots/dodge.ts), within a
  // share of the gap between vCPU counts.
  const dodged = dodgeRecords(
    points,
    { x: "vcpus", y: "v", fy: "panel" },
    options,
    xs,
  );
  for (const s of names) {
    const st = strategyStyle(s);
    const mine = dodged.data.filter((r) => r.strategy === s);
    // One line per panel: z keeps the lines of different configurations apart.
    marks.push(
      Plot.line(mine, {
        x: "xd",
        y: "v",
        z: "panel",
        fy: "panel",
        stroke: st.color,
        strokeDasharray: st.dash,
        strokeWidth: s === design ? 2.5 : 1.5,
      }),
      Plot.dot(mine, {
        x: "xd",
        y: "v",
        fy: "panel",
        stroke: st.color,
        fill: st.hollow ? "white" : st.color,
        symbol: st.symbol,
        r: s === design ? 4 : 3,
      }),
    );
  }
  return {
    chart: Plot.plot({ ...options, marks }) as unknown as DomElement,
    moved: dodged.moved,
  };
}

/** The figures of a verify report. */
export function verifyFigures(design: string, cost: CostRows): Figure[] {
  const grid = cost.grid;
  const pop = cost.populated;
  const r0 = grid[0] ?? pop[0];
  const model = defaultCostModel();
  const nsPerIt = r0?.ns_per_iteration ?? model.nsPerIteration;
  const nsPerDesc = r0?.ns_per_descriptor ?? model.nsPerDescriptor;
  const lockupNs = r0?.soft_lockup_threshold_ns ?? model.softLockupNs;
  const lockupIt = lockupNs / nsPerIt;
  const maxIt = Math.max(1, ...grid.map((r) => r.unmap_iterations_max));
  const figs: Figure[] = [];

  const lockupMarks: Plot.Markish[] = maxIt >= lockupIt / 100
    ? [
      Plot.ruleY([lockupIt], THRESHOLD),
      Plot.text([lockupIt], {
        y: (v: number) => v,
        frameAnchor: "right",
        dx: -4,
        dy: -7,
        textAnchor: "end",
        text: () => `soft lockup ${formatSeconds(lockupNs / 1e9)}`,
        fontSize: 10,
      }),
    ]
    : [];
  const unmap = byVcpus(
    design,
    grid,
    (r) => Math.max(1, r.unmap_iterations_max),
    "iterations",
    { marks: lockupMarks, ys: lockupMarks.length > 0 ? [lockupIt] : [] },
    { label: "estimated time", format: (v: number) => formatSeconds(v * nsPerIt / 1e9) },
  );
  figs.push(composeFigure({
    name: "unmap-cost",
    title: `${design}: the worst host unmap against vCPUs`,
    subtitle: `Iterations of the worst host unmap event per point (unmap_iterations_max; ` +
      `≈ ${nsPerIt} ns each by ${costModelName(cost.costModel)}), ${panels(grid)}; ` +
      `${formatSize(r0?.l1_mem_bytes ?? 0)} of L1 memory, one L2 context per vCPU.` +
      (lockupMarks.length > 0
        ? ` The dashed line is the soft-lockup threshold (${formatSeconds(lockupNs / 1e9)}).`
        : ` The soft-lockup threshold (${formatSeconds(lockupNs / 1e9)}, ` +
          `${formatCount(lockupIt)} iterations) is far above every point.`),
    chart: unmap.chart,
    legend: strategyLegend(order(design, grid)),
    notes: [
      `Estimated time = iterations × ${nsPerIt} ns + descriptors × ${nsPerDesc} ns ` +
      "(lib/sweep/costmodel.ts); a zero is drawn at 1.",
      ...(unmap.moved ? [DODGE_NOTE] : []),
    ],
  }));

  const indexed = grid.filter((r) => r.peak_memory_bytes > 0);
  const memory = byVcpus(
    design,
    indexed,
    (r) => Math.max(0.01, r.memory_bytes_per_shadow_entry),
    "bytes per shadow entry",
  );
  figs.push(composeFigure({
    name: "index-memory",
    title: `${design}: index memory per shadow entry against vCPUs`,
    subtitle: `Peak modeled kernel bytes of the design's index ÷ peak live shadow leaves ` +
      `(memory_bytes_per_shadow_entry), ${panels(grid)}. Designs without an index (0 B) ` +
      "are not drawn.",
    chart: memory.chart,
    legend: strategyLegend(order(design, indexed)),
    notes: memory.moved ? [DODGE_NOTE] : [],
  }));

  const names = order(design, pop);
  const p0 = pop[0];
  const where = p0
    ? `${p0.vcpus} vCPUs, each L2 context writing ${formatSize(p0.working_set_bytes)} ` +
      `(${p0.granule} host pages, alias ${p0.alias}) and re-touching ${p0.retouch * 100}% ` +
      "of it after each host unmap"
    : "no populated point";
  const bars = (
    y: (r: SweepRow) => number,
    label: string,
  ): DomElement =>
    Plot.plot({
      document: plotDocument(),
      width: 760,
      height: 60 + 28 * names.length,
      marginLeft: 190,
      marginRight: 90,
      x: { label, grid: true, tickFormat: tickText },
      y: { label: null, domain: names.map((s) => strategyStyle(s).label) },
      marks: [
        Plot.barX(pop, {
          y: (r: SweepRow) => strategyStyle(r.strategy).label,
          x: y,
          fill: (r: SweepRow) => strategyStyle(r.strategy).color,
        }),
        Plot.text(pop, {
          y: (r: SweepRow) => strategyStyle(r.strategy).label,
          x: y,
          text: (r: SweepRow) => shortNumber(y(r)),
          dx: 4,
          textAnchor: "start",
          fontSize: 10,
        }),
      ],
    }) as unknown as DomElement;
  figs.push(composeFigure({
    name: "refaults",
    title: `${design}: leaves destroyed and refaults, populated point`,
    subtitle: `${where}. Top: shadow leaves one host unmap destroys, mean ` +
      "(unmap_leaves_destroyed_mean: needed + collateral). Bottom: refaults over the trace " +
      "(faults on leaves an unmap removed as collateral).",
    chart: [
      bars((r) => r.unmap_leaves_destroyed_mean, "leaves destroyed per host unmap (mean)"),
      bars((r) => r.refaults, "refaults over the trace"),
    ],
    legend: [],
  }));

  figs.push(composeFigure({
    name: "insert-lock",
    title: `${design}: insert-lock contention at the populated point`,
    subtitle: `${where}. Share of index inserts (shadow faults) that took a lock another ` +
      "vCPU also inserted under in the same phase, for the lock each design's insert takes " +
      "in a kernel port (insert_lock: vm, mmu, chunk, none).",
    chart: bars(
      (r) => r.inserts_total > 0 ? r.inserts_contended / r.inserts_total : 0,
      "contended inserts / inserts",
    ),
    legend: [],
    notes: pop.map((r) =>
      `${r.strategy}: lock ${r.insert_lock}, ${formatCount(r.inserts_contended)} of ` +
      `${formatCount(r.inserts_total)} inserts contended.`
    ),
  }));
  return figs;
}
