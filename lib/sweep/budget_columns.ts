/**
 * The columns of `results/budget.csv` (`deno task budget`, lib/sweep/budget.ts): one row
 * per (vCPUs, host granule, alias density, `rmap-bounded` budget), the schema the plots read it by,
 * without the replay that makes it. A row is named as a sweep row is (grid id, point,
 * strategy), and records its seed and cost model as the sweep's rows do, by the same
 * column names, so that the notebooks' slicing and fact checker read it as they read a
 * sweep's.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { BUDGET_COLUMNS } from "./budget_columns.ts";
 * assertEquals(BUDGET_COLUMNS.slice(0, 5).map((c) => c.name),
 *   ["grid_id", "point", "seed", "strategy", "budget_bytes"]);
 * ```
 * @module
 */

import type { ColumnSpec } from "./columns.ts";

/** One replay of the budget sweep. */
export interface BudgetRow {
  /** Id of the budget sweep's grid (its workloads, seed and cost model). */
  gridId: string;
  /** Index of the row in its grid (vCPUs, then granule, then alias density, then budget). */
  point: number;
  /** Trace seed. */
  seed: number;
  /** The design replayed (`rmap-bounded`). */
  strategy: string;
  /** Per-MMU budget, bytes. */
  budget: number;
  /** Alias density. */
  alias: number;
  /** vCPUs of the workload. */
  vcpus: number;
  /** Host granule. */
  granule: string;
  /** L1's stage-2 granule. */
  l1Granule: string;
  /** Host PA size, bits. */
  paBits: number;
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
  /** Shadow descriptors visited by the unmap event that visited most. */
  unmapDescriptorsMax: number;
  /** Peak index bytes. */
  peakMemoryBytes: number;
  /** Oracle violations (must be 0). */
  violations: number;
  /** Cost model: ns per iteration. */
  nsPerIteration: number;
  /** Cost model: ns per descriptor visited. */
  nsPerDescriptor: number;
  /** Soft-lockup threshold (2 x watchdog_thresh), ns. */
  softLockupNs: number;
  /** Estimated ns of each unmap event (lib/sweep/costmodel.ts estimateNs): mean. */
  unmapEstNsMean: number;
  /** Estimated ns of each unmap event: maximum. */
  unmapEstNsMax: number;
  /** Where the cost model comes from (`default`, or a cost model file and what it is). */
  costModel: string;
}

/** Columns of `results/budget.csv`, one per {@linkcode BudgetRow} field. */
export const BUDGET_COLUMNS = [
  { name: "grid_id", type: "text", description: "id of the budget grid", get: (r) => r.gridId },
  { name: "point", type: "int", description: "row index in the grid", get: (r) => r.point },
  { name: "seed", type: "int", description: "trace seed", get: (r) => r.seed },
  { name: "strategy", type: "text", description: "the design replayed", get: (r) => r.strategy },
  { name: "budget_bytes", type: "int", description: "per-MMU budget", get: (r) => r.budget },
  { name: "alias", type: "real", description: "alias density", get: (r) => r.alias },
  { name: "vcpus", type: "int", description: "vCPUs of the workload", get: (r) => r.vcpus },
  { name: "granule", type: "text", description: "host granule", get: (r) => r.granule },
  {
    name: "l1_granule",
    type: "text",
    description: "L1's stage-2 granule",
    get: (r) => r.l1Granule,
  },
  { name: "pa_bits", type: "int", description: "host PA size, bits", get: (r) => r.paBits },
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
    name: "unmap_descriptors_max",
    type: "int",
    description: "shadow descriptors visited per unmap event: maximum",
    get: (r) => r.unmapDescriptorsMax,
  },
  {
    name: "peak_memory_bytes",
    type: "int",
    description: "peak index bytes",
    get: (r) => r.peakMemoryBytes,
  },
  { name: "violations", type: "int", description: "oracle violations", get: (r) => r.violations },
  {
    name: "ns_per_iteration",
    type: "real",
    description: "cost model: ns per iteration",
    get: (r) => r.nsPerIteration,
  },
  {
    name: "ns_per_descriptor",
    type: "real",
    description: "cost model: ns per descriptor visited",
    get: (r) => r.nsPerDescriptor,
  },
  {
    name: "soft_lockup_threshold_ns",
    type: "int",
    description: "soft-lockup threshold: 2 x watchdog_thresh",
    get: (r) => r.softLockupNs,
  },
  {
    name: "unmap_est_ns_mean",
    type: "int",
    description: "estimated time per unmap event: mean",
    get: (r) => r.unmapEstNsMean,
  },
  {
    name: "unmap_est_ns_max",
    type: "int",
    description: "estimated time per unmap event: maximum",
    get: (r) => r.unmapEstNsMax,
  },
  {
    name: "cost_model",
    type: "text",
    description: "where the cost model comes from (default, or a cost model file)",
    get: (r) => r.costModel,
  },
] as const satisfies readonly ColumnSpec<BudgetRow>[];
