/**
 * An ordered set of numeric keys (up to 2^53, exact) kept as a two-level sorted list:
 * blocks of at most {@linkcode SORTED_KEYS_BLOCK} keys, each sorted, searched by binary
 * search over the blocks and then inside one. It answers "every key in [from, to)" with
 * one search plus one step per key, which is what a range query over a B-tree costs.
 * Optionally each key carries a value (a non-negative int32, such as a record's id): then
 * it is an ordered map.
 *
 * Each block is one region of a {@linkcode Slab} (off the JS heap), its keys then its values
 * (room for up to `2 × SORTED_KEYS_BLOCK + 1`, grown by a quarter at a time; the lower half
 * of a split is cut to its size), with its length beside it; a block's old region is given
 * back to the slab when it moves. Keys are kept as 32-bit page frames (4 KiB) while every
 * key is a whole frame below 2^32, as doubles from the first that is not (simulator memory
 * only).
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
 * const m = new SortedKeys(true); // with values
 * assertEquals([m.put(4096, 7), m.put(4096, 8), m.get(4096), m.get(8192)], [-1, 7, 8, -1]);
 * ```
 * @module
 */

import { fitsFrame, FRAME_UNIT } from "./frame_pool.ts";
import { Slab } from "./slab.ts";

/** Keys per block before it splits in two. */
export const SORTED_KEYS_BLOCK = 256;

/** ⌈log2 n⌉ of a whole number below 2^31 (its bit length less one for powers of two). */
const ceilLog2 = (n: number) => (n <= 1 ? 0 : 32 - Math.clz32(n - 1));

/** Room of a full block: it splits when a key would make it longer than 2 × the block. */
const BLOCK_ROOM = 2 * SORTED_KEYS_BLOCK + 1;

/** An empty values array, for a set without values. */
const NO_VALUES = new Int32Array(0);

/** A sorted set of numbers with range iteration (a sorted map to int32 values, optionally). */
export class SortedKeys {
  /** The blocks' keys, each sorted; keys at [0, lens[b]) of blocks[b] (in `unit`s). */
  private blocks: (Uint32Array | Float64Array)[] = [];
  /** The blocks' values beside their keys (with values only). */
  private vals: Int32Array[] = [];
  private lens: number[] = [];
  /** The first key of each block (one flat array for the search over blocks). */
  private firsts: number[] = [];
  /** FRAME_UNIT while keys are 32-bit frames, 1 once they are doubles. */
  private unit = FRAME_UNIT;
  private readonly withValues: boolean;
  /** Where the blocks' regions come from. */
  private readonly slab = new Slab();
  /** Result of {@linkcode newBlock}. */
  private newKeys: Uint32Array | Float64Array = new Uint32Array(0);
  private newVals: Int32Array = NO_VALUES;
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

  /** An empty set; with `withValues`, every key carries a value ({@linkcode put}, {@linkcode get}). */
  constructor(withValues = false) {
    this.withValues = withValues;
  }

  /** Key `i` of block `b`. */
  private key(b: number, i: number): number {
    return this.blocks[b][i] * this.unit;
  }

  /** Bytes of the region of a block of room `n` (keys, then values), a multiple of 8. */
  private regionBytes(n: number): number {
    const bytes = n * (this.unit === 1 ? 8 : 4) + (this.withValues ? n * 4 : 0);
    return Math.ceil(bytes / 8) * 8;
  }

  /**
   * A new block of room `n`, its keys in `newKeys` and (with values) its values in
   * `newVals`: one region, the values after the keys, so that a search and its update
   * touch one stretch of memory.
   */
  private newBlock(n: number): void {
    const slab = this.slab;
    slab.take(this.regionBytes(n));
    const buf = slab.buffer, at = slab.offset;
    const wide = this.unit === 1;
    this.newKeys = wide ? new Float64Array(buf, at, n) : new Uint32Array(buf, at, n);
    this.newVals = this.withValues ? new Int32Array(buf, at + n * (wide ? 8 : 4), n) : NO_VALUES;
  }

  /** Give back the region of the block whose keys are `a` (its values are in it). */
  private freeBlock(a: Uint32Array | Float64Array): void {
    this.slab.give(a.buffer as ArrayBuffer, a.byteOffset, this.regionBytes(a.length));
  }

  /** Keep keys as doubles from now on: `k` has no 32-bit frame (every block is copied). */
  private widenFor(k: number): void {
    if (this.unit === 1 || fitsFrame(k)) return;
    const blocks = this.blocks, vals = this.vals;
    this.unit = 1;
    this.slab.reset();
    for (let b = 0; b < blocks.length; b++) {
      const a = blocks[b];
      this.newBlock(a.length);
      for (let i = 0; i < this.lens[b]; i++) this.newKeys[i] = a[i] * FRAME_UNIT;
      if (this.withValues) this.newVals.set(vals[b]);
      blocks[b] = this.newKeys;
      vals[b] = this.newVals;
    }
  }

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

  /** First index of the `n` keys of `a` not below `q` (keys and `q` in units). */
  private static lowerBound(a: Uint32Array | Float64Array, n: number, q: number): number {
    let lo = 0, hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid] < q) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Add `k` (no-op if present). Returns the steps the search took; the keys just below
   * and above it are left in `pred` and `succ` (NaN where there is none).
   */
  insert(k: number): number {
    this.place(k, 0);
    return this.lastSteps;
  }

  /**
   * Map `k` to `v` (a set with values): returns the value `k` had, or -1 when it was not
   * there and is added now, as {@linkcode insert} would (its steps in `lastSteps`, its
   * neighbours in `pred` and `succ`).
   */
  put(k: number, v: number): number {
    return this.place(k, v);
  }

  /** The value of `k`, or -1 when absent (no steps counted). */
  get(k: number): number {
    if (this.blocks.length === 0) return -1;
    const bi = this.blockFor(k);
    const i = SortedKeys.lowerBound(this.blocks[bi], this.lens[bi], k / this.unit);
    return i < this.lens[bi] && this.key(bi, i) === k ? this.vals[bi][i] : -1;
  }

  /** insert() and put(): the old value (0 for a set) if `k` was there, else -1. */
  private place(k: number, v: number): number {
    this.pred = NaN;
    this.succ = NaN;
    this.widenFor(k);
    if (this.blocks.length === 0) {
      this.newBlock(8);
      this.newKeys[0] = k / this.unit;
      this.blocks.push(this.newKeys);
      this.vals.push(this.newVals);
      if (this.withValues) this.newVals[0] = v;
      this.lens.push(1);
      this.firsts.push(k);
      this.size = 1;
      this.lastSteps = 1;
      return -1;
    }
    // After the last key (keys added in order): where the search would end, without it.
    const last = this.blocks.length - 1;
    this.lastSteps = k > this.key(last, this.lens[last] - 1) ? this.atEnd() : this.search(k);
    const bi = this.at, i = this.atIndex;
    if (this.found) {
      if (!this.withValues) return 0;
      const old = this.vals[bi][i];
      this.vals[bi][i] = v;
      return old;
    }
    let a = this.blocks[bi];
    let w = this.vals[bi];
    const n = this.lens[bi];
    if (n === a.length) {
      this.newBlock(Math.min(BLOCK_ROOM, n + Math.max(8, n >>> 2)));
      this.newKeys.set(a);
      this.freeBlock(a);
      this.blocks[bi] = a = this.newKeys;
      if (this.withValues) {
        this.newVals.set(w);
        this.vals[bi] = w = this.newVals;
      }
    }
    if (i < n) {
      a.copyWithin(i + 1, i, n);
      if (this.withValues) w.copyWithin(i + 1, i, n);
    }
    a[i] = k / this.unit;
    if (this.withValues) w[i] = v;
    this.lens[bi] = n + 1;
    if (i === 0) this.firsts[bi] = k;
    this.size++;
    if (n + 1 > 2 * SORTED_KEYS_BLOCK) this.split(bi, n + 1);
    return -1;
  }

  /**
   * Split block `bi` of `n` keys: the lower half goes to a new block its size (with keys
   * added in order no key comes back to it, and half its room would stay empty), the
   * upper half moves down in the old block's room, which comes after it.
   */
  private split(bi: number, n: number): void {
    const h = SORTED_KEYS_BLOCK;
    const upper = this.blocks[bi], upperVals = this.vals[bi];
    this.newBlock(h);
    this.newKeys.set(upper.subarray(0, h));
    upper.copyWithin(0, h, n);
    this.blocks[bi] = this.newKeys;
    if (this.withValues) {
      this.newVals.set(upperVals.subarray(0, h));
      upperVals.copyWithin(0, h, n);
      this.vals[bi] = this.newVals;
    }
    this.lens[bi] = h;
    this.blocks.splice(bi + 1, 0, upper);
    this.vals.splice(bi + 1, 0, upperVals);
    this.lens.splice(bi + 1, 0, n - h);
    this.firsts.splice(bi + 1, 0, upper[0] * this.unit);
  }

  /** search() of a key above every key: the same position, neighbours and steps. */
  private atEnd(): number {
    const bi = this.blocks.length - 1, n = this.lens[bi];
    this.at = bi;
    this.atIndex = n;
    this.found = false;
    this.pred = this.key(bi, n - 1);
    return ceilLog2(this.blocks.length + 1) + ceilLog2(n + 1);
  }

  /**
   * The one search (blocks not empty): where `k` is or would go (`at`, `atIndex`), whether
   * it is there (`found`), and its neighbours in `pred` and `succ`. Returns its steps.
   */
  private search(k: number): number {
    const bi = this.blockFor(k);
    const a = this.blocks[bi];
    const n = this.lens[bi];
    const i = SortedKeys.lowerBound(a, n, k / this.unit);
    this.at = bi;
    this.atIndex = i;
    this.found = i < n && a[i] * this.unit === k;
    const j = this.found ? i + 1 : i;
    if (i > 0) this.pred = a[i - 1] * this.unit;
    else if (bi > 0) this.pred = this.key(bi - 1, this.lens[bi - 1] - 1);
    if (j < n) this.succ = a[j] * this.unit;
    else if (bi + 1 < this.blocks.length) this.succ = this.key(bi + 1, 0);
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
    if (this.withValues) this.vals[bi].copyWithin(i, i + 1, n);
    this.lens[bi] = n - 1;
    this.size--;
    if (n === 1) {
      this.freeBlock(a);
      this.blocks.splice(bi, 1);
      this.vals.splice(bi, 1);
      this.lens.splice(bi, 1);
      this.firsts.splice(bi, 1);
    } else if (i === 0) this.firsts[bi] = a[0] * this.unit;
    return steps;
  }

  /**
   * Call `fn` with each key in [from, to) in order, and its value (with values; else 0),
   * from a snapshot (so `fn` may change the set). Returns the steps: one search, then one
   * per key, plus one for the key that ends the range.
   */
  forRange(from: number, to: number, fn: (k: number, v: number) => void): number {
    if (this.blocks.length === 0) return (this.lastSteps = 0);
    let bi = this.blockFor(from);
    let i = SortedKeys.lowerBound(this.blocks[bi], this.lens[bi], from / this.unit);
    let steps = ceilLog2(this.blocks.length + 1) + ceilLog2(this.lens[bi] + 1);
    const keys: number[] = [];
    const vals: number[] = [];
    for (;;) {
      if (i >= this.lens[bi]) {
        if (++bi >= this.blocks.length) break;
        i = 0;
        continue;
      }
      steps++;
      const k = this.key(bi, i);
      if (k >= to) break;
      keys.push(k);
      vals.push(this.withValues ? this.vals[bi][i] : 0);
      i++;
    }
    for (let j = 0; j < keys.length; j++) fn(keys[j], vals[j]);
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
      for (let i = 0; i < this.lens[b]; i++) out.push(this.key(b, i));
    }
    return out;
  }

  /** Each key and its value (0 without values), in order. */
  forEach(fn: (k: number, v: number) => void): void {
    for (let b = 0; b < this.blocks.length; b++) {
      for (let i = 0; i < this.lens[b]; i++) {
        fn(this.key(b, i), this.withValues ? this.vals[b][i] : 0);
      }
    }
  }

  /** Remove every key (keys are 32-bit frames again until one is not). */
  clear(): void {
    this.slab.reset();
    this.blocks = [];
    this.vals = [];
    this.lens = [];
    this.firsts = [];
    this.size = 0;
    this.unit = FRAME_UNIT;
  }
}
