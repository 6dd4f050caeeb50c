/**
 * The `rmap-bounded` budget sweep: one generated workload per alias density replayed with
 * `rmap-bounded` at each per-MMU budget, one CSV row per (alias, budget) with its fallbacks
 * to the full walk, its worst and mean unmap, its peak index memory and its violations
 * (`deno task budget` writes `results/budget.csv`, columns in `./budget_columns.ts`;
 * notebook 03 and the plots read it).
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { budgetSweep } from "./budget.ts";
 * const rows = budgetSweep({ aliases: [0], budgets: [1024], vcpus: 1, l1Mem: 2 ** 30, pagesPerContext: 16 });
 * assertEquals([rows.length, rows[0].violations], [1, 0]);
 * assertThrows(() => budgetSweep({ budgets: [1024, 0] }), RangeError, "0 is not a budget");
 * ```
 * @module
 */

import { makeStrategy } from "../strategies/mod.ts";
import { opClass } from "../trace/ops.ts";
import { replay } from "../trace/replay.ts";
import { defaultWorkload, generateWorkload, type WorkloadParams } from "../trace/workload.ts";
import { max, mean } from "./stats.ts";
import { columnsCsv } from "./columns.ts";
import { BUDGET_COLUMNS, type BudgetRow } from "./budget_columns.ts";

/** Options of {@linkcode budgetSweep}. */
export interface BudgetSweepOptions extends Partial<WorkloadParams> {
  /** Alias densities (default 0, 0.1, 0.5). */
  aliases?: number[];
  /** Budgets in bytes (default 1 KiB .. 256 KiB by powers of 2). */
  budgets?: number[];
  /** Trace seed (default 1, as the sweep's). */
  seed?: number;
}

/** The default budgets: 1 KiB to 256 KiB (the default) by powers of two. */
export const DEFAULT_BUDGETS: readonly number[] = Array.from(
  { length: 9 },
  (_, i) => 1024 * 2 ** i,
);

/**
 * Why `budget` cannot be a per-MMU budget of `rmap-bounded` (null when it can): a whole
 * number of bytes, at least one.
 */
export function budgetProblem(budget: number): string | null {
  return Number.isSafeInteger(budget) && budget >= 1
    ? null
    : `${budget} is not a budget (a per-MMU budget is a whole number of bytes, at least 1)`;
}

/**
 * Replay one generated workload per alias density with `rmap-bounded` at each budget
 * (default workload: 8 vCPUs, 4K, 4 GiB, 128 pages per context: about 10 s for 27 replays).
 * A budget that is no budget is a RangeError before any replay.
 */
export function budgetSweep(opts: BudgetSweepOptions = {}): BudgetRow[] {
  const { aliases = [0, 0.1, 0.5], budgets = [...DEFAULT_BUDGETS], seed = 1, ...rest } = opts;
  for (const b of budgets) {
    const problem = budgetProblem(b);
    if (problem) throw new RangeError(problem);
  }
  const out: BudgetRow[] = [];
  for (const alias of aliases) {
    const params: WorkloadParams = { ...defaultWorkload(), ...rest, alias };
    const w = generateWorkload(params, seed);
    for (const budget of budgets) {
      const it: number[] = [];
      const r = replay(w.trace, makeStrategy("rmap-bounded", { budget }), {
        keepEvents: false,
        onEvent: (e) => {
          if (opClass(e.op) === "host-unmap") it.push(e.iterations);
        },
      });
      out.push({
        budget,
        alias,
        vcpus: params.vcpus,
        granule: params.granule,
        validMmus: w.stats.validMmus,
        fallbacks: r.fallbacks,
        fallbackRate: w.stats.validMmus === 0 ? 0 : r.fallbacks / w.stats.validMmus,
        unmapEvents: it.length,
        unmapIterationsMax: max(it),
        unmapIterationsMean: mean(it),
        peakMemoryBytes: r.peakMemoryBytes,
        violations: r.violations,
      });
    }
  }
  return out;
}

/** The budget sweep as CSV text. */
export function budgetCsv(rows: readonly BudgetRow[]): string {
  return columnsCsv(BUDGET_COLUMNS, rows);
}
