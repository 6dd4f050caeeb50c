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

import * as Plot from "@observablehq/plot";
import { distinct, largestScale, maxBy, num, type SweepRecord } from "./results.ts";
import { formatBytes } from "../util/size.ts";
import {
  formatCount,
  formatPow10,
  granuleOrder,
  LOCKUP_COLOR,
  pow10Ticks,
  strategyOrder,
  strategyStyle,
} from "./style.ts";
import {
  composeFigure,
  type DomElement,
  type Figure,
  type LegendItem,
  plotDocument,
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
  const walk = rows.filter((r) => r.strategy === "full-walk" && num(r, "unmap_iterations_max") > 0);
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
    `one index step, order-of-magnitude figures for an arm64 server core.`,
    `Soft lockup: one unmap holds the CPU longer than 2 × watchdog_thresh = ` +
    `${m.softLockupNs / 1e9} s, assuming the walk never reschedules (the MMU notifier's ` +
    `non-blocking path, or an mmu_lock holder it cannot yield to).`,
    `The threshold line: ${m.softLockupNs / 1e9} s ÷ (${m.nsPerIteration} ns + ` +
    `${m.descriptorsPerIteration.toFixed(2)} descriptors per iteration × ` +
    `${m.nsPerDescriptor} ns, the upstream walk's ratio) ≈ ${formatCount(it)} iterations. ` +
    `Rings: points whose own estimate exceeds it (soft_lockup = 1).`,
  ];
}

/** Which axis the cost figure puts on x. */
export type CostAxis = "vcpus" | "l1_mem_bytes";

/** Options of {@linkcode costFigure}. */
export interface CostOptions {
  /** x axis: vCPUs (at the largest L1 memory) or L1 memory (at the most vCPUs). */
  by: CostAxis;
  /** Alias density to show (default: the largest in the rows). */
  alias?: number;
  /** Plot width in px (default 1020). */
  width?: number;
}

/** The points a cost figure draws: one per (granule, strategy, x), worst over the rest. */
export function costData(
  rows: readonly SweepRecord[],
  opts: CostOptions,
): {
  data: Record<string, string | number>[];
  locked: Record<string, string | number>[];
  alias: number;
  fixed: number;
} {
  const alias = opts.alias ?? Math.max(...rows.map((r) => num(r, "alias")));
  const scale = largestScale(rows);
  const other: CostAxis = opts.by === "vcpus" ? "l1_mem_bytes" : "vcpus";
  const fixed = other === "vcpus" ? scale.vcpus : scale.l1MemBytes;
  const sel = rows.filter((r) => num(r, "alias") === alias && num(r, other) === fixed);
  if (sel.length === 0) {
    throw new Error(
      `no rows with alias ${alias} and ${other} ${fixed}: the results have alias ` +
        `${distinct(rows, "alias").join(", ")}`,
    );
  }
  const keys = ["granule", "strategy", opts.by];
  const it = maxBy(sel, keys, "unmap_iterations_max");
  const lock = maxBy(sel, keys, "soft_lockup");
  const lockedKeys = new Set(
    lock.filter((g) => (g.soft_lockup as number) > 0).map((g) =>
      JSON.stringify(keys.map((k) => g[k]))
    ),
  );
  const data = it.filter((d) => (d.unmap_iterations_max as number) > 0)
    .sort((a, b) => (a[opts.by] as number) - (b[opts.by] as number));
  const locked = data.filter((d) => lockedKeys.has(JSON.stringify(keys.map((k) => d[k]))));
  return { data, locked, alias, fixed };
}

/**
 * Iterations in the worst unmap event (log) against vCPUs or L1 memory (log), a line per
 * strategy, a panel per host granule, the soft-lockup threshold as a dashed rule.
 */
export function costFigure(rows: readonly SweepRecord[], opts: CostOptions): Figure {
  const m = costModelOf(rows);
  const lock = lockupIterations(m);
  const { data, locked, alias, fixed } = costData(rows, opts);
  const granules = granuleOrder(data.map((d) => d.granule as string));
  const strategies = strategyOrder(data.map((d) => d.strategy as string));
  const xs = [...new Set(data.map((d) => d[opts.by] as number))].sort((a, b) => a - b);
  const ys = data.map((d) => d.unmap_iterations_max as number);
  const yLo = Math.min(...ys, lock) / 3;
  const yHi = Math.max(...ys, lock) * 3;
  const byVcpus = opts.by === "vcpus";
  const scale = largestScale(rows);
  const marks: Plot.Markish[] = [
    Plot.frame({ stroke: "#ccc" }),
    Plot.ruleY([lock], { stroke: LOCKUP_COLOR, strokeWidth: 1.8, strokeDasharray: "7,4" }),
    // Explicit tick labels: a log scale's own format blanks ticks that are not powers of 10.
    Plot.axisX(xs, {
      text: byVcpus ? (v: number) => String(v) : (v: number) => formatBytes(v),
      label: byVcpus ? "L1 vCPUs (2 shadow MMUs each) →" : "L1 memory →",
      labelAnchor: "center",
      labelOffset: 40,
      labelArrow: "none",
    }),
  ];
  for (const s of strategies) {
    const st = strategyStyle(s);
    const d = data.filter((r) => r.strategy === s);
    marks.push(
      Plot.line(d, {
        x: opts.by,
        y: "unmap_iterations_max",
        fx: "granule",
        stroke: st.color,
        strokeWidth: 2.2,
        strokeDasharray: st.dash || undefined,
      }),
      Plot.dot(d, {
        x: opts.by,
        y: "unmap_iterations_max",
        fx: "granule",
        symbol: () => st.symbol,
        r: 4.5,
        fill: st.hollow ? "white" : st.color,
        stroke: st.color,
        strokeWidth: 1.6,
      }),
    );
  }
  marks.push(
    Plot.dot(locked, {
      x: opts.by,
      y: "unmap_iterations_max",
      fx: "granule",
      r: 10,
      fill: "none",
      stroke: LOCKUP_COLOR,
      strokeWidth: 2,
    }),
  );
  const chart = Plot.plot({
    document: plotDocument(),
    width: opts.width ?? 1020,
    height: 430,
    marginLeft: 64,
    marginRight: 16,
    marginTop: 44,
    marginBottom: 48,
    style: { fontSize: "13px", fontFamily: "DejaVu Sans, Verdana, Arial, sans-serif" },
    fx: {
      domain: granules,
      label: null,
      tickFormat: (g: string) => `host granule ${g}`,
      padding: 0.08,
    },
    x: { type: "log", domain: [xs[0] / 1.4, xs[xs.length - 1] * 1.4] },
    y: {
      type: "log",
      domain: [yLo, yHi],
      ticks: pow10Ticks(yLo, yHi).filter((t) => t >= yLo && t <= yHi),
      tickFormat: formatPow10,
      grid: true,
      label: "↑ iterations in the worst unmap event",
    },
    symbol: { type: "identity" },
    marks,
  } as Plot.PlotOptions) as unknown as DomElement;
  const legend: LegendItem[] = strategies.map((s) => {
    const st = strategyStyle(s);
    return { label: st.label, color: st.color, kind: "line" as const, dash: st.dash };
  });
  legend.push(
    {
      label: `soft lockup: ${m.softLockupNs / 1e9} s ≈ ${formatCount(lock)} iterations`,
      color: LOCKUP_COLOR,
      kind: "rule",
    },
    { label: "estimate past it (soft_lockup = 1)", color: LOCKUP_COLOR, kind: "ring" },
  );
  const where = byVcpus
    ? `L1 memory ${formatBytes(fixed)}`
    : `${fixed} vCPUs (${scale.shadowMmus} shadow MMUs)`;
  return composeFigure({
    name: byVcpus ? "01-cost-vcpus" : "01-cost-memory",
    title: byVcpus
      ? "Iterations per unmap event against vCPUs"
      : "Iterations per unmap event against L1 memory",
    subtitle: `Worst unmap event of each grid point (unmap_iterations_max) at ${where}, ` +
      `alias density ${alias}; the worst over any other grid dimension. Both axes log.`,
    chart,
    legend,
    notes: costModelNotes(m),
  });
}

/** Markdown table of the worst unmap per strategy and granule at the largest scale. */
export function costSummary(rows: readonly SweepRecord[], alias?: number): string {
  const m = costModelOf(rows);
  const scale = largestScale(rows);
  const a = alias ?? Math.max(...rows.map((r) => num(r, "alias")));
  const sel = rows.filter((r) =>
    num(r, "vcpus") === scale.vcpus && num(r, "l1_mem_bytes") === scale.l1MemBytes &&
    num(r, "alias") === a
  );
  const granules = granuleOrder(sel.map((r) => r.granule));
  const strategies = strategyOrder(sel.map((r) => r.strategy));
  const lines = [
    `At ${scale.vcpus} vCPUs (${scale.shadowMmus} shadow MMUs), ${
      formatBytes(scale.l1MemBytes)
    } of L1 memory, alias density ${a}: the worst unmap event, in iterations and in ` +
    `estimated seconds (${m.nsPerIteration} ns/iteration, ${m.nsPerDescriptor} ns/descriptor; ` +
    `soft lockup past ${m.softLockupNs / 1e9} s).`,
    "",
    `| strategy | ${granules.map((g) => `${g}: iterations | ${g}: est. s`).join(" | ")} |`,
    `|---|${granules.map(() => "---:|---:").join("|")}|`,
  ];
  for (const s of strategies) {
    const cells = granules.map((g) => {
      const rs = sel.filter((r) => r.strategy === s && r.granule === g);
      if (rs.length === 0) return "– | –";
      const it = Math.max(...rs.map((r) => num(r, "unmap_iterations_max")));
      const ns = Math.max(...rs.map((r) => num(r, "unmap_est_ns_max")));
      const lock = rs.some((r) => num(r, "soft_lockup") > 0);
      return `${formatCount(it)} | ${(ns / 1e9).toPrecision(3)}${lock ? " **lockup**" : ""}`;
    });
    lines.push(`| ${strategyStyle(s).label} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}
