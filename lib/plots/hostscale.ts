/**
 * Notebook 05, host scale: the sweep with a populated working set
 * (`deno task sweep --grid working-set`, results/working-set.csv), where every L2 context
 * maps and touches its working set page by page and re-touches part of it after each host
 * unmap. Per design against vCPUs, one panel per working set: the shadow leaves one host
 * unmap event destroys and the estimated time of that event; the refault storm after it
 * (faults, and what one vCPU waits); and the index memory against the working set. The
 * insert-lock contention columns go into a table.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { hostScaleRows } from "./hostscale.ts";
 * assertEquals(hostScaleRows([{ strategy: "rmap", granule: "4K", working_set_bytes: 0 }]).length, 0);
 * ```
 * @module
 */

import { UPSTREAM } from "../strategies/registry.ts";
import * as Plot from "@observablehq/plot";
import { formatBytes } from "../util/size.ts";
import { type Coincident, costModelOf, oursOf } from "./cost.ts";
import { DODGE_NOTE } from "./dodge.ts";
import { type HostPanel, hostPanels, type HostPoint, vcpuPanels } from "./hostpanels.ts";
import { SCHED_LATENCY_NS } from "./latency.ts";
import { statColumn, type Statistic, statWord } from "./params.ts";
import { type Section, section } from "./section.ts";
import { pinFlags, type Slice, type SliceSpec } from "./slice.ts";
import { num, type NumericColumn, type SweepRecord } from "./results.ts";
import {
  axisFormat,
  formatCount,
  formatSeconds,
  LOCKUP_COLOR,
  logTicks,
  pow10Ticks,
  strategyOrder,
  STRICT_COLOR,
} from "./style.ts";
import { type Table, table } from "./show.ts";
import { composeFigure, type Figure, type LegendItem, strategyLegend } from "./svg.ts";
import { FactBook, type Takeaway, type Where } from "./takeaway.ts";

/** Rows with a working set (working_set_bytes > 0): what notebook 05 reads. */
export function hostScaleRows<R extends Record<string, string | number>>(rows: readonly R[]): R[] {
  return rows.filter((r) => Number(r.working_set_bytes ?? 0) > 0);
}

/**
 * What the host-scale figures draw: the rows at alias density `alias`, one configuration
 * per line (vCPUs on x, a panel per working set, every other dimension that varies pinned
 * to one value: ./slice.ts), and those pins as flags for the subtitles.
 */
export function hostScaleSection(
  rows: readonly SweepRecord[],
  alias: number,
  spec: SliceSpec = { x: "vcpus", facets: ["working_set_bytes"] },
): Section<SweepRecord> {
  return section(rows.filter((r) => num(r, "alias") === alias), spec);
}

/** The section of the memory-against-leaves panel: every vCPU count and working set, a panel per granule. */
function leavesSection(rows: readonly SweepRecord[], alias: number): Section<SweepRecord> {
  return hostScaleSection(rows, alias, {
    x: "vcpus",
    free: ["working_set_bytes"],
    facets: ["granule"],
  });
}

/** The leaves-destroyed column of a statistic (that column has mean and max only). */
export function destroyedColumn(stat: Statistic): NumericColumn {
  return stat === "mean" ? "unmap_leaves_destroyed_mean" : "unmap_leaves_destroyed_max";
}

interface HostChart {
  column: NumericColumn;
  label: string;
  /** The y axis' tick format, given its ticks. */
  format: (ticks: readonly number[]) => (v: number) => string;
  rules?: { y: number; color: string; dash: string }[];
}

/** One chart: a column against vCPUs (log), a panel per working set, a line per strategy. */
function hostChart(
  sec: Section<SweepRecord>,
  spec: HostChart,
  ticks?: (lo: number, hi: number) => number[],
): HostPanel {
  const sel = sec.rows.filter((r) => num(r, spec.column) > 0);
  const data: HostPoint[] = sel.map((r) => ({
    row: r,
    strategy: r.strategy,
    p: num(r, "working_set_bytes"),
    x: num(r, "vcpus"),
    v: num(r, spec.column),
  }));
  const vs = [...data.map((d) => d.v), ...(spec.rules ?? []).map((r) => r.y)];
  const lo = Math.min(...vs) / 2, hi = Math.max(...vs) * 2;
  const yt = (ticks ?? ((a: number, b: number) => {
    const p = pow10Ticks(a, b).filter((t) => t >= a && t <= b);
    return p.length >= 3 ? p : logTicks(a, b);
  }))(lo, hi);
  return vcpuPanels(data, sec.drawn, {
    ticks: yt,
    text: spec.format(yt),
    label: spec.label,
    type: "log",
    domain: [lo, hi],
    marks: (spec.rules ?? []).map((r) =>
      Plot.ruleY([r.y], { stroke: r.color, strokeDasharray: r.dash, strokeWidth: 1.6 })
    ),
  }, (b) => `working set ${formatBytes(b)} per context`);
}

/**
 * The x of the memory-against-leaves panel: the populated shadow leaves, which the vCPU
 * count and the working set make (a line there runs over both).
 */
const LEAVES_X = "vcpus+working_set_bytes";

/**
 * The notes of a figure of host panels: each strategy a chart does not draw (one note for
 * all the charts where it coincides with the same one), and the spread.
 */
function panelNotes(
  charts: readonly { panel: HostPanel; what: string; column: string }[],
): string[] {
  const notes = new Map<string, { c: Coincident; what: string[]; columns: string[] }>();
  for (const { panel, what, column } of charts) {
    for (const c of panel.coincident) {
      const k = `${c.strategy}|${c.same}|${c.points}`;
      const n = notes.get(k) ?? { c, what: [], columns: [] };
      n.what.push(what);
      n.columns.push(column);
      notes.set(k, n);
    }
  }
  return [
    ...[...notes.values()].map(({ c, what, columns }) =>
      `Not drawn in the ${what.join(" and ")} chart${what.length > 1 ? "s" : ""}: ` +
      `${c.strategy} coincides with ${c.same} at all ${c.points} points (the same ` +
      `${[...new Set(columns)].join(" and ")}); its line would hide under ${c.same}'s.`
    ),
    ...(charts.some((c) => c.panel.moved) ? [DODGE_NOTE] : []),
  ];
}

function legendOf(rows: readonly SweepRecord[], extra: LegendItem[] = []): LegendItem[] {
  return [
    ...strategyLegend(strategyOrder(rows.map((r) => r.strategy))),
    ...extra,
  ];
}

const sec = (ns: number) => formatSeconds(ns / 1e9);

/**
 * One host unmap event at host scale: the shadow leaves it destroys (needed and
 * collateral) and its estimated time, with the soft-lockup and scheduling-latency lines.
 */
export function hostUnmapFigure(
  rows: readonly SweepRecord[],
  alias: number,
  stat: Statistic = "max",
): Figure {
  const shown = hostScaleSection(rows, alias);
  const m = costModelOf(shown.rows);
  const est = statColumn("unmap_est_ns", stat);
  const top = hostChart(shown, {
    column: destroyedColumn(stat),
    label: `↑ leaves one unmap destroys (${destroyedColumn(stat)})`,
    format: axisFormat,
  });
  const bottom = hostChart(shown, {
    column: est,
    label: `↑ estimated time of the unmap (${est})`,
    format: () => sec,
    rules: [
      { y: m.softLockupNs, color: LOCKUP_COLOR, dash: "7,4" },
      { y: SCHED_LATENCY_NS, color: STRICT_COLOR, dash: "2,3" },
    ],
  });
  return composeFigure({
    name: "05-host-unmap",
    title: "One host unmap event at host scale: leaves destroyed and time",
    subtitle: `Every L2 context maps and touches its working set page by page; alias ` +
      `density ${alias}; the ${statWord(stat)} host unmap event of each point (leaves ` +
      `destroyed: ${stat === "p99" ? "max, the column has no p99" : stat}). Log axes.` +
      shown.pinSentence(),
    chart: [top.chart, bottom.chart],
    legend: legendOf(shown.rows, [
      { label: `soft lockup ${sec(m.softLockupNs)}`, color: LOCKUP_COLOR, kind: "rule" },
      {
        label: `scheduling latency ${sec(SCHED_LATENCY_NS)}`,
        color: STRICT_COLOR,
        kind: "rule",
        dash: "2,3",
      },
    ]),
    notes: [
      "Leaves destroyed = the leaves the unmap's range required plus its collateral (the " +
      "full walk tears down every valid MMU's tables); each collateral leaf the guest " +
      "touches again is a refault (next figure).",
      `Estimated time: lib/sweep/costmodel.ts (${m.nsPerIteration} ns per iteration, ` +
      `${m.nsPerDescriptor} ns per descriptor).`,
      ...panelNotes([
        { panel: top, what: "top", column: destroyedColumn(stat) },
        { panel: bottom, what: "bottom", column: est },
      ]),
    ],
    stated: shown.text.collect(),
    drawn: [shown.drawn.drawn()],
  });
}

/** The refault storm after a host unmap: faults over all vCPUs, and what one vCPU waits. */
export function hostStormFigure(rows: readonly SweepRecord[], alias: number): Figure {
  const shown = hostScaleSection(rows, alias);
  const faults = hostChart(shown, {
    column: "storm_faults_max",
    label: "↑ shadow faults of the worst storm (all vCPUs)",
    format: axisFormat,
  });
  const wait = hostChart(shown, {
    column: "storm_vcpu_est_ns_max",
    label: "↑ one vCPU's refault time, worst storm",
    format: () => sec,
    rules: [{ y: SCHED_LATENCY_NS, color: STRICT_COLOR, dash: "2,3" }],
  });
  const nsf = [...new Set(shown.rows.map((r) => num(r, "ns_per_fault")))].join(", ");
  return composeFigure({
    name: "05-host-storm",
    title: "The refault storm after a host unmap",
    subtitle: `After each host unmap every context re-touches part of its working set ` +
      `(retouch); the shadow faults that follow are the storm. Alias density ${alias}.` +
      shown.pinSentence(),
    chart: [faults.chart, wait.chart],
    legend: legendOf(shown.rows, [{
      label: `scheduling latency ${sec(SCHED_LATENCY_NS)}`,
      color: STRICT_COLOR,
      kind: "rule",
      dash: "2,3",
    }]),
    notes: [
      `Time: faults × ${nsf} ns per nested shadow fault (ns_per_fault, an order-of-magnitude ` +
      "estimate: lib/sweep/costmodel.ts); storm_vcpu_est_ns_max is what one vCPU waits.",
      ...panelNotes([
        { panel: faults, what: "top", column: "storm_faults_max" },
        { panel: wait, what: "bottom", column: "storm_vcpu_est_ns_max" },
      ]),
    ],
    stated: shown.text.collect(),
    drawn: [shown.drawn.drawn()],
  });
}

/** Index memory of the VM against vCPUs, per working set (full-walk, 0 B, not drawn). */
export function hostMemoryFigure(rows: readonly SweepRecord[], alias: number): Figure {
  const shown = hostScaleSection(rows, alias);
  const leaves = leavesSection(rows, alias);
  const pow2 = (lo: number, hi: number) => {
    const out: number[] = [];
    for (let e = Math.ceil(Math.log2(lo)); 2 ** e <= hi; e++) out.push(2 ** e);
    return out.length > 8 ? out.filter((_, i) => i % 3 === 0) : out;
  };
  const total = hostChart(shown, {
    column: "peak_memory_bytes",
    label: "↑ index bytes of the VM (peak)",
    format: () => formatBytes,
  }, pow2);
  const per = hostChart(shown, {
    column: "memory_bytes_per_shadow_entry",
    label: "↑ bytes per shadow entry",
    format: (t) => axisFormat(t, " B"),
  });
  const against = memoryAgainstLeaves(leaves, pow2);
  return composeFigure({
    name: "05-host-memory",
    title: "Index memory at host scale",
    subtitle: `Peak modeled kernel bytes of each design's index for the whole VM (top) and ` +
      `per live shadow leaf (middle), alias density ${alias}; bottom: the VM's index against ` +
      `the populated working set (peak shadow leaves), every vCPU count and working set.` +
      shown.pinSentence(),
    chart: [total.chart, per.chart, against.chart],
    legend: legendOf(shown.rows.filter((r) => num(r, "peak_memory_bytes") > 0)),
    notes: [
      "full-walk keeps no index (0 B) and is not drawn.",
      ...panelNotes([
        { panel: total, what: "top", column: "peak_memory_bytes" },
        { panel: per, what: "middle", column: "memory_bytes_per_shadow_entry" },
        { panel: against, what: "bottom", column: "peak_memory_bytes" },
      ]),
    ],
    stated: shown.text.collect(),
    drawn: [shown.drawn.drawn(), leaves.drawn.drawn()],
  });
}

/**
 * The VM's index bytes (peak) against the populated working set (peak shadow leaves), one
 * dot per point and a line per design, a panel per host granule.
 */
function memoryAgainstLeaves(
  sec: Section<SweepRecord>,
  ticks: (lo: number, hi: number) => number[],
): HostPanel {
  const data: HostPoint[] = sec.rows.filter((r) =>
    num(r, "peak_memory_bytes") > 0 &&
    num(r, "peak_shadow_entries") > 0
  ).map((r) => ({
    row: r,
    strategy: r.strategy,
    p: String(r.granule),
    x: num(r, "peak_shadow_entries"),
    v: num(r, "peak_memory_bytes"),
  }));
  const granules = [...new Set(data.map((d) => d.p))];
  const xs = data.map((d) => d.x), vs = data.map((d) => d.v);
  const xlo = Math.min(...xs) / 1.5, xhi = Math.max(...xs) * 1.5;
  const lo = Math.min(...vs) / 2, hi = Math.max(...vs) * 2;
  const p10 = pow10Ticks(xlo, xhi).filter((t) => t >= xlo && t <= xhi);
  const xt = p10.length >= 2 ? p10 : logTicks(xlo, xhi);
  const yt = ticks(lo, hi);
  const marks: Plot.Markish[] = [
    Plot.frame({ stroke: "#ccc" }),
    Plot.gridY(yt, { stroke: "#ddd", strokeOpacity: 1 }),
    // text, not tickFormat: a log scale blanks formatted ticks that are not powers of 10.
    Plot.axisY(yt, {
      text: (v: number) => formatBytes(v),
      label: "↑ index bytes of the VM (peak)",
    }),
    Plot.axisX(xt, {
      text: axisFormat(xt),
      label: "populated shadow leaves (peak) →",
      labelAnchor: "center",
      labelOffset: 38,
      labelArrow: "none",
    }),
  ];
  return hostPanels(data, sec.drawn, LEAVES_X, marks, {
    fx: { domain: granules, label: null, tickFormat: (g: string) => `${g} pages` },
    x: [xlo, xhi],
    y: { type: "log", domain: [lo, hi] },
    xTicks: xt,
    width: 1.6,
  });
}

/**
 * The most populated point at alias `alias` (the most peak shadow leaves; ties to the
 * most vCPUs): its vCPUs, working set and granule, all of one row, so that a grid whose
 * largest vCPU count and largest working set are different points still names a point.
 */
export function largestPopulated(
  rows: readonly SweepRecord[],
  alias: number,
): { vcpus: number; ws: number; granule: string } {
  const at = rows.filter((r) => num(r, "alias") === alias);
  const pool = at.length > 0 ? at : rows;
  let big = pool[0];
  for (const r of pool) {
    const d = num(r, "peak_shadow_entries") - num(big, "peak_shadow_entries");
    if (d > 0 || (d === 0 && num(r, "vcpus") > num(big, "vcpus"))) big = r;
  }
  return {
    vcpus: num(big, "vcpus"),
    ws: num(big, "working_set_bytes"),
    granule: String(big.granule),
  };
}

/**
 * The insert-lock contention columns at the largest point the figures draw, as a Markdown
 * table that records the rows it shows.
 */
export function contentionTable(rows: readonly SweepRecord[], alias: number): Table {
  const shown = hostScaleSection(rows, alias);
  const s = largestPopulated(shown.rows, alias);
  const ws = s.ws;
  const at = shown.rows.filter((r) =>
    num(r, "vcpus") === s.vcpus && num(r, "working_set_bytes") === ws && r.granule === s.granule
  );
  shown.drawn.rows(at);
  const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(1)} %` : "–");
  const pins = shown.pinsText();
  const lines = [
    `${s.vcpus} vCPUs, ${s.granule} pages, working set ${formatBytes(ws)} per context, alias ` +
    `${alias}${pins === "" ? "" : ` (${pins})`}: index inserts by nested faults, and those ` +
    "into a lock domain another vCPU inserted into in the same phase, under the design's own " +
    "lock and under each alternative.",
    "",
    "| strategy | insert lock | inserts | contended (own lock) | one lock per VM | per MMU | per chunk |",
    "|---|---|---:|---:|---:|---:|---:|",
  ];
  for (const st of strategyOrder(at.map((r) => r.strategy))) {
    const r = at.find((x) => x.strategy === st)!;
    const t = num(r, "inserts_total");
    lines.push(
      `| ${st} | ${r.insert_lock} | ${formatCount(t)} | ${pct(num(r, "inserts_contended"), t)} | ${
        pct(num(r, "inserts_contended_vm"), t)
      } | ${pct(num(r, "inserts_contended_mmu"), t)} | ${
        pct(num(r, "inserts_contended_chunk"), t)
      } |`,
    );
  }
  return table("05-contention", lines.join("\n"), [shown.drawn.drawn()], shown.text.collect());
}

/**
 * The takeaway of notebook 05 at the largest point (most vCPUs, largest working set): the
 * leaves one unmap destroys, the collateral refaults, what one vCPU waits in the storm,
 * the unmap's time, and the index memory, for our design against the upstream walk; the
 * designs that fall back; the contended inserts under each design's lock.
 */
export function hostScaleTakeaway(
  rows: readonly SweepRecord[],
  path: string,
  base: Where,
  alias: number,
  stat: Statistic = "max",
  part: "unmap" | "storm" | "memory" | "contention" = "unmap",
): Takeaway {
  const drawn = hostScaleSection(rows, alias);
  const s = largestPopulated(drawn.rows, alias);
  const ws = s.ws;
  const fb = new FactBook(path, rows, {
    ...base,
    ...drawn.where,
    vcpus: s.vcpus,
    alias,
    working_set_bytes: ws,
    granule: s.granule,
  });
  const strategies = strategyOrder(drawn.rows.map((r) => r.strategy));
  const ours = oursOf(strategies) ?? strategies[0];
  const dc = destroyedColumn(stat);
  const out: string[] = [];
  const line = (st: string) => {
    const w = { strategy: st };
    if (part === "unmap") {
      const d = fb.fact(`${st}.destroyed`, w, dc, "max");
      const t = fb.fact(`${st}.unmap_ns`, w, `unmap_est_ns_${stat}`, "max", sec);
      return {
        d,
        text:
          `**${st}**: one host unmap destroys ${d.shown} shadow leaves (${dc}) in ≈ ${t.shown}.`,
      };
    }
    if (part === "storm") {
      const d = fb.fact(`${st}.storm`, w, "storm_faults_max", "max");
      const rf = fb.fact(`${st}.refaults`, w, "storm_refaults_total", "max");
      const wait = fb.fact(`${st}.vcpu_wait`, w, "storm_vcpu_est_ns_max", "max", sec);
      return {
        d,
        text: `**${st}**: the worst storm is ${d.shown} shadow faults; ${rf.shown} storm ` +
          `faults over the trace refault collateral leaves; one vCPU waits up to ${wait.shown}.`,
      };
    }
    const d = fb.fact(`${st}.memory`, w, "peak_memory_bytes", "max", formatBytes);
    const e = fb.fact(
      `${st}.per_entry`,
      w,
      "memory_bytes_per_shadow_entry",
      "max",
      (v) => `${formatCount(v)} B`,
    );
    return { d, text: `**${st}**: index ${d.shown} for the VM, ${e.shown} per shadow entry.` };
  };
  const shown = part === "memory"
    ? strategies.filter((st) => st !== UPSTREAM)
    : part === "contention"
    ? []
    : [ours, ...(strategies.includes(UPSTREAM) && ours !== UPSTREAM ? [UPSTREAM] : [])];
  const lines = shown.map(line);
  for (const l of lines) out.push(l.text);
  if ((part === "unmap" || part === "storm") && lines.length === 2 && lines[0].d.value > 0) {
    const r = fb.ratio(`${part}.${UPSTREAM}/ours`, lines[1].d, lines[0].d);
    out.push(
      part === "unmap"
        ? `${UPSTREAM} destroys ${r.shown} times as many leaves per unmap as ${ours}.`
        : `${UPSTREAM}'s worst storm is ${r.shown} times ${ours}'s.`,
    );
  }
  const falls = strategies.filter((st) =>
    part === "unmap" && fb.peek({ strategy: st }, "fallbacks", "max") > 0
  ).map((st) => ({ st, f: fb.fact(`${st}.fallbacks`, { strategy: st }, "fallbacks", "max") }));
  for (const x of falls) {
    out.push(
      `${x.st} records ${x.f.shown} fallbacks here (the fallbacks column: unmaps it could ` +
        `not do from its index, each one a walk like ${UPSTREAM}'s).`,
    );
  }
  const cont: string[] = [];
  for (const st of part === "contention" ? strategies : []) {
    const exact = (v: number) => v.toLocaleString("en-US");
    const c = fb.fact(`${st}.contended`, { strategy: st }, "inserts_contended", "max", exact);
    const t = fb.fact(`${st}.inserts`, { strategy: st }, "inserts_total", "max", exact);
    if (t.value > 0) {
      const r = fb.ratio(`${st}.contended/inserts`, c, t, (v) => `${(100 * v).toFixed(1)} %`);
      cont.push(`${st} ${r.shown} (${c.shown} of ${t.shown})`);
    }
  }
  if (cont.length > 0) {
    out.push(`Inserts contended under each design's own lock: ${cont.join(", ")}.`);
  }
  const pins = pinFlags(drawn.slice as unknown as Slice<Record<string, string | number>>)
    .map((f) => f.text).join(", ");
  return fb.takeaway(
    `At ${s.vcpus} vCPUs, ${s.granule} pages, a working set of ${formatBytes(ws)} per context, ` +
      `alias ${alias}${pins === "" ? "" : ` (the figures' ${pins})`}:\n\n` +
      out.map((l) => `- ${l}`).join("\n"),
  );
}
