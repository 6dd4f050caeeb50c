/**
 * Notebook 03, memory: what each strategy's index costs per shadow entry and how many
 * shadow entries its unmaps remove without need (collateral), against alias density; and
 * how often `rmap-bounded` falls back to the full walk against its per-MMU budget, from
 * the budget sweep's CSV (`deno task budget`, lib/sweep/budget_columns.ts).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { budgetTable } from "./memory.ts";
 * const table = budgetTable([{
 *   budget: 1024, alias: 0, vcpus: 8, granule: "4K", validMmus: 8, fallbacks: 8,
 *   fallbackRate: 1, unmapEvents: 10, unmapIterationsMax: 2 ** 21, unmapIterationsMean: 9,
 *   peakMemoryBytes: 8192, violations: 0,
 * }]);
 * assertEquals(table.split("\n")[2], "| 0 | 1 KiB | 8 | 1.00 | 2.1×10⁶ | 9 | 8 KiB | 0 |");
 * ```
 * @module
 */

import { UPSTREAM } from "../strategies/registry.ts";
import { knownBroken } from "./roles.ts";
import * as Plot from "@observablehq/plot";
import { RMAP_BOUNDED_DEFAULT_BUDGET } from "../strategies/rmap_bounded.ts";
import { BUDGET_COLUMNS, type BudgetRow } from "../sweep/budget_columns.ts";
import { formatBytes, formatSize } from "../util/size.ts";
import { atLargestScale, largestScaleBook } from "./correctness.ts";
import { coincidentSeries, granuleLabel } from "./cost.ts";
import { FactBook, filterRows, type Takeaway, type Where } from "./takeaway.ts";
import type { NotebookParams } from "./params.ts";
import { type Section, section } from "./section.ts";
import {
  displayPath,
  distinct,
  largestScale,
  maxBy,
  num,
  type NumericColumn,
  parseTyped,
  readResults,
  type SweepRecord,
} from "./results.ts";
import {
  axisFormat,
  formatCount,
  granuleOrder,
  logTicks,
  pow10Ticks,
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
  strategyLegend,
} from "./svg.ts";

const FONT_STYLE = { fontSize: "13px", fontFamily: "DejaVu Sans, Verdana, Arial, sans-serif" };

/**
 * What the memory and collateral figures draw: the rows at the largest scale, one
 * configuration per line (alias on x, a panel per granule, every other dimension that
 * varies pinned).
 */
export function memorySection(rows: readonly SweepRecord[]): Section<SweepRecord> {
  return section(atLargestScale(rows), { x: "alias", facets: ["granule"] });
}

/** Record the lines of `column` against alias density that a figure of `s` draws for `strategies`. */
function recordAliasLines(
  s: Section<SweepRecord>,
  strategies: readonly string[],
  column: NumericColumn,
  positive: boolean,
): void {
  s.drawn.rows(s.rows);
  for (const st of strategies) {
    for (const g of granuleOrder(s.rows.map((r) => r.granule))) {
      s.drawn.line(
        "alias",
        s.rows.filter((r) =>
          r.strategy === st && r.granule === g && (!positive || num(r, column) > 0)
        ).sort((a, b) => num(a, "alias") - num(b, "alias")).map((r) => [r]),
      );
    }
  }
}

/** A column against alias density at the largest scale: one value per strategy, granule, alias. */
export function aliasSeries(
  rows: readonly SweepRecord[],
  column: NumericColumn,
): Record<string, string | number>[] {
  return maxBy(memorySection(rows).rows, ["strategy", "granule", "alias"], column)
    .map((d): Record<string, string | number> => ({ ...d, aliasText: String(d.alias) }))
    .sort((a, b) => (a.alias as number) - (b.alias as number));
}

interface AliasChartSpec {
  column: NumericColumn;
  ticks?: (lo: number, hi: number) => number[];
  yLabel: string;
  yType: "log" | "symlog";
  /** The y axis' tick format, given its ticks. */
  tickFormat: (ticks: readonly number[]) => (v: number) => string;
  height?: number;
}

/**
 * One chart of a column against alias density: a panel per granule, a line per strategy
 * (strategies in `hidden` left out), readable ticks (several labels even on a short log
 * axis; a symlog axis labelled up to the first power of ten above its largest value).
 */
function aliasChart(
  rows: readonly SweepRecord[],
  data: readonly Record<string, string | number>[],
  spec: AliasChartSpec,
): DomElement {
  const granules = granuleOrder(data.map((d) => d.granule as string));
  const strategies = strategyOrder(data.map((d) => d.strategy as string));
  const aliases = (distinct(rows, "alias") as number[]).map(String);
  const ys = data.map((d) => d[spec.column] as number);
  const hi = Math.max(1, ...ys);
  const lo = spec.yType === "log" ? Math.min(...ys) / 1.5 : 0;
  const ticks = spec.yType === "log" ? (spec.ticks ?? logTicks)(lo, hi * 1.5) : symlogTicks(hi);
  const top = spec.yType === "log" ? hi * 1.5 : ticks[ticks.length - 1] * 1.6;
  const marks: Plot.Markish[] = [Plot.frame({ stroke: "#ccc" })];
  for (const s of strategies) {
    const st = strategyStyle(s);
    const d = data.filter((r) => r.strategy === s);
    marks.push(
      Plot.line(d, {
        x: "aliasText",
        y: spec.column,
        fx: "granule",
        stroke: st.color,
        strokeWidth: 2.2,
        strokeDasharray: st.dash || undefined,
      }),
      Plot.dot(d, {
        x: "aliasText",
        y: spec.column,
        fx: "granule",
        symbol: () => st.symbol,
        r: 4.5,
        fill: st.hollow || ["cross", "times", "wye"].includes(st.symbol) ? "white" : st.color,
        stroke: st.color,
        strokeWidth: 1.8,
      }),
    );
  }
  return Plot.plot({
    document: plotDocument(),
    width: 1020,
    height: spec.height ?? 360,
    marginLeft: 76,
    marginRight: 16,
    marginTop: 46,
    marginBottom: 48,
    style: FONT_STYLE,
    fx: {
      domain: granules,
      label: null,
      tickFormat: (g: string) => granuleLabel(rows, g),
      padding: 0.08,
    },
    x: {
      type: "point",
      domain: aliases,
      label: "alias density →",
      labelAnchor: "center",
      labelOffset: 40,
      padding: 0.3,
    },
    y: {
      type: spec.yType,
      domain: [lo, top],
      ticks,
      tickFormat: spec.tickFormat(ticks),
      grid: true,
      label: spec.yLabel,
    },
    symbol: { type: "identity" },
    marks,
  } as Plot.PlotOptions) as unknown as DomElement;
}

const legendOf = strategyLegend;

/** Powers of two over [lo, hi] (every other one past eight of them): binary size ticks. */
export function pow2Ticks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.ceil(Math.log2(lo)); 2 ** e <= hi; e++) out.push(2 ** e);
  return out.length > 8 ? out.filter((_, i) => i % 2 === 0) : out;
}

/** Strategies with no index at all in the rows (0 B everywhere). */
function indexless(rows: readonly SweepRecord[]): string[] {
  return strategyOrder(rows.map((r) => r.strategy)).filter((s) =>
    rows.filter((r) => r.strategy === s).every((r) => num(r, "peak_memory_bytes") === 0)
  );
}

/**
 * Index memory against alias density, two charts: top, modeled kernel bytes per shadow
 * entry; bottom, the total (peak index bytes of the VM). A strategy whose values are
 * another's at every point is not drawn and is named in the notes.
 */
export function memoryFigure(rows: readonly SweepRecord[]): Figure {
  const scale = largestScale(rows);
  const per = aliasSeries(rows, "memory_bytes_per_shadow_entry")
    .filter((d) => (d.memory_bytes_per_shadow_entry as number) > 0);
  const total = aliasSeries(rows, "peak_memory_bytes")
    .filter((d) => (d.peak_memory_bytes as number) > 0);
  if (per.length === 0) throw new Error("03-memory: no strategy with an index in these rows");
  const coincident = coincidentSeries(total, ["granule", "alias"], "peak_memory_bytes");
  const hidden = new Set(coincident.map((c) => c.strategy));
  const keep = (d: Record<string, string | number>) => !hidden.has(d.strategy as string);
  const bytes = (v: number) => formatBytes(v).replace(/\.0 /, " ");
  const top = aliasChart(rows, per.filter(keep), {
    column: "memory_bytes_per_shadow_entry",
    yLabel: "↑ bytes per shadow entry",
    yType: "log",
    tickFormat: (t) => axisFormat(t, " B"),
    height: 330,
  });
  const bottom = aliasChart(rows, total.filter(keep), {
    column: "peak_memory_bytes",
    yLabel: "↑ index bytes of the VM (peak)",
    yType: "log",
    ticks: pow2Ticks,
    tickFormat: () => bytes,
    height: 330,
  });
  const none = indexless(rows);
  const shown = memorySection(rows);
  recordAliasLines(
    shown,
    strategyOrder(per.filter(keep).map((d) => d.strategy as string)),
    "peak_memory_bytes",
    true,
  );
  return composeFigure({
    name: "03-memory",
    title: "Index memory against alias density: per shadow entry and in total",
    subtitle: `Top: peak modeled kernel bytes of the strategy's index ÷ peak live shadow ` +
      `leaves. Bottom: the peak index bytes themselves, for the whole VM. At ` +
      `${scale.vcpus} vCPUs (${scale.shadowMmus} shadow MMUs), ` +
      `${formatBytes(scale.l1MemBytes)} of L1 memory.` + shown.pinSentence(),
    chart: [top, bottom],
    legend: legendOf(strategyOrder(per.filter(keep).map((d) => d.strategy as string))),
    notes: [
      ...coincident.map((c) =>
        `Not drawn: ${c.strategy}'s index is ${c.same}'s byte for byte at all ${c.points} ` +
        `points (it never fell back here); its line would hide under ${c.same}'s.`
      ),
      "memory_bytes_per_shadow_entry = peak_memory_bytes / peak_shadow_entries (lib/sweep/columns.ts); " +
      "modeled kernel allocations (maple nodes, rmap descriptors and side tables), not the simulator's.",
      ...(none.length > 0
        ? [`Not drawn (no index, 0 B): ${none.map((s) => strategyStyle(s).label).join(", ")}.`]
        : []),
    ],
    stated: shown.text.collect(),
    drawn: [shown.drawn.drawn()],
  });
}

/** Shadow entries removed without need (collateral) against alias density (symlog y). */
export function collateralFigure(rows: readonly SweepRecord[]): Figure {
  const scale = largestScale(rows);
  const data = aliasSeries(rows, "removed_collateral");
  const coincident = coincidentSeries(data, ["granule", "alias"], "removed_collateral");
  const shown = data.filter((d) =>
    !coincident.some((c) => c.strategy === d.strategy && !knownBroken(c.same))
  );
  const hidden = coincident.filter((c) => !knownBroken(c.same));
  const sec = memorySection(rows);
  recordAliasLines(
    sec,
    strategyOrder(shown.map((d) => d.strategy as string)),
    "removed_collateral",
    false,
  );
  const chart = aliasChart(rows, shown, {
    column: "removed_collateral",
    yLabel: "↑ shadow entries removed without need (collateral), whole trace",
    yType: "symlog",
    tickFormat: axisFormat,
  });
  return composeFigure({
    name: "03-collateral",
    title: "Collateral unmaps against alias density",
    subtitle: "Shadow entries the host unmap events removed although their range did not " +
      `require it (removed_collateral; each one refaults later), at ${scale.vcpus} vCPUs ` +
      `(${scale.shadowMmus} shadow MMUs), ${formatBytes(scale.l1MemBytes)} of L1 memory; ` +
      "y is symlog: 0 is exact." + sec.pinSentence(),
    chart,
    legend: legendOf(strategyOrder(shown.map((d) => d.strategy as string))),
    notes: [
      ...hidden.map((c) => `Not drawn: ${c.strategy} equals ${c.same} at all ${c.points} points.`),
      "The upstream walk unmaps every valid shadow MMU's whole IPA space on every host unmap; " +
      "span-unknown does so for an MMU whose range it marked UNKNOWN (aliases); the indexed " +
      "strategies remove only the leaves derived from the range.",
      "A 0 is good only for a correct design: a broken design's 0 comes from removing too little " +
      "(what it does not remove are its stale entries, notebook 02).",
    ],
    stated: sec.text.collect(),
    drawn: [sec.drawn.drawn()],
  });
}

/**
 * The takeaway under the memory and collateral figures: per design, index bytes per entry
 * and in total at the largest scale (range over granules and aliases), and collateral
 * against stale entries (maple-v2's 0 collateral beside its stale entries).
 */
export function memoryTakeaway(
  rows: readonly SweepRecord[],
  path: string,
  base: Where,
  part: "memory" | "collateral" = "memory",
): Takeaway {
  const scale = largestScale(rows);
  const fb = largestScaleBook(rows, path, base, memorySection(rows));
  const none = new Set(indexless(rows));
  const out: string[] = [];
  const bytes = (v: number) => formatBytes(v);
  const per = (v: number) => `${formatCount(Math.round(v * 10) / 10)} B`;
  for (const s of strategyOrder(rows.map((r) => r.strategy))) {
    if (none.has(s) || part !== "memory") continue;
    if (!Number.isFinite(fb.peek({ strategy: s }, "memory_bytes_per_shadow_entry", "min"))) {
      continue;
    }
    const lo = fb.fact(
      `${s}.per.min`,
      { strategy: s },
      "memory_bytes_per_shadow_entry",
      "min",
      per,
    );
    const hi = fb.fact(
      `${s}.per.max`,
      { strategy: s },
      "memory_bytes_per_shadow_entry",
      "max",
      per,
    );
    const tlo = fb.fact(`${s}.total.min`, { strategy: s }, "peak_memory_bytes", "min", bytes);
    const thi = fb.fact(`${s}.total.max`, { strategy: s }, "peak_memory_bytes", "max", bytes);
    out.push(
      `**${s}**: ${lo.shown}–${hi.shown} per shadow entry, ${tlo.shown}–${thi.shown} per VM.`,
    );
  }
  if (none.size > 0 && part === "memory") out.push(`No index (0 B): ${[...none].join(", ")}.`);
  const col = (s: string) =>
    fb.fact(`${s}.collateral`, { strategy: s }, "removed_collateral", "max");
  const strategies = new Set(rows.map((r) => r.strategy));
  if (part === "collateral") {
    const zero: string[] = [];
    for (const s of strategyOrder(strategies)) {
      if (knownBroken(s) || s === UPSTREAM) continue;
      const c = col(s);
      if (c.value === 0) zero.push(s);
      else out.push(`${s} removes up to ${c.shown} shadow entries without need in one trace.`);
    }
    if (zero.length > 0) {
      out.push(`${zero.join(", ")}: no collateral (0).`);
    }
  }
  for (const broken of part === "collateral" ? [...strategies].filter(knownBroken) : []) {
    const c = col(broken);
    const v = fb.fact(`${broken}.stale`, { strategy: broken }, "violations", "max");
    out.push(
      `${broken} removes at most ${c.shown} entries without need, but leaves up to ${v.shown} ` +
        `stale ones: its low collateral comes from removing too little.`,
    );
  }
  if (strategies.has(UPSTREAM) && part === "collateral") {
    const c = col(UPSTREAM);
    out.push(`${UPSTREAM} removes up to ${c.shown} shadow entries without need in one trace.`);
  }
  return fb.takeaway(
    `At ${scale.vcpus} vCPUs / ${formatBytes(scale.l1MemBytes)}, over every granule and ` +
      `alias density kept:\n\n` + out.map((l) => `- ${l}`).join("\n"),
  );
}

/** The committed budget sweep, `results/budget.csv` (written by `deno task budget`). */
export const COMMITTED_BUDGET_CSV: string = decodeURIComponent(
  new URL("../../results/budget.csv", import.meta.url).pathname,
);

/** Read a budget sweep CSV (`deno task budget`) back into its rows. */
export async function loadBudget(path: string = COMMITTED_BUDGET_CSV): Promise<BudgetRow[]> {
  return budgetRowsOf(await loadBudgetCsv(path));
}

/** Read a budget sweep CSV as typed records, its columns as the file names them. */
export async function loadBudgetCsv(
  path: string = COMMITTED_BUDGET_CSV,
): Promise<Record<string, string | number>[]> {
  const text = await readResults(
    path,
    "budget sweep",
    "Run `deno task budget` to write results/budget.csv.",
  );
  const numeric = new Set(BUDGET_COLUMNS.filter((c) => c.type !== "text").map((c) => c.name));
  return parseTyped(text, path, numeric, BUDGET_COLUMNS.map((c) => c.name), "budget CSV");
}

/**
 * The budget records a notebook's parameters keep (their granules and alias densities; the
 * budget sweep has no strategy or working-set dimension), and the fact filter that keeps
 * them.
 */
export function selectBudget(
  records: readonly Record<string, string | number>[],
  p: NotebookParams,
): { rows: Record<string, string | number>[]; where: Where } {
  const where: Where = {};
  if (p.granules && p.granules.length > 0) where.granule = [...p.granules];
  if (p.aliases && p.aliases.length > 0) where.alias = [...p.aliases];
  return { rows: filterRows(records, where), where };
}

/**
 * Where the budget figure's numbers come from: the file, its rows and what they span, how
 * many the parameters keep, and the `deno task budget` command that makes it again (the
 * budget sweep records no seed: the command assumes the default).
 */
export function budgetHeader(
  records: readonly Record<string, string | number>[],
  path: string,
  kept: number,
): string {
  const vals = (c: string) => [...new Set(records.map((r) => Number(r[c])))].sort((a, b) => a - b);
  const budgets = vals("budget_bytes");
  const aliases = vals("alias");
  const granules = [...new Set(records.map((r) => String(r.granule)))];
  const sizes = budgets.map((b) => formatSize(b)).join(",");
  return `- Read \`${displayPath(path)}\`: ${records.length} rows (${budgets.length} budgets ` +
    `${formatBytes(budgets[0])}..${formatBytes(budgets[budgets.length - 1])}, alias ` +
    `${aliases.join(", ")}, ${vals("vcpus").join(", ")} vCPUs, ${granules.join(", ")} pages); ` +
    `the parameters keep ${kept}.\n- Made by \`deno task budget --alias ${aliases.join(",")} ` +
    `--budget ${sizes} --out ${displayPath(path)}\` (the budget CSV records no seed: the ` +
    `command runs the default).`;
}

/** Budget sweep records as {@linkcode BudgetRow}s. */
export function budgetRowsOf(rows: readonly Record<string, string | number>[]): BudgetRow[] {
  const n = (r: Record<string, string | number>, k: string) => r[k] as number;
  return rows.map((r) => ({
    budget: n(r, "budget_bytes"),
    alias: n(r, "alias"),
    vcpus: n(r, "vcpus"),
    granule: String(r.granule),
    validMmus: n(r, "valid_mmus"),
    fallbacks: n(r, "fallbacks"),
    fallbackRate: n(r, "fallback_rate"),
    unmapEvents: n(r, "unmap_events"),
    unmapIterationsMax: n(r, "unmap_iterations_max"),
    unmapIterationsMean: n(r, "unmap_iterations_mean"),
    peakMemoryBytes: n(r, "peak_memory_bytes"),
    violations: n(r, "violations"),
  }));
}

const ALIAS_STYLES = [
  { color: "#1f77b4", width: 5, dash: "" },
  { color: "#ff7f0e", width: 2.5, dash: "7,4" },
  { color: "#2ca02c", width: 2, dash: "2,3" },
  { color: "#d62728", width: 2, dash: "10,3,2,3" },
  { color: "#9467bd", width: 2, dash: "" },
];

/**
 * `rmap-bounded` against its per-MMU budget, a line per alias density: top, fallbacks to
 * the full walk per shadow MMU in use; bottom, iterations in the worst unmap event (log).
 */
export function budgetFigure(data: readonly BudgetRow[]): Figure {
  if (data.length === 0) throw new Error("03-budget: the budget sweep is empty");
  const aliases = [...new Set(data.map((d) => d.alias))].sort((a, b) => a - b);
  const budgets = [...new Set(data.map((d) => d.budget))].sort((a, b) => a - b);
  const look = (a: number) => ALIAS_STYLES[aliases.indexOf(a) % ALIAS_STYLES.length];
  const hi = Math.max(0.1, ...data.map((d) => d.fallbackRate));
  const its = data.map((d) => d.unmapIterationsMax).filter((v) => v > 0);
  const itLo = Math.min(...its) / 3;
  const itHi = Math.max(...its) * 3;
  const x = {
    type: "log",
    base: 2,
    domain: [budgets[0] / 1.3, budgets[budgets.length - 1] * 1.3],
  };
  const axis = (label: string | null) =>
    Plot.axisX(budgets, {
      text: (v: number) => formatBytes(v),
      label,
      labelAnchor: "center",
      labelOffset: 38,
      labelArrow: "none",
    });
  const common = (y: string, extra: Plot.Markish[]) => {
    const marks: Plot.Markish[] = [
      Plot.frame({ stroke: "#ccc" }),
      Plot.ruleX([RMAP_BOUNDED_DEFAULT_BUDGET], { stroke: "#888", strokeDasharray: "4,3" }),
      Plot.text([RMAP_BOUNDED_DEFAULT_BUDGET], {
        x: (d: number) => d,
        text: () => `default ${formatBytes(RMAP_BOUNDED_DEFAULT_BUDGET)}`,
        frameAnchor: "top",
        textAnchor: "end",
        dx: -5,
        dy: 12,
        fill: "#555",
        fontSize: 12,
      }),
      ...extra,
    ];
    for (const a of aliases) {
      const d = data.filter((r) => r.alias === a);
      const st = look(a);
      marks.push(
        Plot.line(d, {
          x: "budget",
          y,
          stroke: st.color,
          strokeWidth: st.width,
          strokeDasharray: st.dash || undefined,
        }),
        Plot.dot(d, { x: "budget", y, fill: st.color, r: 3 + st.width / 2 }),
      );
    }
    return marks;
  };
  const style = FONT_STYLE;
  const top = Plot.plot({
    document: plotDocument(),
    width: 860,
    height: 260,
    marginLeft: 64,
    marginRight: 20,
    marginTop: 28,
    marginBottom: 40,
    style,
    x,
    y: { domain: [0, hi * 1.15], grid: true, label: "↑ fallbacks to the full walk per shadow MMU" },
    marks: common("fallbackRate", [axis(null)]),
  } as Plot.PlotOptions) as unknown as DomElement;
  const itTicks = pow10Ticks(itLo, itHi).filter((t) => t >= itLo && t <= itHi);
  const bottom = Plot.plot({
    document: plotDocument(),
    width: 860,
    height: 280,
    marginLeft: 64,
    marginRight: 20,
    marginTop: 28,
    marginBottom: 48,
    style,
    x,
    y: {
      type: "log",
      domain: [itLo, itHi],
      ticks: itTicks,
      tickFormat: axisFormat(itTicks),
      grid: true,
      label: "↑ iterations in the worst unmap event",
    },
    marks: common("unmapIterationsMax", [axis("rmap-bounded budget per shadow MMU (log₂) →")]),
  } as Plot.PlotOptions) as unknown as DomElement;
  const d0 = data[0];
  const legend: LegendItem[] = aliases.map((a) => ({
    label: `alias density ${a}`,
    color: look(a).color,
    kind: "line" as const,
    dash: look(a).dash,
  }));
  const worst = data.reduce((m, r) => Math.max(m, r.violations), 0);
  return composeFigure({
    name: "03-budget",
    title: "rmap-bounded: fallback rate and cost against its budget",
    subtitle: `Replayed here (the sweep has no budget dimension): the sweep's workload at ` +
      `${d0.vcpus} vCPUs (${d0.validMmus} shadow MMUs in use), host granule ${d0.granule}, ` +
      `one trace per alias density, rmap-bounded at each budget. An MMU whose index would ` +
      `exceed the budget falls back to the full walk until its table is empty again.`,
    chart: [top, bottom],
    legend,
    notes: [
      "Top: fallbacks / shadow MMUs in use (an MMU can fall back more than once). Bottom: " +
      "the worst unmap event, which becomes the full walk once any MMU has fallen back.",
      `Oracle violations over all these replays: ${worst} (the fallback is the full walk, ` +
      "so the bound costs time, never correctness).",
    ],
  });
}

/**
 * The takeaway under the budget figure, from the budget CSV: per alias density the
 * smallest budget at which rmap-bounded never falls back, and the violations over every
 * replay (the fallback is the full walk: it costs time, not correctness).
 */
export function budgetTakeaway(
  data: readonly BudgetRow[],
  rows: readonly Record<string, string | number>[],
  path: string,
  base: Where = {},
): Takeaway {
  const fb = new FactBook(path, rows, base);
  const out: string[] = [];
  for (const a of [...new Set(data.map((d) => d.alias))].sort((x, y) => x - y)) {
    const ok = data.filter((d) => d.alias === a && d.fallbacks === 0)
      .sort((x, y) => x.budget - y.budget)[0];
    if (!ok) {
      const f = fb.fact(`fallbacks.${a}`, { alias: a }, "fallbacks", "min");
      out.push(`alias ${a}: every budget falls back (at least ${f.shown} fallbacks).`);
      continue;
    }
    const f = fb.fact(
      `fallbacks.${a}.${ok.budget}`,
      { alias: a, budget_bytes: ok.budget },
      "fallbacks",
      "max",
    );
    const below = data.filter((d) => d.alias === a && d.budget < ok.budget)
      .sort((x, y) => y.budget - x.budget)[0];
    let line = `alias ${a}: no fallback from ${formatBytes(ok.budget)} per shadow MMU on ` +
      `(${f.shown} fallbacks)`;
    if (below) {
      const g = fb.fact(
        `fallbacks.${a}.${below.budget}`,
        { alias: a, budget_bytes: below.budget },
        "fallbacks",
        "max",
      );
      const it = fb.fact(
        `worst.${a}.${below.budget}`,
        { alias: a, budget_bytes: below.budget },
        "unmap_iterations_max",
        "max",
      );
      line += `; at ${formatBytes(below.budget)} it falls back ${g.shown} times and its ` +
        `worst unmap is ${it.shown} iterations`;
    }
    out.push(line + ".");
  }
  const v = fb.fact("violations", {}, "violations", "sum");
  out.push(`Oracle violations over every replay: ${v.shown}.`);
  return fb.takeaway(out.map((l) => `- ${l}`).join("\n"));
}

/** Markdown table of the budget sweep. */
export function budgetTable(data: readonly BudgetRow[]): string {
  const lines = [
    "| alias | budget | fallbacks | per MMU | worst unmap (iterations) | mean unmap | peak index | violations |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of data) {
    lines.push(
      `| ${r.alias} | ${formatBytes(r.budget)} | ${r.fallbacks} | ${r.fallbackRate.toFixed(2)} | ${
        formatCount(r.unmapIterationsMax)
      } | ${formatCount(Math.round(r.unmapIterationsMean))} | ${
        formatBytes(r.peakMemoryBytes)
      } | ${r.violations} |`,
    );
  }
  return lines.join("\n");
}
