import { assertEquals } from "@std/assert";
import { crowdedDots, markCentres, mixedTickAxes } from "./readback.ts";
import { costFigure } from "./cost.ts";
import { hostMemoryFigure, hostScaleRows, hostStormFigure, hostUnmapFigure } from "./hostscale.ts";
import { budgetFigure, COMMITTED_BUDGET_CSV, loadBudgetCsv } from "./memory.ts";
import { loadTimeline, REPRODUCER_TIMELINE, reproducerTimeline } from "./reproducer.ts";
import { loadSweep, num } from "./results.ts";
import type { Figure } from "./svg.ts";
import { sweepFigures } from "./write.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

const axis = (...ticks: string[]) =>
  `<svg xmlns="http://www.w3.org/2000/svg"><svg><g aria-label="x-axis tick label">` +
  `<g transform="translate(300,0)">${ticks.map((t) => `<text>${t}</text>`).join("")}</g>` +
  `</g></svg></svg>`;

Deno.test("mixedTickAxes: the power form beside plain digits is mixed; 0, 1 and 10 stand beside either", () => {
  assertEquals(mixedTickAxes(axis("100,000", "1.0×10⁶")).map((a) => a.axis), [
    "0: x-axis tick label",
  ]);
  assertEquals(mixedTickAxes(axis("40", "50", "10²")).length, 1);
  assertEquals(mixedTickAxes(axis("2 µs", "10⁶ B")).length, 1);
  assertEquals(mixedTickAxes(axis("0", "1", "10", "10²", "10³", "5×10³")), []);
  assertEquals(mixedTickAxes(axis("1×", "10×", "10²×")), []);
  assertEquals(mixedTickAxes(axis("0", "500,000", "800,000")), []);
  assertEquals(mixedTickAxes(axis("4K pages", "64K pages")), []);
});

Deno.test("crowdedDots: dots of two series nearer than r in one panel; other panels and one series apart", () => {
  const dot = (color: string, panel: number, x: number) =>
    `<g aria-label="dot" stroke="${color}"><g transform="translate(${panel},0)">` +
    `<path transform="translate(${x},50)" d="M0,0"/></g></g>`;
  const svg = (...dots: string[]) =>
    `<svg xmlns="http://www.w3.org/2000/svg">${dots.join("")}</svg>`;
  assertEquals(crowdedDots(svg(dot("red", 0, 10), dot("blue", 0, 15)), 9).length, 1);
  assertEquals(crowdedDots(svg(dot("red", 0, 10), dot("blue", 0, 25)), 9), []);
  assertEquals(crowdedDots(svg(dot("red", 0, 10), dot("blue", 300, 10)), 9), []);
  assertEquals(crowdedDots(svg(dot("red", 0, 10), dot("red", 0, 12)), 9), []);
  assertEquals(markCentres(svg(dot("red", 300, 10)))[0].panel, "0:translate(300,0)");
});

/** Every figure the notebooks and `deno task plots` draw, on each grid the notebooks run on. */
async function allFigures(): Promise<Figure[]> {
  const figs: Figure[] = [];
  for (const path of ["results/sweep.csv", "test/fixtures/notebooks/notebook-ci.csv"]) {
    const rows = await loadSweep(`${ROOT}${path}`);
    figs.push(...sweepFigures(rows));
    if (rows.some((r) => num(r, "alias") === 0)) {
      figs.push(costFigure(rows, { by: "vcpus", alias: 0 }));
    }
  }
  for (
    const path of [
      "results/working-set.csv",
      "results/scale.csv",
      "test/fixtures/notebooks/notebook-ci.csv",
    ]
  ) {
    const rows = hostScaleRows(await loadSweep(`${ROOT}${path}`));
    const alias = Math.max(...rows.map((r) => num(r, "alias")));
    figs.push(
      hostUnmapFigure(rows, alias),
      hostStormFigure(rows, alias),
      hostMemoryFigure(rows, alias),
    );
  }
  figs.push(budgetFigure(await loadBudgetCsv(COMMITTED_BUDGET_CSV)));
  for (const t of [REPRODUCER_TIMELINE, `${ROOT}test/fixtures/notebooks/tlbi-remap`]) {
    figs.push(reproducerTimeline(await loadTimeline(t)));
  }
  return figs;
}

Deno.test("every axis of every figure of the notebooks and deno task plots keeps one tick format", async () => {
  const mixed = (await allFigures()).flatMap((f) =>
    mixedTickAxes(f.svg).map((a) => `${f.name} ${a.axis}: ${a.labels.join(" ")}`)
  );
  assertEquals(mixed, []);
});
