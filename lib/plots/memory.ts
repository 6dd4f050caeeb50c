/**
 * Notebook 03, memory: what each strategy's index costs per shadow entry and how many
 * shadow entries its unmaps remove without need (collateral), against alias density; and
 * how often `rmap-bounded` falls back to the full walk against its per-MMU budget, from
 * the budget sweep's CSV (`deno task budget`, lib/sweep/budget.ts).
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

import * as Plot from "@observablehq/plot";
import { RMAP_BOUNDED_DEFAULT_BUDGET } from "../strategies/mod.ts";
import { BUDGET_COLUMNS, type BudgetRow } from "../sweep/budget.ts";
import { formatBytes } from "../util/size.ts";
import { atLargestScale } from "./correctness.ts";
import {
  distinct,
  largestScale,
  maxBy,
  parseTyped,
  readResults,
  type SweepRecord,
} from "./results.ts";
import {
  formatCount,
  formatPow10,
  granuleOrder,
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
} from "./svg.ts";

const FONT_STYLE = { fontSize: "13px", fontFamily: "DejaVu Sans, Verdana, Arial, sans-serif" };

/** A column against alias density at the largest scale: one value per strategy, granule, alias. */
export function aliasSeries(
  rows: readonly SweepRecord[],
  column: string,
): Record<string, string | number>[] {
  return maxBy(atLargestScale(rows), ["strategy", "granule", "alias"], column)
    .map((d): Record<string, string | number> => ({ ...d, aliasText: String(d.alias) }))
    .sort((a, b) => (a.alias as number) - (b.alias as number));
}

interface AliasFigureSpec {
  name: string;
  title: string;
  column: string;
  yLabel: string;
  yType: "log" | "symlog";
  tickFormat: (v: number) => string;
  what: string;
  notes: string[];
}

function aliasFigure(rows: readonly SweepRecord[], spec: AliasFigureSpec): Figure {
  const all = aliasSeries(rows, spec.column);
  const data = spec.yType === "log" ? all.filter((d) => (d[spec.column] as number) > 0) : all;
  if (data.length === 0) throw new Error(`${spec.name}: no rows with ${spec.column} > 0`);
  const scale = largestScale(rows);
  const granules = granuleOrder(data.map((d) => d.granule as string));
  const strategies = strategyOrder(data.map((d) => d.strategy as string));
  const aliases = (distinct(rows, "alias") as number[]).map(String);
  const ys = data.map((d) => d[spec.column] as number);
  const hi = Math.max(1, ...ys);
  const lo = spec.yType === "log" ? Math.min(...ys) / 2 : 0;
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
        fill: st.hollow ? "white" : st.color,
        stroke: st.color,
        strokeWidth: 1.6,
      }),
    );
  }
  const chart = Plot.plot({
    document: plotDocument(),
    width: 1020,
    height: 400,
    marginLeft: 64,
    marginRight: 16,
    marginTop: 34,
    marginBottom: 48,
    style: FONT_STYLE,
    fx: {
      domain: granules,
      label: null,
      tickFormat: (g: string) => `host granule ${g}`,
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
      domain: [lo, hi * (spec.yType === "log" ? 2 : 1.5)],
      ticks: spec.yType === "log"
        ? pow10Ticks(lo, hi * 2).filter((t) => t >= lo && t <= hi * 2)
        : symlogTicks(hi),
      tickFormat: spec.tickFormat,
      grid: true,
      label: spec.yLabel,
    },
    symbol: { type: "identity" },
    marks,
  } as Plot.PlotOptions) as unknown as DomElement;
  const legend: LegendItem[] = strategies.map((s) => {
    const st = strategyStyle(s);
    return { label: st.label, color: st.color, kind: "line" as const, dash: st.dash };
  });
  return composeFigure({
    name: spec.name,
    title: spec.title,
    subtitle: `${spec.what} at ${scale.vcpus} vCPUs (${scale.shadowMmus} shadow MMUs), ` +
      `${formatBytes(scale.l1MemBytes)} of L1 memory; the worst over any other grid dimension.`,
    chart,
    legend,
    notes: spec.notes,
  });
}

/** Strategy index memory per shadow entry against alias density (log y). */
export function memoryFigure(rows: readonly SweepRecord[]): Figure {
  const zero = strategyOrder(
    rows.filter((r) => r.strategy && (r.memory_bytes_per_shadow_entry as number) === 0)
      .map((r) => r.strategy),
  ).filter((s) =>
    rows.filter((r) => r.strategy === s).every((r) =>
      (r.memory_bytes_per_shadow_entry as number) === 0
    )
  );
  return aliasFigure(rows, {
    name: "03-memory",
    title: "Index memory per shadow entry against alias density",
    column: "memory_bytes_per_shadow_entry",
    yLabel: "↑ bytes per shadow entry (peak index bytes ÷ peak shadow leaves)",
    yType: "log",
    tickFormat: (v) => formatPow10(v) + " B",
    what:
      "Peak modeled kernel bytes of the strategy's index divided by the peak live shadow leaves",
    notes: [
      "memory_bytes_per_shadow_entry = peak_memory_bytes / peak_shadow_entries (lib/sweep/schema.ts); " +
      "modeled kernel allocations (maple nodes, rmap descriptors and side tables), not the simulator's.",
      ...(zero.length > 0
        ? [
          `Not drawn (no index, 0 B per entry): ${
            zero.map((s) => strategyStyle(s).label).join(", ")
          }.`,
        ]
        : []),
    ],
  });
}

/** Shadow entries removed without need (collateral) against alias density (symlog y). */
export function collateralFigure(rows: readonly SweepRecord[]): Figure {
  return aliasFigure(rows, {
    name: "03-collateral",
    title: "Collateral unmaps against alias density",
    column: "removed_collateral",
    yLabel: "↑ shadow entries removed without need",
    yType: "symlog",
    tickFormat: formatPow10,
    what: "Shadow entries the host unmap events removed although their range did not require it " +
      "(removed_collateral; each one refaults later)",
    notes: [
      "The upstream walk unmaps every valid shadow MMU's whole IPA space on every host unmap; " +
      "span-unknown does so for an MMU whose range it marked UNKNOWN (aliases); the indexed " +
      "strategies remove only the leaves derived from the range.",
    ],
  });
}

/** The committed budget sweep, `results/budget.csv` (written by `deno task budget`). */
export const COMMITTED_BUDGET_CSV: string = decodeURIComponent(
  new URL("../../results/budget.csv", import.meta.url).pathname,
);

/** Read a budget sweep CSV (`deno task budget`) back into its rows. */
export async function loadBudget(path: string = COMMITTED_BUDGET_CSV): Promise<BudgetRow[]> {
  const text = await readResults(
    path,
    "budget sweep",
    "Run `deno task budget` to write results/budget.csv.",
  );
  const numeric = new Set(BUDGET_COLUMNS.filter((c) => c.type !== "text").map((c) => c.name));
  const rows = parseTyped(text, path, numeric, BUDGET_COLUMNS.map((c) => c.name), "budget CSV");
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
      ticks: pow10Ticks(itLo, itHi).filter((t) => t >= itLo && t <= itHi),
      tickFormat: formatPow10,
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
