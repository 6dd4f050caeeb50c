/**
 * The sweep's cost model: an estimate of the time one host unmap event holds the CPU in
 * the nested part of the unmap, from the work the simulator counts, and the soft-lockup
 * test against it.
 *
 *     t(event) = iterations x nsPerIteration + descriptors x nsPerDescriptor
 *
 * `iterations` are the strategy's stage2_apply_range() chunks plus its index steps (one
 * kvm_pgtable_walk() call, or one tree node / list entry, each); `descriptors` are the
 * shadow descriptors its walks visited. The defaults (20 ns, 2 ns) are order-of-magnitude
 * figures for an arm64 server core: an empty chunk is a function call chain down to one
 * invalid descriptor plus the need_resched() test of cond_resched_rwlock_write(), a
 * descriptor read is a cached load and a branch. They make a 64K / 52-bit full walk of
 * 384 shadow MMUs (3.2 G iterations) take about a minute, and a 4K / 48-bit one about 2 s.
 * Change them with `--ns-per-iteration` / `--ns-per-descriptor`; every row records them.
 *
 * A refault storm (the shadow faults that follow an unmap while L2 re-touches its working
 * set) costs `faults x nsPerFault`. The default, 10 µs per nested shadow fault, is an
 * estimate of its order of magnitude, not a published measurement: the fault exits L2 to
 * L0 (a world switch each way), walks L1's stage-2 in guest memory (kvm_walk_nested_s2():
 * up to 4 descriptor reads), may fault the canonical stage-2 and the host page in, maps
 * the shadow leaf and, with the designs that index, inserts into the index. Nested exits
 * on arm64 cost several µs each; set it with `--ns-per-fault` from a measurement on your
 * hardware (e.g. the generated selftest timed around a storm). `storm_vcpu_est_ns_max`
 * is what one vCPU waits, `storm_est_ns_max` the CPU time over every vCPU.
 *
 * The estimate assumes the walk does not reschedule (the MMU notifier's non-blocking
 * path, or a holder of mmu_lock the walk cannot yield to): the watchdog reports a soft
 * lockup when a CPU has not scheduled for 2 x watchdog_thresh (10 s by default) = 20 s.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { defaultCostModel, estimateNs } from "./costmodel.ts";
 * const m = defaultCostModel();
 * assertEquals(estimateNs(m, 262144 * 384, 262144 * 384), 2214592512);
 * assertEquals(m.softLockupNs, 20e9);
 * ```
 * @module
 */

/** The cost model's constants. */
export interface CostModel {
  /** ns per strategy iteration (stage2_apply_range() chunk or index step). */
  nsPerIteration: number;
  /** ns per shadow descriptor visited. */
  nsPerDescriptor: number;
  /** Soft-lockup threshold: 2 x watchdog_thresh, in ns. */
  softLockupNs: number;
  /** ns per shadow fault of a refault storm (an estimate; see the module doc). */
  nsPerFault: number;
}

/** Default ns per shadow fault (an order-of-magnitude estimate, see the module doc). */
export const DEFAULT_NS_PER_FAULT = 10_000;

/** Default watchdog_thresh (kernel/watchdog.c), seconds. */
export const DEFAULT_WATCHDOG_THRESH_S = 10;

/** 20 ns per iteration, 2 ns per descriptor, threshold 2 x 10 s, 10 µs per fault. */
export function defaultCostModel(): CostModel {
  return {
    nsPerIteration: 20,
    nsPerDescriptor: 2,
    softLockupNs: 2 * DEFAULT_WATCHDOG_THRESH_S * 1e9,
    nsPerFault: DEFAULT_NS_PER_FAULT,
  };
}

/** Estimated ns for one event's work (rounded to a whole ns). */
export function estimateNs(m: CostModel, iterations: number, descriptors: number): number {
  return Math.round(iterations * m.nsPerIteration + descriptors * m.nsPerDescriptor);
}
