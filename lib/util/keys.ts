/**
 * Strict keys for every input the lab reads (traces, scenarios, grid files, design
 * records): an object may hold only the keys its schema names, and an unknown key is
 * reported with the nearest valid one, so that a misspelling (`writeable`, `wirte`,
 * `paBit`) is an error rather than a silently ignored field.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { nearestKey, unknownKeys } from "./keys.ts";
 * const allowed = ["op", "ctx", "l2ipa", "l1ipa", "size", "writable"];
 * assertEquals(nearestKey("writeable", allowed), "writable");
 * assertEquals(nearestKey("vcpu", ["vcpus", "paBits"]), "vcpus");
 * assertEquals(nearestKey("colour", ["op", "ctx"]), undefined);
 * assertEquals(unknownKeys({ op: "l1-map", writeable: false }, allowed), [
 *   { key: "writeable", problem: 'unknown key "writeable" (did you mean "writable"?)' },
 * ]);
 * ```
 * @module
 */

/**
 * Optimal string alignment distance between `a` and `b` (Levenshtein with adjacent
 * transpositions, so `wirte` is one step from `write`).
 */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  // Three rows: two back (for transpositions), one back, this one.
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, prev2[j - 2] + 1);
      }
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n];
}

/**
 * The valid key nearest to `key` (case-insensitive edit distance at most 2, or at most a
 * third of the key's length for long keys), or `undefined` when none is close: a
 * suggestion must be likely to be what was meant.
 */
export function nearestKey(key: string, valid: Iterable<string>): string | undefined {
  const k = key.toLowerCase();
  const limit = Math.max(2, Math.floor(key.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const v of valid) {
    const d = editDistance(k, v.toLowerCase());
    if (d < bestD || (d === bestD && best !== undefined && v < best)) {
      best = v;
      bestD = d;
    }
  }
  return bestD <= limit && bestD < key.length ? best : undefined;
}

/** One key an object should not hold, and the sentence that says so. */
export interface UnknownKey {
  /** The key as written. */
  readonly key: string;
  /** `unknown key "k" (did you mean "x"?)`, or with the valid keys listed. */
  readonly problem: string;
}

/**
 * The keys of `o` that `valid` does not name, in the object's order, each with its
 * problem sentence: the nearest valid key when one is close, else the list of valid keys.
 */
export function unknownKeys(o: Record<string, unknown>, valid: Iterable<string>): UnknownKey[] {
  const names = [...valid];
  const set = new Set(names);
  const out: UnknownKey[] = [];
  for (const key of Object.keys(o)) {
    if (set.has(key)) continue;
    const near = nearestKey(key, names);
    const problem = near !== undefined
      ? `unknown key "${key}" (did you mean "${near}"?)`
      : `unknown key "${key}" (expected one of ${names.join(", ")})`;
    out.push({ key, problem });
  }
  return out;
}
