/**
 * Tables keyed by addresses (whole numbers below 2^53): {@linkcode AddrSet} and
 * {@linkcode AddrMap}, flat open-addressing tables of `Float64Array` keys (and `Int32Array`
 * values) with linear probing and backward-shift deletion: no per-entry object, no
 * tombstones, at most 50% load. The simulator's replacement for `Set<number>` and
 * `Map<number, number>` keyed by addresses on hot paths (a V8 `Map` costs about 80 bytes
 * and a hash lookup through its ordered table per entry).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { AddrMap, AddrSet } from "./addr_table.ts";
 * const s = new AddrSet();
 * s.add(2 ** 48 + 4096);
 * s.add(4096);
 * assertEquals([s.has(4096), s.has(8192), s.size], [true, false, 2]);
 * assertEquals([s.delete(4096), s.delete(4096), s.size], [true, false, 1]);
 * const m = new AddrMap();
 * m.set(2 ** 40, 7);
 * assertEquals([m.get(2 ** 40), m.get(0), m.size], [7, -1, 1]);
 * ```
 * @module
 */

const EMPTY = -1;
const TWO32 = 2 ** 32;

function checkAddr(a: number): void {
  if (!(a >= 0) || a > Number.MAX_SAFE_INTEGER || a !== Math.floor(a)) {
    throw new RangeError(`${a} is not an address (a whole number below 2^53)`);
  }
}

/**
 * Slot of `a` in a table of `mask + 1` slots: its two 32-bit halves combined, then
 * MurmurHash3's fmix32 finalizer, so that page-aligned and consecutive addresses spread
 * (a plain multiply keeps their zero low bits: 14 probes per insert at 1M consecutive 4K
 * pages, against 0.5 with the finalizer).
 */
function slotOf(a: number, mask: number): number {
  const lo = a % TWO32;
  const hi = (a - lo) / TWO32;
  // Hashing only: the halves are exact 32-bit values, the products wrap on purpose.
  let h = lo ^ Math.imul(hi, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) & mask;
}

/** A set of non-negative whole numbers below 2^53 (an {@linkcode AddrMap} without values). */
export class AddrSet {
  private readonly map: AddrMap;

  /** An empty set with room for `capacity` entries before it grows. */
  constructor(capacity = 8) {
    this.map = new AddrMap(capacity);
  }

  /** Entries held. */
  get size(): number {
    return this.map.size;
  }

  /** Whether `a` is in the set. */
  has(a: number): boolean {
    return this.map.get(a) >= 0;
  }

  /** Add `a` (a no-op when present). */
  add(a: number): void {
    this.map.set(a, 0);
  }

  /** Remove `a`; whether it was there. */
  delete(a: number): boolean {
    return this.map.delete(a);
  }

  /** Remove every entry (keeps the table's size). */
  clear(): void {
    this.map.clear();
  }

  /** Each entry, in table order. */
  forEach(fn: (a: number) => void): void {
    this.map.forEach((a) => fn(a));
  }
}

/** A map from addresses to non-negative int32 values (`get` answers -1 for none). */
export class AddrMap {
  private keys: Float64Array;
  private vals: Int32Array;
  private mask: number;
  private count = 0;

  /** An empty map with room for `capacity` entries before it grows. */
  constructor(capacity = 8) {
    let n = 16;
    while (n < 2 * capacity) n *= 2;
    this.keys = new Float64Array(n).fill(EMPTY);
    this.vals = new Int32Array(n);
    this.mask = n - 1;
  }

  /** Entries held. */
  get size(): number {
    return this.count;
  }

  /** The value of `a`, or -1 when absent. */
  get(a: number): number {
    const k = this.keys, mask = this.mask;
    for (let i = slotOf(a, mask);; i = (i + 1) & mask) {
      const v = k[i];
      if (v === a) return this.vals[i];
      if (v === EMPTY) return -1;
    }
  }

  /** Set `a` to `value` (0..2^31-1). */
  set(a: number, value: number): void {
    checkAddr(a);
    if (2 * (this.count + 1) > this.keys.length) this.grow();
    const k = this.keys, mask = this.mask;
    for (let i = slotOf(a, mask);; i = (i + 1) & mask) {
      const v = k[i];
      if (v === a) {
        this.vals[i] = value;
        return;
      }
      if (v === EMPTY) {
        k[i] = a;
        this.vals[i] = value;
        this.count++;
        return;
      }
    }
  }

  /** Set `a` to `value` (0..2^31-1) and return its previous value, or -1: one probe. */
  swap(a: number, value: number): number {
    checkAddr(a);
    if (2 * (this.count + 1) > this.keys.length) this.grow();
    const k = this.keys, mask = this.mask;
    for (let i = slotOf(a, mask);; i = (i + 1) & mask) {
      const v = k[i];
      if (v === a) {
        const old = this.vals[i];
        this.vals[i] = value;
        return old;
      }
      if (v === EMPTY) {
        k[i] = a;
        this.vals[i] = value;
        this.count++;
        return -1;
      }
    }
  }

  /** Remove `a`; whether it was there. */
  delete(a: number): boolean {
    const k = this.keys, vals = this.vals, mask = this.mask;
    let i = slotOf(a, mask);
    for (;; i = (i + 1) & mask) {
      const v = k[i];
      if (v === EMPTY) return false;
      if (v === a) break;
    }
    let hole = i;
    for (let j = (i + 1) & mask;; j = (j + 1) & mask) {
      const v = k[j];
      if (v === EMPTY) break;
      const home = slotOf(v, mask);
      const between = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (!between) {
        k[hole] = v;
        vals[hole] = vals[j];
        hole = j;
      }
    }
    k[hole] = EMPTY;
    this.count--;
    return true;
  }

  /** Remove every entry (keeps the table's size). */
  clear(): void {
    if (this.count === 0) return;
    this.keys.fill(EMPTY);
    this.count = 0;
  }

  /** Each (key, value), in table order. */
  forEach(fn: (a: number, value: number) => void): void {
    const k = this.keys;
    for (let i = 0; i < k.length; i++) if (k[i] !== EMPTY) fn(k[i], this.vals[i]);
  }

  private grow(): void {
    const ok = this.keys, ov = this.vals;
    const n = ok.length * 2;
    this.keys = new Float64Array(n).fill(EMPTY);
    this.vals = new Int32Array(n);
    const k = this.keys, vals = this.vals, mask = n - 1;
    this.mask = mask;
    // Every key is distinct and checked already: straight to the first empty slot.
    for (let j = 0; j < ok.length; j++) {
      const a = ok[j];
      if (a === EMPTY) continue;
      let i = slotOf(a, mask);
      while (k[i] !== EMPTY) i = (i + 1) & mask;
      k[i] = a;
      vals[i] = ov[j];
    }
  }
}

/** Pages per {@linkcode PageSet} region: one 512-bit word group (a last-level table's span at 4K). */
const REGION_PAGES = 512;
const REGION_WORDS = REGION_PAGES / 32;

/**
 * A set of page-aligned addresses of one page size, as bitmaps of 512 pages per region
 * found through an {@linkcode AddrMap}: neighbouring pages share a region, so runs of
 * pages cost one hash lookup per region and 64 bytes per 512 pages (an {@linkcode AddrSet}
 * spends 24-48 bytes per entry and a cache miss per operation).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { PageSet } from "./addr_table.ts";
 * const s = new PageSet(4096);
 * s.add(2 ** 40);
 * s.add(2 ** 40 + 4096);
 * assertEquals([s.has(2 ** 40 + 4096), s.has(2 ** 40 + 8192), s.size], [true, false, 2]);
 * assertEquals([s.delete(2 ** 40), s.delete(2 ** 40), s.size], [true, false, 1]);
 * ```
 */
export class PageSet {
  /** The page size addresses are multiples of. */
  readonly pageSize: number;
  private readonly regions = new AddrMap();
  private words = new Uint32Array(4 * REGION_WORDS);
  /** Per region block: pages set in it. */
  private counts = new Int32Array(4);
  private blocks = 0;
  private readonly free: number[] = [];
  private count = 0;

  /** An empty set of `pageSize`-aligned addresses. */
  constructor(pageSize: number) {
    if (!(pageSize > 0) || !Number.isInteger(Math.log2(pageSize))) {
      throw new RangeError(`page size ${pageSize} is not a power of two`);
    }
    this.pageSize = pageSize;
  }

  /** Entries held. */
  get size(): number {
    return this.count;
  }

  /** Page index of `a`, or a one-line error when it is not page-aligned. */
  private page(a: number): number {
    const p = a / this.pageSize;
    if (!(p >= 0) || p !== Math.floor(p) || a > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`${a} is not a ${this.pageSize}-byte aligned address`);
    }
    return p;
  }

  /** Whether `a` is in the set. */
  has(a: number): boolean {
    const p = this.page(a);
    const r = p % REGION_PAGES;
    const b = this.regions.get((p - r) / REGION_PAGES);
    return b >= 0 && (this.words[b * REGION_WORDS + (r >>> 5)] & (1 << (r & 31))) !== 0;
  }

  /** Add `a` (a no-op when present). */
  add(a: number): void {
    const p = this.page(a);
    const r = p % REGION_PAGES;
    const key = (p - r) / REGION_PAGES;
    let b = this.regions.get(key);
    if (b < 0) {
      b = this.allocBlock();
      this.regions.set(key, b);
    }
    const w = b * REGION_WORDS + (r >>> 5), bit = 1 << (r & 31);
    if ((this.words[w] & bit) !== 0) return;
    this.words[w] |= bit;
    this.counts[b]++;
    this.count++;
  }

  /** Remove `a`; whether it was there. */
  delete(a: number): boolean {
    if (this.count === 0) return false;
    const p = this.page(a);
    const r = p % REGION_PAGES;
    const key = (p - r) / REGION_PAGES;
    const b = this.regions.get(key);
    if (b < 0) return false;
    const w = b * REGION_WORDS + (r >>> 5), bit = 1 << (r & 31);
    if ((this.words[w] & bit) === 0) return false;
    this.words[w] &= ~bit;
    this.count--;
    if (--this.counts[b] === 0) {
      this.regions.delete(key);
      this.free.push(b);
    }
    return true;
  }

  /** Remove every entry. */
  clear(): void {
    if (this.count === 0) return;
    this.regions.clear();
    this.words.fill(0);
    this.counts.fill(0);
    this.free.length = 0;
    for (let b = this.blocks - 1; b >= 0; b--) this.free.push(b);
    this.count = 0;
  }

  private allocBlock(): number {
    const f = this.free.pop();
    if (f !== undefined) return f;
    if (this.blocks === this.counts.length) {
      const words = new Uint32Array(this.words.length * 2);
      words.set(this.words);
      this.words = words;
      const counts = new Int32Array(this.counts.length * 2);
      counts.set(this.counts);
      this.counts = counts;
    }
    return this.blocks++;
  }
}
