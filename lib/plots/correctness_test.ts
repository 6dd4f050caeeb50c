/**
 * The trade-off scatter (02-tradeoff) reads dot by dot on every sweep the notebooks run on
 * (the committed results, CI's alternative grid and the grid with a second value in every
 * dimension): no dot of one design drawn over a dot of another in the same panel, and every
 * point without stale entries in its own design's lane of the band, in legend order.
 */

import { assert, assertEquals } from "@std/assert";
import { tradeoffData, tradeoffFigure, tradeoffLayout } from "./correctness.ts";
import { pathExtent } from "./symbol.ts";
import { coincidentSeries } from "./cost.ts";
import { loadSweep, type SweepRecord } from "./results.ts";
import { strategyOrder, strategyStyle } from "./style.ts";
import { type DomElement, parseSvg } from "./svg.ts";
import { manyDimensionCsv } from "../../test/notebook_grid.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

/** How far (px) two dots of different designs may overlap: their strokes touching. */
const OVERLAP_PX = 1;

/** The sweeps the notebooks are checked on, by name. */
async function sweeps(): Promise<[string, SweepRecord[]][]> {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-tradeoff-" });
  try {
    const many = `${dir}/many-dimensions.csv`;
    await Deno.writeTextFile(many, manyDimensionCsv().text);
    return [
      ["results/sweep.csv", await loadSweep(`${ROOT}results/sweep.csv`)],
      ["notebook-ci.csv", await loadSweep(`${ROOT}test/fixtures/notebooks/notebook-ci.csv`)],
      ["many-dimensions.csv", await loadSweep(many)],
    ];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A dot as drawn: its panel (the facet's offset), design colour, centre and box. */
interface Dot {
  panel: string;
  color: string;
  x: number;
  y: number;
  box: [number, number, number, number];
}

const translate = (e: DomElement): [number, number] => {
  const m = /translate\(([-\d.e]+)[ ,]+([-\d.e]+)\)/.exec(e.getAttribute("transform") ?? "");
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
};

/** Every dot of the chart's dot marks, in the panel's pixels. */
function dotsOf(svg: DomElement): Dot[] {
  const out: Dot[] = [];
  for (const mark of svg.querySelectorAll('g[aria-label="dot"]')) {
    for (const facet of mark.querySelectorAll("g")) {
      const panel = translate(facet).join(",");
      const color = facet.getAttribute("stroke") ?? "";
      for (const p of facet.querySelectorAll("path")) {
        const [x, y] = translate(p);
        const [x0, y0, x1, y1] = pathExtent(p.getAttribute("d") ?? "");
        out.push({ panel, color, x, y, box: [x + x0, y + y0, x + x1, y + y1] });
      }
      for (const c of facet.querySelectorAll("circle")) {
        const [x, y, r] = ["cx", "cy", "r"].map((a) => Number(c.getAttribute(a)));
        out.push({ panel, color, x, y, box: [x - r, y - r, x + r, y + r] });
      }
    }
  }
  return out;
}

/** Per panel, the top of the band (the rect mark's top edge). */
function bandTops(svg: DomElement): Map<string, number> {
  const out = new Map<string, number>();
  for (const mark of svg.querySelectorAll('g[aria-label="rect"]')) {
    for (const facet of mark.querySelectorAll("g")) {
      for (const r of facet.querySelectorAll("rect")) {
        out.set(translate(facet).join(","), Number(r.getAttribute("y")));
      }
    }
  }
  return out;
}

/** How deep two boxes overlap (px; 0 or less: apart). */
const depth = (a: Dot["box"], b: Dot["box"]) =>
  Math.min(a[2] - b[0], b[2] - a[0], a[3] - b[1], b[3] - a[1]);

/** Pairs of dots of different designs in one panel that overlap more than OVERLAP_PX. */
function crossDesignOverlaps(dots: readonly Dot[]): [Dot, Dot][] {
  const out: [Dot, Dot][] = [];
  dots.forEach((a, i) => {
    for (const b of dots.slice(i + 1)) {
      if (a.panel === b.panel && a.color !== b.color && depth(a.box, b.box) > OVERLAP_PX) {
        out.push([a, b]);
      }
    }
  });
  return out;
}

Deno.test("trade-off: no dot of one design overlaps another design's in its panel", async () => {
  for (const [name, rows] of await sweeps()) {
    const dots = dotsOf(parseSvg(tradeoffFigure(rows).svg));
    assert(dots.length > 0, name);
    const bad = crossDesignOverlaps(dots).map(([a, b]) =>
      `${a.color}@${a.x.toFixed(0)},${a.y.toFixed(0)} over ${b.color}@${b.x.toFixed(0)},${
        b.y.toFixed(0)
      }`
    );
    assertEquals(bad.length, 0, `${name}: ${bad.slice(0, 5).join("; ")}`);
  }
});

Deno.test("trade-off: the overlap measure finds two designs' dots drawn at one point", () => {
  const box = (x: number, r: number): Dot["box"] => [x - r, -r, x + r, r];
  const dot = (color: string, x: number, r: number): Dot => ({
    panel: "p",
    color,
    x,
    y: 0,
    box: box(x, r),
  });
  assertEquals(crossDesignOverlaps([dot("a", 0, 5), dot("b", 3, 5)]).length, 1);
  assertEquals(crossDesignOverlaps([dot("a", 0, 5), dot("a", 3, 5)]).length, 0, "one design");
  assertEquals(crossDesignOverlaps([dot("a", 0, 5), dot("b", 10.5, 5)]).length, 0, "touching");
});

Deno.test("trade-off: a point without stale entries sits in the band, in its design's lane", async () => {
  for (const [name, rows] of await sweeps()) {
    const fig = tradeoffFigure(rows);
    const svg = parseSvg(fig.svg);
    const tops = bandTops(svg);
    const data = tradeoffData(rows);
    const hidden = new Set(
      coincidentSeries(data, ["granule", "l1_mem_bytes", "alias"], "pair").map((c) => c.strategy),
    );
    const drawn = data.filter((d) => !hidden.has(d.strategy as string));
    const designOf = new Map(
      strategyOrder(drawn.map((d) => d.strategy as string)).map((s) => [strategyStyle(s).color, s]),
    );
    const dots = dotsOf(svg);
    assertEquals(dots.length, drawn.length, name);
    // Per panel: the dots in the band, by design; each design on one line (its lane).
    const lanes = new Map<string, Map<string, Set<number>>>();
    for (const d of dots) {
      const top = tops.get(d.panel);
      assert(top !== undefined, `${name}: panel ${d.panel} has no band`);
      if (d.y <= top) continue;
      const byDesign = lanes.get(d.panel) ?? new Map<string, Set<number>>();
      const s = designOf.get(d.color)!;
      byDesign.set(s, (byDesign.get(s) ?? new Set()).add(Math.round(d.y * 100) / 100));
      lanes.set(d.panel, byDesign);
    }
    const inBand = [...lanes.values()].reduce(
      (n, m) => n + [...m.keys()].length,
      0,
    );
    assert(inBand > 0, `${name}: no point in the band`);
    const laneY = new Map<string, number>();
    for (const byDesign of lanes.values()) {
      for (const [s, ys] of byDesign) {
        assertEquals(ys.size, 1, `${name}: ${s} on more than one line of the band`);
        const y = [...ys][0];
        assertEquals(laneY.get(s) ?? y, y, `${name}: ${s}'s lane moves between panels`);
        laneY.set(s, y);
      }
    }
    // Lanes top to bottom in legend order: exactly the designs with a point at 0.
    const order = [...laneY].sort((a, b) => a[1] - b[1]).map(([s]) => s);
    const zero = strategyOrder(
      drawn.filter((d) => d.violations === 0).map((d) => d.strategy as string),
    );
    assertEquals(order, zero, name);
    // The count of dots in the band is the count of points without stale entries, and
    // every dot above it has some.
    const below = dots.filter((d) => d.y > tops.get(d.panel)!).length;
    assertEquals(below, drawn.filter((d) => d.violations === 0).length, name);
  }
});

Deno.test("tradeoffLayout: lanes in legend order, one per design with a point at 0, none without", () => {
  const sizes = { lane: (s: string) => (s === "rmap" ? 10 : 30), upper: 100, gap: 5 };
  const l = tradeoffLayout(
    [
      { strategy: "rmap-compact", violations: 0 },
      { strategy: "rmap", violations: 0 },
      { strategy: "maple-v2", violations: 7 },
      { strategy: "full-walk", violations: 0 },
    ],
    sizes,
  );
  assertEquals(l.lanes, ["full-walk", "rmap", "rmap-compact"]);
  // Lanes stack down from the band's top, each as tall as its design's size.
  assertEquals(l.lanes.map((s) => l.y(s, 0)), [-15, -35, -55]);
  assertEquals(l.domain, [-70, 105]);
  // Above the band: log10(1 + violations), 1 entry above the gap, the most below the top.
  assert(l.y("maple-v2", 1) > sizes.gap && l.y("maple-v2", 7) < 105);
  assertEquals(l.ticks.filter((t) => t.lane).map((t) => t.label), l.lanes);
  assertEquals(l.ticks.filter((t) => !t.lane).map((t) => t.label), ["1", "10"]);
  // A design with stale entries everywhere has no lane: a 0 for it is a caller's bug.
  let thrown = false;
  try {
    l.y("maple-v2", 0);
  } catch {
    thrown = true;
  }
  assert(thrown);
});

Deno.test("trade-off: the dot-size key shows each alias density drawn, at the panels' size", async () => {
  for (const [name, rows] of await sweeps()) {
    const svg = parseSvg(tradeoffFigure(rows).svg);
    const [key, chart] = [...svg.querySelectorAll("svg")];
    const aliases = [...new Set(tradeoffData(rows).map((d) => d.alias as number))]
      .sort((a, b) => a - b);
    const keyText = [...key.querySelectorAll('g[aria-label="text"] text')].map((t) =>
      (t as unknown as { textContent: string }).textContent
    );
    assertEquals(keyText.slice(1), aliases.map(String), name);
    const keyR = [...key.querySelectorAll('g[aria-label="dot"] circle')]
      .map((c) => Number(c.getAttribute("r"))).sort((a, b) => a - b);
    assertEquals(keyR.length, aliases.length, name);
    // The panels' circles (rmap's symbol) come in the key's sizes, smallest to largest.
    const circle = strategyStyle("rmap").color;
    const sizes = new Set(
      dotsOf(chart).filter((d) => d.color === circle).map((d) =>
        Math.round((d.box[2] - d.box[0]) / 2 * 100) / 100
      ),
    );
    assertEquals([...sizes].sort((a, b) => a - b), keyR.map((r) => Math.round(r * 100) / 100));
  }
});

Deno.test("trade-off: all points correct, or all stale: one area each, every dot drawn", async () => {
  const rows = await loadSweep(`${ROOT}test/fixtures/notebooks/notebook-ci.csv`);
  const correct = rows.filter((r) => r.strategy === "rmap" || r.strategy === "full-walk");
  const stale = rows.filter((r) => r.strategy === "maple-v2" && Number(r.violations) > 0);
  assert(stale.length > 0 && correct.length > 0);
  for (const [name, part, band] of [["correct", correct, true], ["stale", stale, false]] as const) {
    const fig = tradeoffFigure(part);
    const svg = parseSvg(fig.svg);
    const tops = bandTops(svg);
    const dots = dotsOf(svg);
    assertEquals(dots.length, tradeoffData(part).length, name);
    assertEquals(tops.size > 0, band, name);
    for (const d of dots) {
      assertEquals(band ? d.y > tops.get(d.panel)! : true, true, `${name}: a dot above the band`);
    }
    assertEquals(crossDesignOverlaps(dots).length, 0, name);
    assertEquals(
      fig.svg.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ")
        .includes("Every point left stale shadow entries."),
      !band,
      `${name}: the subtitle says where the points are`,
    );
  }
});
