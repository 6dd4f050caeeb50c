/**
 * A sweep CSV with at least two values in every dimension of a configuration, for holding
 * the notebooks to "a line joins points of one configuration" (test/notebook_grid_test.ts,
 * .ci/notebooks.sh). It starts from CI's notebook grid (test/fixtures/notebooks/
 * notebook-ci.csv: `deno task sweep --grid notebook-ci`, a product of two granules, vCPU
 * counts, L1 sizes, alias densities and working sets) and, for every other dimension (each
 * grid dimension of lib/sweep/grid.ts, the contexts per vCPU, the seed and each cost-model
 * constant), adds a copy of those rows with that dimension at a second value and their
 * measured columns tripled, so that a figure joining the copies zig-zags. The copies are
 * not a product grid (one dimension changed at a time): what a notebook must do with them is
 * pin the dimensions it does not show, and say so.
 *
 *   deno run --allow-read --allow-write test/notebook_grid.ts OUT.csv
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { manyDimensionCsv } from "./notebook_grid.ts";
 * const { text } = manyDimensionCsv();
 * assert(text.split("\n").length > 1000);
 * ```
 * @module
 */

import { DIMENSIONS } from "../lib/sweep/grid.ts";
import { COST_FLAGS } from "../lib/sweep/spec.ts";
import { parseCsv } from "../lib/util/csv.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** The CSV the copies start from. */
export const BASE_CSV = `${ROOT}test/fixtures/notebooks/notebook-ci.csv`;

/** Columns that name a row or record its configuration: never tripled. */
function configColumns(): Set<string> {
  return new Set([
    "grid_id",
    "point",
    "points",
    "seed",
    "strategy",
    "insert_lock",
    "kvm_baseline",
    "contexts",
    "shadow_mmus",
    ...DIMENSIONS.flatMap((d) => (d.column ? [d.column] : [])),
    ...COST_FLAGS.map((f) => f.column),
    "soft_lockup_threshold_ns",
  ]);
}

/** A second value of a dimension whose rows all have `v`. */
function other(column: string, v: string): string {
  if (column === "backing") return v === "page" ? "thp" : "page";
  if (column === "l1_granule") return v === "4K" ? "64K" : "4K";
  if (column === "l2_ipa_bits") return String(Number(v) - 4);
  const n = Number(v);
  if (!Number.isFinite(n)) return `${v}-b`;
  if (n > 0 && n < 1) return String(n / 2);
  return String(n === 0 ? 1 : n * 2);
}

/** The CSV text and, per dimension added, its column. */
export function manyDimensionCsv(base = BASE_CSV): { text: string; added: string[] } {
  const { header, rows } = parseCsv(Deno.readTextFileSync(base));
  const config = configColumns();
  const out = rows.map((r) => ({ ...r }));
  const added: string[] = [];
  const columns = [
    ...DIMENSIONS.map((d) => d.column ?? "contexts"),
    "seed",
    ...COST_FLAGS.map((f) => f.column),
  ];
  for (const c of columns) {
    if (!header.includes(c)) continue;
    const values = new Set(rows.map((r) => r[c]));
    if (c !== "contexts" && values.size > 1) continue;
    if (c === "contexts" && new Set(rows.map((r) => Number(r[c]) / Number(r.vcpus))).size > 1) {
      continue;
    }
    added.push(c);
    for (const r of rows) {
      const copy: Record<string, string> = { ...r };
      copy[c] = c === "contexts" ? String(2 * Number(r.vcpus)) : other(c, r[c]);
      for (const k of header) {
        if (config.has(k)) continue;
        const n = Number(r[k]);
        if (r[k] !== "" && Number.isFinite(n) && n > 1) copy[k] = String(Math.round(n * 3));
      }
      out.push(copy);
    }
  }
  out.forEach((r, i) => (r.point = String(i)));
  for (const r of out) r.points = String(out.length / 7 | 0);
  const text = [header.join(","), ...out.map((r) => header.map((c) => r[c]).join(","))]
    .join("\n") + "\n";
  return { text, added };
}

if (import.meta.main) {
  const [outPath] = Deno.args;
  if (!outPath) {
    console.error("usage: deno run --allow-read --allow-write test/notebook_grid.ts OUT.csv");
    Deno.exit(2);
  }
  const { text, added } = manyDimensionCsv();
  Deno.writeTextFileSync(outPath, text);
  console.log(`${outPath}: notebook-ci.csv and a second value of ${added.join(", ")}`);
}
