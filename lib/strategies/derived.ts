/**
 * What the index-based designs share once they have found the shadow leaves derived from a
 * canonical range: a flat list of (MMU index, shadow IPA, size) triples, and one shadow range
 * operation applied to each.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { eachFound } from "./derived.ts";
 * const seen: string[] = [];
 * eachFound(["a", "b"], [1, 4096, 4096, 0, 0, 2097152], (m, s, z) => seen.push(`${m}@${s}+${z}`));
 * assertEquals(seen, ["b@4096+4096", "a@0+2097152"]);
 * ```
 * @module
 */

/** Apply `op` to each (MMU index, shadow IPA, size) triple of `found`, MMUs from `mmus`. */
export function eachFound<M>(
  mmus: readonly M[],
  found: readonly number[],
  op: (mmu: M, shadowIpa: number, size: number) => void,
): void {
  for (let i = 0; i < found.length; i += 3) op(mmus[found[i]], found[i + 1], found[i + 2]);
}
