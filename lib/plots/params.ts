/**
 * The notebooks' parameters: every notebook opens with one code cell tagged
 * `parameters` that sets plain values (a CSV or trace path, the strategies, granules,
 * alias densities and working sets to keep, and the statistic of the per-event columns);
 * everything after it, figures and sentences alike, reads the rows
 * {@linkcode selectRows} keeps and the columns {@linkcode statColumn} names.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { selectRows, statColumn } from "./params.ts";
 * const rows = [
 *   { strategy: "rmap", granule: "4K", alias: 0, working_set_bytes: 0 },
 *   { strategy: "rmap", granule: "64K", alias: 0.5, working_set_bytes: 0 },
 * ];
 * assertEquals(selectRows(rows, { granules: ["64K"] }).length, 1);
 * assertEquals(statColumn("unmap_iterations", "p99"), "unmap_iterations_p99");
 * ```
 * @module
 */

import { formatSize, parseSize } from "../util/size.ts";
import { SWEEP_COLUMNS } from "../sweep/columns.ts";
import { type NumericColumn, REPO_ROOT, type SweepRecord } from "./results.ts";

/** The statistic of the per-event columns (`unmap_iterations_*`, `unmap_est_ns_*`, …). */
export type Statistic = "mean" | "p99" | "max";

/** What a notebook's `parameters` cell sets ([] or absent: keep everything in the CSV). */
export interface NotebookParams {
  /** Strategies to keep. */
  strategies?: readonly string[];
  /** Host granules to keep (4K, 16K, 64K). */
  granules?: readonly string[];
  /** Alias densities to keep. */
  aliases?: readonly number[];
  /** Working sets to keep, as sizes (`16M`) or bytes; 0 = the rows without one. */
  workingSets?: readonly (string | number)[];
  /** Statistic of the per-event columns (default max: one event is what the watchdog sees). */
  statistic?: Statistic;
}

/** The selection could not keep a row: the message says what the CSV has. */
export class SelectionError extends Error {
  /** Message naming the parameter and the values present. */
  constructor(message: string) {
    super(message);
    this.name = "SelectionError";
  }
}

/** Bytes of a working-set parameter value (`16M`, `0`, 16777216). */
export function workingSetParam(v: string | number): number {
  return typeof v === "number" ? v : parseSize(v);
}

/**
 * The rows the parameters keep. An empty list keeps every value; a value the CSV does not
 * have is an error naming the values it has (so a typo does not silently empty a figure).
 */
export function selectRows<R extends Record<string, string | number>>(
  rows: readonly R[],
  p: NotebookParams,
): R[] {
  const filters: [string, string, (string | number)[]][] = [];
  if (p.strategies && p.strategies.length > 0) {
    filters.push(["strategies", "strategy", [...p.strategies]]);
  }
  if (p.granules && p.granules.length > 0) filters.push(["granules", "granule", [...p.granules]]);
  if (p.aliases && p.aliases.length > 0) filters.push(["aliases", "alias", [...p.aliases]]);
  if (p.workingSets && p.workingSets.length > 0) {
    filters.push(["workingSets", "working_set_bytes", p.workingSets.map(workingSetParam)]);
  }
  let out = [...rows];
  for (const [param, col, want] of filters) {
    const have = [...new Set(rows.map((r) => r[col]))];
    const missing = want.filter((w) => !have.some((h) => h === w || Number(h) === Number(w)));
    if (missing.length > 0) {
      const show = (v: string | number) =>
        col === "working_set_bytes" ? formatSize(Number(v)) : String(v);
      throw new SelectionError(
        `${param}: ${missing.map(show).join(", ")} not in the CSV (it has ${
          have.map(show).join(", ")
        })`,
      );
    }
    out = out.filter((r) => want.some((w) => r[col] === w || Number(r[col]) === Number(w)));
  }
  if (out.length === 0) throw new SelectionError("the parameters keep no row of the CSV");
  return out;
}

/** The parameters' selection as a fact filter (lib/plots/takeaway.ts `Where`). */
export function paramsWhere(p: NotebookParams): Record<string, (string | number)[]> {
  const w: Record<string, (string | number)[]> = {};
  if (p.strategies && p.strategies.length > 0) w.strategy = [...p.strategies];
  if (p.granules && p.granules.length > 0) w.granule = [...p.granules];
  if (p.aliases && p.aliases.length > 0) w.alias = [...p.aliases];
  if (p.workingSets && p.workingSets.length > 0) {
    w.working_set_bytes = p.workingSets.map(workingSetParam);
  }
  return w;
}

/** The column of a per-event quantity under a statistic (`unmap_descriptors` has no p99). */
export function statColumn(
  base: "unmap_iterations" | "unmap_est_ns" | "unmap_descriptors" | "unmap_leaves_destroyed",
  stat: Statistic,
): NumericColumn {
  const name = `${base}_${stat}`;
  if (!SWEEP_COLUMNS.some((c) => c.name === name)) {
    throw new SelectionError(`${base} has no ${stat} column (see lib/sweep/columns.ts)`);
  }
  return name as NumericColumn;
}

/** How a statistic reads in prose: "worst", "mean", "99th-percentile". */
export function statWord(stat: Statistic): string {
  return stat === "max" ? "worst" : stat === "mean" ? "mean" : "99th-percentile";
}

/**
 * A path from a parameters cell: absolute as is, otherwise relative to the repository
 * root (so a notebook runs the same from any working directory).
 */
export function repoPath(path: string): string {
  return path.startsWith("/") ? path : REPO_ROOT + path.replace(/^\.\//, "");
}

/** One line saying what the parameters keep, for the top of a notebook. */
export function describeParams(
  rows: readonly SweepRecord[],
  kept: readonly SweepRecord[],
  p: NotebookParams,
): string {
  const list = (v: readonly (string | number)[] | undefined, all: string) =>
    v && v.length > 0 ? v.join(", ") : all;
  return `Parameters: strategies ${list(p.strategies, "all")}; granules ${
    list(p.granules, "all")
  }; alias densities ${list(p.aliases, "all")}; working sets ${
    list(p.workingSets, "all")
  }; statistic ${p.statistic ?? "max"}. They keep ${kept.length} of ${rows.length} rows.`;
}
