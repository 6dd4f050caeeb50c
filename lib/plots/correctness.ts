/**
 * Notebook 02, cost against correctness: oracle violations (stale shadow entries) against
 * alias density, one panel per strategy; and one scatter of iterations in the worst unmap
 * event (x, log) against violations (y), where the upstream walk sits right (correct,
 * huge), maple-v2 up (small, wrong once aliases appear) and ours bottom-left.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { aliasLabel } from "./correctness.ts";
 * assertEquals([aliasLabel(0), aliasLabel(0.01)], ["0", "0.01"]);
 * ```
 * @module
 */

import * as Plot from "@observablehq/plot";
import { costModelOf, lockupIterations } from "./cost.ts";
import { distinct, largestScale, maxBy, num, type SweepRecord } from "./results.ts";
import { formatBytes } from "../util/size.ts";
import {
  formatCount,
  formatPow10,
  GRANULE_COLORS,
  granuleOrder,
  LOCKUP_COLOR,
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

/** An alias density as an axis label. */
export function aliasLabel(a: number): string {
  return String(a);
}

const FONT_STYLE = { fontSize: "13px", fontFamily: "DejaVu Sans, Verdana, Arial, sans-serif" };

/** Rows at the largest scale in the results (192 vCPUs, 256 GiB in the default grid). */
export function atLargestScale(rows: readonly SweepRecord[]): SweepRecord[] {
  const s = largestScale(rows);
  return rows.filter((r) => num(r, "vcpus") === s.vcpus && num(r, "l1_mem_bytes") === s.l1MemBytes);
}

/** Violations per (strategy, granule, alias) at the largest scale (worst over the rest). */
export function violationData(rows: readonly SweepRecord[]): Record<string, string | number>[] {
  return maxBy(atLargestScale(rows), ["strategy", "granule", "alias"], "violations")
    .sort((a, b) => (a.alias as number) - (b.alias as number));
}

/** Oracle violations against alias density: a panel per strategy, a line per granule. */
export function violationsFigure(rows: readonly SweepRecord[]): Figure {
  const data = violationData(rows);
  const scale = largestScale(rows);
  const strategies = strategyOrder(data.map((d) => d.strategy as string));
  const granules = granuleOrder(data.map((d) => d.granule as string));
  const aliases = (distinct(rows, "alias") as number[]).map(aliasLabel);
  const maxV = Math.max(1, ...data.map((d) => d.violations as number));
  const plotData = data.map((d): Record<string, string | number> => ({
    ...d,
    aliasText: aliasLabel(d.alias as number),
  }));
  const marks: Plot.Markish[] = [
    Plot.frame({ stroke: "#ccc" }),
    Plot.ruleY([0], { stroke: "#999" }),
  ];
  for (const g of granules) {
    const d = plotData.filter((r) => r.granule === g);
    const color = GRANULE_COLORS[g] ?? "#555";
    marks.push(
      Plot.line(d, {
        x: "aliasText",
        y: "violations",
        fx: "strategy",
        z: "strategy",
        stroke: color,
        strokeWidth: 2,
      }),
      Plot.dot(d, {
        x: "aliasText",
        y: "violations",
        fx: "strategy",
        r: 4,
        fill: color,
      }),
    );
  }
  const chart = Plot.plot({
    document: plotDocument(),
    width: 1080,
    height: 360,
    marginLeft: 60,
    marginRight: 12,
    marginTop: 34,
    marginBottom: 48,
    style: FONT_STYLE,
    fx: {
      domain: strategies,
      label: null,
      tickFormat: (s: string) => strategyStyle(s).label.replace(/ \(.*\)$/, ""),
      padding: 0.1,
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
      type: "symlog",
      domain: [0, maxV * 1.5],
      ticks: symlogTicks(maxV),
      tickFormat: formatPow10,
      grid: true,
      label: "↑ oracle violations (stale shadow entries)",
    },
    marks,
  } as Plot.PlotOptions) as unknown as DomElement;
  const legend: LegendItem[] = granules.map((g) => ({
    label: `host granule ${g}`,
    color: GRANULE_COLORS[g] ?? "#555",
    kind: "line" as const,
  }));
  return composeFigure({
    name: "02-violations",
    title: "Oracle violations against alias density, per strategy",
    subtitle: `Distinct stale shadow entries the oracle found over the whole trace ` +
      `(violations), at ${scale.vcpus} vCPUs (${scale.shadowMmus} shadow MMUs) and ` +
      `${formatBytes(scale.l1MemBytes)} of L1 memory; the worst over any other grid ` +
      `dimension. y is symlog: 0 is exact, then powers of ten.`,
    chart,
    legend,
    notes: [
      "A violation is a shadow leaf that outlives what the host or L1 allows (lib/oracle.ts): " +
      "it still maps a page the host unmapped or moved. Any value above 0 is a bug.",
    ],
  });
}

/** The scatter's points: one per (strategy, granule, alias) at the largest scale. */
export function tradeoffData(rows: readonly SweepRecord[]): Record<string, string | number>[] {
  const at = atLargestScale(rows);
  const keys = ["strategy", "granule", "alias"];
  const it = maxBy(at, keys, "unmap_iterations_max");
  const v = new Map(
    maxBy(at, keys, "violations").map((g) => [JSON.stringify(keys.map((k) => g[k])), g.violations]),
  );
  return it
    .map((g): Record<string, string | number> => ({
      ...g,
      violations: v.get(JSON.stringify(keys.map((k) => g[k]))) ?? 0,
    }))
    .filter((g) => (g.unmap_iterations_max as number) > 0);
}

/**
 * Cost against correctness in one picture: iterations in the worst unmap event (x, log)
 * against violations (y, symlog), a dot per strategy, granule and alias density.
 */
export function tradeoffFigure(rows: readonly SweepRecord[]): Figure {
  const m = costModelOf(rows);
  const lock = lockupIterations(m);
  const data = tradeoffData(rows);
  const scale = largestScale(rows);
  const strategies = strategyOrder(data.map((d) => d.strategy as string));
  const xsAll = data.map((d) => d.unmap_iterations_max as number);
  const xLo = Math.min(...xsAll) / 3;
  const xHi = Math.max(...xsAll, lock) * 3;
  const maxV = Math.max(1, ...data.map((d) => d.violations as number));
  const marks: Plot.Markish[] = [
    Plot.frame({ stroke: "#ccc" }),
    Plot.ruleX([lock], { stroke: LOCKUP_COLOR, strokeWidth: 1.8, strokeDasharray: "7,4" }),
    Plot.text([lock], {
      x: (d: number) => d,
      text: () => `soft lockup: ${m.softLockupNs / 1e9} s`,
      frameAnchor: "top",
      textAnchor: "end",
      dx: -6,
      dy: 10,
      fill: LOCKUP_COLOR,
      fontSize: 12,
    }),
    Plot.text(["correct and cheap ↙"], {
      frameAnchor: "bottom-left",
      dx: 8,
      dy: -22,
      textAnchor: "start",
      fill: "#2a6",
      fontSize: 13,
      fontWeight: "bold",
    }),
  ];
  for (const s of strategies) {
    const st = strategyStyle(s);
    marks.push(
      Plot.dot(data.filter((d) => d.strategy === s), {
        x: "unmap_iterations_max",
        y: "violations",
        symbol: () => st.symbol,
        r: st.hollow ? 7 : 5,
        fill: st.hollow ? "none" : st.color,
        fillOpacity: 0.85,
        stroke: st.color,
        strokeWidth: st.hollow ? 2 : 1,
      }),
    );
  }
  const chart = Plot.plot({
    document: plotDocument(),
    width: 900,
    height: 460,
    marginLeft: 64,
    marginRight: 20,
    marginTop: 30,
    marginBottom: 48,
    style: FONT_STYLE,
    x: {
      type: "log",
      domain: [xLo, xHi],
      ticks: pow10Ticks(xLo, xHi).filter((t) => t >= xLo && t <= xHi),
      tickFormat: formatPow10,
      grid: true,
      label: "iterations in the worst unmap event (log) →",
      labelAnchor: "center",
      labelOffset: 40,
    },
    y: {
      type: "symlog",
      domain: [0, maxV * 1.5],
      ticks: symlogTicks(maxV),
      tickFormat: formatPow10,
      grid: true,
      label: "↑ oracle violations (stale shadow entries)",
    },
    symbol: { type: "identity" },
    marks,
  } as Plot.PlotOptions) as unknown as DomElement;
  const legend: LegendItem[] = strategies.map((s) => {
    const st = strategyStyle(s);
    return {
      label: st.label,
      color: st.color,
      kind: "dot" as const,
      symbol: st.symbol,
      hollow: st.hollow,
    };
  });
  legend.push({
    label: `soft lockup (${m.softLockupNs / 1e9} s)`,
    color: LOCKUP_COLOR,
    kind: "rule",
  });
  const granules = granuleOrder(data.map((d) => d.granule as string));
  const aliases = distinct(rows, "alias");
  return composeFigure({
    name: "02-tradeoff",
    title: "Cost against correctness",
    subtitle: `One dot per strategy, host granule (${granules.join(", ")}) and alias density ` +
      `(${aliases.join(", ")}) at ${scale.vcpus} vCPUs (${scale.shadowMmus} shadow MMUs), ` +
      `${formatBytes(scale.l1MemBytes)} of L1 memory. Right of the dashed line an unmap ` +
      `event alone trips the soft-lockup watchdog (≈ ${formatCount(lock)} iterations); ` +
      `above 0 the strategy left stale shadow entries.`,
    chart,
    legend,
    notes: [
      "x: unmap_iterations_max (stage2_apply_range() chunks + index steps of the worst unmap " +
      "event); y: violations (distinct stale entries over the trace), symlog.",
    ],
  });
}

/** Markdown: violations per strategy and alias density at the largest scale (worst granule). */
export function violationSummary(rows: readonly SweepRecord[]): string {
  const data = violationData(rows);
  const strategies = strategyOrder(data.map((d) => d.strategy as string));
  const aliases = distinct(rows, "alias") as number[];
  const scale = largestScale(rows);
  const lines = [
    `Oracle violations at ${scale.vcpus} vCPUs, ${formatBytes(scale.l1MemBytes)} ` +
    `(the worst granule), and the worst unmap event in iterations:`,
    "",
    `| strategy | ${aliases.map((a) => `alias ${a}`).join(" | ")} | worst unmap (iterations) |`,
    `|---|${aliases.map(() => "---:").join("|")}|---:|`,
  ];
  const at = atLargestScale(rows);
  for (const s of strategies) {
    const cells = aliases.map((a) => {
      const v = data.filter((d) => d.strategy === s && d.alias === a)
        .map((d) => d.violations as number);
      return v.length === 0 ? "–" : formatCount(Math.max(...v));
    });
    const worst = Math.max(
      0,
      ...at.filter((r) => r.strategy === s).map((r) => num(r, "unmap_iterations_max")),
    );
    lines.push(`| ${strategyStyle(s).label} | ${cells.join(" | ")} | ${formatCount(worst)} |`);
  }
  return lines.join("\n");
}
