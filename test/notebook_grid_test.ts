/**
 * Every notebook's figures hold on a grid with more dimensions than they show
 * (test/notebook_grid.ts: at least two values in every dimension of a configuration). The
 * code cells of each notebook run here, in order, as one module (what Jupyter runs, without
 * Jupyter; a cell that re-runs the engine is left out), and what they show goes through the
 * notebooks' checker (experiments/notebooks/check_facts.ts) as an executed notebook would:
 *
 * - every figure says what it drew (its record: lib/plots/drawn.ts);
 * - every line it drew joins points whose rows share every dimension but its x axis (and
 *   the designs of each point; an x axis that a few dimensions make, such as populated
 *   shadow leaves, names them joined by "+");
 * - every fact of the takeaway under a figure speaks only of rows the figure drew.
 */

import { assert, assertEquals } from "@std/assert";
import {
  checkNotebook,
  drawnProblems,
  type FigureRecord,
  undrawnProblems,
} from "../experiments/notebooks/check_facts.ts";
import { FIGURE_MIME } from "../lib/plots/drawn.ts";
import { JUPYTER_DISPLAY } from "../lib/plots/svg.ts";
import { manyDimensionCsv } from "./notebook_grid.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
/** The notebooks that read a sweep CSV (04 reads one trace's timeline: no grid dimension). */
const NOTEBOOKS = [...Deno.readDirSync(`${ROOT}notebooks`)]
  .map((e) => e.name).filter((n) => n.endsWith(".ipynb")).sort()
  .filter((n) =>
    /S2LAB_(SWEEP|WORKING_SET)_CSV/.test(Deno.readTextFileSync(`${ROOT}notebooks/${n}`))
  );

interface Cell {
  cell_type: string;
  metadata: { tags?: string[] };
  source: string[] | string;
}

/** What one show() call received, with the cell that made it. */
export interface Shown {
  cell: number;
  tags: string[];
  item: { [JUPYTER_DISPLAY](): Record<string, unknown> };
}

/**
 * Run the code cells of notebook `name` as one module, with `env` set, and return what it
 * showed. The notebook's relative imports are resolved from notebooks/; a cell that
 * re-runs a sweep (it imports the engine) is skipped.
 */
export async function runNotebookCells(
  name: string,
  env: Record<string, string>,
): Promise<Shown[]> {
  const nb = JSON.parse(Deno.readTextFileSync(`${ROOT}notebooks/${name}`)) as { cells: Cell[] };
  const lib = new URL("../lib/", import.meta.url).href;
  const parts = [
    "const __shown = (globalThis as any).__s2labShown as unknown[];",
    "let __cell = { i: -1, tags: [] as string[] };",
    "const __show = async (...xs: unknown[]) => { for (const item of xs) __shown.push({ cell: __cell.i, tags: __cell.tags, item }); };",
  ];
  nb.cells.forEach((c, i) => {
    if (c.cell_type !== "code") return;
    const src = Array.isArray(c.source) ? c.source.join("") : c.source;
    if (/rerunSweep\(/.test(src)) return;
    parts.push(
      `__cell = { i: ${i}, tags: ${JSON.stringify(c.metadata.tags ?? [])} };`,
      src.replaceAll('"../lib/', `"${lib}`).replaceAll("s2.show(", "__show(")
        .replace(/^import \{ rerunSweep \}.*$/m, ""),
    );
  });
  const dir = Deno.makeTempDirSync({ prefix: "s2lab-nbgrid-" });
  const shown: Shown[] = [];
  const old: Record<string, string | undefined> = {};
  try {
    const file = `${dir}/${name.replace(".ipynb", ".ts")}`;
    Deno.writeTextFileSync(file, parts.join("\n"));
    (globalThis as Record<string, unknown>).__s2labShown = shown;
    for (const [k, v] of Object.entries(env)) {
      old[k] = Deno.env.get(k);
      Deno.env.set(k, v);
    }
    await import(new URL(`file://${file}`).href);
  } finally {
    for (const [k, v] of Object.entries(old)) {
      v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    }
    delete (globalThis as Record<string, unknown>).__s2labShown;
    Deno.removeSync(dir, { recursive: true });
  }
  return shown;
}

/** What a notebook showed, as the checker reads an executed notebook: its problems. */
export function shownProblems(name: string, shown: Shown[]): string[] {
  const dir = Deno.makeTempDirSync({ prefix: "s2lab-nbgrid-" });
  try {
    const cells = shown.map((s) => ({
      cell_type: "code",
      metadata: { tags: s.tags },
      outputs: [{ output_type: "display_data", data: s.item[JUPYTER_DISPLAY]() }],
    }));
    Deno.writeTextFileSync(`${dir}/${name}`, JSON.stringify({ cells }));
    return checkNotebook(`${dir}/${name}`).problems;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

const csvDir = Deno.makeTempDirSync({ prefix: "s2lab-nbgrid-csv-" });
const MANY = `${csvDir}/many.csv`;
Deno.writeTextFileSync(MANY, manyDimensionCsv().text);
addEventListener("unload", () => Deno.removeSync(csvDir, { recursive: true }));

for (const name of NOTEBOOKS) {
  Deno.test(
    `${name}: on a grid with two values in every dimension, lines join one configuration and takeaways speak of drawn rows`,
    async () => {
      const shown = await runNotebookCells(name, {
        S2LAB_SWEEP_CSV: MANY,
        S2LAB_WORKING_SET_CSV: MANY,
        S2LAB_TIMELINE: `${ROOT}test/fixtures/notebooks/tlbi-remap`,
      });
      assert(shown.some((s) => "record" in s.item), `${name} showed no figure`);
      assertEquals(shownProblems(name, shown), []);
    },
  );
}

Deno.test("the checker fails a line through two configurations and a fact over an undrawn row", () => {
  const dir = Deno.makeTempDirSync({ prefix: "s2lab-nbgrid-" });
  try {
    const csv = `${dir}/t.csv`;
    Deno.writeTextFileSync(
      csv,
      "grid_id,point,strategy,vcpus,memslots,working_set_bytes\n" +
        "g,0,rmap,1,4,0\ng,1,rmap,8,4,0\ng,2,rmap,8,8,0\n",
    );
    const k = (point: number) => ({ grid_id: "g", point, strategy: "rmap" });
    const figure = (points: number[]): FigureRecord => ({
      name: "f",
      drawn: [{
        file: csv,
        rows: points.map(k),
        lines: [{ x: "vcpus", points: points.map((p) => [k(p)]) }],
      }],
    });
    const joined = drawnProblems(figure([0, 2]), "cell 1");
    assertEquals(joined.length, 1);
    assert(joined[0].includes("joins points that differ in memslots (4, 8)"), joined[0]);
    assertEquals(drawnProblems(figure([0, 1]), "cell 1"), []);
    // A figure that records no row is a problem, unless it is a picture drawn elsewhere.
    const empty: FigureRecord = { name: "e", drawn: [] };
    assertEquals(drawnProblems(empty, "cell 3"), ["cell 3 e: the figure records no drawn row"]);
    assertEquals(drawnProblems({ ...empty, drawnBy: "lib/verify/figures.ts" }, "cell 3"), []);
    const fact = {
      id: "worst",
      file: csv,
      where: { strategy: "rmap", vcpus: 8 },
      column: "vcpus",
      agg: "max",
      value: 8,
      shown: "8",
    };
    const undrawn = undrawnProblems(figure([0, 1]), [fact], "cell 2");
    assertEquals(undrawn.length, 1);
    assert(undrawn[0].startsWith("cell 2: fact worst reads 1 row(s) f did not draw"), undrawn[0]);
    assertEquals(undrawnProblems(figure([0, 1, 2]), [fact], "cell 2"), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the checker fails a figure whose subtitle no longer states the point it pinned", async () => {
  const shown = await runNotebookCells("05-host-scale.ipynb", { S2LAB_WORKING_SET_CSV: MANY });
  const fig = shown.find((s) => {
    const b = s.item[JUPYTER_DISPLAY]();
    return ((b[FIGURE_MIME] as FigureRecord | undefined)?.stated?.facts.length ?? 0) > 0;
  });
  assert(fig, "no figure of 05 states a pin on the many-dimension grid");
  const bundle = fig.item[JUPYTER_DISPLAY]();
  const pin = (bundle[FIGURE_MIME] as FigureRecord).stated!.facts[0];
  const edited: Shown = {
    ...fig,
    item: {
      [JUPYTER_DISPLAY]: () => ({
        ...bundle,
        "image/svg+xml": String(bundle["image/svg+xml"]).replaceAll(` ${pin.shown}`, " many"),
      }),
    },
  };
  const problems = shownProblems("05-host-scale.ipynb", [edited]);
  assert(
    problems.some((p) => p.includes(`fact ${pin.id} (${pin.shown}) is not in its figure's text`)),
    problems.join("\n"),
  );
});
