/**
 * Notebook 01, cost: iterations in the worst unmap event against vCPUs and against L1
 * memory, one line per strategy, one panel per host granule, log scales, with the
 * soft-lockup threshold drawn at the iteration count that reaches it under the sweep's
 * cost model (lib/sweep/costmodel.ts, whose constants every CSV row records).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { lockupIterations } from "./cost.ts";
 * const m = { nsPerIteration: 20, nsPerDescriptor: 2, softLockupNs: 2e10, descriptorsPerIteration: 1 };
 * assertEquals(Math.round(lockupIterations(m)), 909090909);
 * ```
 * @module
 */

import { UPSTREAM } from "../strategies/registry.ts";
import { designsOf, knownBroken } from "./roles.ts";
import * as Plot from "@observablehq/plot";
import type { SweepColumn } from "../sweep/columns.ts";
import { defaultCostModel } from "../sweep/costmodel.ts";
import {
  distinct,
  largestScale,
  maxBy,
  num,
  type NumericColumn,
  type SweepRecord,
} from "./results.ts";
import { formatBytes } from "../util/size.ts";
import {
  axisFormat,
  formatCount,
  formatSeconds,
  granuleOrder,
  LOCKUP_COLOR,
  pow10Ticks,
  strategyOrder,
  strategyStyle,
  STRICT_COLOR,
} from "./style.ts";
import {
  iterationsToSeconds,
  SCHED_LATENCY_NS,
  SCHED_LATENCY_SOURCE,
  secondsToIterations,
  softLockupSource,
} from "./latency.ts";
import { statColumn, type Statistic, statWord } from "./params.ts";
import { FactBook, type Takeaway, type Where } from "./takeaway.ts";
import { type Section, section } from "./section.ts";
import { DODGE_NOTE, dodgeRecords } from "./dodge.ts";
import {
  composeFigure,
  type DomElement,
  type Figure,
  type LegendItem,
  plotDocument,
  strategyLegend,
} from "./svg.ts";

/** The cost model the rows were computed with, and where the soft lockup sits in iterations. */
export interface CostModelInfo {
  /** ns per strategy iteration. */
  nsPerIteration: number;
  /** ns per shadow descriptor visited. */
  nsPerDescriptor: number;
  /** Soft-lockup threshold (2 x watchdog_thresh), ns. */
  softLockupNs: number;
  /** Descriptors the upstream walk visits per iteration (median over its worst events). */
  descriptorsPerIteration: number;
}

/** Iterations that take `softLockupNs` under the model: T / (ns_it + r x ns_desc). */
export function lockupIterations(m: CostModelInfo): number {
  return m.softLockupNs / (m.nsPerIteration + m.descriptorsPerIteration * m.nsPerDescriptor);
}

const median = (a: number[]) => {
  const s = a.slice().sort((x, y) => x - y);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
};

/**
 * The cost model of the rows (it must be one: the constants are per-row columns), and the
 * descriptors per iteration of the upstream walk's worst events (1 when it is absent).
 */
export function costModelOf(rows: readonly SweepRecord[]): CostModelInfo {
  const keys = new Set(
    rows.map((r) =>
      [num(r, "ns_per_iteration"), num(r, "ns_per_descriptor"), num(r, "soft_lockup_threshold_ns")]
        .join("/")
    ),
  );
  if (keys.size !== 1) {
    throw new Error(
      `the rows mix ${keys.size} cost models (ns_per_iteration/ns_per_descriptor/` +
        `soft_lockup_threshold_ns: ${[...keys].join(", ")}); plot one at a time`,
    );
  }
  const r0 = rows[0];
  const walk = rows.filter((r) => r.strategy === UPSTREAM && num(r, "unmap_iterations_max") > 0);
  const ratio = median(
    walk.map((r) => num(r, "unmap_descriptors_max") / num(r, "unmap_iterations_max")),
  );
  return {
    nsPerIteration: num(r0, "ns_per_iteration"),
    nsPerDescriptor: num(r0, "ns_per_descriptor"),
    softLockupNs: num(r0, "soft_lockup_threshold_ns"),
    descriptorsPerIteration: Number.isFinite(ratio) ? ratio : 1,
  };
}

/** The cost model's assumptions, one sentence a line (printed beside the figures). */
export function costModelNotes(m: CostModelInfo): string[] {
  const it = lockupIterations(m);
  return [
    `Cost model (lib/sweep/costmodel.ts): t(unmap) = iterations × ${m.nsPerIteration} ns + ` +
    `descriptors × ${m.nsPerDescriptor} ns; an iteration is one stage2_apply_range() chunk or ` +
    `one index step, ${
      isDefaultModel(m)
        ? "the default model's order-of-magnitude figures for an arm64 server core, not a " +
          "measurement"
        : "as the rows record them (not the default model: one measured with deno task " +
          "calibrate, or cost flags; the header names which)"
    }.`,
    `Soft lockup: one unmap holds the CPU longer than 2 × watchdog_thresh = ` +
    `${m.softLockupNs / 1e9} s, assuming the walk never reschedules (the MMU notifier's ` +
    `non-blocking path, or an mmu_lock holder it cannot yield to).`,
    `The threshold line: ${m.softLockupNs / 1e9} s ÷ (${m.nsPerIteration} ns + ` +
    `${m.descriptorsPerIteration.toFixed(2)} descriptors per iteration × ` +
    `${m.nsPerDescriptor} ns, the upstream walk's ratio) ≈ ${formatCount(it)} iterations. ` +
    `Rings: points whose own estimate exceeds it (soft_lockup = 1).`,
  ];
}

/** Whether the rows' per-iteration and per-descriptor costs are the default model's. */
function isDefaultModel(m: CostModelInfo): boolean {
  const d = defaultCostModel();
  return m.nsPerIteration === d.nsPerIteration && m.nsPerDescriptor === d.nsPerDescriptor;
}

/** Which axis the cost figure puts on x. */
export type CostAxis = "vcpus" | "l1_mem_bytes";

/** Options of {@linkcode costFigure}. */
export interface CostOptions {
  /** x axis: vCPUs (at the largest L1 memory) or L1 memory (at the most vCPUs). */
  by: CostAxis;
  /** Alias density to show (default: the largest in the rows). */
  alias?: number;
  /** Statistic of the per-event columns (default max). */
  stat?: Statistic;
  /** Plot width in px (default 1020). */
  width?: number;
}

/** A strategy not drawn because its series is another's, point for point. */
export interface Coincident {
  /** The strategy not drawn. */
  strategy: string;
  /** The strategy drawn in its place. */
  same: string;
  /** Points the two share. */
  points: number;
}

/** What a cost figure draws. */
export interface CostData {
  /** One point per (granule, strategy, x): the statistic, worst over the other dimensions. */
  data: Record<string, string | number>[];
  /** Points whose estimate (same statistic) is past the soft-lockup threshold. */
  locked: Record<string, string | number>[];
  /** Alias density shown. */
  alias: number;
  /** The value of the dimension not on x (most vCPUs, or most L1 memory). */
  fixed: number;
  /** The iterations column drawn. */
  column: string;
  /** The estimate column of the same statistic. */
  estColumn: string;
  /** Strategies not drawn because they coincide with one that is. */
  coincident: Coincident[];
  /** The rows the figure reads (alias and the fixed dimension applied, one configuration per line). */
  rows: SweepRecord[];
  /** Those rows, what was pinned to keep them, and what the figure drew. */
  section: Section<SweepRecord>;
}

/**
 * Series that are another strategy's point for point (same keys, same values): the later
 * one in legend order is reported, with the one it sits on.
 */
export function coincidentSeries(
  data: readonly Record<string, string | number>[],
  keys: readonly string[],
  value: string,
): Coincident[] {
  const series = new Map<string, Map<string, number>>();
  for (const d of data) {
    const s = String(d.strategy);
    const m = series.get(s) ?? new Map<string, number>();
    m.set(JSON.stringify(keys.map((k) => d[k])), d[value] as number);
    series.set(s, m);
  }
  const out: Coincident[] = [];
  const drawn: string[] = [];
  for (const s of strategyOrder(series.keys())) {
    const m = series.get(s)!;
    const same = drawn.find((t) => {
      const o = series.get(t)!;
      return o.size === m.size && [...m].every(([k, v]) => o.get(k) === v);
    });
    if (same) out.push({ strategy: s, same, points: m.size });
    else drawn.push(s);
  }
  return out;
}

/** The points a cost figure draws: one per (granule, strategy, x), worst over the rest. */
export function costData(rows: readonly SweepRecord[], opts: CostOptions): CostData {
  const stat = opts.stat ?? "max";
  const column = statColumn("unmap_iterations", stat);
  const estColumn = statColumn("unmap_est_ns", stat);
  const alias = opts.alias ?? Math.max(...rows.map((r) => num(r, "alias")));
  const scale = largestScale(rows);
  const other: CostAxis = opts.by === "vcpus" ? "l1_mem_bytes" : "vcpus";
  const fixed = other === "vcpus" ? scale.vcpus : scale.l1MemBytes;
  const at = rows.filter((r) => num(r, "alias") === alias && num(r, other) === fixed);
  const shown = section(at, { x: opts.by, facets: ["granule"] });
  const sel = shown.rows;
  if (sel.length === 0) {
    throw new Error(
      `no rows with alias ${alias} and ${other} ${fixed}: the results have alias ` +
        `${distinct(rows, "alias").join(", ")}`,
    );
  }
  const keys: SweepColumn[] = ["granule", "strategy", opts.by];
  const it = maxBy(sel, keys, column);
  const est = new Map(
    maxBy(sel, keys, estColumn).map((g) => [JSON.stringify(keys.map((k) => g[k])), g[estColumn]]),
  );
  const threshold = costModelOf(sel).softLockupNs;
  const data = it.filter((d) => (d[column] as number) > 0)
    .map((d): Record<string, string | number> => ({
      ...d,
      est_ns: est.get(JSON.stringify(keys.map((k) => d[k]))) ?? 0,
    }))
    .sort((a, b) => (a[opts.by] as number) - (b[opts.by] as number));
  const locked = data.filter((d) => (d.est_ns as number) > threshold);
  const coincident = coincidentSeries(data, ["granule", opts.by], column);
  return { data, locked, alias, fixed, column, estColumn, coincident, rows: sel, section: shown };
}

/**
 * The cost model of the rows the cost figures draw: a CSV may hold several, and each
 * figure pins one (the one most of its rows have).
 */
export function costModelShown(rows: readonly SweepRecord[]): CostModelInfo {
  return costModelOf(costData(rows, { by: "vcpus" }).rows);
}

/** The granule's facet label: "host granule 64K (52-bit PA)" from the rows' pa_bits. */
export function granuleLabel(rows: readonly SweepRecord[], g: string): string {
  const bits = [...new Set(rows.filter((r) => r.granule === g).map((r) => num(r, "pa_bits")))]
    .sort((a, b) => a - b);
  return `host granule ${g}` + (bits.length > 0 ? ` (${bits.join("/")}-bit PA)` : "");
}

/**
 * One sentence per granule whose rows assume a host with more than 48 PA bits (64K is
 * swept at 52 by default): the full walk's IPA space, and how much smaller it is on a
 * 48-bit host.
 */
export function paBitsNotes(rows: readonly SweepRecord[]): string[] {
  const out: string[] = [];
  for (const g of granuleOrder(rows.map((r) => r.granule))) {
    const bits = Math.max(...rows.filter((r) => r.granule === g).map((r) => num(r, "pa_bits")));
    if (bits > 48) {
      out.push(
        `The ${g} panel assumes a ${bits}-bit host (pa_bits = kvm_get_pa_bits()): every ` +
          `shadow MMU spans 2^${bits} bytes of IPA, so on a 48-bit host the full walk is ` +
          `${2 ** (bits - 48)} times smaller.`,
      );
    }
  }
  return out;
}

/** ns of one upstream-walk iteration with its descriptors: the seconds axis' conversion. */
export function nsPerWalkIteration(m: CostModelInfo): number {
  return m.nsPerIteration + m.descriptorsPerIteration * m.nsPerDescriptor;
}

/**
 * Iterations per unmap event (log) against vCPUs or L1 memory (log), a line per strategy
 * (distinct colour, dash and symbol; a strategy whose series is another's is not drawn and
 * is named in the notes; points that sit on each other are spread along x), a panel per
 * host granule; on the right the same axis in estimated seconds, with the soft-lockup
 * threshold and CFS's scheduling latency as dashed rules.
 */
export function costFigure(rows: readonly SweepRecord[], opts: CostOptions): Figure {
  const stat = opts.stat ?? "max";
  const cd = costData(rows, opts);
  const m = costModelOf(cd.rows);
  const nsIt = nsPerWalkIteration(m);
  const lock = lockupIterations(m);
  const strict = secondsToIterations(SCHED_LATENCY_NS / 1e9, nsIt);
  const { locked, alias, fixed, column, coincident } = cd;
  const hidden = new Set(coincident.map((c) => c.strategy));
  const undodged = cd.data.filter((d) => !hidden.has(d.strategy as string));
  const granules = granuleOrder(undodged.map((d) => d.granule as string));
  const strategies = strategyOrder(undodged.map((d) => d.strategy as string));
  const xs = [...new Set(undodged.map((d) => d[opts.by] as number))].sort((a, b) => a - b);
  const ys = undodged.map((d) => d[column] as number);
  const yLo = Math.min(...ys, strict) / 3;
  const yHi = Math.max(...ys, lock) * 3;
  const byVcpus = opts.by === "vcpus";
  const scale = largestScale(rows);
  const yTicks = pow10Ticks(yLo, yHi).filter((t) => t >= yLo && t <= yHi);
  const secTicks = pow10Ticks(yLo * nsIt / 1e9, yHi * nsIt / 1e9)
    .map((s) => secondsToIterations(s, nsIt)).filter((t) => t >= yLo && t <= yHi);
  const layout = {
    document: plotDocument(),
    width: opts.width ?? 1020,
    height: 430,
    marginLeft: 64,
    marginRight: 72,
    marginTop: 44,
    marginBottom: 48,
    style: { fontSize: "13px", fontFamily: "DejaVu Sans, Verdana, Arial, sans-serif" },
    fx: {
      domain: granules,
      label: null,
      tickFormat: (g: string) => granuleLabel(cd.rows, g),
      padding: 0.1,
    },
    x: { type: "log", domain: [xs[0] / 1.5, xs[xs.length - 1] * 1.5] },
    y: { type: "log", domain: [yLo, yHi] },
    symbol: { type: "identity" },
  };
  const dodged = dodgeRecords(
    undodged,
    { x: opts.by, y: column, fx: "granule" },
    layout as Plot.PlotOptions,
    xs,
  );
  const data = dodged.data;
  const marks: Plot.Markish[] = [
    Plot.frame({ stroke: "#ccc" }),
    Plot.gridY(yTicks, { stroke: "#ddd", strokeOpacity: 1 }),
    // text, not tickFormat: a log scale blanks formatted ticks that are not powers of 10.
    Plot.axisY(yTicks, {
      anchor: "left",
      text: axisFormat(yTicks),
      label: `↑ iterations, ${statWord(stat)} unmap event (${column})`,
    }),
    Plot.axisY(secTicks, {
      anchor: "right",
      // text, not tickFormat: a log scale blanks formatted ticks that are not powers of 10.
      text: (v: number) => formatSeconds(iterationsToSeconds(v, nsIt)),
      label: "estimated time ↑",
    }),
    Plot.ruleY([lock], { stroke: LOCKUP_COLOR, strokeWidth: 1.8, strokeDasharray: "7,4" }),
    Plot.ruleY([strict], { stroke: STRICT_COLOR, strokeWidth: 1.6, strokeDasharray: "2,3" }),
    // Explicit tick labels: a log scale's own format blanks ticks that are not powers of 10.
    Plot.axisX(xs, {
      text: byVcpus ? axisFormat(xs) : (v: number) => formatBytes(v),
      label: byVcpus ? "L1 vCPUs (2 shadow MMUs each) →" : "L1 memory →",
      labelAnchor: "center",
      labelOffset: 40,
      labelArrow: "none",
    }),
  ];
  const book = cd.section.drawn;
  book.rows(cd.rows);
  for (const s of strategies) {
    for (const g of granules) {
      book.line(
        opts.by,
        cd.rows.filter((r) =>
          r.strategy === s && r.granule === g && num(r, column as NumericColumn) > 0
        )
          .sort((a, b) => num(a, opts.by) - num(b, opts.by)).map((r) => [r]),
      );
    }
    const st = strategyStyle(s);
    const d = data.filter((r) => r.strategy === s)
      .sort((a, b) => (a.xd as number) - (b.xd as number));
    marks.push(
      Plot.line(d, {
        x: "xd",
        y: column,
        fx: "granule",
        z: "granule",
        stroke: st.color,
        strokeWidth: 2.2,
        strokeDasharray: st.dash || undefined,
      }),
      Plot.dot(d, {
        x: "xd",
        y: column,
        fx: "granule",
        symbol: () => st.symbol,
        r: 4.5,
        fill: st.hollow || ["cross", "times", "wye"].includes(st.symbol) ? "white" : st.color,
        stroke: st.color,
        strokeWidth: 1.8,
      }),
    );
  }
  // The rings sit where the dots are: the dodge of the drawn data, looked up by key.
  const where = new Map(
    data.map((d) => [JSON.stringify([d.granule, d.strategy, d[opts.by]]), d.xd]),
  );
  const drawnLocked = locked.filter((d) => !hidden.has(d.strategy as string));
  marks.push(
    Plot.dot(
      drawnLocked.map((d) => ({
        ...d,
        xd: where.get(JSON.stringify([d.granule, d.strategy, d[opts.by]])) ?? d[opts.by],
      })),
      {
        x: "xd",
        y: column,
        fx: "granule",
        r: 10,
        fill: "none",
        stroke: LOCKUP_COLOR,
        strokeWidth: 2,
      },
    ),
  );
  const chart = Plot.plot({ ...layout, marks } as Plot.PlotOptions) as unknown as DomElement;
  const legend: LegendItem[] = strategyLegend(strategies);
  legend.push(
    {
      label: `soft lockup: ${m.softLockupNs / 1e9} s ≈ ${formatCount(lock)} iterations`,
      color: LOCKUP_COLOR,
      kind: "rule",
    },
    {
      label: `scheduling latency ${formatSeconds(SCHED_LATENCY_NS / 1e9)} ≈ ${
        formatCount(Math.round(strict))
      } iterations`,
      color: STRICT_COLOR,
      kind: "rule",
      dash: "2,3",
    },
    { label: "estimate past the soft lockup", color: LOCKUP_COLOR, kind: "ring" },
  );
  const at = byVcpus
    ? `L1 memory ${formatBytes(fixed)}`
    : `${fixed} vCPUs (${scale.shadowMmus} shadow MMUs)`;
  const pins = cd.section.pinsText();
  return composeFigure({
    name: (byVcpus ? "01-cost-vcpus" : "01-cost-memory") +
      (opts.alias === undefined ? "" : `-alias-${alias}`),
    title: (byVcpus
      ? "Iterations per unmap event against vCPUs"
      : "Iterations per unmap event against L1 memory") +
      (opts.alias === undefined ? "" : `, alias density ${alias}`),
    subtitle: `The ${statWord(stat)} unmap event of each grid point (${column}) at ${at}, ` +
      `alias density ${alias}` +
      (pins === "" ? "" : `; the CSV varies more than this figure shows: it draws ${pins}`) +
      `. Both axes log; the right axis is the same scale in estimated time.`,
    chart,
    legend,
    notes: [
      ...coincident.map((c) =>
        `Not drawn: ${c.strategy} coincides with ${c.same} at all ${c.points} points ` +
        `(the same ${column}); its line would hide under ${c.same}'s.`
      ),
      ...(dodged.moved ? [DODGE_NOTE] : []),
      ...paBitsNotes(cd.rows),
      ...costModelNotes(m),
      `Estimated time = iterations × ${formatCount(nsIt)} ns (the upstream walk's ns per ` +
      `iteration with its descriptors). Lines: ${
        softLockupSource(m.softLockupNs)
      }; ${SCHED_LATENCY_SOURCE}.`,
    ],
    stated: cd.section.text.collect(),
    drawn: [book.drawn()],
  });
}

/** One cell of {@linkcode costTable}: a granule and an alias density. */
export interface CostCell {
  /** Host granule. */
  granule: string;
  /** Alias density. */
  alias: number;
}

/**
 * Markdown table of the per-event statistic per strategy at the largest scale, one column
 * per (granule, alias) cell (default: every granule at the largest alias), with the
 * estimated time beside each when `seconds` is set.
 */
export function costTable(
  rows: readonly SweepRecord[],
  opts: { stat?: Statistic; cells?: readonly CostCell[]; seconds?: boolean } = {},
): string {
  const stat = opts.stat ?? "max";
  const column = statColumn("unmap_iterations", stat);
  const estColumn = statColumn("unmap_est_ns", stat);
  const scale = largestScale(rows);
  const big = rows.filter((r) =>
    num(r, "vcpus") === scale.vcpus && num(r, "l1_mem_bytes") === scale.l1MemBytes
  );
  const maxAlias = Math.max(...rows.map((r) => num(r, "alias")));
  const cells = opts.cells ??
    granuleOrder(big.map((r) => r.granule)).map((g) => ({ granule: g, alias: maxAlias }));
  const strategies = strategyOrder(big.map((r) => r.strategy));
  const head = cells.map((c) => `${c.granule}, alias ${c.alias}`);
  const lines = [
    `| strategy | ${
      head.map((h) => (opts.seconds ? `${h} | est. time` : h)).join(" | ")
    } | stale entries (these cells' rows) |`,
    `|---|${cells.map(() => (opts.seconds ? "---:|---:" : "---:")).join("|")}|---:|`,
  ];
  for (const s of strategies) {
    const vals = cells.map((c) => {
      const rs = big.filter((r) =>
        r.strategy === s && r.granule === c.granule &&
        num(r, "alias") === c.alias
      );
      if (rs.length === 0) return opts.seconds ? "– | –" : "–";
      const it = Math.round(Math.max(...rs.map((r) => num(r, column))));
      const ns = Math.max(...rs.map((r) => num(r, estColumn)));
      const lock = ns > num(rs[0], "soft_lockup_threshold_ns");
      const text = it.toLocaleString("en-US");
      return opts.seconds
        ? `${text} | ${formatSeconds(ns / 1e9)}${lock ? " **lockup**" : ""}`
        : text;
    });
    const stale = big.filter((r) =>
      r.strategy === s &&
      cells.some((c) => r.granule === c.granule && num(r, "alias") === c.alias)
    ).reduce((a, r) => a + num(r, "violations"), 0);
    lines.push(`| ${strategyStyle(s).label} | ${vals.join(" | ")} | ${formatCount(stale)} |`);
  }
  return [
    `${scale.vcpus} vCPUs (${scale.shadowMmus} shadow MMUs), ${
      formatBytes(scale.l1MemBytes)
    } of L1 memory; ${statWord(stat)} iterations per host unmap event (${column}).`,
    "",
    ...lines,
  ].join("\n");
}

/** The strategy the takeaways speak for: rmap when present, else the first of ours. */
export function oursOf(strategies: readonly string[]): string | undefined {
  return designsOf(strategies, "ours").find((s) => !knownBroken(s)) ??
    strategies.find((s) => s !== UPSTREAM);
}

/**
 * The takeaway under a cost figure, computed from the rows it draws: at the right end of
 * x, per granule, our design's statistic against the upstream walk's (ratio and estimated
 * time); which designs pass the soft-lockup and the scheduling-latency lines; the
 * strategies not drawn and why; maple-v2's stale entries at these points.
 */
export function costTakeaway(
  rows: readonly SweepRecord[],
  path: string,
  base: Where,
  opts: CostOptions,
): Takeaway {
  const stat = opts.stat ?? "max";
  const cd = costData(rows, opts);
  const m = costModelOf(cd.rows);
  const other = opts.by === "vcpus" ? "l1_mem_bytes" : "vcpus";
  const fb = new FactBook(path, rows, {
    ...base,
    ...cd.section.where,
    alias: cd.alias,
    [other]: cd.fixed,
  });
  const xMax = Math.max(...cd.data.map((d) => d[opts.by] as number));
  const strategies = strategyOrder(cd.data.map((d) => d.strategy as string));
  const ours = oursOf(strategies);
  const granules = granuleOrder(cd.data.map((d) => d.granule as string));
  const sec = (ns: number) => formatSeconds(ns / 1e9);
  const xText = opts.by === "vcpus" ? `${xMax} vCPUs` : formatBytes(xMax);
  const fixedText = opts.by === "vcpus" ? formatBytes(cd.fixed) : `${cd.fixed} vCPUs`;
  const out: string[] = [];
  for (const g of granules) {
    if (!ours) break;
    const w = { granule: g, [opts.by]: xMax };
    if (!Number.isFinite(fb.peek({ ...w, strategy: ours }, cd.column, "max"))) continue;
    const o = fb.fact(`${ours}.${g}`, { ...w, strategy: ours }, cd.column, "max");
    const ot = fb.fact(`${ours}.${g}.ns`, { ...w, strategy: ours }, cd.estColumn, "max", sec);
    let line = `**${granuleLabel(cd.rows, g)}**, ${xText} / ${fixedText}, alias ${cd.alias}: ` +
      `${ours}'s ${statWord(stat)} unmap is ${o.shown} iterations (≈ ${ot.shown})`;
    if (strategies.includes(UPSTREAM) && ours !== UPSTREAM) {
      const fwv = fb.peek({ ...w, strategy: UPSTREAM }, cd.column, "max");
      if (Number.isFinite(fwv) && o.value > 0) {
        const f = fb.fact(`${UPSTREAM}.${g}`, { ...w, strategy: UPSTREAM }, cd.column, "max");
        const ft = fb.fact(
          `${UPSTREAM}.${g}.ns`,
          { ...w, strategy: UPSTREAM },
          cd.estColumn,
          "max",
          sec,
        );
        if (f.value >= o.value) {
          const r = fb.ratio(`${UPSTREAM}/${ours}.${g}`, f, o);
          line += `, ${r.shown} times fewer than ${UPSTREAM}'s ${f.shown} (≈ ${ft.shown})`;
        } else {
          const r = fb.ratio(`${ours}/${UPSTREAM}.${g}`, o, f);
          line += `, ${r.shown} times ${UPSTREAM}'s ${f.shown} (≈ ${ft.shown})`;
        }
      }
    }
    out.push(line + ".");
  }
  const past = (limitNs: number, tag: string, what: string) => {
    const names: string[] = [];
    for (const s of strategies) {
      if (!(fb.peek({ strategy: s }, cd.estColumn, "max") > limitNs)) continue;
      const f = fb.fact(`${s}.${tag}`, { strategy: s }, cd.estColumn, "max", sec);
      names.push(`${s} (up to ${f.shown})`);
    }
    return names.length > 0
      ? `Past the ${what}: ${names.join(", ")}.`
      : `No design passes the ${what} in these rows.`;
  };
  out.push(
    past(m.softLockupNs, "lockup", `${m.softLockupNs / 1e9} s soft-lockup line`) + " " +
      past(
        SCHED_LATENCY_NS,
        "sched",
        `${formatSeconds(SCHED_LATENCY_NS / 1e9)} scheduling-latency line`,
      ),
  );
  for (const c of cd.coincident) {
    const bounded = fb.peek({ strategy: c.strategy }, "fallbacks", "sum") > 0;
    const fbk = bounded
      ? fb.fact(`${c.strategy}.fallbacks`, { strategy: c.strategy }, "fallbacks", "sum")
      : null;
    const n = fb.fact(
      `${c.strategy}.points`,
      { strategy: c.strategy },
      cd.column,
      "distinct",
      formatCount,
      ["granule", opts.by],
    );
    out.push(
      `${c.strategy} is not drawn: its ${cd.column} equals ${c.same}'s at all ${n.shown} ` +
        `points` +
        (fbk
          ? ` (it falls back to the full walk ${fbk.shown} times in these rows, so it runs as rmap).`
          : "."),
    );
  }
  for (const broken of strategies.filter(knownBroken)) {
    const v = fb.fact(`${broken}.stale`, { strategy: broken }, "violations", "max");
    out.push(
      v.value > 0
        ? `${broken}'s small numbers come with up to ${v.shown} stale shadow entries per ` +
          `point at alias ${cd.alias} (notebook 02).`
        : `${broken} leaves ${v.shown} stale entries at alias ${cd.alias}: without aliases ` +
          `there is nothing for it to miss (notebook 02).`,
    );
  }
  return fb.takeaway(out.map((l) => `- ${l}`).join("\n"));
}
