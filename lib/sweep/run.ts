/**
 * One grid point of the sweep: generate its trace, replay it under the oracle with each
 * strategy (per-event reports aggregated on the fly, none kept), and return one
 * {@linkcode SweepRow} per strategy plus its wall time. Used by the sweep's workers, its
 * tests and its benchmarks.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { runPoint } from "./run.ts";
 * import { defaultWorkload } from "../trace/workload.ts";
 * import { defaultCostModel } from "./costmodel.ts";
 * const params = { ...defaultWorkload(), vcpus: 1, l1Mem: 2 ** 30, pagesPerContext: 4 };
 * const r = runPoint({ gridId: "0", index: 0, points: 1, seed: 1, params }, ["full-walk"], defaultCostModel());
 * assertEquals([r.rows[0].strategy, r.rows[0].violations], ["full-walk", 0]);
 * ```
 * @module
 */

import { S2_MMU_PER_VCPU } from "../kvm/nested.ts";
import { designNamed, makeStrategy } from "../strategies/mod.ts";
import { replay } from "../trace/replay.ts";
import { generateWorkload, type Workload } from "../trace/workload.ts";
import { opClass } from "../trace/ops.ts";
import { EventAggregate } from "./aggregate.ts";
import { InsertContention } from "./contention.ts";
import { type SweepRow, sweepRow, type TimingRow } from "./columns.ts";
import { type CostModel, estimateNs } from "./costmodel.ts";
import type { PointSpec } from "./grid.ts";

/** Wall time of one (point, strategy): a timing row but for the commit and cost model, which the sweep adds. */
export type PointTiming = Omit<TimingRow, "commit" | "cost_model">;

/** Rows of one point. */
export interface PointResult {
  /** One per strategy, in the order asked. */
  rows: SweepRow[];
  /** One per strategy. */
  timing: PointTiming[];
}

/** Options of {@linkcode runPoint} and {@linkcode replayRow}. */
export interface RunOptions {
  /**
   * The oracle checks every leaf after every event (default false: only the leaves each
   * event can affect, which finds the same violations; `--full-check`).
   */
  fullCheck?: boolean;
  /**
   * Called as the point's replays advance (at most every 256 events), with the fraction of
   * the point's work done: (strategies finished + events replayed / trace events) / strategies.
   */
  onProgress?: (fraction: number) => void;
}

/** Replay a generated workload with one strategy and build its row. */
export function replayRow(
  pt: PointSpec,
  w: Workload,
  strategy: string,
  cost: CostModel,
  opts: RunOptions = {},
): SweepRow {
  const agg = new EventAggregate();
  const contention = new InsertContention();
  const design = makeStrategy(strategy);
  const events = w.trace.events.length;
  const progress = opts.onProgress;
  const report = replay(w.trace, design, {
    keepEvents: false,
    fullCheck: opts.fullCheck ?? false,
    onEvent: (e) => {
      agg.add(e);
      if (opClass(e.op) !== "l2-access") contention.endPhase();
      if (progress && (e.index & 255) === 255) progress((e.index + 1) / events);
    },
    onShadowInsert: (vcpu, mmu, canonicalIpa, size) =>
      contention.insert(vcpu, mmu, canonicalIpa, size),
  });
  contention.endPhase();
  const unmapEstNs = agg.unmapIterations.map((n, i) =>
    estimateNs(cost, n, agg.unmapDescriptors[i])
  );
  return sweepRow({
    pt,
    stats: w.stats,
    strategy,
    shadowMmus: S2_MMU_PER_VCPU * pt.params.vcpus,
    agg,
    report,
    cost,
    sortedIterations: agg.unmapIterations.slice().sort((a, b) => a - b),
    unmapEstNs,
    sortedEstNs: unmapEstNs.slice().sort((a, b) => a - b),
    contention,
    insertLock: designNamed(strategy).insertLock,
    kvmBaseline: report.kvmBaseline,
  });
}

/** Generate a point's trace and replay it with each strategy. */
export function runPoint(
  pt: PointSpec,
  strategies: readonly string[],
  cost: CostModel,
  opts: RunOptions = {},
): PointResult {
  const t0 = performance.now();
  const w = generateWorkload(pt.params, pt.seed);
  const generateMs = performance.now() - t0;
  const rows: SweepRow[] = [];
  const timing: PointTiming[] = [];
  const onProgress = opts.onProgress;
  for (const [i, s] of strategies.entries()) {
    const t1 = performance.now();
    const sub = onProgress && ((f: number) => onProgress((i + f) / strategies.length));
    rows.push(replayRow(pt, w, s, cost, { ...opts, onProgress: sub }));
    onProgress?.((i + 1) / strategies.length);
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
