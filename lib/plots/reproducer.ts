/**
 * Notebook 04, the published reproducer (experiments/scenarios/reproducer.json, two L2
 * memslots on one memfd, then migratepages) replayed step by step with lib/replay.ts for
 * every strategy: which shadow entries each one left stale (`report.firstSeen`), as a
 * table and as a timeline of event index against shadow IPA.
 *
 * The whole trace is replayed (6652 events, about 2 s per strategy): the stale entries
 * only appear at the migrations near its end, so no shorter prefix shows them.
 *
 * @example
 * ```ts
 * import { hex } from "./reproducer.ts";
 * console.log(hex(2 ** 32)); // 0x100000000
 * ```
 * @module
 */

import * as Plot from "@observablehq/plot";
import type { Violation } from "../oracle.ts";
import { replay, type ReplayReport } from "../replay.ts";
import { makeStrategy, STRATEGY_NAMES } from "../strategies/mod.ts";
import { parseTrace, type Trace } from "../trace.ts";
import { UNMAP_OPS } from "../sweep/run.ts";
import {
  formatBytes,
  formatCount,
  formatPow10,
  strategyOrder,
  strategyStyle,
  symlogTicks,
} from "./style.ts";
import {
  composeFigure,
  type DomElement,
  type Figure,
  type LegendItem,
  plotDocument,
} from "./svg.ts";

/** The published reproducer trace. */
export const REPRODUCER_PATH: string = decodeURIComponent(
  new URL("../../experiments/scenarios/reproducer.json", import.meta.url).pathname,
);

/** Hexadecimal address. */
export function hex(n: number | null): string {
  return n === null ? "-" : "0x" + n.toString(16);
}

/** Read and parse a trace file; errors name the file. */
export async function loadTrace(path: string = REPRODUCER_PATH): Promise<Trace> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`trace not found: ${path}`);
    throw e;
  }
  try {
    return parseTrace(JSON.parse(text));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/** One strategy's replay of the reproducer, without the per-event reports. */
export interface StrategyRun {
  /** Strategy name. */
  strategy: string;
  /** Distinct violations. */
  violations: number;
  /** Each distinct violation where it was first seen. */
  firstSeen: Violation[];
  /** Worst host unmap event, iterations. */
  unmapIterationsMax: number;
  /** Host unmap events. */
  unmapEvents: number;
  /** Shadow entries the host unmaps removed that their range required. */
  removedNeeded: number;
  /** Peak index bytes. */
  peakMemoryBytes: number;
  /** Wall time of the replay, ms. */
  replayMs: number;
}

/** All strategies' replays of one trace. */
export interface ReproducerRun {
  /** The trace. */
  trace: Trace;
  /** Event indexes of the host unmap events (migrations). */
  unmapEventIndexes: number[];
  /** One per strategy, in legend order. */
  runs: StrategyRun[];
}

/** Replay `trace` under the oracle with each strategy (default: all registered). */
export function replayReproducer(
  trace: Trace,
  strategies: readonly string[] = STRATEGY_NAMES,
): ReproducerRun {
  const runs: StrategyRun[] = [];
  for (const s of strategyOrder(strategies)) {
    let worst = 0;
    let unmaps = 0;
    let needed = 0;
    const t0 = performance.now();
    const r: ReplayReport = replay(trace, makeStrategy(s), {
      keepEvents: false,
      onEvent: (e) => {
        if (UNMAP_OPS.has(e.op)) {
          unmaps++;
          worst = Math.max(worst, e.iterations);
          needed += e.removedNeeded;
        }
      },
    });
    runs.push({
      strategy: s,
      violations: r.violations,
      firstSeen: r.firstSeen,
      unmapIterationsMax: worst,
      unmapEvents: unmaps,
      removedNeeded: needed,
      peakMemoryBytes: r.peakMemoryBytes,
      replayMs: performance.now() - t0,
    });
  }
  const unmapEventIndexes = trace.events.flatMap((e, i) => (UNMAP_OPS.has(e.op) ? [i] : []));
  return { trace, unmapEventIndexes, runs };
}

/** Violation kinds in the order tables list them. */
function kindsOf(run: ReproducerRun): string[] {
  const order = ["not-invalidated", "stale-pa", "writable", "too-large", "not-present"];
  const seen = new Set(run.runs.flatMap((r) => r.firstSeen.map((v) => v.kind as string)));
  return [...order.filter((k) => seen.has(k)), ...[...seen].filter((k) => !order.includes(k))];
}

/** One row per strategy: what it left stale. */
export function staleSummary(run: ReproducerRun): Record<string, string | number>[] {
  const kinds = kindsOf(run);
  return run.runs.map((r) => {
    const row: Record<string, string | number> = {
      strategy: r.strategy,
      violations: r.violations,
    };
    for (const k of kinds) row[k] = r.firstSeen.filter((v) => v.kind === k).length;
    const ipas = r.firstSeen.map((v) => v.shadowIpa);
    const first = r.firstSeen[0];
    row.first_event = first ? first.event : "";
    row.first_op = first ? first.op : "";
    row.first_stale = first
      ? `MMU ${first.mmu} shadow ${hex(first.shadowIpa)} +${formatBytes(first.size)} → canonical ${
        hex(first.canonicalIpa)
      }, host PA ${hex(first.pa)}`
      : "";
    row.stale_shadow_ipas = ipas.length === 0
      ? ""
      : `${hex(Math.min(...ipas))} .. ${hex(Math.max(...ipas))}`;
    row.distinct_shadow_ipas = new Set(ipas).size;
    row.worst_unmap_iterations = r.unmapIterationsMax;
    row.removed_needed = r.removedNeeded;
    return row;
  });
}

/** Markdown table of {@linkcode staleSummary}. */
export function staleSummaryMarkdown(run: ReproducerRun): string {
  const kinds = kindsOf(run);
  const rows = staleSummary(run);
  const head = [
    "strategy",
    "stale entries",
    ...kinds,
    "first seen (event)",
    "first stale entry",
    "worst unmap (iterations)",
  ];
  const lines = [`| ${head.join(" | ")} |`, `|---|${head.slice(1).map(() => "---:").join("|")}|`];
  for (const r of rows) {
    lines.push(
      `| ${strategyStyle(r.strategy as string).label} | ${formatCount(r.violations as number)} | ${
        kinds.map((k) => formatCount(r[k] as number)).join(" | ")
      } | ${r.first_event === "" ? "–" : `${r.first_event} (${r.first_op})`} | ${
        r.first_stale || "–"
      } | ${formatCount(r.worst_unmap_iterations as number)} |`,
    );
  }
  return lines.join("\n");
}

/** Every stale entry, one row each (for CSV and tables). */
export function staleEntries(run: ReproducerRun): Record<string, string | number>[] {
  return run.runs.flatMap((r) =>
    r.firstSeen.map((v) => ({
      strategy: r.strategy,
      event: v.event,
      op: v.op,
      kind: v.kind,
      mmu: v.mmu,
      context: v.context,
      shadow_ipa: hex(v.shadowIpa),
      size_bytes: v.size,
      canonical_ipa: hex(v.canonicalIpa),
      pa: hex(v.pa),
      expected: v.expected,
    }))
  );
}

/** Markdown table of the first `limit` stale entries of each strategy that has any. */
export function staleEntriesMarkdown(run: ReproducerRun, limit = 10): string {
  const lines = [
    "| strategy | event | op | kind | MMU | shadow IPA | size | canonical IPA | host PA | expected |",
    "|---|---:|---|---|---:|---|---:|---|---|---|",
  ];
  let any = false;
  for (const r of run.runs) {
    for (const v of r.firstSeen.slice(0, limit)) {
      any = true;
      lines.push(
        `| ${r.strategy} | ${v.event} | ${v.op} | ${v.kind} | ${v.mmu} | ${hex(v.shadowIpa)} | ${
          formatBytes(v.size)
        } | ${hex(v.canonicalIpa)} | ${hex(v.pa)} | ${v.expected.replace(/\|/g, "\\|")} |`,
      );
    }
    if (r.firstSeen.length > limit) {
      lines.push(
        `| ${r.strategy} | … | | ${formatCount(r.firstSeen.length - limit)} more | | | | | | |`,
      );
    }
  }
  return any ? lines.join("\n") : "No strategy left a stale shadow entry.";
}

const KIND_COLORS: Record<string, string> = {
  "not-invalidated": "#d62728",
  "stale-pa": "#ff7f0e",
  "writable": "#9467bd",
  "too-large": "#8c564b",
  "not-present": "#e377c2",
  "l1-unmapped": "#7f7f7f",
  "no-context": "#bcbd22",
  "canonical-stale": "#17becf",
};

/** Ticks at multiples of a power of two, about `count` of them over [lo, hi]. */
function pow2Ticks(lo: number, hi: number, count = 5): number[] {
  const step = 2 ** Math.ceil(Math.log2(Math.max(1, (hi - lo) / count)));
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) out.push(t);
  return out;
}

/** Cumulative distinct stale entries of one strategy, as steps over [x0, x1]. */
export function cumulativeStale(
  r: StrategyRun,
  x0: number,
  x1: number,
): { strategy: string; event: number; stale: number }[] {
  const per = new Map<number, number>();
  for (const v of r.firstSeen) per.set(v.event, (per.get(v.event) ?? 0) + 1);
  const pts = [{ strategy: r.strategy, event: x0, stale: 0 }];
  let cum = 0;
  for (const e of [...per.keys()].sort((a, b) => a - b)) {
    cum += per.get(e)!;
    pts.push({ strategy: r.strategy, event: Math.max(e, x0), stale: cum });
  }
  pts.push({ strategy: r.strategy, event: x1, stale: cum });
  return pts;
}

/**
 * Timeline of the replay, over the window where things happen (from just before the first
 * host unmap or stale entry to the end of the trace):
 * - top, one row per strategy that left stale entries: each stale entry as a dot at the
 *   event where the oracle first saw it (x) and its shadow IPA (y), coloured by what is
 *   wrong with it; thin grey lines at the host's unmap events (the migrations);
 * - bottom, every strategy: distinct stale entries so far (a step line each).
 */
export function reproducerTimeline(run: ReproducerRun): Figure {
  const n = run.trace.events.length;
  const broken = run.runs.filter((r) => r.violations > 0);
  const clean = run.runs.filter((r) => r.violations === 0);
  const dots = broken.flatMap((r) =>
    r.firstSeen.map((v) => ({
      strategy: r.strategy,
      event: v.event,
      ipa: v.shadowIpa,
      kind: v.kind as string,
    }))
  );
  const kinds = kindsOf(run);
  const firstUnmap = run.unmapEventIndexes[0] ?? n;
  const lastUnmap = run.unmapEventIndexes[run.unmapEventIndexes.length - 1] ?? n;
  const firstStale = dots.reduce((m, d) => Math.min(m, d.event), n);
  const start = Math.min(firstUnmap, firstStale);
  const x0 = Math.max(0, Math.floor(start - 0.15 * (n - start)));
  const x1 = n;
  const rules = run.unmapEventIndexes.filter((i) => i >= x0);
  const style = { fontSize: "13px", fontFamily: "DejaVu Sans, Verdana, Arial, sans-serif" };
  const xAxis = {
    domain: [x0, x1],
    label: `trace event index (events ${formatCount(x0)}..${formatCount(x1)} of ${
      formatCount(n)
    }) →`,
    labelAnchor: "center",
    labelOffset: 38,
  };
  const charts: DomElement[] = [];
  if (broken.length > 0) {
    const lo = Math.min(...dots.map((d) => d.ipa));
    const hi = Math.max(...dots.map((d) => d.ipa));
    const pad = Math.max((hi - lo) * 0.06, 2 ** 16);
    charts.push(
      Plot.plot({
        document: plotDocument(),
        width: 1040,
        height: 60 + 230 * broken.length,
        marginLeft: 112,
        marginRight: 170,
        marginTop: 28,
        marginBottom: 46,
        style,
        fy: {
          domain: broken.map((r) => r.strategy),
          label: null,
          tickFormat: (s: string) => strategyStyle(s).label,
          padding: 0.1,
        },
        x: xAxis,
        y: {
          domain: [lo - pad, hi + pad],
          ticks: pow2Ticks(lo - pad, hi + pad),
          tickFormat: hex,
          grid: true,
          label: "↑ shadow IPA of the stale entry",
        },
        marks: [
          Plot.frame({ stroke: "#ccc" }),
          Plot.ruleX(rules, { stroke: "#ccc", strokeWidth: 0.8 }),
          Plot.dot(dots, {
            x: "event",
            y: "ipa",
            fy: "strategy",
            r: 2.4,
            fill: (d: { kind: string }) => KIND_COLORS[d.kind] ?? "#333",
            stroke: "none",
          }),
        ],
        color: { type: "identity" },
      } as Plot.PlotOptions) as unknown as DomElement,
    );
  }
  const cum = run.runs.flatMap((r) => cumulativeStale(r, x0, x1));
  const maxStale = Math.max(1, ...run.runs.map((r) => r.violations));
  // End labels: strategies with the same final count share one label.
  const finals = new Map<number, string[]>();
  for (const r of run.runs) {
    finals.set(r.violations, [...(finals.get(r.violations) ?? []), r.strategy]);
  }
  const endLabels = [...finals.entries()].map(([v, ss]) => ({
    stale: v,
    text: `${ss.join(", ")}: ${formatCount(v)}`,
  }));
  const lineMarks: Plot.Markish[] = [Plot.frame({ stroke: "#ccc" })];
  lineMarks.push(Plot.ruleX(rules, { stroke: "#ddd", strokeWidth: 0.8 }));
  for (const r of run.runs) {
    const st = strategyStyle(r.strategy);
    lineMarks.push(
      Plot.line(cum.filter((c) => c.strategy === r.strategy), {
        x: "event",
        y: "stale",
        curve: "step-after",
        stroke: st.color,
        strokeWidth: 2.4,
        strokeDasharray: st.dash || undefined,
      }),
    );
  }
  lineMarks.push(
    Plot.text(endLabels, {
      x: x1,
      y: "stale",
      text: "text",
      textAnchor: "end",
      dx: -6,
      dy: -9,
      fontSize: 12,
      fill: "#222",
    }),
  );
  charts.push(
    Plot.plot({
      document: plotDocument(),
      width: 1040,
      height: 230,
      marginLeft: 112,
      marginRight: 170,
      marginTop: 28,
      marginBottom: 46,
      style,
      x: xAxis,
      y: {
        type: "symlog",
        domain: [0, maxStale * 2],
        ticks: symlogTicks(maxStale),
        tickFormat: formatPow10,
        grid: true,
        label: "↑ stale entries so far",
      },
      marks: lineMarks,
    } as Plot.PlotOptions) as unknown as DomElement,
  );
  const legend: LegendItem[] = kinds.map((k) => ({
    label: `stale entry: ${k}`,
    color: KIND_COLORS[k] ?? "#333",
    kind: "dot" as const,
  }));
  legend.push({ label: "host unmap event (migrate)", color: "#bbb", kind: "line" });
  for (const r of run.runs) {
    const st = strategyStyle(r.strategy);
    legend.push({ label: st.label, color: st.color, kind: "line", dash: st.dash });
  }
  return composeFigure({
    name: "04-reproducer-timeline",
    title: "The published reproducer, replayed: which shadow entries each strategy left stale",
    subtitle: `${run.trace.name} (${formatCount(n)} events; host unmap events ${firstUnmap}..` +
      `${lastUnmap}, ${run.unmapEventIndexes.length} of them). Top: each stale entry at the ` +
      `event where the oracle first saw it. Bottom: stale entries so far, per strategy. ` +
      `No stale entry before event ${formatCount(x0)}.`,
    chart: charts,
    legend,
    notes: [
      (clean.length > 0
        ? `No stale entry at any event: ${clean.map((r) => r.strategy).join(", ")}. `
        : "") +
      "not-invalidated: the host unmapped the page and the shadow leaf survived the unmap; " +
      "stale-pa: afterwards it still points at the old host page, so L2's writes land in " +
      "freed memory (how L1 crashes).",
    ],
  });
}
