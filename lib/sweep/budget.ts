/**
 * The `rmap-bounded` budget sweep: one generated workload per (vCPU count, host granule,
 * alias density) replayed with `rmap-bounded` at each per-MMU budget, one CSV row per
 * (vCPUs, granule, alias, budget) with its fallbacks to the full walk, its worst and mean unmap in iterations and
 * in estimated time (the sweep's cost model, lib/sweep/costmodel.ts, applied to each event
 * as the sweep applies it), its peak index memory and its violations (`deno task budget`
 * writes `results/budget.csv`, columns in `./budget_columns.ts`; notebook 03 and the plots
 * read it).
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { budgetSweep } from "./budget.ts";
 * const rows = budgetSweep({
 *   vcpus: [1], granules: ["4K"], aliases: [0], budgets: [1024], l1Mem: 2 ** 30, pagesPerContext: 16,
 * });
 * assertEquals([rows.length, rows[0].vcpus, rows[0].violations], [1, 1, 0]);
 * assertThrows(() => budgetSweep({ budgets: [1024, 0] }), RangeError, "0 is not a budget");
 * ```
 * @module
 */

import type { GranuleName } from "../kvm/granule.ts";
import { makeStrategy } from "../strategies/mod.ts";
import { replay } from "../trace/replay.ts";
import {
  autoPaBits,
  defaultWorkload,
  generateWorkload,
  type WorkloadParams,
} from "../trace/workload.ts";
import { EventAggregate } from "./aggregate.ts";
import { estimateNs } from "./costmodel.ts";
import { gridId } from "./grid.ts";
import { type CostBase, defaultCostBase } from "./spec.ts";
import { max, mean } from "./stats.ts";
import { columnsCsv } from "./columns.ts";
import { BUDGET_COLUMNS, type BudgetRow } from "./budget_columns.ts";

/**
 * The design the budget sweep replays.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { designNamed } from "../strategies/mod.ts";
 * import { BUDGET_STRATEGY } from "./budget.ts";
 * assertEquals(designNamed(BUDGET_STRATEGY).name, "rmap-bounded");
 * ```
 */
export const BUDGET_STRATEGY = "rmap-bounded";

/** The workload parameters the budget sweep sets itself, from its lists. */
type Swept = "vcpus" | "alias" | "granule" | "l1Granule" | "paBits";

/** Options of {@linkcode budgetSweep}: the workload's other parameters, and the sweep's lists. */
export interface BudgetSweepOptions extends Partial<Omit<WorkloadParams, Swept>> {
  /** vCPU counts (default {@linkcode DEFAULT_BUDGET_VCPUS}). */
  vcpus?: readonly number[];
  /**
   * Host granules (default {@linkcode DEFAULT_BUDGET_GRANULES}); L1's granule is the host's
   * and the PA size the granule's (48 bits, 52 for 64K), as the sweep's defaults make them.
   */
  granules?: readonly GranuleName[];
  /** Alias densities (default 0, 0.1, 0.5). */
  aliases?: readonly number[];
  /** Budgets in bytes (default 1 KiB .. 256 KiB by powers of 2). */
  budgets?: readonly number[];
  /** Trace seed (default 1, as the sweep's). */
  seed?: number;
  /** The cost model and where it comes from (default: lib/sweep/costmodel.ts's). */
  cost?: CostBase;
}

/** The default budgets: 1 KiB to 256 KiB (the default) by powers of two. */
export const DEFAULT_BUDGETS: readonly number[] = Array.from(
  { length: 9 },
  (_, i) => 1024 * 2 ** i,
);

/**
 * The default vCPU counts: the sweep's default workload (8) and its largest (192), whose
 * full walk covers 24 times as many shadow MMUs.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { defaultWorkload } from "../trace/workload.ts";
 * import { DIMENSIONS } from "./grid.ts";
 * import { DEFAULT_BUDGET_VCPUS } from "./budget.ts";
 * const sweep = DIMENSIONS.find((d) => d.flag === "vcpus")!.def.split(",").map(Number);
 * assertEquals(DEFAULT_BUDGET_VCPUS, [defaultWorkload().vcpus, Math.max(...sweep)]);
 * ```
 */
export const DEFAULT_BUDGET_VCPUS: readonly number[] = [8, 192];

/**
 * The default host granules: 4K, whose full walk is the shortest, and 64K (52-bit PA),
 * whose full walk is 32 times longer.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { autoPaBits } from "../trace/workload.ts";
 * import { DEFAULT_BUDGET_GRANULES } from "./budget.ts";
 * assertEquals(DEFAULT_BUDGET_GRANULES.map(autoPaBits), [48, 52]);
 * ```
 */
export const DEFAULT_BUDGET_GRANULES: readonly GranuleName[] = ["4K", "64K"];

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
 * Replay one generated workload per (vCPU count, granule, alias density) with
 * `rmap-bounded` at each budget (default workload otherwise: 4 GiB, 128 pages per
 * context). A budget that is no budget is a RangeError before any replay. Rows are in
 * grid order: vCPUs, then granule, then alias, then budget.
 */
export function budgetSweep(opts: BudgetSweepOptions = {}): BudgetRow[] {
  const {
    vcpus = DEFAULT_BUDGET_VCPUS,
    granules = DEFAULT_BUDGET_GRANULES,
    aliases = [0, 0.1, 0.5],
    budgets = DEFAULT_BUDGETS,
    seed = 1,
    cost = defaultCostBase(),
    ...rest
  } = opts;
  for (const b of budgets) {
    const problem = budgetProblem(b);
    if (problem) throw new RangeError(problem);
  }
  const workloads: WorkloadParams[] = vcpus.flatMap((v) =>
    granules.flatMap((granule) =>
      aliases.map((alias) => ({
        ...defaultWorkload(),
        ...rest,
        vcpus: v,
        granule,
        l1Granule: granule,
        paBits: autoPaBits(granule),
        alias,
      }))
    )
  );
  const id = gridId(workloads, seed, cost.model);
  const m = cost.model;
  const out: BudgetRow[] = [];
  for (const params of workloads) {
    const w = generateWorkload(params, seed);
    for (const budget of budgets) {
      const agg = new EventAggregate();
      const r = replay(w.trace, makeStrategy(BUDGET_STRATEGY, { budget }), {
        keepEvents: false,
        onEvent: (e) => agg.add(e),
      });
      const est = agg.unmapIterations.map((n, i) => estimateNs(m, n, agg.unmapDescriptors[i]));
      out.push({
        gridId: id,
        point: out.length,
        seed,
        strategy: BUDGET_STRATEGY,
        budget,
        alias: params.alias,
        vcpus: params.vcpus,
        granule: params.granule,
        l1Granule: params.l1Granule,
        paBits: params.paBits,
        validMmus: w.stats.validMmus,
        fallbacks: r.fallbacks,
        fallbackRate: w.stats.validMmus === 0 ? 0 : r.fallbacks / w.stats.validMmus,
        unmapEvents: agg.unmapIterations.length,
        unmapIterationsMax: max(agg.unmapIterations),
        unmapIterationsMean: mean(agg.unmapIterations),
        unmapDescriptorsMax: max(agg.unmapDescriptors),
        peakMemoryBytes: r.peakMemoryBytes,
        violations: r.violations,
        nsPerIteration: m.nsPerIteration,
        nsPerDescriptor: m.nsPerDescriptor,
        softLockupNs: m.softLockupNs,
        unmapEstNsMean: Math.round(mean(est)),
        unmapEstNsMax: max(est),
        costModel: cost.origin,
      });
    }
  }
  return out;
}

/** The budget sweep as CSV text. */
export function budgetCsv(rows: readonly BudgetRow[]): string {
  return columnsCsv(BUDGET_COLUMNS, rows);
}
