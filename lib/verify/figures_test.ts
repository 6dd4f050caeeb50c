import { assert, assertEquals } from "@std/assert";
import { DODGE_NEAR, DODGE_NOTE } from "../plots/dodge.ts";
import { parseSweep } from "../plots/results.ts";
import { crowdedDots, mixedTickAxes } from "../plots/readback.ts";
import type { Figure } from "../plots/svg.ts";
import type { SweepRow } from "../sweep/columns.ts";
import { manyDimensionCsv } from "../../test/notebook_grid.ts";
import { DIMENSIONS } from "../sweep/grid.ts";
import { COST_FLAGS } from "../sweep/spec.ts";
import { checkCost, type CostRows } from "./cost.ts";
import { verifyFigures } from "./figures.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

/** A sweep CSV's rows as a report's: the grid, then the populated point. */
function costRows(text: string, path: string): CostRows {
  const rows = parseSweep(text, path) as unknown as SweepRow[];
  return {
    grid: rows.filter((r) => r.working_set_bytes === 0),
    populated: rows.filter((r) => r.working_set_bytes > 0),
    costModel: "default",
  };
}

/**
 * The figures of every committed verify report (docs/designs/<design>/cost.csv), of a run
 * of the report's own (small enough for a test), and of the many-dimension grid
 * (test/notebook_grid.ts) drawn as rmap's report.
 */
async function reportFigures(): Promise<{ design: string; figs: Figure[] }[]> {
  const out: { design: string; figs: Figure[] }[] = [];
  for await (const e of Deno.readDir(`${ROOT}docs/designs`)) {
    const path = `${ROOT}docs/designs/${e.name}/cost.csv`;
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch {
      continue;
    }
    // A report folder is named for its design.
    out.push({ design: e.name, figs: verifyFigures(e.name, costRows(text, path)) });
  }
  const run = checkCost("rmap", ["full-walk"], {
    grid: {
      vcpus: "1,2,8",
      granule: "4K",
      "l1-mem": "4G",
      alias: "0,0.5",
      "pages-per-context": "8",
    },
    populated: {
      vcpus: "2",
      granule: "4K",
      "l1-mem": "4G",
      alias: "0.5",
      "working-set": "64K",
      "pages-per-context": "8",
    },
    seed: 1,
  });
  out.push({ design: "rmap", figs: verifyFigures("rmap", run.cost) });
  out.push({ design: "rmap (many-dimension grid)", figs: verifyFigures("rmap", manyRun()) });
  return out;
}

/**
 * The many-dimension grid (test/notebook_grid.ts) as a verify run would have it: a report
 * draws one panel per granule and alias density and runs at one value of every other
 * dimension (./cost.ts), so each of those is pinned to its value in the granule's first row.
 */
function manyRun(): CostRows {
  const r = costRows(manyDimensionCsv().text, "many-dimension.csv");
  const shown = new Set(["vcpus", "granule", "alias", "working_set_bytes"]);
  // A dimension's value in a row: contexts per vCPU for the contexts.
  const value = (x: SweepRow, c: string) =>
    c === "contexts" ? x.contexts / x.vcpus : (x as unknown as Record<string, unknown>)[c];
  const pin = (rows: readonly SweepRow[]) => {
    const cols = [
      ...DIMENSIONS.map((d) => d.column ?? "contexts"),
      "seed",
      ...COST_FLAGS.map((f) => f.column),
    ].filter((c) => !shown.has(c) && rows.length > 0 && c in rows[0]);
    // Per granule: a dimension resolved from the granule (l1_granule "same") follows it.
    const first = new Map<string, SweepRow>();
    for (const x of rows) if (!first.has(x.granule)) first.set(x.granule, x);
    return rows.filter((x) => cols.every((c) => value(x, c) === value(first.get(x.granule)!, c)));
  };
  return { ...r, grid: pin(r.grid), populated: pin(r.populated) };
}

Deno.test("every axis of every figure of a verify report keeps one tick format", async () => {
  const mixed: string[] = [];
  for (const { design, figs } of await reportFigures()) {
    for (const f of figs) {
      for (const a of mixedTickAxes(f.svg)) {
        mixed.push(`${design}/${f.name} ${a.axis}: ${a.labels.filter((l) => l).join(" ")}`);
      }
    }
  }
  assertEquals(mixed, []);
});

Deno.test("no mark of a verify report's figures sits on another design's; the footnote says when one moved", async () => {
  const crowded: string[] = [];
  let moved = 0;
  for (const { design, figs } of await reportFigures()) {
    for (const f of figs) {
      for (const [a, b] of crowdedDots(f.svg, DODGE_NEAR - 0.5)) {
        crowded.push(
          `${design}/${f.name} ${a.panel} ${a.series}@${a.x.toFixed(1)},${a.y.toFixed(1)} ` +
            `${b.series}@${b.x.toFixed(1)},${b.y.toFixed(1)}`,
        );
      }
      if (f.svg.includes(DODGE_NOTE)) moved++;
    }
  }
  assertEquals(crowded, []);
  assert(moved > 0, "no figure spread its marks: the test data would not catch a dodge that fails");
  // One design alone has nothing to sit on: nothing moves, and no footnote says so.
  const r = manyRun();
  const alone = (rs: readonly SweepRow[]) => rs.filter((x) => x.strategy === "rmap");
  const figs = verifyFigures("rmap", { ...r, grid: alone(r.grid), populated: alone(r.populated) });
  assert(figs.every((f) => !f.svg.includes(DODGE_NOTE)));
});
