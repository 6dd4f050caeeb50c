/**
 * The two latency lines the cost figures draw beside iterations, each with its
 * kernel source, and the conversion between iterations and estimated seconds:
 *
 * - the soft-lockup threshold, 2 × watchdog_thresh: `watchdog_thresh = 10` and
 *   `get_softlockup_thresh()` returning `watchdog_thresh * 2` in kernel/watchdog.c
 *   (torvalds/linux @ 95def8fe33ed, quoted in docs/kernel-findings.md §11), so 20 s; the
 *   sweep's rows record it (`soft_lockup_threshold_ns`);
 * - a stricter line, CFS's targeted preemption latency: `sysctl_sched_latency = 6000000ULL`
 *   in kernel/sched/fair.c (torvalds/linux @ 000619680c37: "default: 6ms * (1 +
 *   ilog(ncpus))", normalized_sysctl_sched_latency = 6 ms). An unmap that holds a CPU
 *   past it, without rescheduling, delays every other runnable task on that CPU past one
 *   scheduling period; the factor 1 + ilog2(min(ncpus, 8)) makes it up to 24 ms on large
 *   machines, so 6 ms is the strict end.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { SCHED_LATENCY_NS, secondsToIterations } from "./latency.ts";
 * assertEquals(SCHED_LATENCY_NS, 6e6);
 * assertEquals(secondsToIterations(1, 20), 5e7);
 * ```
 * @module
 */

/** CFS's default targeted preemption latency (normalized_sysctl_sched_latency), ns. */
export const SCHED_LATENCY_NS = 6_000_000;

/** Where {@linkcode SCHED_LATENCY_NS} comes from, for figure notes. */
export const SCHED_LATENCY_SOURCE =
  "sysctl_sched_latency = 6000000ULL, kernel/sched/fair.c @ 000619680c37 (6 ms × (1 + ilog2(ncpus)), ncpus capped at 8)";

/**
 * Where a soft-lockup threshold of `softLockupNs` (the rows' `soft_lockup_threshold_ns`)
 * comes from, for figure notes: the watchdog_thresh it stands for.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "@std/assert";
 * import { softLockupSource } from "./latency.ts";
 * assertStringIncludes(softLockupSource(4e9), "watchdog_thresh = 2 (the CSV's");
 * ```
 */
export function softLockupSource(softLockupNs: number): string {
  const thresh = softLockupNs / 2e9;
  return `watchdog_thresh = ${thresh}` +
    (thresh === 10 ? " (the kernel's default)" : " (the CSV's; the kernel's default is 10)") +
    ", get_softlockup_thresh() = watchdog_thresh * 2, kernel/watchdog.c @ 95def8fe33ed";
}

/** Iterations that take `seconds` at `nsPerIteration` (descriptors included). */
export function secondsToIterations(seconds: number, nsPerIteration: number): number {
  return (seconds * 1e9) / nsPerIteration;
}

/** Seconds `iterations` take at `nsPerIteration`. */
export function iterationsToSeconds(iterations: number, nsPerIteration: number): number {
  return (iterations * nsPerIteration) / 1e9;
}
