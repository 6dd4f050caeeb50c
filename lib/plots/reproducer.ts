/**
 * Notebook 04, a trace replayed step by step with every strategy (by default the
 * published reproducer, experiments/scenarios/reproducer.json: two L2 memslots on one
 * memfd, then migratepages): which shadow entries each one left stale, as a table and as
 * a timeline of event index against shadow IPA. It reads the timeline CSVs that
 * `deno task timeline` writes (lib/sweep/timeline_columns.ts), `results/reproducer.*.csv`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { staleSummaryMarkdown } from "./reproducer.ts";
 * const t = { trace: "t", traceEvents: 3, unmapEvents: [2], runs: [{
 *   strategy: "rmap", violations: 0, firstSeen: [], unmapIterationsMax: 2, unmapEvents: 1,
 *   removedNeeded: 1, peakMemoryBytes: 256, fallbacks: 0 }] };
 * assertEquals(staleSummaryMarkdown(t).split("\n")[2], "| rmap (ours) | 0 | 0 | – | – | 2 | 0 |");
 * ```
 * @module
 */

import { UPSTREAM } from "../strategies/registry.ts";
import * as Plot from "@observablehq/plot";
import type { ViolationKind } from "../oracle/oracle.ts";
import {
  type Finding,
  type StrategyRun,
  type Timeline,
  TIMELINE_FINDING_COLUMNS,
  TIMELINE_STRATEGY_COLUMNS,
  TIMELINE_UNMAP_COLUMNS,
} from "../sweep/timeline_columns.ts";
import { formatBytes, parseAddr } from "../util/size.ts";
import { parseTyped, readResults } from "./results.ts";
import { FactBook, type Takeaway } from "./takeaway.ts";
import { axisFormat, formatCount, strategyOrder, strategyStyle, symlogTicks } from "./style.ts";
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

async function readTable(
  path: string,
  cols: readonly { name: string; type: string }[],
  optional: readonly string[] = [],
): Promise<Record<string, string | number>[]> {
  const text = await readResults(
    path,
    "timeline",
    "Run `deno task timeline` to write the reproducer's, or `deno task timeline <trace.json> " +
      "--out <prefix>` for your own trace.",
  );
  if (text.trim().split("\n").length === 1) return []; // a header and no rows
  const numeric = new Set(cols.filter((c) => c.type !== "text").map((c) => c.name));
  return parseTyped(
    text,
    path,
    numeric,
    cols.map((c) => c.name).filter((c) => !optional.includes(c)),
    "timeline CSV",
  );
}

/**
 * Read a timeline written by `deno task timeline` (`<prefix>.strategies.csv`,
 * `<prefix>.findings.csv`, `<prefix>.unmaps.csv`); strategies in legend order.
 */
export async function loadTimeline(prefix: string = REPRODUCER_TIMELINE): Promise<Timeline> {
  // fallbacks joined the columns later: a timeline written before reads as 0 fallbacks.
  const strategies = await readTable(`${prefix}.strategies.csv`, TIMELINE_STRATEGY_COLUMNS, [
    "fallbacks",
  ]);
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
    fallbacks: typeof r.fallbacks === "number" ? r.fallbacks : 0,
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

/** The key of a stale leaf: its shadow MMU and shadow IPA (a leaf breaks one rule or more). */
export function leafKey(v: { mmu: number; shadowIpa: number }): string {
  return `${v.mmu}/${v.shadowIpa}`;
}

/** Distinct stale leaves of a run (findings count a leaf once per rule it breaks). */
export function distinctLeaves(r: StrategyRun): number {
  return new Set(r.firstSeen.map(leafKey)).size;
}

/** One row per strategy: what it left stale. */
export function staleSummary(run: Timeline): Record<string, string | number>[] {
  const kinds = kindsOf(run);
  return run.runs.map((r) => {
    const row: Record<string, string | number> = {
      strategy: r.strategy,
      violations: r.violations,
      leaves: distinctLeaves(r),
      findings: r.firstSeen.length,
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
    row.fallbacks = r.fallbacks;
    return row;
  });
}

/**
 * Markdown table of {@linkcode staleSummary}: distinct stale leaves, findings (a leaf once
 * per rule it breaks) by kind, where the first was seen, the worst unmap and the
 * fallbacks. Every row has one cell per header column, whatever the kinds present.
 */
export function staleSummaryMarkdown(run: Timeline): string {
  const kinds = kindsOf(run);
  const rows = staleSummary(run);
  const head = [
    "strategy",
    "stale leaves",
    "findings",
    ...kinds.map((k) => `findings: ${k}`),
    "first seen (event)",
    "first stale entry",
    "worst unmap (iterations)",
    "fallbacks",
  ];
  const lines = [`| ${head.join(" | ")} |`, `|---|${head.slice(1).map(() => "---:").join("|")}|`];
  for (const r of rows) {
    const cells = [
      strategyStyle(r.strategy as string).label,
      formatCount(r.leaves as number),
      formatCount(r.findings as number),
      ...kinds.map((k) => formatCount(r[k] as number)),
      r.first_event === "" ? "–" : `${r.first_event} (${r.first_op})`,
      r.first_stale === "" ? "–" : r.first_stale,
      formatCount(r.worst_unmap_iterations as number),
      formatCount(r.fallbacks as number),
    ];
    if (cells.length !== head.length) {
      throw new Error(`staleSummaryMarkdown: ${cells.length} cells under ${head.length} columns`);
    }
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

/**
 * How a finding of each kind is drawn: a symbol in near-black, so that no finding takes a
 * colour a design's line has in the same legend.
 */
const KIND_SYMBOLS: Record<string, string> = {
  "not-invalidated": "circle",
  "stale-pa": "square",
  "writable": "triangle",
  "too-large": "diamond",
  "not-present": "star",
  "l1-unmapped": "cross",
  "no-context": "wye",
  "canonical-stale": "times",
};

/** Colour of every finding's symbol. */
const FINDING_COLOR = "#222";

/** Kinds drawn hollow and larger, so that they show around a filled kind at the same place. */
const HOLLOW_KINDS = new Set(["stale-pa", "writable", "not-present", "no-context"]);

/** Colour and dash of the host unmap events' rules (darker than grid lines, dashed). */
const UNMAP_RULE = { color: "#777", dash: "3,3" };

/** Ticks at multiples of a power of two, about `count` of them over [lo, hi]. */
function pow2Ticks(lo: number, hi: number, count = 5): number[] {
  const step = 2 ** Math.ceil(Math.log2(Math.max(1, (hi - lo) / count)));
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) out.push(t);
  return out;
}

/**
 * Cumulative distinct stale leaves of one strategy, as steps over [x0, x1]: a leaf counts
 * at its first finding, not again when it breaks another rule later.
 */
export function cumulativeStale(
  r: StrategyRun,
  x0: number,
  x1: number,
): { strategy: string; event: number; stale: number }[] {
  const per = new Map<number, number>();
  const seen = new Set<string>();
  for (const v of r.firstSeen) {
    if (seen.has(leafKey(v))) continue;
    seen.add(leafKey(v));
    per.set(v.event, (per.get(v.event) ?? 0) + 1);
  }
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
          Plot.ruleX(rules, {
            stroke: UNMAP_RULE.color,
            strokeWidth: 0.8,
            strokeDasharray: UNMAP_RULE.dash,
          }),
          Plot.dot(dots, {
            x: "event",
            y: "ipa",
            fy: "strategy",
            r: (d: { kind: string }) => (HOLLOW_KINDS.has(d.kind) ? 5 : 3),
            symbol: (d: { kind: string }) => KIND_SYMBOLS[d.kind] ?? "circle",
            fill: (d: { kind: string }) => (HOLLOW_KINDS.has(d.kind) ? "none" : FINDING_COLOR),
            stroke: FINDING_COLOR,
            strokeWidth: 0.8,
          }),
        ],
        symbol: { type: "identity" },
        r: { type: "identity" },
      } as Plot.PlotOptions) as unknown as DomElement,
    );
  }
  const cum = run.runs.flatMap((r) => cumulativeStale(r, x0, x1));
  const maxStale = Math.max(1, ...run.runs.map(distinctLeaves));
  // End labels: strategies with the same final count share one label.
  const finals = new Map<number, string[]>();
  for (const r of run.runs) {
    const v = distinctLeaves(r);
    finals.set(v, [...(finals.get(v) ?? []), r.strategy]);
  }
  const endLabels = [...finals.entries()].map(([v, ss]) => ({
    stale: v,
    text: `${ss.join(", ")}: ${formatCount(v)}`,
  }));
  const lineMarks: Plot.Markish[] = [Plot.frame({ stroke: "#ccc" })];
  lineMarks.push(
    Plot.ruleX(rules, {
      stroke: UNMAP_RULE.color,
      strokeWidth: 0.8,
      strokeDasharray: UNMAP_RULE.dash,
    }),
  );
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
      // A white halo keeps the label readable where it crosses the unmap rules.
      stroke: "white",
      strokeWidth: 4,
      paintOrder: "stroke",
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
        domain: [0, symlogTicks(maxStale).at(-1)! * 2],
        ticks: symlogTicks(maxStale),
        tickFormat: axisFormat(symlogTicks(maxStale)),
        grid: true,
        label: "↑ distinct stale leaves so far",
      },
      marks: lineMarks,
    } as Plot.PlotOptions) as unknown as DomElement,
  );
  const legend: LegendItem[] = kinds.map((k) => ({
    label: `stale entry: ${k}`,
    color: FINDING_COLOR,
    kind: "dot" as const,
    symbol: KIND_SYMBOLS[k] ?? "circle",
    hollow: HOLLOW_KINDS.has(k),
  }));
  legend.push({
    label: "host unmap event",
    color: UNMAP_RULE.color,
    kind: "rule",
    dash: UNMAP_RULE.dash,
  });
  for (const r of run.runs) {
    const st = strategyStyle(r.strategy);
    legend.push({ label: st.label, color: st.color, kind: "line", dash: st.dash });
  }
  return composeFigure({
    name: "04-reproducer-timeline",
    title: `${run.trace.split(":")[0] || "the trace"}, replayed: which shadow entries each ` +
      `strategy left stale`,
    subtitle: `${run.trace} (${formatCount(n)} events; ` +
      (run.unmapEvents.length > 0
        ? `host unmap events ${firstUnmap}..${lastUnmap}, ${run.unmapEvents.length} of them). `
        : "no host unmap event). ") +
      (broken.length > 0
        ? `Top: each finding (a stale leaf and a rule it breaks) at the event where the ` +
          `oracle first saw it, a panel per design that left one. Bottom: distinct stale ` +
          `leaves so far, per design. The first stale entry is at event ` +
          `${formatCount(firstStale)}.`
        : `Distinct stale leaves so far, per design: no design left one on this trace.`),
    chart: charts,
    legend,
    notes: [
      ...loneFindings(run).map((l) => l.text),
      (clean.length > 0
        ? `No stale entry at any event: ${clean.map((r) => r.strategy).join(", ")}. `
        : "") +
      "not-invalidated: the host unmapped the page and the shadow leaf survived the unmap; " +
      "stale-pa: afterwards it still points at the old host page, so L2's writes land in " +
      "freed memory (how L1 crashes).",
    ],
  });
}

/** Findings the oracle made at an L2 access, not at a host unmap: dots off the unmap lines. */
export function loneFindings(run: Timeline): { strategy: string; count: number; text: string }[] {
  const unmaps = new Set(run.unmapEvents);
  const out: { strategy: string; count: number; text: string }[] = [];
  for (const r of run.runs) {
    const off = r.firstSeen.filter((v) => !unmaps.has(v.event));
    if (off.length === 0) continue;
    const ops = [...new Set(off.map((v) => v.op))].join("/");
    const kinds = [...new Set(off.map((v) => v.kind))].join("/");
    const last = off[off.length - 1];
    out.push({
      strategy: r.strategy,
      count: off.length,
      text: `${r.strategy}: ${formatCount(off.length)} findings sit between unmap events, ` +
        `at ${ops} events (${kinds}): an L2 access went through a leaf the unmap left, so ` +
        `the oracle saw it there; the last one, at event ${last.event}, is ` +
        `${hex(last.shadowIpa)} in MMU ${last.mmu}.`,
    });
  }
  return out;
}

/** The rows of a timeline as its CSV files hold them (for facts over those files). */
function timelineRows(run: Timeline): {
  strategies: Record<string, string | number>[];
  findings: Record<string, string | number>[];
} {
  return {
    strategies: run.runs.map((r) => ({
      trace: run.trace,
      trace_events: run.traceEvents,
      strategy: r.strategy,
      violations: r.violations,
      unmap_events: r.unmapEvents,
      unmap_iterations_max: r.unmapIterationsMax,
      removed_needed: r.removedNeeded,
      peak_memory_bytes: r.peakMemoryBytes,
      fallbacks: r.fallbacks,
    })),
    findings: staleEntries(run).map((e) => ({ ...e })),
  };
}

/**
 * The takeaway of a timeline, computed from its CSV files `<prefix>.*.csv`: per strategy
 * that left stale entries, the distinct leaves (against the findings, which count a leaf
 * once per rule) by kind; which strategies left none; the worst unmap of each design
 * against the upstream walk's; rmap-bounded's fallbacks against rmap's peak index and the
 * default budget.
 */
export function reproducerTakeaway(run: Timeline, prefix: string, budget: number): Takeaway {
  const rows = timelineRows(run);
  const st = new FactBook(`${prefix}.strategies.csv`, rows.strategies);
  const fi = st.other(`${prefix}.findings.csv`, rows.findings);
  const out: string[] = [];
  const clean: string[] = [];
  for (const r of run.runs) {
    const s = r.strategy;
    const v = st.fact(`${s}.violations`, { strategy: s }, "violations", "max");
    if (v.value === 0) {
      clean.push(s);
      continue;
    }
    const leaves = fi.fact(`${s}.leaves`, { strategy: s }, "mmu", "distinct", formatCount, [
      "mmu",
      "shadow_ipa",
    ]);
    const n = fi.fact(`${s}.findings`, { strategy: s }, "strategy", "count");
    const kinds = [...new Set(r.firstSeen.map((x) => x.kind))].map((k) => {
      const f = fi.fact(`${s}.kind.${k}`, { strategy: s, kind: k }, "strategy", "count");
      return `${f.shown} ${k}`;
    });
    out.push(
      `**${s}** leaves ${leaves.shown} distinct stale leaves (the oracle's count: ` +
        `${v.shown}); the ${n.shown} findings count a leaf once per rule it breaks: ` +
        `${kinds.join(", ")}.`,
    );
  }
  out.push(
    clean.length === run.runs.length
      ? `No strategy leaves a stale entry on this trace (0 stale leaves each).`
      : `No stale entry (0 stale leaves): ${clean.join(", ")}.`,
  );
  const strategies = run.runs.map((r) => r.strategy);
  if (strategies.includes(UPSTREAM)) {
    const fw = st.fact(`${UPSTREAM}.worst`, { strategy: UPSTREAM }, "unmap_iterations_max", "max");
    const parts: string[] = [];
    for (const s of strategies.filter((x) => x !== UPSTREAM)) {
      const w = st.fact(`${s}.worst`, { strategy: s }, "unmap_iterations_max", "max");
      parts.push(`${s} ${w.shown}`);
    }
    out.push(
      `Worst single unmap, in iterations: ${UPSTREAM} ${fw.shown}; ${parts.join(", ")}.` +
        (run.runs.some((r) => r.strategy !== UPSTREAM && r.unmapIterationsMax > fw.value)
          ? ` On this trace (${formatCount(run.traceEvents)} events) ` +
            `the full walk is cheap, and an index can cost more than it: ${
              run.runs.filter((r) => r.strategy !== UPSTREAM && r.unmapIterationsMax > fw.value)
                .map((r) => r.strategy).join(", ")
            }.`
          : ""),
    );
  }
  if (strategies.includes("rmap-bounded")) {
    const fb = st.fact("rmap-bounded.fallbacks", { strategy: "rmap-bounded" }, "fallbacks", "max");
    let line = `rmap-bounded falls back to the full walk ${fb.shown} time(s)`;
    const peak = st.fact(
      "rmap-bounded.peak",
      { strategy: "rmap-bounded" },
      "peak_memory_bytes",
      "max",
      formatBytes,
    );
    line += `: its index peaks at ${peak.shown} for the VM, ${
      peak.value > budget ? "over" : "within"
    } its default budget of ${formatBytes(budget)} per shadow MMU`;
    out.push(line + ".");
  }
  return st.takeaway(out.map((l) => `- ${l}`).join("\n"));
}
