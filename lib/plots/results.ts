/**
 * The one loader of results, shared by the notebooks and `deno task plots`: the figures
 * read CSV files and nothing else. It finds the sweep CSV (an explicit path,
 * `$S2LAB_SWEEP_CSV`, or the committed `results/sweep.csv`), fails with one message naming
 * a missing file, checks that the columns the figures read are there (by name, as
 * lib/sweep/columns.ts says), and turns the numeric columns into numbers by their schema
 * type. A row is read by column names of that schema ({@linkcode SweepRecord}): a name
 * the schema does not have is a type error, and a column the file lacks throws, naming
 * the column and the file. The other result files (`results/budget.csv`, the timeline's)
 * load the same way.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { num, parseSweep, ResultsFormatError } from "./results.ts";
 * const rows = parseSweep("strategy,vcpus,alias,violations\nrmap,8,0.5,0\n", "inline", ["strategy", "vcpus"]);
 * assertEquals([num(rows[0], "vcpus") + 1, rows[0].strategy], [9, "rmap"]);
 * assertThrows(() => num(rows[0], "shadow_mmus"), ResultsFormatError, 'inline: no column "shadow_mmus"');
 * ```
 * @module
 */

import { SWEEP_COLUMNS, type SweepColumn, type SweepRow } from "../sweep/columns.ts";
import { parseCsv } from "../util/csv.ts";

/**
 * A sweep row read from a CSV: each column of the schema by name, numeric columns as
 * numbers, text columns as strings. Reading a column the file lacks throws a
 * {@linkcode ResultsFormatError} naming the column and the file.
 */
export type SweepRecord = Readonly<SweepRow>;

/** A numeric column of the sweep CSV. */
export type NumericColumn = {
  [C in keyof SweepRow]: SweepRow[C] extends number ? C : never;
}[keyof SweepRow];

/** The committed results, `results/sweep.csv` at the repository root. */
export const COMMITTED_SWEEP_CSV: string = decodeURIComponent(
  new URL("../../results/sweep.csv", import.meta.url).pathname,
);

/** The repository root (ends with a slash). */
export const REPO_ROOT: string = decodeURIComponent(new URL("../../", import.meta.url).pathname);

/** A path relative to the repository root when it is inside it (for printed output). */
export function displayPath(path: string): string {
  return path.startsWith(REPO_ROOT) ? path.slice(REPO_ROOT.length) : path;
}

/** Environment variable that points the notebooks at another CSV. */
export const SWEEP_CSV_ENV = "S2LAB_SWEEP_CSV";

/** The CSV to read by default: `$S2LAB_SWEEP_CSV` when set, else the committed one. */
export function defaultSweepPath(): string {
  let env: string | undefined;
  try {
    env = Deno.env.get(SWEEP_CSV_ENV);
  } catch {
    env = undefined; // no --allow-env: the committed file
  }
  return env && env.length > 0 ? env : COMMITTED_SWEEP_CSV;
}

/** The results file is not there (or unreadable): the message names it and how to make it. */
export class ResultsMissingError extends Error {
  /** The path that was looked for. */
  readonly path: string;
  /** Message naming `path`, what it is and how to make it. */
  constructor(
    path: string,
    why: string,
    what = "sweep results",
    how = "Run `deno task sweep` to write results/sweep.csv, or pass the path of your own " +
      `CSV (or set ${SWEEP_CSV_ENV}).`,
  ) {
    super(`${what} not found: ${path} (${why}). ${how}`);
    this.name = "ResultsMissingError";
    this.path = path;
  }
}

/** The results file exists but is not a sweep CSV the figures can read. */
export class ResultsFormatError extends Error {
  /** Message naming the file and the problem. */
  constructor(message: string) {
    super(message);
    this.name = "ResultsFormatError";
  }
}

/** Columns every figure reads (a CSV without them is not a sweep CSV). */
export const REQUIRED_COLUMNS: readonly SweepColumn[] = [
  "strategy",
  "granule",
  "vcpus",
  "shadow_mmus",
  "l1_mem_bytes",
  "alias",
  "unmap_events",
  "unmap_iterations_max",
  "unmap_descriptors_max",
  "violations",
  "fallbacks",
  "removed_needed",
  "removed_collateral",
  "memory_bytes_per_shadow_entry",
  "valid_mmus",
  "ns_per_iteration",
  "ns_per_descriptor",
  "soft_lockup_threshold_ns",
  "unmap_est_ns_max",
  "soft_lockup",
];

const NUMERIC = new Set(
  SWEEP_COLUMNS.filter((c) => c.type !== "text").map((c) => c.name),
);

/**
 * Parse CSV text whose numeric columns are `numeric` (`source` names it in errors): a
 * non-number there is an error naming row and column; other columns stay text.
 */
export function parseTyped(
  text: string,
  source: string,
  numeric: ReadonlySet<string>,
  required: readonly string[],
  what = "CSV",
): Record<string, string | number>[] {
  let parsed;
  try {
    parsed = parseCsv(text);
  } catch (e) {
    throw new ResultsFormatError(`${source}: not a CSV: ${(e as Error).message}`);
  }
  const missing = required.filter((c) => !parsed.header.includes(c));
  if (missing.length > 0) {
    throw new ResultsFormatError(
      `${source}: not a ${what}: missing column(s) ${missing.join(", ")} ` +
        `(see lib/sweep/columns.ts)`,
    );
  }
  if (parsed.rows.length === 0) {
    throw new ResultsFormatError(`${source}: has a header but no rows`);
  }
  return parsed.rows.map((r, i) => {
    const out: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(r)) {
      if (numeric.has(k)) {
        const n = Number(v);
        if (v.trim() === "" || !Number.isFinite(n)) {
          throw new ResultsFormatError(
            `${source}: row ${i + 2}, column ${k}: "${v}" is not a number`,
          );
        }
        out[k] = n;
      } else out[k] = v;
    }
    return out;
  });
}

/**
 * Parse sweep CSV text (`source` names it in errors). Columns are read by name; numeric
 * schema columns become numbers (a non-number is an error naming row and column);
 * columns not in the schema are kept as text. A schema column the file lacks throws when
 * a row's is read (see {@linkcode SweepRecord}).
 */
export function parseSweep(
  text: string,
  source: string,
  required: readonly SweepColumn[] = REQUIRED_COLUMNS,
): SweepRecord[] {
  // Every row's prototype: a getter per schema column, reached only when the row lacks it.
  const absent: PropertyDescriptorMap = {};
  for (const c of SWEEP_COLUMNS) {
    absent[c.name] = {
      get: () => {
        throw new ResultsFormatError(
          `${source}: no column "${c.name}" (a sweep CSV of another version? see lib/sweep/columns.ts)`,
        );
      },
    };
  }
  const origin = { path: source, rows: [] as SweepRecord[] };
  absent[SOURCE] = { value: origin };
  const proto = Object.create(Object.prototype, absent);
  const own = (v: string | number): PropertyDescriptor => ({
    value: v,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  const rows = parseTyped(text, source, NUMERIC, required, "sweep CSV").map((r) => {
    const props: PropertyDescriptorMap = {};
    for (const [k, v] of Object.entries(r)) props[k] = own(v);
    return Object.create(proto, props) as SweepRecord;
  });
  origin.rows = rows;
  return rows;
}

/** Where every row parseSweep reads keeps its file and the file's rows (not enumerable). */
const SOURCE: unique symbol = Symbol("s2lab.source");

/** The file rows were read from and all of its rows (undefined for rows made in code). */
export function sourceOf(
  rows: readonly Record<string, unknown>[],
): { path: string; rows: readonly SweepRecord[] } | undefined {
  const r = rows[0] as { [SOURCE]?: { path: string; rows: readonly SweepRecord[] } } | undefined;
  return r?.[SOURCE];
}

/**
 * Mark rows read from `path` (another results file than a sweep's, such as the budget
 * sweep's) as {@linkcode parseSweep} marks its rows, so that {@linkcode sourceOf} finds
 * their file and all of its rows; returns `rows`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { markSource, sourcePath } from "./results.ts";
 * const rows = markSource([{ budget_bytes: 1024 }], "results/budget.csv");
 * assertEquals([sourcePath(rows), Object.keys(rows[0])], ["results/budget.csv", ["budget_bytes"]]);
 * ```
 */
export function markSource<R extends Record<string, string | number>>(
  rows: R[],
  path: string,
): R[] {
  const origin = { path, rows: rows as unknown as SweepRecord[] };
  for (const r of rows) Object.defineProperty(r, SOURCE, { value: origin });
  return rows;
}

/** The path rows were read from ("" for rows made in code). */
export function sourcePath(rows: readonly Record<string, unknown>[]): string {
  return sourceOf(rows)?.path ?? "";
}

/**
 * A fact filter that selects exactly `rows` among their file's rows when they were kept by
 * filters on `columns` (a notebook's parameters: strategy, granule, alias, working set):
 * each of those columns whose values in `rows` are fewer than in the file, with the values
 * `rows` have.
 */
export function selectionWhere(
  rows: readonly SweepRecord[],
  columns: readonly string[],
): Record<string, (string | number)[]> {
  const src = sourceOf(rows);
  if (!src || rows.length === 0) return {};
  const where: Record<string, (string | number)[]> = {};
  for (const c of columns) {
    if (!Object.hasOwn(rows[0], c)) continue;
    const col = c as SweepColumn;
    const all = new Set(src.rows.map((r) => r[col]));
    const kept = distinct(rows, col);
    if (kept.length < all.size) where[c] = kept;
  }
  return where;
}

/**
 * Read a results file's text; a missing file is a {@linkcode ResultsMissingError} saying
 * `what` it is and `how` to make it (default: the sweep's).
 */
export async function readResults(path: string, what?: string, how?: string): Promise<string> {
  const missing = (why: string) => new ResultsMissingError(path, why, what, how);
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw missing("no such file");
    if (e instanceof Deno.errors.IsADirectory) throw missing("a directory, not a CSV file");
    throw missing((e as Error).message);
  }
}

/**
 * Read the sweep CSV at `path` (default {@linkcode defaultSweepPath}). Throws
 * {@linkcode ResultsMissingError} naming the file when it is absent, and
 * {@linkcode ResultsFormatError} when it is not a sweep CSV.
 */
export async function loadSweep(path: string = defaultSweepPath()): Promise<SweepRecord[]> {
  return parseSweep(await readResults(path), path);
}

/** A numeric column of a row (throws naming the column and the file when it lacks it). */
export function num(r: SweepRecord, col: NumericColumn): number {
  return r[col];
}

/** Distinct values of a column, ascending (numbers) or in first-seen order (text). */
export function distinct(rows: readonly SweepRecord[], col: SweepColumn): (string | number)[] {
  const seen: (string | number)[] = [];
  const set = new Set<string | number>();
  for (const r of rows) {
    const v = r[col];
    if (!set.has(v)) {
      set.add(v);
      seen.push(v);
    }
  }
  return seen.every((v) => typeof v === "number") ? (seen as number[]).sort((a, b) => a - b) : seen;
}

/** The largest scale in the results: most vCPUs and most L1 memory (the published one). */
export interface Scale {
  /** vCPUs. */
  vcpus: number;
  /** Shadow MMUs at that many vCPUs. */
  shadowMmus: number;
  /** L1 memory, bytes. */
  l1MemBytes: number;
}

/** The largest vCPU count and L1 memory present (192 vCPUs / 384 MMUs, 256 GiB by default). */
export function largestScale(rows: readonly SweepRecord[]): Scale {
  const vcpus = Math.max(...rows.map((r) => num(r, "vcpus")));
  const l1MemBytes = Math.max(...rows.map((r) => num(r, "l1_mem_bytes")));
  const mmus = rows.find((r) => num(r, "vcpus") === vcpus);
  return { vcpus, shadowMmus: mmus ? num(mmus, "shadow_mmus") : 2 * vcpus, l1MemBytes };
}

/**
 * Group rows by key columns and reduce a value column with `max` (the worst case over
 * every dimension not in the key: a user's grid may vary more than the default one).
 */
export function maxBy(
  rows: readonly SweepRecord[],
  keys: readonly SweepColumn[],
  value: NumericColumn,
): Record<string, string | number>[] {
  const groups = new Map<string, Record<string, string | number>>();
  for (const r of rows) {
    const k = JSON.stringify(keys.map((c) => r[c]));
    const v = num(r, value);
    const g = groups.get(k);
    if (!g) {
      const o: Record<string, string | number> = {};
      for (const c of keys) o[c] = r[c];
      o[value] = v;
      o.n = 1;
      groups.set(k, o);
    } else {
      g[value] = Math.max(g[value] as number, v);
      g.n = (g.n as number) + 1;
    }
  }
  return [...groups.values()];
}
