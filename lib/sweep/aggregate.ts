/**
 * What a sweep keeps of a replay: sums over all events and one sample per host unmap
 * event, aggregated on the fly from the per-event reports (none is kept), then reduced to
 * means, percentiles and maxima for one CSV row.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { percentile } from "./aggregate.ts";
 * assertEquals(percentile([1, 2, 3, 4], 0.99), 4);
 * assertEquals(percentile(Array.from({ length: 200 }, (_, i) => i + 1), 0.99), 198);
 * ```
 * @module
 */

import type { EventReport } from "../trace/replay.ts";
import { opClass } from "../trace/ops.ts";

/** Nearest-rank percentile of ascending `sorted` (0 when empty). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

/** Arithmetic mean (0 when empty). */
export function mean(a: readonly number[]): number {
  return a.length === 0 ? 0 : a.reduce((s, x) => s + x, 0) / a.length;
}

/** Maximum of non-negative numbers (0 when empty). */
export function max(a: readonly number[]): number {
  return a.reduce((m, x) => (x > m ? x : m), 0);
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
    const cls = opClass(r.op);
    if (cls === "host-unmap") {
      this.unmapIterations.push(r.iterations);
      this.unmapDescriptors.push(r.descriptors);
      this.removedNeeded += r.removedNeeded;
      this.removedCollateral += r.removedCollateral;
    } else {
      // The L1 reboot's ALLE1IS also runs through the strategy's unmap: not a host unmap.
      this.removedOther += r.removedNeeded + r.removedCollateral;
      if (cls === "host-wp") {
        this.wpEvents++;
        this.wpIterations += r.iterations;
      } else if (cls === "l1-reboot") {
        this.rebootIterations += r.iterations;
      }
    }
  }
}
