/**
 * An ordered set of numeric keys (up to 2^53, exact) kept as a two-level sorted list:
 * blocks of at most {@linkcode SORTED_KEYS_BLOCK} keys, each sorted, searched by binary
 * search over the blocks and then inside one. It answers "every key in [from, to)" with
 * one search plus one step per key, which is what a range query over a B-tree costs.
 *
 * Each block is a `Float64Array` (up to `2 × SORTED_KEYS_BLOCK + 1` keys, grown by a quarter
 * at a time; the lower half of a split is cut to its size) with its length beside it: off
 * the JS heap.
 *
 * Steps are counted as comparisons of the two binary searches
 * (⌈log2(blocks + 1)⌉ + ⌈log2(block length + 1)⌉, about ⌈log2(n + 1)⌉ + 1), plus one per
 * key visited.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { SortedKeys } from "./sorted_keys.ts";
 * const s = new SortedKeys();
 * for (const k of [40, 10, 30, 20]) s.insert(k);
 * const seen: number[] = [];
 * s.forRange(15, 35, (k) => seen.push(k));
 * assertEquals([seen, s.size], [[20, 30], 4]);
 * ```
 * @module
 */

/** Keys per block before it splits in two. */
export const SORTED_KEYS_BLOCK = 256;

/** ⌈log2 n⌉ of a whole number below 2^31 (its bit length less one for powers of two). */
const ceilLog2 = (n: number) => (n <= 1 ? 0 : 32 - Math.clz32(n - 1));

/** Room of a full block: it splits when a key would make it longer than 2 × the block. */
const BLOCK_ROOM = 2 * SORTED_KEYS_BLOCK + 1;

/** A sorted set of numbers with range iteration. */
export class SortedKeys {
  /** The blocks, each sorted; keys at [0, lens[b]) of blocks[b]. */
  private blocks: Float64Array[] = [];
  private lens: number[] = [];
  /** The first key of each block (one flat array for the search over blocks). */
  private firsts: number[] = [];
  /** Keys held. */
  size = 0;
  /** Result of the last search: block, index in it, and whether the key was there. */
  private at = 0;
  private atIndex = 0;
  private found = false;
  /** Steps the last search and iteration took. */
  lastSteps = 0;
  /** Result of {@linkcode neighbors}, {@linkcode insert}, {@linkcode remove}: the key below. */
  pred = NaN;
  /** Result of {@linkcode neighbors}, {@linkcode insert}, {@linkcode remove}: the key above. */
  succ = NaN;

  /** Index of the block that holds `k` or where it would go. */
  private blockFor(k: number): number {
    const f = this.firsts;
    let lo = 0, hi = f.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (f[mid] <= k) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** First index of the `n` keys of `a` whose key is not below `k`. */
  private static lowerBound(a: Float64Array, n: number, k: number): number {
    let lo = 0, hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid] < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Add `k` (no-op if present). Returns the steps the search took; the keys just below
   * and above it are left in `pred` and `succ` (NaN where there is none).
   */
  insert(k: number): number {
    this.pred = NaN;
    this.succ = NaN;
    if (this.blocks.length === 0) {
      const a = new Float64Array(8);
      a[0] = k;
      this.blocks.push(a);
      this.lens.push(1);
      this.firsts.push(k);
      this.size = 1;
      return 1;
    }
    // After the last key (keys added in order): where the search would end, without it.
    const last = this.blocks.length - 1;
    const steps = k > this.blocks[last][this.lens[last] - 1] ? this.atEnd() : this.search(k);
    if (this.found) return steps;
    const bi = this.at, i = this.atIndex;
    let a = this.blocks[bi];
    const n = this.lens[bi];
    if (n === a.length) {
      const b = new Float64Array(Math.min(BLOCK_ROOM, n + Math.max(8, n >>> 2)));
      b.set(a);
      this.blocks[bi] = a = b;
    }
    if (i < n) a.copyWithin(i + 1, i, n);
    a[i] = k;
    this.lens[bi] = n + 1;
    if (i === 0) this.firsts[bi] = k;
    this.size++;
    if (n + 1 > 2 * SORTED_KEYS_BLOCK) {
      // Split: the lower half stays, the upper half moves to a new block after it.
      // The lower half keeps an array its size (it grows again on its next insert): with
      // keys added in order no key comes back to it, and half its room would stay empty.
      const upper = new Float64Array(BLOCK_ROOM);
      upper.set(a.subarray(SORTED_KEYS_BLOCK, n + 1));
      this.blocks[bi] = a.slice(0, SORTED_KEYS_BLOCK);
      this.lens[bi] = SORTED_KEYS_BLOCK;
      this.blocks.splice(bi + 1, 0, upper);
      this.lens.splice(bi + 1, 0, n + 1 - SORTED_KEYS_BLOCK);
      this.firsts.splice(bi + 1, 0, upper[0]);
    }
    return steps;
  }

  /**
   * The one search (blocks not empty): where `k` is or would go (`at`, `atIndex`), whether
   * it is there (`found`), and its neighbours in `pred` and `succ`. Returns its steps.
   */
  private search(k: number): number {
    const bi = this.blockFor(k);
    const a = this.blocks[bi];
    const n = this.lens[bi];
    const i = SortedKeys.lowerBound(a, n, k);
    this.at = bi;
    this.atIndex = i;
    this.found = i < n && a[i] === k;
    const j = this.found ? i + 1 : i;
    if (i > 0) this.pred = a[i - 1];
    else if (bi > 0) this.pred = this.blocks[bi - 1][this.lens[bi - 1] - 1];
    if (j < n) this.succ = a[j];
    else if (bi + 1 < this.blocks.length) this.succ = this.blocks[bi + 1][0];
    return ceilLog2(this.blocks.length + 1) + ceilLog2(n + 1);
  }

  /** search() of a key above every key: the same position, neighbours and steps. */
  private atEnd(): number {
    const bi = this.blocks.length - 1, n = this.lens[bi];
    this.at = bi;
    this.atIndex = n;
    this.found = false;
    this.pred = this.blocks[bi][n - 1];
    return ceilLog2(this.blocks.length + 1) + ceilLog2(n + 1);
  }

  /**
   * Remove `k` (no-op if absent). Returns the steps the search took; its neighbours are
   * left in `pred` and `succ`.
   */
  remove(k: number): number {
    this.pred = NaN;
    this.succ = NaN;
    if (this.blocks.length === 0) return 0;
    const steps = this.search(k);
    if (!this.found) return steps;
    const bi = this.at, i = this.atIndex;
    const a = this.blocks[bi];
    const n = this.lens[bi];
    a.copyWithin(i, i + 1, n);
    this.lens[bi] = n - 1;
    this.size--;
    if (n === 1) {
      this.blocks.splice(bi, 1);
      this.lens.splice(bi, 1);
      this.firsts.splice(bi, 1);
    } else if (i === 0) this.firsts[bi] = a[0];
    return steps;
  }

  /**
   * Call `fn` for each key in [from, to) in order, from a snapshot (so `fn` may remove
   * keys). Returns the steps: one search, then one per key, plus one for the key that
   * ends the range.
   */
  forRange(from: number, to: number, fn: (k: number) => void): number {
    if (this.blocks.length === 0) return (this.lastSteps = 0);
    let bi = this.blockFor(from);
    let i = SortedKeys.lowerBound(this.blocks[bi], this.lens[bi], from);
    let steps = ceilLog2(this.blocks.length + 1) + ceilLog2(this.lens[bi] + 1);
    const keys: number[] = [];
    for (;;) {
      const a = this.blocks[bi];
      if (i >= this.lens[bi]) {
        if (++bi >= this.blocks.length) break;
        i = 0;
        continue;
      }
      steps++;
      if (a[i] >= to) break;
      keys.push(a[i++]);
    }
    for (const k of keys) fn(k);
    return (this.lastSteps = steps);
  }

  /**
   * The keys just below and just above `k` (excluding `k` itself), NaN where there is
   * none; left in `pred` and `succ`. Returns the steps the search took (0 when empty).
   */
  neighbors(k: number): number {
    this.pred = NaN;
    this.succ = NaN;
    return this.blocks.length > 0 ? this.search(k) : 0;
  }

  /** Every key in order. */
  keys(): number[] {
    const out: number[] = [];
    for (let b = 0; b < this.blocks.length; b++) {
      const a = this.blocks[b];
      for (let i = 0; i < this.lens[b]; i++) out.push(a[i]);
    }
    return out;
  }

  /** Remove every key. */
  clear(): void {
    this.blocks = [];
    this.lens = [];
    this.firsts = [];
    this.size = 0;
  }
}
