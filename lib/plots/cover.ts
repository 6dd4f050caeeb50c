/**
 * The cover-letter figure, first in notebook 01: per host granule, the estimated time of
 * the worst host unmap event against vCPUs for the upstream walk (role `upstream`), the
 * public series (role `series`) and our best design (role `ours`: the one whose worst
 * unmap at the most vCPUs is the shortest, among those not known to be broken), with the
 * rejected patch (known broken) greyed for context; the soft-lockup line and CFS's
 * scheduling latency in colours no series uses; and below, the ratio upstream / design, so
 * that what is ours stands apart. Marks that sit on another design's are spread along x
 * (./dodge.ts), said in a footnote when any moved. Which design plays which part comes from
 * the design records (./roles.ts), never from names here.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { coverFigure } from "./cover.ts";
 * const row = (strategy: string, vcpus: number, ns: number) => ({
 *   grid_id: "g", point: vcpus, strategy, vcpus, granule: "4K", pa_bits: 48,
 *   unmap_est_ns_max: ns, soft_lockup_threshold_ns: 2e10, ns_per_iteration: 20,
 *   ns_per_descriptor: 2, unmap_iterations_max: ns / 20, unmap_descriptors_max: ns / 20,
 * });
 * const rows = [1, 8].flatMap((v) => [row("full-walk", v, v * 1e9), row("rmap", v, v * 1e4)]);
 * // deno-lint-ignore no-explicit-any
 * assert(coverFigure(rows as any).svg.includes("soft lockup"));
 * ```
 * @module
 */

import * as Plot from "@observablehq/plot";
import { costModelOf } from "./cost.ts";
import { DODGE_NOTE, dodgeRecords } from "./dodge.ts";
import { SCHED_LATENCY_NS } from "./latency.ts";
import { LOCKUP_DASH, secondsAxis, STRICT_DASH, timeThresholds } from "./seconds.ts";
import { num, type SweepRecord } from "./results.ts";
import { cheapest, designsOf, knownBroken } from "./roles.ts";
import { type Section, section } from "./section.ts";
import { FactBook, type Takeaway, type Where } from "./takeaway.ts";
import {
  axisFormat,
  formatSeconds,
  granuleOrder,
  GREYED_COLOR,
  LOCKUP_COLOR,
  pow10Ticks,
  strategyStyle,
  STRICT_COLOR,
} from "./style.ts";
import {
  composeFigure,
  type DomElement,
  type Figure,
  type LegendItem,
  plotDocument,
} from "./svg.ts";

const FONT_STYLE = { fontSize: "14px", fontFamily: "DejaVu Sans, Verdana, Arial, sans-serif" };
const EST = "unmap_est_ns_max";

/** Who the cover figure draws, from the design records. */
export interface CoverCast {
  /** The upstream walk. */
  upstream?: string;
  /** The public series. */
  series: string[];
  /** Our best design. */
  ours?: string;
  /** The rejected patches (known broken), greyed. */
  rejected: string[];
}

/** The designs the cover figure draws among the rows' (see {@linkcode CoverCast}). */
export function coverCast(rows: readonly SweepRecord[]): CoverCast {
  const names = new Set(rows.map((r) => r.strategy));
  const vmax = Math.max(...rows.map((r) => num(r, "vcpus")));
  const worst = (s: string) =>
    Math.max(
      ...rows.filter((r) => r.strategy === s && num(r, "vcpus") === vmax).map((r) => num(r, EST)),
    );
  return {
    upstream: designsOf(names, "upstream")[0],
    series: designsOf(names, "series").filter((s) => !knownBroken(s)),
    ours: cheapest(names, worst, "ours"),
    rejected: [...names].filter(knownBroken),
  };
}

/** The rows the cover figure draws: vCPUs on x, a panel per granule, the rest pinned (most L1 memory, largest alias density). */
export function coverSection(rows: readonly SweepRecord[]): Section<SweepRecord> {
  return section(rows, {
    x: "vcpus",
    facets: ["granule"],
    prefer: { l1_mem_bytes: "max", alias: "max" },
  });
}

/** The layout of a chart of the cover: a panel per granule, log x (vCPUs) and log y. */
function layout(
  granules: string[],
  x: [number, number],
  y: [number, number],
  height: number,
): Plot.PlotOptions {
  return {
    document: plotDocument(),
    width: 1100,
    height,
    marginLeft: 114,
    marginRight: 20,
    marginTop: 34,
    marginBottom: 50,
    style: FONT_STYLE,
    fx: { domain: granules, label: null, tickFormat: (g: string) => `${g} pages`, padding: 0.1 },
    x: { type: "log", domain: x },
    y: { type: "log", domain: y },
    symbol: { type: "identity" },
  } as Plot.PlotOptions;
}

/** One mark of the cover: its design, panel (granule), vCPUs and value `v`. */
interface CoverPoint extends Record<string, unknown> {
  strategy: string;
  granule: string;
  vcpus: number;
  v: number;
}

/**
 * A chart of the cover: `marks` (axes, rules), then each line of `lines` in its style, its
 * marks spread where they sit on another design's (./dodge.ts); whether any moved.
 */
function chart(
  marks: Plot.Markish[],
  lines: { points: CoverPoint[]; color: string; dash: string; symbol: string; width: number }[],
  options: Plot.PlotOptions,
  xTicks: readonly number[],
): { chart: DomElement; moved: boolean } {
  const all = lines.flatMap((l) => l.points);
  const dodged = dodgeRecords(
    all,
    { x: "vcpus", y: "v", fx: "granule" },
    options,
    xTicks,
  );
  let at = 0;
  for (const l of lines) {
    const d = dodged.data.slice(at, at += l.points.length);
    marks.push(...series(d, l.color, l.dash, l.symbol, l.width));
  }
  return {
    chart: Plot.plot({ ...options, marks }) as unknown as DomElement,
    moved: dodged.moved,
  };
}

function xAxis(xs: number[]): Plot.Markish {
  return Plot.axisX(xs, {
    text: axisFormat(xs),
    label: "L1 vCPUs (2 shadow MMUs each) →",
    labelAnchor: "center",
    labelOffset: 40,
    labelArrow: "none",
  });
}

function series(
  d: Record<string, unknown>[],
  color: string,
  dash: string,
  symbol: string,
  width: number,
): Plot.Markish[] {
  return [
    Plot.line(d, {
      x: "xd",
      y: "v",
      fx: "granule",
      stroke: color,
      strokeWidth: width,
      strokeDasharray: dash || undefined,
    }),
    Plot.dot(d, {
      x: "xd",
      y: "v",
      fx: "granule",
      symbol: () => symbol,
      r: 5,
      fill: color,
      stroke: color,
    }),
  ];
}

/** The cover-letter figure (see the module doc). */
export function coverFigure(rows: readonly SweepRecord[]): Figure {
  const shown = coverSection(rows);
  const cast = coverCast(shown.rows);
  const m = costModelOf(shown.rows);
  const drawnNames = [
    ...cast.rejected,
    ...(cast.upstream ? [cast.upstream] : []),
    ...cast.series,
    ...(cast.ours ? [cast.ours] : []),
  ];
  const granules = granuleOrder(shown.rows.map((r) => r.granule));
  const data = shown.rows.filter((r) => drawnNames.includes(r.strategy) && num(r, EST) > 0);
  const xs = [...new Set(data.map((r) => num(r, "vcpus")))].sort((a, b) => a - b);
  const xDomain: [number, number] = [xs[0] / 1.4, xs[xs.length - 1] * 1.4];
  const point = (r: SweepRecord): CoverPoint => ({
    strategy: r.strategy,
    granule: String(r.granule),
    vcpus: num(r, "vcpus"),
    v: num(r, EST) / 1e9,
  });
  const ys = [...data.map((r) => num(r, EST) / 1e9), m.softLockupNs / 1e9, SCHED_LATENCY_NS / 1e9];
  const lo = Math.min(...ys) / 3, hi = Math.max(...ys) * 3;
  const yt = pow10Ticks(lo, hi).filter((t) => t >= lo && t <= hi);
  const top: Plot.Markish[] = [
    ...secondsAxis(yt, "estimated time of the worst host unmap", 98),
    ...timeThresholds(m.softLockupNs / 1e9, SCHED_LATENCY_NS / 1e9),
    xAxis(xs),
  ];
  const book = shown.drawn;
  const topLines: Parameters<typeof chart>[1] = [];
  for (const name of drawnNames) {
    const st = strategyStyle(name);
    const greyed = cast.rejected.includes(name);
    for (const g of granules) {
      const line = data.filter((r) => r.strategy === name && r.granule === g)
        .sort((a, b) => num(a, "vcpus") - num(b, "vcpus"));
      book.line("vcpus", line.map((r) => [r]));
      topLines.push({
        points: line.map(point),
        color: greyed ? GREYED_COLOR : st.color,
        dash: st.dash,
        symbol: st.symbol,
        width: name === cast.ours ? 3.2 : 2,
      });
    }
  }
  // The ratio panel: upstream / design at each point, for the series and ours.
  const ratioNames = cast.upstream ? [...cast.series, ...(cast.ours ? [cast.ours] : [])] : [];
  const bottom: Plot.Markish[] = [Plot.frame({ stroke: "#ccc" }), xAxis(xs)];
  const ratios: number[] = [];
  const ratioLines: { name: string; pts: CoverPoint[] }[] = [];
  for (const name of ratioNames) {
    for (const g of granules) {
      const pairs = xs.flatMap((v) => {
        const up = data.find((r) =>
          r.strategy === cast.upstream && r.granule === g && num(r, "vcpus") === v
        );
        const de = data.find((r) =>
          r.strategy === name && r.granule === g && num(r, "vcpus") === v
        );
        return up && de ? [{ up, de, v }] : [];
      });
      book.line("vcpus", pairs.map((p) => [p.up, p.de]));
      const pts = pairs.map((p) => ({
        strategy: name,
        granule: g,
        vcpus: p.v,
        v: num(p.up, EST) / num(p.de, EST),
      }));
      ratios.push(...pts.map((p) => p.v));
      ratioLines.push({ name, pts });
    }
  }
  const rlo = Math.min(1, ...ratios) / 2, rhi = Math.max(1, ...ratios) * 3;
  const rt = pow10Ticks(rlo, rhi).filter((t) => t >= rlo && t <= rhi);
  bottom.push(
    Plot.gridY(rt, { stroke: "#eee", strokeOpacity: 1 }),
    Plot.axisY(rt, {
      text: axisFormat(rt, "×"),
      label: `${cast.upstream ?? "upstream"}'s time ÷ the design's`,
      labelAnchor: "center",
      labelArrow: "none",
      labelOffset: 98,
    }),
    Plot.ruleY([1], { stroke: "#777", strokeWidth: 1 }),
  );
  const bottomLines = ratioLines.map((l) => {
    const st = strategyStyle(l.name);
    const width = l.name === cast.ours ? 3.2 : 2;
    return { points: l.pts, color: st.color, dash: st.dash, symbol: st.symbol, width };
  });
  const legend: LegendItem[] = drawnNames.map((n) => {
    const st = strategyStyle(n);
    const greyed = cast.rejected.includes(n);
    return {
      label: greyed ? `${st.label}, for context` : st.label,
      color: greyed ? GREYED_COLOR : st.color,
      kind: "line",
      dash: st.dash,
      symbol: st.symbol,
    };
  });
  legend.push(
    {
      label: `soft lockup ${formatSeconds(m.softLockupNs / 1e9)}`,
      color: LOCKUP_COLOR,
      kind: "rule",
      dash: LOCKUP_DASH,
    },
    {
      label: `scheduling latency ${formatSeconds(SCHED_LATENCY_NS / 1e9)}`,
      color: STRICT_COLOR,
      kind: "rule",
      dash: STRICT_DASH,
    },
  );
  const pins = shown.pinsText();
  const charts = [chart(top, topLines, layout(granules, xDomain, [lo, hi], 380), xs)];
  if (ratioLines.length > 0) {
    charts.push(chart(bottom, bottomLines, layout(granules, xDomain, [rlo, rhi], 300), xs));
  }
  return composeFigure({
    name: "01-cover",
    title: "How long one host unmap holds a CPU, as L1 grows in vCPUs",
    subtitle: `The worst host unmap event of each grid point (${EST}), estimated by the cost ` +
      `model; per host granule.${pins === "" ? "" : ` Drawn at ${pins}.`} Below: ` +
      `${cast.upstream ?? "upstream"}'s time divided by each design's at the same point.`,
    chart: charts.map((c) => c.chart),
    legend,
    notes: [
      `Estimated time: ${m.nsPerIteration} ns per iteration, ${m.nsPerDescriptor} ns per ` +
      `descriptor (lib/sweep/costmodel.ts). Soft lockup: 2 × watchdog_thresh = ` +
      `${formatSeconds(m.softLockupNs / 1e9)} (kernel/watchdog.c).`,
      ...(cast.rejected.length > 0
        ? [
          `Greyed: ${cast.rejected.join(", ")}, known to leave stale shadow entries (notebook 02).`,
        ]
        : []),
      ...(charts.some((c) => c.moved) ? [DODGE_NOTE] : []),
    ],
    stated: shown.text.collect(),
    drawn: [book.drawn()],
  });
}

/**
 * The takeaway under the cover figure, from the rows it draws: per granule at the most
 * vCPUs, the upstream walk's, the series' and our design's worst unmap time, how many times
 * shorter ours is, and which of them pass the soft-lockup line.
 */
export function coverTakeaway(
  rows: readonly SweepRecord[],
  path: string,
  base: Where,
): Takeaway {
  const shown = coverSection(rows);
  const cast = coverCast(shown.rows);
  const m = costModelOf(shown.rows);
  const fb = new FactBook(path, rows, { ...base, ...shown.where });
  const vmax = Math.max(...shown.rows.map((r) => num(r, "vcpus")));
  const sec = (ns: number) => formatSeconds(ns / 1e9);
  const out: string[] = [];
  const named = [
    ...(cast.upstream ? [cast.upstream] : []),
    ...cast.series,
    ...(cast.ours ? [cast.ours] : []),
  ];
  for (const g of granuleOrder(shown.rows.map((r) => r.granule))) {
    const w = { granule: g, vcpus: vmax };
    const facts = named.filter((s) => Number.isFinite(fb.peek({ ...w, strategy: s }, EST, "max")))
      .map((s) => ({ s, f: fb.fact(`cover.${s}.${g}`, { ...w, strategy: s }, EST, "max", sec) }));
    if (facts.length === 0) continue;
    let line = `**${g} pages, ${vmax} vCPUs**: ` +
      facts.map((x) => `${x.s} ${x.f.shown}`).join(", ");
    const up = facts.find((x) => x.s === cast.upstream);
    const ours = facts.find((x) => x.s === cast.ours);
    if (up && ours && ours.f.value > 0) {
      const r = fb.ratio(`cover.${cast.upstream}/${cast.ours}.${g}`, up.f, ours.f);
      line += `; ${cast.ours} is ${r.shown} times shorter than ${cast.upstream}`;
    }
    const past = facts.filter((x) => x.f.value > m.softLockupNs).map((x) => x.s);
    line += past.length > 0
      ? `; past the ${sec(m.softLockupNs)} soft-lockup line: ${past.join(", ")}.`
      : `; none past the ${sec(m.softLockupNs)} soft-lockup line.`;
    out.push(line);
  }
  return fb.takeaway(out.map((l) => `- ${l}`).join("\n"));
}
