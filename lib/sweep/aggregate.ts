/**
 * What a sweep keeps of a replay: sums over all events and one sample per host unmap
 * event, aggregated on the fly from the per-event reports (none is kept), then reduced to
 * means, percentiles and maxima for one CSV row (lib/sweep/stats.ts).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { makeStrategy } from "../strategies/mod.ts";
 * import { replay } from "../trace/replay.ts";
 * import { parseTrace } from "../trace/trace.ts";
 * import { EventAggregate } from "./aggregate.ts";
 * const trace = parseTrace({
 *   name: "one-unmap",
 *   config: {
 *     hostGranule: "4K", paBits: 40, vcpus: 1,
 *     memslots: [{ id: 0, base: "1G", size: "1G", backing: "page" }],
 *     contexts: [{ id: 1, vmid: 1, granule: "4K", ipaBits: 40 }],
 *   },
 *   events: [
 *     { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
 *     { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G" },
 *     { op: "migrate", l1ipa: "1G", size: "4K" },
 *   ],
 * });
 * const agg = new EventAggregate();
 * replay(trace, makeStrategy("rmap"), { onEvent: (e) => agg.add(e) });
 * assertEquals([agg.events, agg.unmapDestroyed, agg.removedNeeded], [3, [1], 1]);
 * ```
 * @module
 */

import type { EventReport } from "../trace/replay.ts";
import { opClass } from "../trace/ops.ts";

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
  /** Sum of live shadow leaves after each event (for the mean). */
  shadowLeavesSum = 0;
  /** Most shadow table pages after any event. */
  peakTablePages = 0;
  /** Per unmap event: shadow leaves it destroyed (needed and collateral). */
  readonly unmapDestroyed: number[] = [];
  /** Per unmap event: shadow table pages it freed. */
  readonly unmapTablesFreed: number[] = [];
  /**
   * Per unmap event: its refault storm, the shadow faults of the guest accesses that follow
   * it before any other event.
   */
  readonly stormFaults: number[] = [];
  /** Per unmap event: the most storm faults one vCPU took. */
  readonly stormVcpuFaults: number[] = [];
  /** Per unmap event: storm faults on leaves the event removed as collateral. */
  readonly stormRefaults: number[] = [];
  private inStorm = false;
  private readonly perVcpu = new Map<number, number>();

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
    this.shadowLeavesSum += r.shadowLeaves;
    if (r.shadowTablePages > this.peakTablePages) this.peakTablePages = r.shadowTablePages;
    const cls = opClass(r.op);
    if (cls === "l2-access") {
      if (this.inStorm) {
        const k = this.stormFaults.length - 1;
        this.stormFaults[k] += r.faults;
        this.stormRefaults[k] += r.refaults;
        const n = (this.perVcpu.get(r.vcpu) ?? 0) + r.faults;
        this.perVcpu.set(r.vcpu, n);
        if (n > this.stormVcpuFaults[k]) this.stormVcpuFaults[k] = n;
      }
      return;
    }
    this.inStorm = false;
    this.perVcpu.clear();
    if (cls === "host-unmap") {
      this.unmapIterations.push(r.iterations);
      this.unmapDescriptors.push(r.descriptors);
      this.unmapDestroyed.push(r.removedNeeded + r.removedCollateral);
      this.unmapTablesFreed.push(r.tablesFreed);
      this.stormFaults.push(0);
      this.stormVcpuFaults.push(0);
      this.stormRefaults.push(0);
      this.inStorm = true;
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
