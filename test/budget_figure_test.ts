/**
 * Notebook 03's budget figure and takeaway, held to the fact checker's rules
 * (experiments/notebooks/check_facts.ts, which shares no code with the figure): a line per
 * (vCPUs, granule, alias density), none joining two vCPU counts; every number the figure's
 * text and the takeaway state recomputed from the CSV; the takeaway reading only rows the
 * figure drew, also when the parameters keep one vCPU count.
 */
import { assert, assertEquals, assertNotEquals, assertStringIncludes } from "@std/assert";
import {
  drawnProblems,
  type Fact,
  type FigureRecord,
  recompute,
  statesNumber,
  undrawnProblems,
} from "../experiments/notebooks/check_facts.ts";
import { budgetFigure, budgetTakeaway, loadBudgetCsv, selectBudget } from "../lib/plots/memory.ts";
import { formatSeconds } from "../lib/plots/style.ts";
import { budgetCsv, budgetSweep } from "../lib/sweep/budget.ts";
import { parseCsv } from "../lib/util/csv.ts";

const VCPUS = [1, 2];
const GRANULES = ["4K", "64K"] as const;
const ALIASES = [0, 0.5];
const BUDGETS = [1024, 4096, 262144];

/** A budget CSV in a temporary directory, read back as the notebook reads it. */
async function fixture() {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-budget-figure-" });
  const path = `${dir}/budget.csv`;
  const text = budgetCsv(
    budgetSweep({
      vcpus: VCPUS,
      granules: GRANULES,
      aliases: ALIASES,
      budgets: BUDGETS,
      pagesPerContext: 16,
    }),
  );
  await Deno.writeTextFile(path, text);
  return { dir, path, csv: parseCsv(text).rows, records: await loadBudgetCsv(path) };
}

const figureRecord = (fig: ReturnType<typeof budgetFigure>) =>
  fig.record as unknown as FigureRecord;

Deno.test("budget figure: a line per (vCPUs, granule, alias) in each chart, none joining two vCPU counts", async () => {
  const { dir, path, csv, records } = await fixture();
  try {
    const rec = figureRecord(budgetFigure(records));
    const [drawn] = rec.drawn;
    const panels = VCPUS.length * GRANULES.length;
    assertEquals(drawn.lines.length, 2 * panels * ALIASES.length);
    assertEquals(drawn.rows.length, csv.length, "every row drawn");
    const byKey = new Map(csv.map((r) => [`${r.grid_id}|${r.point}|${r.strategy}`, r]));
    for (const line of drawn.lines) {
      const rows = line.points.map(([k]) => byKey.get(`${k.grid_id}|${k.point}|${k.strategy}`)!);
      assertEquals(line.x, "budget_bytes");
      assertEquals(rows.map((r) => Number(r.budget_bytes)), BUDGETS, "budgets in order");
      for (const c of ["vcpus", "granule", "alias", "seed", "ns_per_iteration"]) {
        assertEquals(new Set(rows.map((r) => r[c])).size, 1, `a line keeps one ${c}`);
      }
    }
    assertEquals(drawnProblems(rec, "03"), []);
    // The checker sees a line that would join two vCPU counts (it did not check this
    // figure before its rows were named).
    const joined = structuredClone(rec);
    const other = drawn.lines.find((l) =>
      byKey.get(`${l.points[0][0].grid_id}|${l.points[0][0].point}|rmap-bounded`)!.vcpus !==
        byKey.get(
          `${drawn.lines[0].points[0][0].grid_id}|${
            drawn.lines[0].points[0][0].point
          }|rmap-bounded`,
        )!.vcpus
    )!;
    joined.drawn[0].lines[0].points[1] = other.points[1];
    assertStringIncludes(drawnProblems(joined, "03").join("\n"), "differ in vcpus");
    // Every number the figure states holds, and stands in its SVG.
    for (const f of rec.stated!.facts) {
      assertEquals(recompute({ ...f, file: path }), f.value, f.id);
      assert(statesNumber(budgetFigure(records).svg, f.shown), `${f.id}: ${f.shown}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("budget takeaway: every number from the rows the figure draws, the full walk's time stated", async () => {
  const { dir, path, csv, records } = await fixture();
  try {
    for (const keep of [[], [2]]) {
      const { rows, where } = selectBudget(records, {}, keep);
      const rec = figureRecord(budgetFigure(rows));
      const t = budgetTakeaway(rows, path, where);
      // As the notebook carries them: JSON.
      const facts = JSON.parse(JSON.stringify(t.facts)) as Fact[];
      assert(facts.length > 0);
      for (const f of facts) {
        assertEquals(recompute(f), f.value, f.id);
        assert(statesNumber(t.text, f.shown), `${f.id} (${f.shown}) in the takeaway`);
      }
      assertEquals(undrawnProblems(rec, facts, "03"), []);
      // The worst unmap at 1 KiB with 2 vCPUs, in each granule's panel: a fallback, the full
      // walk, whose time the takeaway states (the 64K one is 32 times the 4K one).
      for (const g of GRANULES) {
        const full = csv.find((r) =>
          r.vcpus === "2" && r.granule === g && r.alias === "0" && r.budget_bytes === "1024"
        )!;
        assertNotEquals(full.fallbacks, "0");
        assertStringIncludes(t.text, formatSeconds(Number(full.unmap_est_ns_max) / 1e9));
      }
      if (keep.length > 0) {
        assert(!t.text.includes("**1 vCPUs"), "the parameters' vCPU count only");
        assertStringIncludes(budgetFigure(rows).svg, "the CSV also has 1 vCPUs, 4K pages");
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
