/**
 * The columns of `results/budget.csv` (`deno task budget`, lib/sweep/budget.ts): one row
 * per (alias density, `rmap-bounded` budget), the schema the plots read it by, without the
 * replay that makes it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { BUDGET_COLUMNS } from "./budget_columns.ts";
 * assertEquals(BUDGET_COLUMNS[0].name, "budget_bytes");
 * ```
 * @module
 */

import type { ColumnSpec } from "./columns.ts";

/** One replay of the budget sweep. */
export interface BudgetRow {
  /** Per-MMU budget, bytes. */
  budget: number;
  /** Alias density. */
  alias: number;
  /** vCPUs of the workload. */
  vcpus: number;
  /** Host granule. */
  granule: string;
  /** Shadow MMUs valid during the host activity. */
  validMmus: number;
  /** Times an MMU fell back to the full walk. */
  fallbacks: number;
  /** fallbacks / validMmus. */
  fallbackRate: number;
  /** Host unmap events. */
  unmapEvents: number;
  /** Iterations of the worst unmap event. */
  unmapIterationsMax: number;
  /** Mean iterations per unmap event. */
  unmapIterationsMean: number;
  /** Peak index bytes. */
  peakMemoryBytes: number;
  /** Oracle violations (must be 0). */
  violations: number;
}

/** Columns of `results/budget.csv`, one per {@linkcode BudgetRow} field. */
export const BUDGET_COLUMNS = [
  { name: "budget_bytes", type: "int", description: "per-MMU budget", get: (r) => r.budget },
  { name: "alias", type: "real", description: "alias density", get: (r) => r.alias },
  { name: "vcpus", type: "int", description: "vCPUs of the workload", get: (r) => r.vcpus },
  { name: "granule", type: "text", description: "host granule", get: (r) => r.granule },
  {
    name: "valid_mmus",
    type: "int",
    description: "shadow MMUs valid during the host activity",
    get: (r) => r.validMmus,
  },
  {
    name: "fallbacks",
    type: "int",
    description: "times an MMU fell back to the full walk",
    get: (r) => r.fallbacks,
  },
  {
    name: "fallback_rate",
    type: "real",
    description: "fallbacks / valid_mmus",
    get: (r) => r.fallbackRate,
  },
  {
    name: "unmap_events",
    type: "int",
    description: "host unmap events",
    get: (r) => r.unmapEvents,
  },
  {
    name: "unmap_iterations_max",
    type: "int",
    description: "iterations of the worst unmap event",
    get: (r) => r.unmapIterationsMax,
  },
  {
    name: "unmap_iterations_mean",
    type: "real",
    description: "mean iterations per unmap event",
    get: (r) => r.unmapIterationsMean,
  },
  {
    name: "peak_memory_bytes",
    type: "int",
    description: "peak index bytes",
    get: (r) => r.peakMemoryBytes,
  },
  { name: "violations", type: "int", description: "oracle violations", get: (r) => r.violations },
] as const satisfies readonly ColumnSpec<BudgetRow>[];
