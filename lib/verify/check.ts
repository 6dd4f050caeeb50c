/**
 * What one check of a verification reports: whether the design held, one line saying
 * what was checked, the first counterexample, and the rows behind it (written as CSV).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { rowsCsv } from "./check.ts";
 * assertEquals(rowsCsv([{ case: "flush", violations: 0 }, { case: "a,b", violations: 1 }]),
 *   'case,violations\nflush,0\n"a,b",1\n');
 * ```
 * @module
 */

import { formatCsv } from "../util/csv.ts";
import type { Counterexample } from "./counterexample.ts";
import type { VerifyCheck } from "./plan.ts";

/** A CSV row: column -> value. */
export type CheckRow = Record<string, string | number | boolean>;

/** The outcome of one check. */
export interface CheckResult {
  /** Which check. */
  readonly check: VerifyCheck;
  /**
   * `pass`: it held; `fail`: a counterexample; `info`: costs, no verdict of their own;
   * `skipped`: not run (`--only`).
   */
  readonly status: "pass" | "fail" | "info" | "skipped";
  /** One line: what was checked and what came of it. */
  readonly summary: string;
  /** The first counterexample (status `fail`). */
  readonly counterexample: Counterexample | null;
  /** The rows behind the check, one CSV. */
  readonly rows: readonly CheckRow[];
  /** Wall time, ms. */
  readonly elapsedMs: number;
}

/** A check that was not run. */
export function skipped(check: VerifyCheck): CheckResult {
  return {
    check,
    status: "skipped",
    summary: "not run",
    counterexample: null,
    rows: [],
    elapsedMs: 0,
  };
}

/** Progress of a check: units done of a total (the units are the check's own). */
export type ProgressFn = (done: number, total: number) => void;

/** Rows as CSV text with a header of the first row's columns (lib/util/csv.ts formats). */
export function rowsCsv(rows: readonly CheckRow[]): string {
  if (rows.length === 0) return "";
  const cols = Object.keys(rows[0]);
  return formatCsv(
    cols,
    rows.map((r) =>
      Object.fromEntries(
        cols.map((c) => [c, typeof r[c] === "boolean" ? (r[c] ? 1 : 0) : r[c] as string | number]),
      )
    ),
  );
}
