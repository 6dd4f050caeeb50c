import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import fc from "fast-check";
import {
  DODGE_MAX_SHARE,
  DODGE_NEAR,
  DODGE_NOTE,
  DODGE_STEP,
  type DodgeMark,
  dodgeMarks,
  type PixelScale,
} from "./dodge.ts";
import { crowdedDots, markCentres } from "./readback.ts";
import { costFigure } from "./cost.ts";
import { coverFigure } from "./cover.ts";
import { collateralFigure, memoryFigure } from "./memory.ts";
import { hostContentionFigure, hostMemoryShareFigure } from "./hostcost.ts";
import { manyDimensionCsv } from "../../test/notebook_grid.ts";
import { hostMemoryFigure, hostScaleRows, hostStormFigure, hostUnmapFigure } from "./hostscale.ts";
import { loadSweep, num, parseSweep, type SweepRecord } from "./results.ts";
import type { Figure } from "./svg.ts";
import { designNames } from "../strategies/registry.ts";
import { strategyOrder, strategyStyle } from "./style.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

/** A log scale from [d0, d1] onto [r0, r1] px, as Plot's. */
function logScale(d0: number, d1: number, r0: number, r1: number): PixelScale {
  const k = (r1 - r0) / Math.log10(d1 / d0);
  return {
    apply: (v) => r0 + k * Math.log10(v / d0),
    invert: (p) => d0 * 10 ** ((p - r0) / k),
  };
}

const linear = (d0: number, d1: number, r0: number, r1: number): PixelScale => ({
  apply: (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0),
  invert: (p) => d0 + ((p - r0) / (r1 - r0)) * (d1 - d0),
});

const TICKS = [1, 8, 64, 192];
const NAMES = designNames();

/** Marks at the ticks, a few designs, y anywhere on a log axis (many near each other). */
const marksArb = fc.array(
  fc.record({
    panel: fc.constantFrom("4K", "64K"),
    series: fc.constantFrom(...NAMES),
    x: fc.constantFrom(...TICKS),
    y: fc.double({ min: 100, max: 400, noNaN: true }),
  }),
  { maxLength: 14 },
).map((ms) => {
  // One mark per (panel, series, x): a series has one value at each x.
  const seen = new Set<string>();
  return ms.filter((m) => {
    const k = `${m.panel}|${m.series}|${m.x}`;
    return !seen.has(k) && seen.add(k);
  });
});

/** Every design on one point, give or take a little y: a cluster as wide as it gets. */
const pileArb = fc.record({
  names: fc.subarray(NAMES, { minLength: 2 }),
  x: fc.constantFrom(...TICKS),
  ys: fc.array(fc.double({ min: 100, max: 104, noNaN: true }), {
    minLength: NAMES.length,
    maxLength: NAMES.length,
  }),
}).map(({ names, x, ys }) => names.map((series, i) => ({ panel: "4K", series, x, y: ys[i] })));

function pixelsOf(
  marks: readonly DodgeMark[],
  xd: readonly number[],
  x: PixelScale,
  y: PixelScale,
) {
  return marks.map((m, i) => ({ ...m, px: x.apply(xd[i]), py: y.apply(m.y), tx: x.apply(m.x) }));
}

Deno.test("dodge: no two marks of different designs in one panel are nearer than a marker once spread", () => {
  for (const yScale of [logScale(100, 400, 300, 0), linear(100, 400, 300, 0)]) {
    // Wide enough that no cluster of these sizes has to be squeezed under the shift bound.
    const x = logScale(1 / 1.5, 288, 0, 2400);
    fc.assert(fc.property(marksArb, (marks) => {
      const p = pixelsOf(marks, dodgeMarks(marks, { x, y: yScale }, TICKS), x, yScale);
      for (const a of p) {
        for (const b of p) {
          if (a === b || a.panel !== b.panel || a.series === b.series) continue;
          const d = Math.hypot(a.px - b.px, a.py - b.py);
          assert(d >= DODGE_NEAR - 1e-6, `${a.series} and ${b.series} ${d.toFixed(2)} px apart`);
        }
      }
    }));
  }
});

Deno.test("dodge: a mark moves at most the bounded share of the smallest tick gap, however crowded", () => {
  const y = logScale(100, 400, 300, 0);
  for (const width of [300, 600, 2400]) {
    const x = logScale(1 / 1.5, 288, 0, width);
    const px = TICKS.map((t) => x.apply(t));
    const gap = Math.min(...px.slice(1).map((p, i) => p - px[i]));
    fc.assert(fc.property(fc.oneof(marksArb, pileArb), (marks) => {
      for (const m of pixelsOf(marks, dodgeMarks(marks, { x, y }, TICKS), x, y)) {
        assert(Math.abs(m.px - m.tx) <= DODGE_MAX_SHARE * gap + 1e-6);
      }
    }));
  }
});

Deno.test("dodge: marks on one point spread symmetric about it in design order; apart marks and other panels stay", () => {
  const x = logScale(1, 1000, 0, 900), y = logScale(1, 1000, 600, 0);
  const names = [...NAMES].reverse().slice(0, 4);
  const marks: DodgeMark[] = [
    ...names.map((series) => ({ panel: "a", series, x: 100, y: 10 })),
    { panel: "b", series: names[0], x: 100, y: 10 },
    { panel: "a", series: names[0], x: 10, y: 500 },
  ];
  const xd = dodgeMarks(marks, { x, y }, [1, 10, 100, 1000]);
  const at = names.map((_, i) => x.apply(xd[i]));
  assertAlmostEquals(at.reduce((s, v) => s + v, 0) / at.length, x.apply(100), 1e-9);
  const byX = names.map((s, i) => [s, at[i]] as const).sort((a, b) => a[1] - b[1]);
  assertEquals(byX.map(([s]) => s), strategyOrder(names));
  byX.slice(1).forEach(([, p], i) => assertAlmostEquals(p - byX[i][1], DODGE_STEP, 1e-9));
  assertEquals(xd.slice(names.length), [100, 10]);
});

Deno.test("dodge: marks near through a third are one cluster (transitive), however far the ends", () => {
  const px: PixelScale = { apply: (v) => v, invert: (p) => p };
  const [a, b, c] = NAMES;
  const marks: DodgeMark[] = [
    { panel: 0, series: a, x: 100, y: 0 },
    { panel: 0, series: b, x: 100, y: 8 },
    { panel: 0, series: c, x: 100, y: 16 },
  ];
  const xd = dodgeMarks(marks, { x: px, y: px }, [0, 100, 200]);
  assertEquals(new Set(xd).size, 3);
  assertAlmostEquals(xd.reduce((s, v) => s + v, 0) / 3, 100, 1e-9);
});

// Figures, as the notebooks draw them, on every grid the notebooks run on.

async function rows(path: string): Promise<SweepRecord[]> {
  return await loadSweep(`${ROOT}${path}`);
}

/** The rows of the many-dimension grid (test/notebook_grid.ts). */
const manyRows = () => parseSweep(manyDimensionCsv().text, "many-dimension.csv");

/**
 * Notebook 01's cover and cost figures, 03's memory and collateral figures and notebook 05's
 * line figures for the CSVs they read and the many-dimension grid, each with the charts
 * whose x ticks are the data's x.
 */
async function lineFigures(): Promise<{ fig: Figure; vcpuCharts: number[] }[]> {
  const out: { fig: Figure; vcpuCharts: number[] }[] = [];
  const sweeps: [string, SweepRecord[]][] = [];
  for (const path of ["results/sweep.csv", "test/fixtures/notebooks/notebook-ci.csv"]) {
    sweeps.push([path, await rows(path)]);
  }
  for (const [, rs] of [...sweeps, ["many", manyRows()] as const]) {
    const aliases = [...new Set(rs.map((r) => num(r, "alias")))];
    out.push({ fig: coverFigure(rs), vcpuCharts: [0, 1] });
    out.push({ fig: costFigure(rs, { by: "vcpus" }), vcpuCharts: [0] });
    out.push({ fig: costFigure(rs, { by: "l1_mem_bytes" }), vcpuCharts: [0] });
    if (aliases.includes(0)) {
      out.push({ fig: costFigure(rs, { by: "vcpus", alias: 0 }), vcpuCharts: [0] });
    }
    out.push({ fig: memoryFigure(rs), vcpuCharts: [0, 1] });
    out.push({ fig: collateralFigure(rs), vcpuCharts: [0] });
  }
  const hosts: SweepRecord[][] = [];
  for (
    const path of [
      "results/working-set.csv",
      "results/scale.csv",
      "test/fixtures/notebooks/notebook-ci.csv",
    ]
  ) hosts.push(hostScaleRows(await rows(path)));
  hosts.push(hostScaleRows(manyRows()));
  for (const rs of hosts) {
    for (const alias of new Set(rs.map((r) => num(r, "alias")))) {
      out.push({ fig: hostUnmapFigure(rs, alias), vcpuCharts: [0, 1] });
      out.push({ fig: hostStormFigure(rs, alias), vcpuCharts: [0, 1] });
      out.push({ fig: hostMemoryFigure(rs, alias), vcpuCharts: [0, 1] });
      out.push({ fig: hostContentionFigure(rs, alias), vcpuCharts: [0] });
      out.push({ fig: hostMemoryShareFigure(rs, alias), vcpuCharts: [0] });
    }
  }
  return out;
}

Deno.test("01's cover and cost figures, 03's memory and collateral figures and 05's line figures: no mark sits on another's, and none strays from its x tick", async () => {
  const figs = await lineFigures();
  for (const { fig, vcpuCharts } of figs) {
    const crowded = crowdedDots(fig.svg, DODGE_NEAR - 0.5);
    assertEquals(
      crowded.map(([a, b]) =>
        `${a.panel} ${a.series}@${a.x.toFixed(1)},${a.y.toFixed(1)} ` +
        `${b.series}@${b.x.toFixed(1)},${b.y.toFixed(1)}`
      ),
      [],
      `${fig.name}: marks of different designs nearer than ${DODGE_NEAR - 0.5} px`,
    );
    // In a chart whose x ticks are the data's x values, each dot is near its own tick.
    const ticks = markCentres(fig.svg, "x-axis tick label");
    for (const d of markCentres(fig.svg, "dot")) {
      if (!vcpuCharts.includes(Number(d.panel.split(":")[0]))) continue;
      const xs = ticks.filter((t) => t.panel === d.panel).map((t) => t.x).sort((a, b) => a - b);
      const gap = Math.min(...xs.slice(1).map((x, i) => x - xs[i]));
      const off = Math.min(...xs.map((x) => Math.abs(x - d.x)));
      assert(off <= DODGE_MAX_SHARE * gap + 0.01, `${fig.name}: a dot ${off} px off its tick`);
    }
  }
  const spread = figs.filter(({ fig }) => fig.svg.includes(DODGE_NOTE.slice(0, 40)));
  assert(
    spread.length > 0,
    "no figure spread its marks: the test data would not catch a dodge that fails",
  );
});

Deno.test("dodge: marks at nearby x obey the bound too (a cluster too wide to spread stays where it is)", () => {
  const y = logScale(100, 400, 300, 0);
  for (const width of [120, 300, 2400]) {
    const x = logScale(1, 1000, 0, width);
    const px = [1, 10, 100, 1000].map((t) => x.apply(t));
    const gap = Math.min(...px.slice(1).map((p, i) => p - px[i]));
    fc.assert(fc.property(
      fc.array(
        fc.record({
          series: fc.constantFrom(...NAMES),
          x: fc.double({ min: 50, max: 200, noNaN: true }),
          y: fc.double({ min: 100, max: 104, noNaN: true }),
        }),
        { maxLength: 10 },
      ),
      (ms) => {
        const marks = ms.map((m) => ({ ...m, panel: 0 }));
        const xd = dodgeMarks(marks, { x, y }, [1, 10, 100, 1000]);
        marks.forEach((m, i) => {
          assert(Math.abs(x.apply(xd[i]) - x.apply(m.x)) <= DODGE_MAX_SHARE * gap + 1e-6);
        });
      },
    ));
  }
});

Deno.test("the spread footnote appears only when a mark moved", async () => {
  const rs = await rows("results/sweep.csv");
  const one = rs.filter((r) => r.strategy === "full-walk");
  assert(!costFigure(one, { by: "vcpus" }).svg.includes(DODGE_NOTE));
  assert(costFigure(rs, { by: "vcpus" }).svg.includes(DODGE_NOTE));
  const apart = rs.filter((r) => ["full-walk", "rmap"].includes(r.strategy));
  assert(!coverFigure(apart).svg.includes(DODGE_NOTE));
  assert(coverFigure(rs).svg.includes(DODGE_NOTE));
  const ws = hostScaleRows(await rows("results/working-set.csv"));
  const alias = Math.max(...ws.map((r) => num(r, "alias")));
  const lone = ws.filter((r) => r.strategy === "rmap");
  for (const figure of [hostUnmapFigure, hostContentionFigure, hostMemoryShareFigure]) {
    assert(!figure(lone, alias).svg.includes(DODGE_NOTE), figure.name);
    assert(figure(ws, alias).svg.includes(DODGE_NOTE), figure.name);
  }
});

Deno.test("05: a series equal to another's at every point is named in the notes and not drawn in that chart", async () => {
  const ws = hostScaleRows(await rows("results/working-set.csv"));
  const alias = Math.max(...ws.map((r) => num(r, "alias")));
  const charts = { top: 0, middle: 1, bottom: 2 } as Record<string, number>;
  let named = 0;
  for (const fig of [hostUnmapFigure(ws, alias), hostStormFigure(ws, alias)]) {
    const text = [...fig.svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]).join(" ");
    const notes = [...text.matchAll(
      /Not drawn in the ([\w ]+?) charts?: (\S+) coincides with (\S+) at all (\d+) points \(the same ([\w ]+?)\)/g,
    )].flatMap(([, cs, hidden, same, points, cols]) => {
      const columns = cols.split(" and ");
      return cs.split(" and ").map((chart, i) => ({
        chart,
        hidden,
        same,
        points,
        column: columns[i] ?? columns[0],
      }));
    });
    for (const { chart, hidden, same, points, column } of notes) {
      named++;
      const at = ws.filter((r) => num(r, "alias") === alias && num(r, column as "vcpus") > 0);
      const of = (s: string) =>
        new Map(
          at.filter((r) => r.strategy === s).map((r) => [
            `${num(r, "working_set_bytes")}/${num(r, "vcpus")}`,
            num(r, column as "vcpus"),
          ]),
        );
      assertEquals(of(hidden), of(same));
      assertEquals(of(hidden).size, Number(points));
      const colour = strategyStyle(hidden).color;
      const dots = markCentres(fig.svg, "dot").filter((d) =>
        d.panel.startsWith(`${charts[chart]}:`) && d.series === colour
      );
      assertEquals(dots, [], `${fig.name}: ${hidden} drawn in the ${chart} chart`);
    }
  }
  assert(
    named > 0,
    "the committed working-set rows have no coincident series: the test checks nothing",
  );
});
