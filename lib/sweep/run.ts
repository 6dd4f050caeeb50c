/**
 * One grid point of the sweep: generate its trace, replay it under the oracle with each
 * strategy (per-event reports aggregated on the fly, none kept), and return one
 * {@linkcode SweepRow} per strategy plus its wall time. Used by the sweep's workers, its
 * tests and its benchmarks.
 *
 * @example
 * ```ts
 * import { runPoint } from "./run.ts";
 * import { defaultWorkload } from "../workload.ts";
 * import { defaultCostModel } from "./costmodel.ts";
 * const params = { ...defaultWorkload(), vcpus: 1, l1Mem: 2 ** 30, pagesPerContext: 4 };
 * const r = runPoint({ gridId: "0", index: 0, points: 1, seed: 1, params }, ["full-walk"], defaultCostModel());
 * console.log(r.rows[0].strategy, r.rows[0].violations); // full-walk 0
 * ```
 * @module
 */

import { granule, levelSize } from "../granule.ts";
import { type EventReport, replay } from "../replay.ts";
import { makeStrategy } from "../strategies/mod.ts";
import { S2_MMU_PER_VCPU } from "../shadow.ts";
import {
  generateWorkload,
  normalizeBacking,
  type Workload,
  type WorkloadParams,
} from "../workload.ts";
import { type CostModel, estimateNs } from "./costmodel.ts";
import type { SweepRow } from "./schema.ts";

/** Host operations that reach ReverseMapStrategy.unmapCanonical(). */
export const UNMAP_OPS: ReadonlySet<string> = new Set([
  "numa-scan",
  "migrate",
  "swap-out",
  "thp-split",
  "memslot-delete",
]);

/** One grid point as the sweep schedules it. */
export interface PointSpec {
  /** The grid's id (schema column `grid_id`). */
  gridId: string;
  /** Index in the grid. */
  index: number;
  /** Points in the grid. */
  points: number;
  /** Sweep seed. */
  seed: number;
  /** Workload parameters. */
  params: WorkloadParams;
}

/** Wall time of one (point, strategy). */
export interface TimingRow {
  /** Schema column `grid_id`. */
  grid_id: string;
  /** Point index. */
  point: number;
  /** Strategy. */
  strategy: string;
  /** ms to generate the trace. */
  generate_ms: number;
  /** ms to replay it. */
  replay_ms: number;
  /** Events per second of replay. */
  events_per_s: number;
}

/** Rows of one point. */
export interface PointResult {
  /** One per strategy, in the order asked. */
  rows: SweepRow[];
  /** One per strategy. */
  timing: TimingRow[];
}

/** Nearest-rank percentile of ascending `sorted` (0 when empty). */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

/** Sums and per-unmap-event samples of a replay. */
export class EventAggregate {
  /** Events seen. */
  events = 0;
  /** Strategy iterations (chunks + steps). */
  iterations = 0;
  /** Strategy chunks. */
  chunks = 0;
  /** Strategy index steps. */
  steps = 0;
  /** Strategy descriptors. */
  descriptors = 0;
  /** Strategy iterations in wp events. */
  wpIterations = 0;
  /** Strategy iterations in l1-reboot events. */
  rebootIterations = 0;
  /** Engine iterations. */
  engineIterations = 0;
  /** Canonical stage-2 iterations. */
  canonicalIterations = 0;
  /** Removed by host unmap events, needed. */
  removedNeeded = 0;
  /** Removed by host unmap events, collateral. */
  removedCollateral = 0;
  /** Removed otherwise (reboot, TLBI, reset, remap). */
  removedOther = 0;
  /** Faults. */
  faults = 0;
  /** Refaults. */
  refaults = 0;
  /** Per unmap event: iterations. */
  readonly unmapIterations: number[] = [];
  /** Per unmap event: descriptors. */
  readonly unmapDescriptors: number[] = [];
  /** Per wp event: count. */
  wpEvents = 0;

  /** Add one event's report. */
  add(r: EventReport): void {
    this.events++;
    this.iterations += r.iterations;
    this.chunks += r.chunks;
    this.steps += r.steps;
    this.descriptors += r.descriptors;
    this.engineIterations += r.engineIterations;
    this.canonicalIterations += r.canonicalIterations;
    this.removedOther += r.removedOther;
    this.faults += r.faults;
    this.refaults += r.refaults;
    if (UNMAP_OPS.has(r.op)) {
      this.unmapIterations.push(r.iterations);
      this.unmapDescriptors.push(r.descriptors);
      this.removedNeeded += r.removedNeeded;
      this.removedCollateral += r.removedCollateral;
    } else {
      // The L1 reboot's ALLE1IS also runs through the strategy's unmap: not a host unmap.
      this.removedOther += r.removedNeeded + r.removedCollateral;
      if (r.op === "wp") {
        this.wpEvents++;
        this.wpIterations += r.iterations;
      } else if (r.op === "l1-reboot") {
        this.rebootIterations += r.iterations;
      }
    }
  }
}

const mean = (a: number[]) => (a.length === 0 ? 0 : a.reduce((s, x) => s + x, 0) / a.length);
const max = (a: number[]) => a.reduce((m, x) => (x > m ? x : m), 0);

/** The parameter columns of a point's rows. */
export function paramColumns(p: WorkloadParams, w: Workload): SweepRow {
  const hg = granule(p.granule);
  return {
    vcpus: p.vcpus,
    shadow_mmus: S2_MMU_PER_VCPU * p.vcpus,
    contexts: w.stats.contexts,
    l1_mem_bytes: p.l1Mem,
    memslots: p.memslots,
    backing: normalizeBacking(p.granule, p.backing),
    granule: p.granule,
    l1_granule: p.l1Granule,
    pa_bits: p.paBits,
    l2_ipa_bits: p.l2IpaBits,
    chunk_bytes: levelSize(hg, hg.minBlockLevel),
    alias: p.alias,
    pages_per_context: p.pagesPerContext,
    l1_block_fraction: p.l1BlockFraction,
    numa_fraction: p.numaFraction,
    numa_window_bytes: p.numaWindow,
    migrations_per_window: p.migrationsPerWindow,
  };
}

/** Replay a generated workload with one strategy and build its row. */
export function replayRow(pt: PointSpec, w: Workload, strategy: string, cost: CostModel): SweepRow {
  const agg = new EventAggregate();
  const r = replay(w.trace, makeStrategy(strategy), {
    keepEvents: false,
    onEvent: (e) => agg.add(e),
  });
  const it = agg.unmapIterations;
  const de = agg.unmapDescriptors;
  const est = it.map((n, i) => estimateNs(cost, n, de[i]));
  const sortedIt = it.slice().sort((a, b) => a - b);
  const sortedEst = est.slice().sort((a, b) => a - b);
  const estMax = max(est);
  return {
    grid_id: pt.gridId,
    point: pt.index,
    points: pt.points,
    seed: pt.seed,
    strategy,
    ...paramColumns(pt.params, w),
    events: agg.events,
    unmap_events: it.length,
    wp_events: agg.wpEvents,
    l1_mappings: w.stats.l1Mappings,
    alias_mappings: w.stats.aliasMappings,
    touched_bytes: w.stats.touchedBytes,
    valid_mmus: w.stats.validMmus,
    iterations_total: agg.iterations,
    chunks_total: agg.chunks,
    steps_total: agg.steps,
    unmap_iterations_mean: mean(it),
    unmap_iterations_p99: percentile(sortedIt, 0.99),
    unmap_iterations_max: max(it),
    descriptors_total: agg.descriptors,
    unmap_descriptors_mean: mean(de),
    unmap_descriptors_max: max(de),
    wp_iterations_total: agg.wpIterations,
    reboot_iterations_total: agg.rebootIterations,
    engine_iterations_total: agg.engineIterations,
    canonical_iterations_total: agg.canonicalIterations,
    removed_needed: agg.removedNeeded,
    removed_collateral: agg.removedCollateral,
    removed_other: agg.removedOther,
    faults: agg.faults,
    refaults: agg.refaults,
    peak_shadow_entries: r.peakShadowLeaves,
    peak_memory_bytes: r.peakMemoryBytes,
    memory_bytes_per_shadow_entry: r.peakShadowLeaves === 0
      ? 0
      : r.peakMemoryBytes / r.peakShadowLeaves,
    violations: r.violations,
    fallbacks: r.fallbacks,
    ns_per_iteration: cost.nsPerIteration,
    ns_per_descriptor: cost.nsPerDescriptor,
    unmap_est_ns_mean: Math.round(mean(est)),
    unmap_est_ns_p99: percentile(sortedEst, 0.99),
    unmap_est_ns_max: estMax,
    soft_lockup_threshold_ns: cost.softLockupNs,
    soft_lockup_events: est.filter((t) => t > cost.softLockupNs).length,
    soft_lockup: estMax > cost.softLockupNs ? 1 : 0,
  };
}

/** Generate a point's trace and replay it with each strategy. */
export function runPoint(
  pt: PointSpec,
  strategies: readonly string[],
  cost: CostModel,
): PointResult {
  const t0 = performance.now();
  const w = generateWorkload(pt.params, pt.seed);
  const generateMs = performance.now() - t0;
  const rows: SweepRow[] = [];
  const timing: TimingRow[] = [];
  for (const s of strategies) {
    const t1 = performance.now();
    rows.push(replayRow(pt, w, s, cost));
    const replayMs = performance.now() - t1;
    timing.push({
      grid_id: pt.gridId,
      point: pt.index,
      strategy: s,
      generate_ms: generateMs,
      replay_ms: replayMs,
      events_per_s: replayMs > 0 ? (w.trace.events.length * 1000) / replayMs : 0,
    });
  }
  return { rows, timing };
}
