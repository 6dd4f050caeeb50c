/**
 * Notebook 02, cost against correctness: oracle violations (stale shadow entries) against
 * alias density, one panel per strategy; and one scatter of iterations in the worst unmap
 * event (x, log) against violations (y), where the upstream walk sits right (correct,
 * huge), maple-v2 up (small, wrong once aliases appear) and ours bottom-left: the points
 * without stale entries in a band under the rest, one lane per design.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { aliasLabel } from "./correctness.ts";
 * assertEquals([aliasLabel(0), aliasLabel(0.01)], ["0", "0.01"]);
 * ```
 * @module
 */

import { UPSTREAM } from "../strategies/registry.ts";
import { textWidth } from "./font.ts";
import { symbolReach } from "./symbol.ts";
import * as Plot from "@observablehq/plot";
import {
  coincidentSeries,
  costModelOf,
  granuleLabel,
  lockupIterations,
  nsPerWalkIteration,
  paBitsNotes,
} from "./cost.ts";
import {
  SCHED_LATENCY_NS,
  SCHED_LATENCY_SOURCE,
  secondsToIterations,
  softLockupSource,
} from "./latency.ts";
import { statColumn, type Statistic, statWord } from "./params.ts";
import { FactBook, type Takeaway, type Where } from "./takeaway.ts";
import { type Section, section } from "./section.ts";
import type { SweepColumn } from "../sweep/columns.ts";
import { distinct, largestScale, maxBy, num, type SweepRecord } from "./results.ts";
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
  composeFigure,
  type DomElement,
  type Figure,
  type LegendItem,
  plotDocument,
  strategyLegend,
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

/**
 * A fact book over the rows a figure at the largest scale draws (`shown`): the
 * parameters' filter, the figure's pins, the most vCPUs and L1 memory.
 */
export function largestScaleBook(
  rows: readonly SweepRecord[],
  path: string,
  base: Where,
  shown: Section<SweepRecord>,
): FactBook {
  const scale = largestScale(rows);
  return new FactBook(path, rows, {
    ...base,
    ...shown.where,
    vcpus: scale.vcpus,
    l1_mem_bytes: scale.l1MemBytes,
  });
}

/**
 * What the violations figure draws: the rows at the largest scale, one configuration per
 * line (alias on x, a panel per granule; every other dimension that varies pinned).
 */
export function violationSection(rows: readonly SweepRecord[]): Section<SweepRecord> {
  return section(atLargestScale(rows), { x: "alias", facets: ["granule"] });
}

/** What the trade-off scatter draws: the rows at the most vCPUs, one point per granule, L1 size and alias density. */
export function tradeoffSection(rows: readonly SweepRecord[]): Section<SweepRecord> {
  const vcpus = largestScale(rows).vcpus;
  return section(rows.filter((r) => num(r, "vcpus") === vcpus), {
    facets: ["granule", "l1_mem_bytes"],
    free: ["alias"],
  });
}

/** Violations per (strategy, granule, alias) of the rows the violations figure draws. */
export function violationData(rows: readonly SweepRecord[]): Record<string, string | number>[] {
  return maxBy(violationSection(rows).rows, ["strategy", "granule", "alias"], "violations")
    .sort((a, b) => (a.alias as number) - (b.alias as number));
}

/** Fill of a cell with stale entries, and of one without (neither is a design's colour). */
const STALE_FILL = "#f6c6c6";
const CLEAN_FILL = "#f2f2f2";

/**
 * Oracle violations, one compact chart: a row per design, a column per host granule and
 * alias density, each cell the count of stale shadow entries (shaded when above 0), so that
 * the designs that are correct everywhere take one line each.
 */
export function violationsFigure(rows: readonly SweepRecord[]): Figure {
  const shown = violationSection(rows);
  const data = violationData(rows);
  const scale = largestScale(rows);
  shown.drawn.rows(shown.rows);
  const strategies = strategyOrder(data.map((d) => d.strategy as string));
  const granules = granuleOrder(data.map((d) => d.granule as string));
  const aliases = (distinct(shown.rows, "alias") as number[]).sort((a, b) => a - b);
  const column = (g: string, a: number) => `${g} · ${aliasLabel(a)}`;
  const columns = granules.flatMap((g) => aliases.map((a) => column(g, a)));
  const label = (s: string) => strategyStyle(s).label;
  const cells = data.map((d) => ({
    design: label(d.strategy as string),
    column: column(d.granule as string, d.alias as number),
    violations: d.violations as number,
  }));
  // The row labels (design labels) set the left margin: the widest, with a gap of 12 px.
  const marginLeft = Math.ceil(Math.max(...strategies.map((s) => textWidth(label(s), 13)))) + 12;
  const chart = Plot.plot({
    document: plotDocument(),
    width: Math.max(640, marginLeft + 30 + 88 * columns.length),
    height: 70 + 30 * strategies.length,
    marginLeft,
    marginRight: 12,
    marginTop: 46,
    marginBottom: 8,
    style: FONT_STYLE,
    x: { domain: columns, axis: "top", label: "host granule · alias density", tickSize: 0 },
    y: { domain: strategies.map(label), label: null, tickSize: 0 },
    color: { type: "identity" },
    marks: [
      Plot.cell(cells, {
        x: "column",
        y: "design",
        fill: (d: { violations: number }) => (d.violations > 0 ? STALE_FILL : CLEAN_FILL),
        inset: 1,
      }),
      Plot.text(cells, {
        x: "column",
        y: "design",
        text: (d: { violations: number }) => formatCount(d.violations),
        fill: "#222",
      }),
    ],
  } as Plot.PlotOptions) as unknown as DomElement;
  const stale = strategies.filter((s) =>
    data.some((d) => d.strategy === s && (d.violations as number) > 0)
  );
  return composeFigure({
    name: "02-violations",
    title: "Oracle violations per design, host granule and alias density",
    subtitle: `Distinct stale shadow entries the oracle found over the whole trace ` +
      `(violations), at ${scale.vcpus} vCPUs (${scale.shadowMmus} shadow MMUs) and ` +
      `${formatBytes(scale.l1MemBytes)} of L1 memory.` + shown.pinSentence(),
    chart,
    legend: [
      { label: "stale entries (above 0)", color: STALE_FILL, kind: "dot", symbol: "square" },
      { label: "none", color: CLEAN_FILL, kind: "dot", symbol: "square" },
    ],
    notes: [
      "A violation is a shadow leaf that outlives what the host or L1 allows (lib/oracle/): " +
      "it still maps a page the host unmapped or moved. Any value above 0 is a bug.",
      stale.length === 0
        ? "No design left a stale entry in these rows."
        : `Left stale entries: ${stale.join(", ")}.`,
    ],
    stated: shown.text.collect(),
    drawn: [shown.drawn.drawn()],
  });
}

/** The scatter's points: one per (strategy, granule, L1 memory, alias) at the most vCPUs. */
export function tradeoffData(
  rows: readonly SweepRecord[],
  stat: Statistic = "max",
): Record<string, string | number>[] {
  const column = statColumn("unmap_iterations", stat);
  const at = tradeoffSection(rows).rows;
  const keys: SweepColumn[] = ["strategy", "granule", "l1_mem_bytes", "alias"];
  const it = maxBy(at, keys, column);
  const v = new Map(
    maxBy(at, keys, "violations").map((g) => [JSON.stringify(keys.map((k) => g[k])), g.violations]),
  );
  return it
    .map((g): Record<string, string | number> => {
      const violations = v.get(JSON.stringify(keys.map((k) => g[k]))) ?? 0;
      return {
        ...g,
        iterations: g[column],
        violations,
        pair: `${g[column]}/${violations}`,
      };
    })
    .filter((g) => (g.iterations as number) > 0);
}

/** Dot radius per alias density: the denser, the larger. */
function aliasRadius(aliases: readonly number[], a: number): number {
  return 2.5 + 1.8 * aliases.indexOf(a);
}

/**
 * The dot-size key of the trade-off scatter: one dot per alias density drawn, at the size
 * the panels draw it, each with its density (a chart of its own, stacked above the panels).
 */
function aliasKey(aliases: readonly number[], width: number): DomElement {
  const size = 13;
  const title = "alias density (dot size):";
  const radii = aliases.map((a) => aliasRadius(aliases, a));
  const height = Math.ceil(2 * Math.max(...radii)) + 6;
  let x = textWidth(title, size) + 14;
  const items = aliases.map((a, i) => {
    const cx = x + radii[i];
    const label = aliasLabel(a);
    x = cx + radii[i] + 5 + textWidth(label, size) + 18;
    return { cx, r: radii[i], label, tx: cx + radii[i] + 5 };
  });
  return Plot.plot({
    document: plotDocument(),
    width,
    height,
    margin: 0,
    axis: null,
    style: FONT_STYLE,
    x: { type: "identity" },
    y: { type: "identity" },
    r: { type: "identity" },
    marks: [
      Plot.text([title], { x: 0, y: height / 2, text: (t: string) => t, textAnchor: "start" }),
      Plot.dot(items, {
        x: "cx",
        y: height / 2,
        r: "r",
        stroke: "#333",
        strokeWidth: 1.4,
        fill: "none",
      }),
      Plot.text(items, { x: "tx", y: height / 2, text: "label", textAnchor: "start" }),
    ],
  } as Plot.PlotOptions) as unknown as DomElement;
}

/** Sizes of the trade-off scatter's vertical layout, in px of one panel. */
export interface TradeoffSizes {
  /** Height of each design's lane in the band, by design. */
  lane: (strategy: string) => number;
  /** Height of the area above the band (1 stale entry to the top tick × 1.6). */
  upper: number;
  /** Gap between the band's top and 0 on the symlog axis above it. */
  gap: number;
}

/**
 * The trade-off scatter's vertical layout, in px of one panel from the top of the band
 * (0) up. A point with stale entries sits above the band at log10(1 + violations) (y
 * symlog, up to 1.6 times the first power of ten at or above the most); a point without
 * sits in the band under it, in its design's lane: one lane per design with such a point,
 * in legend order top to bottom, so that the correct designs, which share one x decade,
 * are spread by design while x stays their cost.
 */
export interface TradeoffLayout {
  /** Designs with a lane in the band, top to bottom. */
  lanes: string[];
  /** Where a point sits: px above the band's top (negative: in the band). */
  y(strategy: string, violations: number): number;
  /** Labelled ticks: violation counts above the band, design names at their lanes. */
  ticks: { y: number; label: string; lane: boolean }[];
  /** Bottom and top of a panel. */
  domain: [number, number];
}

/**
 * The layout of {@linkcode TradeoffLayout} for `points`.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { tradeoffLayout } from "./correctness.ts";
 * const l = tradeoffLayout(
 *   [
 *     { strategy: "rmap", violations: 0 },
 *     { strategy: "maple-v2", violations: 0 },
 *     { strategy: "maple-v2", violations: 100 },
 *   ],
 *   { lane: () => 20, upper: 100, gap: 10 },
 * );
 * assertEquals(l.lanes, ["maple-v2", "rmap"]);
 * assertEquals([l.y("maple-v2", 0), l.y("rmap", 0)], [-10, -30]);
 * assertEquals(l.domain, [-40, 110]);
 * assert(l.y("maple-v2", 100) > l.y("maple-v2", 1) && l.y("maple-v2", 1) > 10);
 * ```
 */
export function tradeoffLayout(
  points: readonly { strategy: string; violations: number }[],
  sizes: TradeoffSizes,
): TradeoffLayout {
  const lanes = strategyOrder(
    points.filter((p) => p.violations === 0).map((p) => p.strategy),
  );
  const centre = new Map<string, number>();
  let bottom = 0;
  for (const s of lanes) {
    const h = sizes.lane(s);
    centre.set(s, bottom - h / 2);
    bottom -= h;
  }
  const maxV = Math.max(1, ...points.map((p) => p.violations));
  const counts = pow10Ticks(1, maxV);
  const top = Math.log10(1 + counts[counts.length - 1] * 1.6);
  const up = (v: number) => sizes.gap + sizes.upper * Math.log10(1 + v) / top;
  const y = (strategy: string, violations: number) => {
    if (violations > 0) return up(violations);
    const c = centre.get(strategy);
    if (c === undefined) throw new Error(`tradeoffLayout: no lane for ${strategy}`);
    return c;
  };
  return {
    lanes,
    y,
    ticks: [
      ...counts.map((v) => ({ y: up(v), label: axisFormat(counts)(v), lane: false })),
      ...lanes.map((s) => ({ y: centre.get(s)!, label: s, lane: true })),
    ],
    domain: [bottom, sizes.gap + sizes.upper],
  };
}

/** Fill of the band of points without stale entries (no design's colour). */
const BAND_FILL = "#f0f0f0";

/**
 * Cost against correctness: iterations of the unmap event (the statistic; x, log) against
 * violations, a panel per host granule (columns) and L1 memory (rows) at the most vCPUs, a
 * symbol and colour per strategy, the dot's size the alias density. Points with stale
 * entries sit above a band (y symlog), points without in the band, one lane per design
 * ({@linkcode tradeoffLayout}). A strategy whose dots are another's everywhere is not drawn
 * (named in the notes).
 */
export function tradeoffFigure(rows: readonly SweepRecord[], stat: Statistic = "max"): Figure {
  const shown = tradeoffSection(rows);
  const m = costModelOf(shown.rows);
  const lock = lockupIterations(m);
  const strict = secondsToIterations(SCHED_LATENCY_NS / 1e9, nsPerWalkIteration(m));
  const all = tradeoffData(rows, stat);
  const coincident = coincidentSeries(all, ["granule", "l1_mem_bytes", "alias"], "pair");
  const hidden = new Set(coincident.map((c) => c.strategy));
  const data = all.filter((d) => !hidden.has(d.strategy as string));
  const scale = largestScale(rows);
  shown.drawn.rows(shown.rows.filter((r) => num(r, statColumn("unmap_iterations", stat)) > 0));
  const strategies = strategyOrder(data.map((d) => d.strategy as string));
  const granules = granuleOrder(data.map((d) => d.granule as string));
  const mems = [...new Set(data.map((d) => d.l1_mem_bytes as number))].sort((a, b) => a - b);
  const aliases = [...new Set(data.map((d) => d.alias as number))].sort((a, b) => a - b);
  const radius = (a: number) => aliasRadius(aliases, a);
  const maxR = radius(aliases[aliases.length - 1]);
  const layout = tradeoffLayout(
    data.map((d) => ({ strategy: d.strategy as string, violations: d.violations as number })),
    {
      lane: (s) => 2 * symbolReach(strategyStyle(s).symbol, maxR) + 4,
      // Above the band: room for the decades of violations, or for the tick "1" alone.
      upper: data.some((d) => (d.violations as number) > 0) ? 115 : 30,
      gap: Math.max(...strategies.map((s) => symbolReach(strategyStyle(s).symbol, maxR))) + 4,
    },
  );
  const placed = data.map((d): Record<string, string | number> => ({
    ...d,
    y: layout.y(d.strategy as string, d.violations as number),
  }));
  const xsAll = data.map((d) => d.iterations as number);
  const xLo = Math.min(...xsAll, strict) / 3;
  const xHi = Math.max(...xsAll, lock) * 3;
  const marks: Plot.Markish[] = [];
  if (layout.lanes.length > 0) {
    marks.push(
      Plot.rect([0], { x1: xLo, x2: xHi, y1: layout.domain[0], y2: 0, fill: BAND_FILL }),
    );
  }
  const xTicks = pow10Ticks(xLo, xHi).filter((t) => t >= xLo && t <= xHi);
  marks.push(
    Plot.gridX(xTicks, { stroke: "#ddd", strokeOpacity: 1 }),
    Plot.gridY(layout.ticks.filter((t) => !t.lane).map((t) => t.y), {
      stroke: "#ddd",
      strokeOpacity: 1,
    }),
    Plot.gridY(layout.ticks.filter((t) => t.lane).map((t) => t.y), {
      stroke: "#fff",
      strokeOpacity: 1,
      strokeWidth: 1.5,
    }),
    Plot.frame({ stroke: "#ccc" }),
    Plot.ruleX([lock], { stroke: LOCKUP_COLOR, strokeWidth: 1.8, strokeDasharray: "7,4" }),
    Plot.ruleX([strict], { stroke: STRICT_COLOR, strokeWidth: 1.6, strokeDasharray: "2,3" }),
  );
  for (const s of strategies) {
    const st = strategyStyle(s);
    const stroked = ["cross", "times", "wye"].includes(st.symbol);
    marks.push(
      // Denser aliases first: where one design's dots nest (one cost at every density),
      // the smaller ones are drawn on top of the larger.
      Plot.dot(
        placed.filter((d) => d.strategy === s).sort((a, b) =>
          (b.alias as number) - (a.alias as number)
        ),
        {
          x: "iterations",
          y: "y",
          fx: "granule",
          fy: "l1_mem_bytes",
          symbol: () => st.symbol,
          r: (d: Record<string, number>) => radius(d.alias),
          fill: st.hollow || stroked ? "none" : st.color,
          fillOpacity: 0.2,
          stroke: st.color,
          strokeWidth: 1.6,
        },
      ),
    );
  }
  const tickLabel = new Map(layout.ticks.map((t) => [t.y, t.label]));
  // The widest tick label, the tick and its gap (9 px) and the y label's line (26 px).
  const marginLeft = Math.ceil(
    Math.max(...layout.ticks.map((t) => textWidth(t.label, 13))) + 9 + 26,
  );
  const panel = layout.domain[1] - layout.domain[0];
  // fy's band: a step of (height - margins) / (rows - padding), a panel of step × (1 - padding).
  const padding = 0.07;
  const marginTop = 30;
  const marginBottom = 48;
  const height = Math.ceil(
    marginTop + marginBottom + panel * (mems.length - padding) / (1 - padding),
  );
  // The y label runs along the panels: the longest wording that fits their height.
  const yLabel = [
    ...(layout.lanes.length > 0
      ? ["stale shadow entries (violations, symlog) · shaded: none, a lane per design"]
      : []),
    "stale shadow entries (violations, symlog)",
    "violations",
  ].find((l, i, all) =>
    textWidth(l, 13) <= height - marginTop - marginBottom || i === all.length - 1
  );
  const chart = Plot.plot({
    document: plotDocument(),
    width: 1040,
    height,
    marginLeft,
    marginRight: 84,
    marginTop,
    marginBottom,
    style: FONT_STYLE,
    fx: {
      domain: granules,
      label: null,
      tickFormat: (g: string) => granuleLabel(rows, g),
      padding: 0.08,
    },
    fy: {
      domain: mems,
      label: null,
      tickFormat: (b: number) => `L1 ${formatBytes(b)}`,
      paddingInner: padding,
      paddingOuter: 0,
    },
    x: {
      type: "log",
      domain: [xLo, xHi],
      ticks: xTicks,
      tickFormat: axisFormat(xTicks),
      label: `iterations, ${statWord(stat)} unmap event (log) →`,
      labelAnchor: "center",
      labelOffset: 40,
    },
    y: {
      type: "linear",
      domain: layout.domain,
      ticks: layout.ticks.map((t) => t.y),
      tickFormat: (v: number) => tickLabel.get(v) ?? "",
      label: yLabel,
      labelAnchor: "center",
      labelArrow: "none",
    },
    symbol: { type: "identity" },
    r: { type: "identity" },
    marks,
  } as Plot.PlotOptions) as unknown as DomElement;
  const legend: LegendItem[] = strategyLegend(strategies, "dot");
  legend.push(
    { label: `soft lockup (${m.softLockupNs / 1e9} s)`, color: LOCKUP_COLOR, kind: "rule" },
    {
      label: `scheduling latency (${formatSeconds(SCHED_LATENCY_NS / 1e9)})`,
      color: STRICT_COLOR,
      kind: "rule",
      dash: "2,3",
    },
  );
  return composeFigure({
    name: "02-tradeoff",
    title: "Cost against correctness",
    subtitle: `One dot per strategy, host granule (columns), L1 memory (rows) and alias ` +
      `density (dot size, the key above the panels) at ${scale.vcpus} vCPUs ` +
      `(${scale.shadowMmus} shadow MMUs). Right of the soft-lockup line one unmap event ` +
      `trips the watchdog, right of the scheduling-latency line it holds a CPU past CFS's ` +
      `scheduling latency. ` +
      (layout.lanes.length > 0
        ? "Points without stale shadow entries sit in the shaded band, one lane per design; " +
          "above it the strategy left stale entries. "
        : "Every point left stale shadow entries. ") +
      `Correct and cheap is bottom left.` + shown.pinSentence(),
    chart: [aliasKey(aliases, Number(chart.getAttribute("width"))), chart],
    legend,
    notes: [
      ...coincident.map((c) =>
        `Not drawn: ${c.strategy} sits exactly on ${c.same} at all ${c.points} points.`
      ),
      `x: ${statColumn("unmap_iterations", stat)}; y: violations (distinct stale entries over ` +
      "the trace), symlog above the band. " + softLockupSource(m.softLockupNs) + "; " +
      SCHED_LATENCY_SOURCE + ".",
      ...paBitsNotes(shown.rows),
    ],
    stated: shown.text.collect(),
    drawn: [shown.drawn.drawn()],
  });
}

/**
 * The takeaway under the violations and trade-off figures: which strategies left stale
 * entries (how many at most, from which alias density on), which stayed correct, and the
 * cheapest correct design against the upstream walk.
 */
export function correctnessTakeaway(
  rows: readonly SweepRecord[],
  path: string,
  base: Where,
  stat: Statistic = "max",
): Takeaway {
  const column = statColumn("unmap_iterations", stat);
  const scale = largestScale(rows);
  const shown = violationSection(rows);
  const fb = largestScaleBook(rows, path, base, shown);
  const strategies = strategyOrder(shown.rows.map((r) => r.strategy));
  const aliases = distinct(shown.rows, "alias") as number[];
  const out: string[] = [];
  const correct: string[] = [];
  for (const s of strategies) {
    const v = fb.fact(`${s}.stale`, { strategy: s }, "violations", "max");
    if (v.value === 0) {
      correct.push(s);
      continue;
    }
    const firstAlias = aliases.find((a) =>
      shown.rows.some((r) => r.strategy === s && num(r, "alias") === a && num(r, "violations") > 0)
    );
    const zero = fb.fact(
      `${s}.stale.alias0`,
      { strategy: s, alias: aliases[0] },
      "violations",
      "max",
    );
    out.push(
      `**${s}** leaves up to ${v.shown} stale shadow entries in one trace at ${scale.vcpus} ` +
        `vCPUs / ${formatBytes(scale.l1MemBytes)}` +
        (firstAlias !== undefined ? `, from alias density ${firstAlias} on` : "") +
        ` (${zero.shown} at alias ${aliases[0]}).`,
    );
  }
  if (correct.length > 0) {
    out.push(`No stale entry (0) at any point of these rows: ${correct.join(", ")}.`);
  }
  // The cheapest correct design against the upstream walk, at the largest scale.
  const big = { l1_mem_bytes: scale.l1MemBytes };
  const cheapest = correct.filter((s) => s !== UPSTREAM)
    .map((s) => ({ s, v: fb.peek({ ...big, strategy: s }, column, "max") }))
    .filter((x) => Number.isFinite(x.v))
    .sort((a, b) => a.v - b.v)[0];
  const cheap = cheapest && {
    s: cheapest.s,
    f: fb.fact(`${cheapest.s}.worst`, { ...big, strategy: cheapest.s }, column, "max"),
  };
  if (cheap && correct.includes(UPSTREAM)) {
    const f = fb.fact(`${UPSTREAM}.worst`, { ...big, strategy: UPSTREAM }, column, "max");
    const r = fb.ratio(`${UPSTREAM}/${cheap.s}`, f, cheap.f);
    out.push(
      `The cheapest correct design at ${scale.vcpus} vCPUs / ${formatBytes(scale.l1MemBytes)} ` +
        `(the ${statWord(stat)} unmap, any granule and alias) is ${cheap.s}: ${cheap.f.shown} ` +
        `iterations against ${UPSTREAM}'s ${f.shown}, ${r.shown} times fewer.`,
    );
  }
  return fb.takeaway(out.map((l) => `- ${l}`).join("\n"));
}

/**
 * The takeaway under the trade-off figure: per strategy, how many of its points at the most
 * vCPUs trip the soft-lockup watchdog (soft_lockup = 1, from the worst event) and at which
 * L1 memory sizes, and how many leave stale entries.
 */
export function tradeoffTakeaway(
  rows: readonly SweepRecord[],
  path: string,
  base: Where,
): Takeaway {
  const scale = largestScale(rows);
  const shown = tradeoffSection(rows);
  const fb = new FactBook(path, rows, { ...base, ...shown.where, vcpus: scale.vcpus });
  const out: string[] = [];
  for (const s of strategyOrder(shown.rows.map((r) => r.strategy))) {
    const all = fb.fact(`${s}.points`, { strategy: s }, "strategy", "count");
    const lock = fb.fact(`${s}.lockups`, { strategy: s, soft_lockup: 1 }, "strategy", "count");
    const stale = fb.fact(`${s}.stale_points`, { strategy: s, violations: 0 }, "strategy", "count");
    const mems = [
      ...new Set(
        shown.rows.filter((r) => r.strategy === s && num(r, "soft_lockup") === 1).map((r) =>
          num(r, "l1_mem_bytes")
        ),
      ),
    ].sort((a, b) => a - b).map((b) => formatBytes(b));
    out.push(
      `**${s}**: ${lock.shown} of ${all.shown} points past the soft lockup` +
        (mems.length > 0 ? ` (at L1 ${mems.join(", ")})` : "") +
        `; ${stale.shown} of ${all.shown} without stale entries.`,
    );
  }
  return fb.takeaway(
    `At ${scale.vcpus} vCPUs, every granule, L1 memory and alias density kept:\n\n` +
      out.map((l) => `- ${l}`).join("\n"),
  );
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
  const at = violationSection(rows).rows;
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
