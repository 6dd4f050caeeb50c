/**
 * Notebook 03, memory: what each strategy's index costs per shadow entry and how many
 * shadow entries its unmaps remove without need (collateral), against alias density; and
 * how often `rmap-bounded` falls back to the full walk against its per-MMU budget, and how
 * long its worst unmap then holds a CPU, per vCPU count, from the budget sweep's CSV
 * (`deno task budget`, lib/sweep/budget_columns.ts).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { budgetTable } from "./memory.ts";
 * const table = budgetTable([{
 *   grid_id: "b", point: 0, seed: 1, strategy: "rmap-bounded", budget_bytes: 1024, alias: 0,
 *   vcpus: 192, granule: "4K", valid_mmus: 192, fallbacks: 384, fallback_rate: 2,
 *   unmap_events: 3, unmap_iterations_max: 50331648, unmap_iterations_mean: 9,
 *   unmap_est_ns_max: 1110083840, peak_memory_bytes: 8192, violations: 0,
 * }]);
 * assertEquals(table.split("\n")[2],
 *   "| 192 | 4K | 0 | 1 KiB | 384 | 2.00 | 5.0×10⁷ | 1.11 s | 9 | 8 KiB | 0 |");
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
import { DODGE_NOTE, dodgeRecords } from "./dodge.ts";
import { strategyLineDots } from "./marks.ts";
import { LOCKUP_DASH, secondsAxis, STRICT_DASH, timeThresholds } from "./seconds.ts";
import { FactBook, type Takeaway, type Where } from "./takeaway.ts";
import { type NotebookParams, SelectionError, selectRows } from "./params.ts";
import { SCHED_LATENCY_NS, SCHED_LATENCY_SOURCE, softLockupSource } from "./latency.ts";
import { costModelName, defaultCostBase } from "../sweep/spec.ts";
import { type Section, section } from "./section.ts";
import {
  displayPath,
  distinct,
  largestScale,
  markSource,
  maxBy,
  num,
  type NumericColumn,
  parseTyped,
  readResults,
  sourceOf,
  type SweepRecord,
} from "./results.ts";
import {
  axisFormat,
  formatCount,
  formatSeconds,
  granuleOrder,
  LOCKUP_COLOR,
  logTicks,
  pow10Ticks,
  strategyOrder,
  strategyStyle,
  STRICT_COLOR,
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
 * The alias densities sit evenly along x (a tick each, at their index); marks of
 * different designs that would sit on each other are spread along x (./dodge.ts), and
 * `moved` says whether any was.
 */
function aliasChart(
  rows: readonly SweepRecord[],
  data: readonly Record<string, string | number>[],
  spec: AliasChartSpec,
): { chart: DomElement; moved: boolean } {
  const granules = granuleOrder(data.map((d) => d.granule as string));
  const strategies = strategyOrder(data.map((d) => d.strategy as string));
  const aliases = (distinct(rows, "alias") as number[]).map(String);
  const ys = data.map((d) => d[spec.column] as number);
  const hi = Math.max(1, ...ys);
  const lo = spec.yType === "log" ? Math.min(...ys) / 1.5 : 0;
  const ticks = spec.yType === "log" ? (spec.ticks ?? logTicks)(lo, hi * 1.5) : symlogTicks(hi);
  const top = spec.yType === "log" ? hi * 1.5 : ticks[ticks.length - 1] * 1.6;
  const at = aliases.map((_, i) => i);
  const plot = {
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
      type: "linear",
      domain: [-0.45, aliases.length - 0.55],
      ticks: at,
      tickFormat: (i: number) => aliases[i],
      label: "alias density →",
      labelAnchor: "center",
      labelOffset: 40,
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
  };
  const placed: Record<string, string | number>[] = data.map((d) => ({
    ...d,
    aliasAt: aliases.indexOf(String(d.alias)),
  }));
  const dodged = dodgeRecords(
    placed,
    { x: "aliasAt", y: spec.column, fx: "granule" },
    plot as Plot.PlotOptions,
    at,
  );
  const marks: Plot.Markish[] = [Plot.frame({ stroke: "#ccc" })];
  for (const s of strategies) {
    const d = dodged.data.filter((r) => r.strategy === s);
    marks.push(...strategyLineDots(d, { x: "xd", y: spec.column, fx: "granule" }, s, 2.2));
  }
  const chart = Plot.plot({ ...plot, marks } as Plot.PlotOptions) as unknown as DomElement;
  return { chart, moved: dodged.moved };
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
    chart: [top.chart, bottom.chart],
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
      ...(top.moved || bottom.moved ? [DODGE_NOTE] : []),
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
  const { chart, moved } = aliasChart(rows, shown, {
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
      ...(moved ? [DODGE_NOTE] : []),
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

/**
 * Read a budget sweep CSV as typed records, its columns as the file names them, each
 * marked with its file (lib/plots/results.ts markSource) for the figure's facts.
 */
export async function loadBudgetCsv(
  path: string = COMMITTED_BUDGET_CSV,
): Promise<Record<string, string | number>[]> {
  const text = await readResults(
    path,
    "budget sweep",
    "Run `deno task budget` to write results/budget.csv.",
  );
  const numeric = new Set(BUDGET_COLUMNS.filter((c) => c.type !== "text").map((c) => c.name));
  return markSource(
    parseTyped(text, path, numeric, BUDGET_COLUMNS.map((c) => c.name), "budget CSV"),
    path,
  );
}

/**
 * The budget records a notebook's parameters keep (their granules and alias densities;
 * the budget sweep has no strategy or working-set dimension) and, with `vcpus` (the
 * notebook's `budgetVcpus`), its vCPU counts; and the fact filter that keeps them. A value
 * the CSV has not is a {@linkcode SelectionError} naming the values it has.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { selectBudget } from "./memory.ts";
 * const rows = [8, 192].map((vcpus) => ({ vcpus, alias: 0, granule: "4K" }));
 * assertEquals(selectBudget(rows, {}, [192]).where, { vcpus: [192] });
 * assertThrows(() => selectBudget(rows, {}, [64]), Error, "budgetVcpus: 64 not in the budget CSV (it has 8, 192)");
 * ```
 */
export function selectBudget(
  records: readonly Record<string, string | number>[],
  p: NotebookParams,
  vcpus: readonly number[] = [],
): { rows: Record<string, string | number>[]; where: Where } {
  const where: Where = {};
  if (p.granules && p.granules.length > 0) where.granule = [...p.granules];
  if (p.aliases && p.aliases.length > 0) where.alias = [...p.aliases];
  let rows = selectRows(records, { granules: p.granules, aliases: p.aliases });
  if (vcpus.length > 0) {
    const have = [...new Set(records.map((r) => Number(r.vcpus)))].sort((a, b) => a - b);
    const missing = vcpus.filter((v) => !have.includes(v));
    if (missing.length > 0) {
      throw new SelectionError(
        `budgetVcpus: ${missing.join(", ")} not in the budget CSV (it has ${have.join(", ")})`,
      );
    }
    where.vcpus = [...vcpus];
    rows = rows.filter((r) => vcpus.includes(Number(r.vcpus)));
    if (rows.length === 0) throw new SelectionError("the parameters keep no row of the budget CSV");
  }
  return { rows, where };
}

/**
 * Where the budget figure's numbers come from: the file, its rows and what they span, how
 * many the parameters keep, and the `deno task budget` command that makes it again.
 */
export function budgetHeader(
  records: readonly Record<string, string | number>[],
  path: string,
  kept: number,
): string {
  const vals = (c: string) => [...new Set(records.map((r) => Number(r[c])))].sort((a, b) => a - b);
  const texts = (c: string) => [...new Set(records.map((r) => String(r[c])))];
  const budgets = vals("budget_bytes");
  const aliases = vals("alias");
  const vcpus = vals("vcpus");
  const granules = texts("granule");
  const seeds = vals("seed");
  const models = texts("cost_model");
  const sizes = budgets.map((b) => formatSize(b)).join(",");
  const model = models.map(costModelName).join(" and ");
  return `- Read \`${displayPath(path)}\`: ${records.length} rows (${vcpus.join(", ")} vCPUs; ` +
    `${granules.join(", ")} pages; alias ${aliases.join(", ")}; ${budgets.length} budgets ` +
    `${formatBytes(budgets[0])}..${formatBytes(budgets[budgets.length - 1])}; seed ` +
    `${seeds.join(", ")}; times estimated by ${model}); the parameters keep ${kept}.\n` +
    `- Made by \`deno task budget --vcpus ${vcpus.join(",")} --granule ${granules.join(",")} ` +
    `--alias ${aliases.join(",")} --budget ${sizes} --seed ${seeds.join(",")}` +
    (models.length === 1 && models[0] !== defaultCostBase().origin
      ? ` --cost-model ${models[0].split(": ")[0]}`
      : "") +
    ` --out ${displayPath(path)}\`.`;
}

/** Budget sweep records as {@linkcode BudgetRow}s. */
export function budgetRowsOf(rows: readonly Record<string, string | number>[]): BudgetRow[] {
  const n = (r: Record<string, string | number>, k: string) => r[k] as number;
  return rows.map((r) => ({
    gridId: String(r.grid_id),
    point: n(r, "point"),
    seed: n(r, "seed"),
    strategy: String(r.strategy),
    budget: n(r, "budget_bytes"),
    alias: n(r, "alias"),
    vcpus: n(r, "vcpus"),
    granule: String(r.granule),
    l1Granule: String(r.l1_granule),
    paBits: n(r, "pa_bits"),
    validMmus: n(r, "valid_mmus"),
    fallbacks: n(r, "fallbacks"),
    fallbackRate: n(r, "fallback_rate"),
    unmapEvents: n(r, "unmap_events"),
    unmapIterationsMax: n(r, "unmap_iterations_max"),
    unmapIterationsMean: n(r, "unmap_iterations_mean"),
    unmapDescriptorsMax: n(r, "unmap_descriptors_max"),
    peakMemoryBytes: n(r, "peak_memory_bytes"),
    violations: n(r, "violations"),
    nsPerIteration: n(r, "ns_per_iteration"),
    nsPerDescriptor: n(r, "ns_per_descriptor"),
    softLockupNs: n(r, "soft_lockup_threshold_ns"),
    unmapEstNsMean: n(r, "unmap_est_ns_mean"),
    unmapEstNsMax: n(r, "unmap_est_ns_max"),
    costModel: String(r.cost_model),
  }));
}

type BudgetRecord = Record<string, string | number>;

/**
 * What the budget figure, its takeaway and its table show: budget on x, a panel per (vCPU
 * count, host granule), a line per alias density, every other dimension that varies (seed,
 * cost model) pinned to one value and named in the subtitle.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { budgetSection } from "./memory.ts";
 * const row = (vcpus: number, seed: number) => ({ grid_id: "b", point: vcpus + seed,
 *   strategy: "rmap-bounded", budget_bytes: 1024, alias: 0, vcpus, granule: "4K", seed });
 * const s = budgetSection([row(8, 1), row(192, 1), row(192, 2)]);
 * assertEquals(s.rows.map((r) => [r.vcpus, r.seed]), [[8, 1], [192, 1]]);
 * ```
 */
export function budgetSection(records: readonly BudgetRecord[]): Section<BudgetRecord> {
  if (records.length === 0) throw new Error("03-budget: the budget sweep is empty");
  return section(records, { x: "budget_bytes", facets: ["vcpus", "granule"], free: ["alias"] });
}

/** The one cost model of the rows drawn (its constants are columns of every row). */
function budgetCostModel(rows: readonly BudgetRecord[]): BudgetRow {
  const keys = new Set(
    rows.map((r) =>
      [r.ns_per_iteration, r.ns_per_descriptor, r.soft_lockup_threshold_ns, r.cost_model].join("/")
    ),
  );
  if (keys.size !== 1) {
    throw new Error(`03-budget: the rows drawn mix ${keys.size} cost models; draw one at a time`);
  }
  return budgetRowsOf([rows[0]])[0];
}

const ALIAS_STYLES = [
  { color: "#1f77b4", width: 4, dash: "" },
  { color: "#ff7f0e", width: 2.5, dash: "7,4" },
  { color: "#2ca02c", width: 2, dash: "2,3" },
  { color: "#d62728", width: 2, dash: "10,3,2,3" },
  { color: "#9467bd", width: 2, dash: "" },
];

/** A budget figure's panel: one vCPU count and host granule. */
interface BudgetPanel {
  /** Its key, as the plot's facet. */
  key: string;
  /** vCPUs. */
  vcpus: number;
  /** Host granule. */
  granule: string;
}

/** The panels of budget rows: one per (vCPUs, granule), by vCPUs then granule. */
function budgetPanels(rows: readonly BudgetRecord[]): BudgetPanel[] {
  const out: BudgetPanel[] = [];
  const vcpus = [...new Set(rows.map((r) => Number(r.vcpus)))].sort((a, b) => a - b);
  for (const v of vcpus) {
    const here = rows.filter((r) => Number(r.vcpus) === v).map((r) => String(r.granule));
    for (const g of granuleOrder(here)) {
      out.push({ key: `${v} vCPUs, ${g} pages`, vcpus: v, granule: g });
    }
  }
  return out;
}

/**
 * `rmap-bounded` against its per-MMU budget, a panel per (vCPU count, host granule) and a
 * line per alias density: top, the estimated time of the worst unmap event (log; the
 * soft-lockup and scheduling-latency lines in colours no series uses); bottom, fallbacks
 * to the full walk per shadow MMU in use. Its rows are {@linkcode budgetSection}'s.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { budgetFigure } from "./memory.ts";
 * const row = (point: number, vcpus: number, budget_bytes: number, fallbacks: number) => ({
 *   grid_id: "b", point, seed: 1, strategy: "rmap-bounded", budget_bytes, alias: 0, vcpus,
 *   granule: "4K", valid_mmus: vcpus, fallbacks, fallback_rate: fallbacks / vcpus,
 *   unmap_events: 3, unmap_iterations_max: fallbacks ? vcpus * 262144 : 99,
 *   unmap_iterations_mean: 50, unmap_descriptors_max: 9, peak_memory_bytes: 4096,
 *   violations: 0, ns_per_iteration: 20, ns_per_descriptor: 2,
 *   soft_lockup_threshold_ns: 2e10, unmap_est_ns_mean: 1e5,
 *   unmap_est_ns_max: fallbacks ? vcpus * 262144 * 20 : 1998, cost_model: "default",
 * });
 * const fig = budgetFigure([row(0, 8, 1024, 8), row(1, 8, 4096, 0), row(2, 192, 1024, 192),
 *   row(3, 192, 4096, 0)]);
 * assert(fig.svg.includes("192 vCPUs, 4K pages"));
 * assertEquals(fig.record.drawn[0].lines.length, 4); // (8, 192) x (time, fallbacks)
 * ```
 */
export function budgetFigure(records: readonly BudgetRecord[]): Figure {
  const s = budgetSection(records);
  const m = budgetCostModel(s.rows);
  const rows = s.rows;
  const panels = budgetPanels(rows);
  const panelOf = (r: BudgetRecord) =>
    panels.find((p) => p.vcpus === Number(r.vcpus) && p.granule === String(r.granule))!;
  const aliases = [...new Set(rows.map((r) => Number(r.alias)))].sort((a, b) => a - b);
  const budgets = [...new Set(rows.map((r) => Number(r.budget_bytes)))].sort((a, b) => a - b);
  const look = (a: number) => ALIAS_STYLES[aliases.indexOf(a) % ALIAS_STYLES.length];
  const data = rows.map((r) => ({
    panel: panelOf(r).key,
    alias: Number(r.alias),
    budget: Number(r.budget_bytes),
    s: Number(r.unmap_est_ns_max) / 1e9,
    rate: Number(r.fallback_rate),
  }));
  const lockup = m.softLockupNs / 1e9;
  const sched = SCHED_LATENCY_NS / 1e9;
  const times = data.map((d) => d.s).filter((v) => v > 0);
  const yLo = Math.min(sched, ...times) / 3;
  const yHi = Math.max(lockup, ...times) * 3;
  const yt = pow10Ticks(yLo, yHi).filter((t) => t >= yLo && t <= yHi);
  const rateHi = Math.max(0.1, ...data.map((d) => d.rate));
  const width = 1100;
  const marginLeft = 110;
  // As many budget labels as a panel has room for (about 70 px each), by powers of 2.
  const room = Math.max(2, Math.floor((width - marginLeft - 20) / panels.length / 70));
  let xTicks = budgets.filter((b) => Number.isInteger(Math.log2(b)));
  for (let step = 2; xTicks.length > room; step *= 2) {
    xTicks = budgets.filter((b) => Number.isInteger(Math.log2(b / budgets[0]) / step));
  }
  const xAxis = (label: string | null) =>
    Plot.axisX(xTicks, {
      text: (v: number) => formatBytes(v),
      label,
      labelAnchor: "center",
      labelOffset: 38,
      labelArrow: "none",
    });
  const defaultRule = Plot.ruleX([RMAP_BOUNDED_DEFAULT_BUDGET], {
    stroke: "#888",
    strokeDasharray: "4,3",
  });
  const seriesMarks = (y: "s" | "rate") =>
    aliases.flatMap((a) => {
      const st = look(a);
      const d = data.filter((p) => p.alias === a).sort((p, q) => p.budget - q.budget);
      return [
        Plot.line(d, {
          x: "budget",
          y,
          fx: "panel",
          stroke: st.color,
          strokeWidth: st.width,
          strokeDasharray: st.dash || undefined,
        }),
        Plot.dot(d, { x: "budget", y, fx: "panel", fill: st.color, r: 2.5 + st.width / 2 }),
      ];
    });
  for (const p of panels) {
    for (const a of aliases) {
      const line = rows.filter((r) => panelOf(r) === p && Number(r.alias) === a)
        .sort((x, y) => Number(x.budget_bytes) - Number(y.budget_bytes));
      // The same line in both charts: time on top, fallbacks below.
      s.drawn.line("budget_bytes", line.map((r) => [r]));
      s.drawn.line("budget_bytes", line.map((r) => [r]));
    }
  }
  const chart = (
    height: number,
    margins: [number, number],
    fxAxis: boolean,
    y: object,
    marks: Plot.Markish[],
  ) =>
    Plot.plot({
      document: plotDocument(),
      width,
      height,
      marginLeft,
      marginRight: 20,
      marginTop: margins[0],
      marginBottom: margins[1],
      style: FONT_STYLE,
      fx: {
        domain: panels.map((p) => p.key),
        label: null,
        padding: 0.12,
        ...(fxAxis ? {} : { axis: null }),
      },
      x: { type: "log", base: 2, domain: [budgets[0] / 1.6, budgets[budgets.length - 1] * 1.6] },
      y,
      marks,
    } as Plot.PlotOptions) as unknown as DomElement;
  const top = chart(400, [30, 30], true, { type: "log", domain: [yLo, yHi] }, [
    ...secondsAxis(yt, "↑ estimated time of the worst unmap event"),
    ...timeThresholds(lockup, sched),
    defaultRule,
    xAxis(null),
    ...seriesMarks("s"),
  ]);
  const bottom = chart(250, [12, 50], false, {
    domain: [0, rateHi * 1.15],
    grid: true,
    label: "↑ fallbacks per MMU in use",
    labelAnchor: "center",
    labelOffset: 96,
  }, [
    Plot.frame({ stroke: "#ccc" }),
    defaultRule,
    xAxis("rmap-bounded budget per shadow MMU (log₂) →"),
    ...seriesMarks("rate"),
  ]);
  const t = s.text;
  const sec = (ns: number) => formatSeconds(ns / 1e9);
  const panelText = panels.map((p) => {
    const where = { vcpus: p.vcpus, granule: p.granule };
    const n = t.fact(`vcpus.${p.key}`, where, "vcpus", "max");
    const mmus = t.fact(`mmus.${p.key}`, where, "valid_mmus", "max");
    return `${n.shown} vCPUs with ${p.granule} pages (${mmus.shown} shadow MMUs in use)`;
  });
  const nsIt = t.fact("ns_per_iteration", {}, "ns_per_iteration", "max", String);
  const nsDesc = t.fact("ns_per_descriptor", {}, "ns_per_descriptor", "max", String);
  const lock = t.fact("soft_lockup", {}, "soft_lockup_threshold_ns", "max", sec);
  const violations = t.fact("violations", {}, "violations", "sum");
  const schedText = t.constant(sec(SCHED_LATENCY_NS), SCHED_LATENCY_SOURCE);
  const source = sourceOf(records)?.rows ?? records;
  const notShown = budgetPanels(source).filter((p) => !panels.some((q) => q.key === p.key));
  const kept = notShown.length > 0
    ? ` The parameters keep these panels; the CSV also has ${
      notShown.map((p) => p.key).join("; ")
    }.`
    : "";
  const legend: LegendItem[] = [
    ...aliases.map((a) => ({
      label: `alias density ${a}`,
      color: look(a).color,
      kind: "line" as const,
      dash: look(a).dash,
    })),
    { label: `soft lockup ${lock.shown}`, color: LOCKUP_COLOR, kind: "rule", dash: LOCKUP_DASH },
    {
      label: `scheduling latency ${schedText}`,
      color: STRICT_COLOR,
      kind: "rule",
      dash: STRICT_DASH,
    },
    {
      label: `default budget ${formatBytes(RMAP_BOUNDED_DEFAULT_BUDGET)}`,
      color: "#888",
      kind: "rule",
      dash: "4,3",
    },
  ];
  return composeFigure({
    name: "03-budget",
    title: "rmap-bounded against its budget: how long the worst unmap holds a CPU, and how " +
      "often it falls back to the full walk",
    subtitle: `Replayed here (the sweep has no budget dimension): the sweep's workload, one ` +
      `trace per vCPU count, host granule and alias density, rmap-bounded at each budget; a ` +
      `panel each for ${panelText.join(", ")}. An MMU whose index would exceed the budget ` +
      `falls back to the full walk until its table is empty again.${kept}` + s.pinSentence(),
    chart: [top, bottom],
    legend,
    notes: [
      `Top: the worst host unmap event's estimated time (unmap_est_ns_max: iterations × ` +
      `${nsIt.shown} ns + descriptors visited × ${nsDesc.shown} ns, by ` +
      `${costModelName(m.costModel)}); once an MMU has fallen back, the worst event is the ` +
      `full walk of every valid shadow MMU. Bottom: fallbacks / shadow MMUs in use (an MMU can ` +
      `fall back more than once).`,
      `Soft lockup: ${softLockupSource(m.softLockupNs)}. Scheduling latency: ` +
      `${SCHED_LATENCY_SOURCE}.`,
      `Oracle violations over all these replays: ${violations.shown} (the fallback is the ` +
      "full walk, so the bound costs time, never correctness).",
    ],
    stated: t.collect(),
    drawn: [s.drawn.drawn()],
  });
}

/**
 * The takeaway under the budget figure, from the rows it draws: per panel (vCPU count and
 * host granule) and alias density, the smallest budget at which rmap-bounded never falls back and its worst
 * unmap's estimated time, and at the budget below it the fallbacks and the worst unmap's
 * time against the scheduling latency and the soft lockup; then the violations over every
 * replay (the fallback is the full walk: it costs time, not correctness).
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "@std/assert";
 * import { budgetTakeaway } from "./memory.ts";
 * const row = (point: number, budget_bytes: number, fallbacks: number, est: number) => ({
 *   grid_id: "b", point, seed: 1, strategy: "rmap-bounded", budget_bytes, alias: 0,
 *   vcpus: 192, granule: "4K", valid_mmus: 192, fallbacks, unmap_iterations_max: est / 20,
 *   unmap_est_ns_max: est, soft_lockup_threshold_ns: 2e10, violations: 0,
 *   ns_per_iteration: 20, ns_per_descriptor: 2, cost_model: "default",
 * });
 * const t = budgetTakeaway([row(0, 1024, 384, 1.11e9), row(1, 4096, 0, 4e5)], "b.csv");
 * assertStringIncludes(t.text, "at 1 KiB it falls back 384 times and its worst unmap takes 1.11 s");
 * ```
 */
export function budgetTakeaway(
  records: readonly BudgetRecord[],
  path: string,
  base: Where = {},
): Takeaway {
  const s = budgetSection(records);
  const rows = s.rows;
  const fb = new FactBook(path, sourceOf(records)?.rows ?? records, { ...base, ...s.where });
  const sec = (ns: number) => formatSeconds(ns / 1e9);
  const lock = fb.fact("soft_lockup", {}, "soft_lockup_threshold_ns", "max", sec);
  const sched = fb.constant(sec(SCHED_LATENCY_NS), SCHED_LATENCY_SOURCE);
  const against = (ns: number) =>
    `${ns > SCHED_LATENCY_NS ? "past" : "within"} the ${sched} scheduling latency, ` +
    `${ns > lock.value ? "past" : "under"} the ${lock.shown} soft lockup`;
  const out: string[] = [];
  for (const p of budgetPanels(rows)) {
    const panel = { vcpus: p.vcpus, granule: p.granule };
    const mine = rows.filter((r) => Number(r.vcpus) === p.vcpus && r.granule === p.granule);
    const mmus = fb.fact(`mmus.${p.key}`, panel, "valid_mmus", "max");
    out.push(`**${p.key}** (${mmus.shown} shadow MMUs in use):`);
    for (const a of [...new Set(mine.map((r) => Number(r.alias)))].sort((x, y) => x - y)) {
      const line = mine.filter((r) => Number(r.alias) === a)
        .sort((x, y) => Number(x.budget_bytes) - Number(y.budget_bytes));
      const at = (r: BudgetRecord) => ({ ...panel, alias: a, budget_bytes: r.budget_bytes });
      const id = (what: string, r: BudgetRecord) => `${what}.${p.key}.${a}.${r.budget_bytes}`;
      const ok = line.find((r) => Number(r.fallbacks) === 0);
      if (!ok) {
        const all = { ...panel, alias: a };
        const f = fb.fact(`fallbacks.${p.key}.${a}`, all, "fallbacks", "min");
        const w = fb.fact(`worst.${p.key}.${a}`, all, "unmap_est_ns_max", "max", sec);
        out.push(
          `  - alias ${a}: every budget falls back (at least ${f.shown} fallbacks); its worst ` +
            `unmap takes ${w.shown}, ${against(w.value)}.`,
        );
        continue;
      }
      const f = fb.fact(id("fallbacks", ok), at(ok), "fallbacks", "max");
      const w = fb.fact(id("worst", ok), at(ok), "unmap_est_ns_max", "max", sec);
      let text = `  - alias ${a}: no fallback from ${formatBytes(Number(ok.budget_bytes))} per ` +
        `shadow MMU on (${f.shown} fallbacks; worst unmap ${w.shown})`;
      const below = line.filter((r) => Number(r.budget_bytes) < Number(ok.budget_bytes)).pop();
      if (below) {
        const g = fb.fact(id("fallbacks", below), at(below), "fallbacks", "max");
        const x = fb.fact(id("worst", below), at(below), "unmap_est_ns_max", "max", sec);
        text += `; at ${formatBytes(Number(below.budget_bytes))} it falls back ${g.shown} ` +
          `times and its worst unmap takes ${x.shown}, ${against(x.value)}`;
      }
      out.push(text + ".");
    }
  }
  const viol = fb.fact("violations", {}, "violations", "sum");
  out.push(`Oracle violations over every replay drawn: ${viol.shown}.`);
  return fb.takeaway(out.map((l) => (l.startsWith("  ") ? l : `- ${l}`)).join("\n"));
}

/**
 * Markdown table of the rows the budget figure draws ({@linkcode budgetSection}), by vCPU
 * count, host granule, alias density and budget.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { budgetTable } from "./memory.ts";
 * const table = budgetTable([{
 *   grid_id: "b", point: 0, seed: 1, strategy: "rmap-bounded", budget_bytes: 1024, alias: 0,
 *   vcpus: 8, granule: "4K", valid_mmus: 8, fallbacks: 8, fallback_rate: 1,
 *   unmap_events: 10, unmap_iterations_max: 2 ** 21, unmap_iterations_mean: 9,
 *   unmap_est_ns_max: 46879840, peak_memory_bytes: 8192, violations: 0,
 * }]);
 * assertEquals(table.split("\n")[2], "| 8 | 4K | 0 | 1 KiB | 8 | 1.00 | 2.1×10⁶ | 46.9 ms | 9 | 8 KiB | 0 |");
 * ```
 */
export function budgetTable(records: readonly BudgetRecord[]): string {
  const lines = [
    "| vCPUs | granule | alias | budget | fallbacks | per MMU | worst unmap (iterations) | worst unmap (estimated) | mean unmap (iterations) | peak index | violations |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const n = (r: BudgetRecord, c: string) => Number(r[c]);
  const drawn = budgetSection(records).rows;
  const granules = granuleOrder(drawn.map((r) => String(r.granule)));
  const rows = [...drawn].sort((a, b) =>
    n(a, "vcpus") - n(b, "vcpus") ||
    granules.indexOf(String(a.granule)) - granules.indexOf(String(b.granule)) ||
    n(a, "alias") - n(b, "alias") || n(a, "budget_bytes") - n(b, "budget_bytes")
  );
  for (const r of rows) {
    lines.push(
      `| ${r.vcpus} | ${r.granule} | ${r.alias} | ${
        formatBytes(n(r, "budget_bytes"))
      } | ${r.fallbacks} | ${n(r, "fallback_rate").toFixed(2)} | ${
        formatCount(n(r, "unmap_iterations_max"))
      } | ${formatSeconds(n(r, "unmap_est_ns_max") / 1e9)} | ${
        formatCount(Math.round(n(r, "unmap_iterations_mean")))
      } | ${formatBytes(n(r, "peak_memory_bytes"))} | ${r.violations} |`,
    );
  }
  return lines.join("\n");
}
