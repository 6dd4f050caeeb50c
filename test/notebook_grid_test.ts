/**
 * Every notebook's figures hold on a grid with more dimensions than they show
 * (test/notebook_grid.ts: at least two values in every dimension of a configuration). The
 * code cells of each notebook run here, in order, as one module (what Jupyter runs, without
 * Jupyter; a cell that re-runs the engine is left out), and what they show is collected:
 *
 * - every figure says what it drew (its record: lib/plots/drawn.ts);
 * - every line it drew joins points whose rows share every dimension but its x axis (and
 *   the designs of each point; an x axis that a few dimensions make, such as populated
 *   shadow leaves, names them joined by "+");
 * - every fact of the takeaway under a figure speaks only of rows the figure drew.
 */

import { assert, assertEquals } from "@std/assert";
import { DIMENSIONS } from "../lib/sweep/grid.ts";
import { COST_FLAGS } from "../lib/sweep/spec.ts";
import { parseCsv } from "../lib/util/csv.ts";
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

interface RowKey {
  grid_id: string;
  point: number;
  strategy: string;
}

/** What one show() call received, with the cell that made it. */
export interface Shown {
  cell: number;
  tags: string[];
  item: {
    record?: {
      name: string;
      drawn: { file: string; rows: RowKey[]; lines: { x: string; points: RowKey[][] }[] }[];
    };
    facts?: { id: string; file: string; where: Record<string, unknown>; agg: string }[];
  };
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

/**
 * Figures of a CSV that is not a sweep's (no grid id or point names its rows): 03's budget
 * sweep of rmap-bounded (`deno task budget`).
 */
const NOT_A_SWEEP = new Set(["03-budget"]);

const keyOf = (k: RowKey) => `${k.grid_id}|${k.point}|${k.strategy}`;

/** The configuration of a row as the rule reads it: each dimension's value, or null where it does not apply. */
function configuration(r: Record<string, string>): Record<string, string | null> {
  const c: Record<string, string | null> = {};
  for (const d of DIMENSIONS) {
    if (!d.column) {
      c.contexts_per_vcpu = String(Number(r.contexts) / Number(r.vcpus));
      continue;
    }
    // Retouch is what a context re-touches of its working set: without one it does not apply.
    c[d.column] = d.column === "retouch" && Number(r.working_set_bytes) === 0 ? null : r[d.column];
  }
  c.seed = r.seed;
  for (const f of COST_FLAGS) c[f.column] = r[f.column];
  return c;
}

/**
 * Problems of what a notebook showed, against the rows of the CSVs it read: lines joining
 * points of different configurations, facts that read rows no figure above them drew.
 */
export function gridProblems(
  shown: Shown[],
  csvRows: (file: string) => Record<string, string>[],
): string[] {
  const problems: string[] = [];
  let last: Shown | undefined;
  for (const s of shown) {
    const rec = s.item.record;
    if (rec) {
      last = s;
      if (!rec.drawn.some((d) => d.rows.length > 0) && !NOT_A_SWEEP.has(rec.name)) {
        problems.push(`cell ${s.cell} ${rec.name}: the figure records no drawn row`);
      }
      for (const d of rec.drawn) {
        const byKey = new Map(
          csvRows(d.file).map((r) => [`${r.grid_id}|${r.point}|${r.strategy}`, r]),
        );
        for (const [li, line] of d.lines.entries()) {
          const rows = line.points.flat().map((k) => {
            const r = byKey.get(keyOf(k));
            if (!r) {
              problems.push(
                `cell ${s.cell} ${rec.name}: drew ${keyOf(k)}, which ${d.file} has not`,
              );
            }
            return r;
          }).filter((r) => r !== undefined);
          const configs = rows.map(configuration);
          const xs = line.x.split("+");
          const differ = Object.keys(configs[0] ?? {}).filter((k) =>
            !xs.includes(k) && new Set(configs.map((c) => c[k])).size > 1
          );
          const designs = new Set(
            line.points.map((p) => p.map((k) => k.strategy).sort().join("+")),
          );
          if (designs.size > 1) differ.push("strategy");
          if (differ.length > 0) {
            problems.push(
              `cell ${s.cell} ${rec.name}: line ${li} (x ${line.x}) joins points that differ in ` +
                differ.map((k) => `${k} (${[...new Set(configs.map((c) => c[k]))].join(", ")})`)
                  .join(", "),
            );
          }
        }
      }
    } else if (s.item.facts && s.tags.includes("takeaway") && last?.item.record) {
      const rec = last.item.record;
      for (const d of rec.drawn) {
        const drawn = new Set(d.rows.map(keyOf));
        for (const f of s.item.facts.filter((f) => f.file === d.file)) {
          const read = csvRows(d.file).filter((r) => matches(r, f.where));
          const extra = read.filter((r) => !drawn.has(`${r.grid_id}|${r.point}|${r.strategy}`));
          // A count of no row is a statement about the drawn rows (none is past a line).
          if (read.length === 0 && f.agg !== "count" && f.agg !== "distinct") {
            problems.push(`cell ${s.cell}: fact ${f.id} names a point no row has`);
          } else if (extra.length > 0) {
            const cfg = configuration(extra[0]);
            problems.push(
              `cell ${s.cell}: fact ${f.id} reads ${extra.length} row(s) ${rec.name} did not draw ` +
                `(e.g. ${extra[0].strategy} at ${
                  Object.entries(cfg).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`)
                    .join(" ")
                })`,
            );
          }
        }
      }
    }
  }
  return problems;
}

function matches(r: Record<string, string>, where: Record<string, unknown>): boolean {
  const same = (v: string, w: unknown) =>
    v === String(w) || (v.trim() !== "" && Number.isFinite(Number(v)) && Number(v) === Number(w));
  return Object.entries(where).every(([c, w]) =>
    Array.isArray(w) ? w.some((x) => same(r[c], x)) : same(r[c], w)
  );
}

function csvReader(): (file: string) => Record<string, string>[] {
  const cache = new Map<string, Record<string, string>[]>();
  return (file) => {
    const path = file.startsWith("/") ? file : `${ROOT}${file}`;
    if (!cache.has(path)) cache.set(path, parseCsv(Deno.readTextFileSync(path)).rows);
    return cache.get(path)!;
  };
}

const dir = Deno.makeTempDirSync({ prefix: "s2lab-nbgrid-csv-" });
const MANY = `${dir}/many.csv`;
Deno.writeTextFileSync(MANY, manyDimensionCsv().text);
addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

for (const name of NOTEBOOKS) {
  Deno.test(`${name}: on a grid with two values in every dimension, lines join one configuration and takeaways speak of drawn rows`, async () => {
    const shown = await runNotebookCells(name, {
      S2LAB_SWEEP_CSV: MANY,
      S2LAB_WORKING_SET_CSV: MANY,
      S2LAB_TIMELINE: `${ROOT}test/fixtures/notebooks/tlbi-remap`,
    });
    assert(shown.some((s) => s.item.record), `${name} showed no figure`);
    assertEquals(gridProblems(shown, csvReader()), []);
  });
}

Deno.test("the grid check fails a line through two configurations and a fact over an undrawn row", () => {
  const row = (point: number, vcpus: number, memslots: number) => ({
    grid_id: "g",
    point: String(point),
    strategy: "rmap",
    vcpus: String(vcpus),
    memslots: String(memslots),
    working_set_bytes: "0",
  });
  const rows = [row(0, 1, 4), row(1, 8, 4), row(2, 8, 8)];
  const k = (r: { point: string }) => ({ grid_id: "g", point: Number(r.point), strategy: "rmap" });
  const figure = (points: typeof rows): Shown => ({
    cell: 1,
    tags: ["plot"],
    item: {
      record: {
        name: "f",
        drawn: [{
          file: "t.csv",
          rows: points.map(k),
          lines: [{ x: "vcpus", points: points.map((r) => [k(r)]) }],
        }],
      },
    },
  });
  const takeaway: Shown = {
    cell: 2,
    tags: ["takeaway"],
    item: {
      facts: [{ id: "worst", file: "t.csv", where: { strategy: "rmap", vcpus: 8 }, agg: "max" }],
    },
  };
  const joined = gridProblems([figure([rows[0], rows[2]])], () => rows);
  assertEquals(joined.length, 1);
  assert(joined[0].includes("joins points that differ in memslots (4, 8)"), joined[0]);
  const undrawn = gridProblems([figure([rows[0], rows[1]]), takeaway], () => rows);
  assertEquals(undrawn.length, 1);
  assert(undrawn[0].startsWith("cell 2: fact worst reads 1 row(s) f did not draw"), undrawn[0]);
  assertEquals(gridProblems([figure([rows[0], rows[1]])], () => rows), []);
});
