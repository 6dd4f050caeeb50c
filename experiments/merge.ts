/**
 * `deno task merge --out FILE [--force] <file.csv>...`: join the shards of one sweep
 * (`deno task sweep --shard i/n`) into one file, written atomically. It writes only where
 * `--out` (and `--timing`) say, and never replaces an existing file without `--force`. Inputs are told apart
 * by their header: sweep rows go to `--out`, timing rows (`*.timing.csv`) to `--timing`.
 * The output files themselves are skipped when a glob names them.
 *
 * Checked before anything is written (else one line on stderr, exit 2): every row comes
 * from the same grid (`grid_id`, `points`), no (point, strategy) appears twice, and every
 * strategy present has a row for every point of the grid. Rows come out in point order,
 * strategies in the order the shards list them, so merging the shards of a grid gives
 * the same bytes as running it unsharded.
 *
 * @module
 */

import { SWEEP_HEADER, TIMING_HEADER } from "../lib/sweep/columns.ts";
import { formatCsv } from "../lib/util/csv.ts";
import { checkOutputFile, fail, parseCli, readCsvInput, writeOutput } from "./cli.ts";

const USAGE = `usage: deno task merge --out FILE [--timing FILE] [--force] [--quiet] <shard.csv>...
  Joins sweep shards (deno task sweep --shard i/n) into one CSV, checked for rows from
  another grid, duplicate (point, strategy) rows and missing points.
  --out FILE      merged sweep CSV (required)
  --timing FILE   merged timing CSV, from the *.timing.csv inputs (default <out>.timing.csv)
  --force         replace --out / --timing when they exist
  --quiet         no summary line on stderr
exit status: 0 merged, 1 the write failed, 2 bad input (nothing written)`;

type Row = Record<string, string>;

function resolve(p: string): string {
  try {
    return Deno.realPathSync(p);
  } catch {
    return p;
  }
}

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    out: { type: "string" },
    timing: { type: "string" },
    force: { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
  }, true);
  const out = args.values.out;
  if (out === undefined) fail("--out FILE is required (merge writes nowhere else; see --help)");
  const timing = args.values.timing ??
    (out.endsWith(".csv") ? `${out.slice(0, -4)}.timing.csv` : `${out}.timing.csv`);
  const skip = new Set([resolve(out), resolve(timing)]);
  const inputs = args.positionals.filter((p: string) => !skip.has(resolve(p)));
  if (inputs.length === 0) fail("no input files (the output files are skipped; see --help)");
  checkOutputFile("--out", out, { force: args.values.force });

  const sweepFiles: [string, Row[]][] = [];
  const timingFiles: [string, Row[]][] = [];
  for (const path of inputs) {
    // Streamed (a shard of a big grid need not fit in memory as one string).
    const { header, rows } = await readCsvInput(path, "CSV file");
    const h = header.join(",");
    if (h === SWEEP_HEADER.join(",")) sweepFiles.push([path, rows]);
    else if (h === TIMING_HEADER.join(",")) timingFiles.push([path, rows]);
    else fail(`${path}: not a sweep or timing CSV of this version (header differs)`);
  }
  if (sweepFiles.length === 0) fail("no sweep CSV among the inputs (only timing files)");
  if (timingFiles.length > 0) checkOutputFile("--timing", timing, { force: args.values.force });

  // One grid.
  const [firstPath, firstRows] = sweepFiles.find(([, r]) => r.length > 0) ?? sweepFiles[0];
  if (firstRows.length === 0) fail("every input is empty");
  const grid = firstRows[0].grid_id, points = Number(firstRows[0].points);
  if (!/^[1-9][0-9]*$/.test(firstRows[0].points)) {
    fail(`${firstPath}: row 1: points "${firstRows[0].points}" is not a positive whole number`);
  }
  /** The row's point, checked to be one of the grid's. */
  const pointOf = (path: string, r: Row, i: number): number => {
    const p = Number(r.point);
    if (!/^[0-9]+$/.test(r.point) || p >= points) {
      fail(`${path}: row ${i + 1}: point "${r.point}" is not one of the grid's 0..${points - 1}`);
    }
    return p;
  };
  const order: string[] = [];
  const byKey = new Map<string, [string, Row]>();
  for (const [path, rows] of sweepFiles) {
    for (const [i, r] of rows.entries()) {
      if (r.grid_id !== grid || r.points !== firstRows[0].points) {
        fail(
          `${path}: point ${r.point} is from grid ${r.grid_id} (${r.points} points), ` +
            `${firstPath} from grid ${grid} (${points} points)`,
        );
      }
      const p = pointOf(path, r, i);
      if (!order.includes(r.strategy)) order.push(r.strategy);
      const k = `${p}\t${r.strategy}`;
      const prev = byKey.get(k);
      if (prev) fail(`duplicate row: point ${r.point} ${r.strategy} in ${prev[0]} and ${path}`);
      byKey.set(k, [path, r]);
    }
  }
  // Strategy order: as the first file lists them within a point.
  const missing: string[] = [];
  const rows: Row[] = [];
  for (let p = 0; p < points; p++) {
    for (const s of order) {
      const e = byKey.get(`${p}\t${s}`);
      if (!e) missing.push(`point ${p} ${s}`);
      else rows.push(e[1]);
    }
  }
  if (missing.length > 0) {
    fail(
      `${missing.length} (point, strategy) row(s) missing for grid ${grid} (${points} points), ` +
        `e.g. ${missing.slice(0, 3).join(", ")}`,
    );
  }
  const trows: Row[] = [];
  const tseen = new Set<string>();
  for (const [path, rs] of timingFiles) {
    for (const [i, r] of rs.entries()) {
      if (r.grid_id !== grid) fail(`${path}: timing rows from grid ${r.grid_id}, not ${grid}`);
      const k = `${pointOf(path, r, i)}\t${r.strategy}`;
      if (tseen.has(k)) fail(`duplicate timing row: point ${r.point} ${r.strategy} in ${path}`);
      tseen.add(k);
      trows.push(r);
    }
  }
  const rank = new Map(order.map((s, i) => [s, i]));
  trows.sort((a, b) =>
    Number(a.point) - Number(b.point) || rank.get(a.strategy)! - rank.get(b.strategy)!
  );

  await writeOutput("--out", out, formatCsv(SWEEP_HEADER, rows));
  if (timingFiles.length > 0) {
    await writeOutput("--timing", timing, formatCsv(TIMING_HEADER, trows));
  }
  if (!args.values.quiet) {
    console.error(
      `merged ${sweepFiles.length} file(s) into ${out}: ${rows.length} rows (${points} points x ` +
        `${order.length} strategies)` + (timingFiles.length > 0 ? `; timing into ${timing}` : ""),
    );
  }
}

await main();
