/**
 * Notebook 04, a trace replayed step by step with every strategy (by default the
 * published reproducer, experiments/scenarios/reproducer.json: two L2 memslots on one
 * memfd, then migratepages): which shadow entries each one left stale, as a table and as
 * a timeline of event index against shadow IPA. It reads the timeline CSVs that
 * `deno task timeline` writes (lib/sweep/timeline.ts), `results/reproducer.*.csv`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { staleSummaryMarkdown } from "./reproducer.ts";
 * const t = { trace: "t", traceEvents: 3, unmapEvents: [2], runs: [{
 *   strategy: "rmap", violations: 0, firstSeen: [], unmapIterationsMax: 2, unmapEvents: 1,
 *   removedNeeded: 1, peakMemoryBytes: 256 }] };
 * assertEquals(staleSummaryMarkdown(t).split("\n")[2], "| rmap (ours) | 0 | – | – | 2 |");
 * ```
 * @module
 */

import * as Plot from "@observablehq/plot";
import type { ViolationKind } from "../oracle/oracle.ts";
import {
  type Finding,
  type StrategyRun,
  type Timeline,
  TIMELINE_FINDING_COLUMNS,
  TIMELINE_STRATEGY_COLUMNS,
  TIMELINE_UNMAP_COLUMNS,
} from "../sweep/timeline.ts";
import { formatBytes, parseAddr } from "../util/size.ts";
import { parseTyped, readResults } from "./results.ts";
import { formatCount, formatPow10, strategyOrder, strategyStyle, symlogTicks } from "./style.ts";
import {
  composeFigure,
  type DomElement,
  type Figure,
  type LegendItem,
  plotDocument,
} from "./svg.ts";

/** The committed timeline of the published reproducer: `results/reproducer.*.csv`. */
export const REPRODUCER_TIMELINE: string = decodeURIComponent(
  new URL("../../results/reproducer", import.meta.url).pathname,
);

/** Hexadecimal address, `-` for none. */
export function hex(n: number | null): string {
  return n === null ? "-" : "0x" + n.toString(16);
}

async function readTable<R>(
  path: string,
  cols: readonly { name: string; type: string }[],
): Promise<Record<string, string | number>[]> {
  const text = await readResults(
    path,
    "timeline",
    "Run `deno task timeline` to write the reproducer's, or `deno task timeline <trace.json> " +
      "--out <prefix>` for your own trace.",
  );
  if (text.trim().split("\n").length === 1) return []; // a header and no rows
  const numeric = new Set(cols.filter((c) => c.type !== "text").map((c) => c.name));
  return parseTyped(text, path, numeric, cols.map((c) => c.name), "timeline CSV");
}

/**
 * Read a timeline written by `deno task timeline` (`<prefix>.strategies.csv`,
 * `<prefix>.findings.csv`, `<prefix>.unmaps.csv`); strategies in legend order.
 */
export async function loadTimeline(prefix: string = REPRODUCER_TIMELINE): Promise<Timeline> {
  const strategies = await readTable(`${prefix}.strategies.csv`, TIMELINE_STRATEGY_COLUMNS);
  const findings = await readTable(`${prefix}.findings.csv`, TIMELINE_FINDING_COLUMNS);
  const unmaps = await readTable(`${prefix}.unmaps.csv`, TIMELINE_UNMAP_COLUMNS);
  const n = (r: Record<string, string | number>, k: string) => r[k] as number;
  const byStrategy = new Map<string, Finding[]>();
  for (const f of findings) {
    const s = String(f.strategy);
    const list = byStrategy.get(s) ?? [];
    list.push({
      strategy: s,
      event: n(f, "event"),
      op: String(f.op),
      kind: String(f.kind) as ViolationKind,
      mmu: n(f, "mmu"),
      context: n(f, "context"),
      shadowIpa: parseAddr(String(f.shadow_ipa)),
      size: n(f, "size_bytes"),
      canonicalIpa: f.canonical_ipa === "-" ? null : parseAddr(String(f.canonical_ipa)),
      pa: parseAddr(String(f.pa)),
      expected: String(f.expected),
    });
    byStrategy.set(s, list);
  }
  const runs: StrategyRun[] = strategies.map((r) => ({
    strategy: String(r.strategy),
    violations: n(r, "violations"),
    firstSeen: byStrategy.get(String(r.strategy)) ?? [],
    unmapIterationsMax: n(r, "unmap_iterations_max"),
    unmapEvents: n(r, "unmap_events"),
    removedNeeded: n(r, "removed_needed"),
    peakMemoryBytes: n(r, "peak_memory_bytes"),
  }));
  const order = strategyOrder(runs.map((r) => r.strategy));
  runs.sort((a, b) => order.indexOf(a.strategy) - order.indexOf(b.strategy));
  return {
    trace: String(strategies[0]?.trace ?? ""),
    traceEvents: strategies.length > 0 ? n(strategies[0], "trace_events") : 0,
    unmapEvents: unmaps.map((u) => n(u, "event")),
    runs,
  };
}

/** Violation kinds in the order tables list them. */
function kindsOf(run: Timeline): string[] {
  const order = ["not-invalidated", "stale-pa", "writable", "too-large", "not-present"];
  const seen = new Set(run.runs.flatMap((r) => r.firstSeen.map((v) => v.kind as string)));
  return [...order.filter((k) => seen.has(k)), ...[...seen].filter((k) => !order.includes(k))];
}

/** One row per strategy: what it left stale. */
export function staleSummary(run: Timeline): Record<string, string | number>[] {
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
export function staleSummaryMarkdown(run: Timeline): string {
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
    const cells = [
      strategyStyle(r.strategy as string).label,
      formatCount(r.violations as number),
      ...kinds.map((k) => formatCount(r[k] as number)),
      r.first_event === "" ? "–" : `${r.first_event} (${r.first_op})`,
      r.first_stale || "–",
      formatCount(r.worst_unmap_iterations as number),
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

/** Every stale entry, one row each (for CSV and tables). */
export function staleEntries(run: Timeline): Record<string, string | number>[] {
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
export function staleEntriesMarkdown(run: Timeline, limit = 10): string {
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
export function reproducerTimeline(run: Timeline): Figure {
  const n = run.traceEvents;
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
  const firstUnmap = run.unmapEvents[0] ?? n;
  const lastUnmap = run.unmapEvents[run.unmapEvents.length - 1] ?? n;
  const firstStale = dots.reduce((m, d) => Math.min(m, d.event), n);
  const start = Math.min(firstUnmap, firstStale);
  const x0 = Math.max(0, Math.floor(start - 0.15 * (n - start)));
  const x1 = n;
  const rules = run.unmapEvents.filter((i) => i >= x0);
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
    subtitle: `${run.trace} (${formatCount(n)} events; host unmap events ${firstUnmap}..` +
      `${lastUnmap}, ${run.unmapEvents.length} of them). Top: each stale entry at the ` +
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
