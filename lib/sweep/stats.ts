/**
 * The statistics a sweep row reports of a list of samples: nearest-rank percentile, mean
 * and maximum, each 0 for no samples (a point without unmap events).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { max, mean, percentile } from "./stats.ts";
 * assertEquals(percentile([1, 2, 3, 4], 0.99), 4);
 * assertEquals(percentile(Array.from({ length: 200 }, (_, i) => i + 1), 0.99), 198);
 * assertEquals([mean([1, 2, 6]), max([3, 9, 1]), max([])], [3, 9, 0]);
 * ```
 * @module
 */

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
