/**
 * A range map with the store semantics of the kernel's maple tree (lib/maple_tree.c),
 * for the reverse-map strategies that key shadow mappings by canonical IPA range.
 *
 * Keys are half-open ranges `[start, end)` of integers in `[0, 2^52]` (exact in a JS
 * number; no 32-bit bitwise operation ever touches them). Stored ranges never overlap:
 *
 * - {@linkcode RangeMap.store} is mtree_store_range(): whatever overlaps the new range
 *   is overwritten; an older range that is only partly covered keeps its remaining
 *   pieces (one or two), still holding the old value; an older range fully covered
 *   disappears. Adjacent ranges are never coalesced, even with the same value.
 * - {@linkcode RangeMap.find} is mt_find(): the first stored range that intersects
 *   `[start, max)`, in address order (the kernel's `max` is inclusive; here it is the
 *   exclusive end).
 * - {@linkcode RangeMap.erase} stores "nothing" over `[start, end)` (mtree_store_range()
 *   with NULL): pieces outside the range survive.
 * - {@linkcode RangeMap.eraseAt} is mas_erase() with the state set at `index`: the
 *   whole stored range that contains `index` goes, whatever its extent.
 * - {@linkcode RangeMap.forEach} is mt_for_each(); {@linkcode RangeMap.destroy} is
 *   mtree_destroy().
 *
 * ## Cost model
 * Every operation adds to {@linkcode RangeMap.steps} (and reports the same number to
 * `onSteps`): the tree height (one node read per level from the root; at least 1)
 * plus the stored ranges it touches (found, overwritten, trimmed, split, erased or
 * written). mt_for_each() restarts the walk from the root for every entry (it is a loop
 * of mt_find() calls), so it costs a full height per entry visited; mas_for_each()
 * (`restartWalk = false`) costs the height once.
 *
 * ## Memory model (struct maple_node)
 * - A maple node is 256 bytes (`sizeof(struct maple_node)` on 64-bit).
 * - A leaf is a maple_range_64: 16 slots / 15 pivots. The map's NULL gaps take slots
 *   too: a gap before the first range (when it does not start at 0), one between every
 *   two ranges that do not touch, and the one after the last range (up to ULONG_MAX,
 *   which is always there since keys stop at 2^52). So sparse ranges cost two slots.
 * - Internal nodes are maple_arange_64 (10 slots) in a tree with MT_FLAGS_ALLOC_RANGE
 *   (e.g. MM_MT_FLAGS), else maple_range_64 (16 slots): option `allocRange`.
 * - Nodes are assumed `occupancy` full on average (default 0.7, about what B-trees keep
 *   under random inserts, ln 2; a node split leaves two halves, appends fill more): a
 *   leaf holds round(16 × 0.7) = 11 slots, an arange node 7 children, a range node 11.
 * - An empty tree has no node (the root pointer lives in the embedding structure).
 *
 * ## Implementation
 * A two-level sorted list: blocks of at most `2 × blockSize` ranges, each a sorted array;
 * a search is a binary search over the blocks then inside one, an update splices one
 * block. This is the simulator's structure, not the maple tree's: its costs are the
 * model above, not what this code does.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { RangeMap } from "./range_map.ts";
 * const m = new RangeMap<string>();
 * m.store(0x1000, 0x3000, "a");
 * m.store(0x2000, 0x2800, "b"); // splits "a" into [0x1000,0x2000) and [0x2800,0x3000)
 * assertEquals([m.size, m.find(0x2400, 0x10000)?.value, m.find(0x2900, 0x10000)?.value], [3, "b", "a"]);
 * ```
 * @module
 */

/**
 * Modeled bytes of a maple tree holding `slots` slots (ranges and NULL gaps), with
 * nodes `occupancy` full (16-slot maple_range_64 leaves and internal nodes).
 */
export function mapleTreeBytes(slots: number, occupancy = 0.7): number {
  if (slots <= 0) return 0;
  const fill = Math.max(2, Math.round(MAPLE_RANGE64_SLOTS * occupancy));
  let c = Math.ceil(slots / fill);
  let nodes = c;
  while (c > 1) {
    c = Math.ceil(c / fill);
    nodes += c;
  }
  return nodes * MAPLE_NODE_BYTES;
}

/** Largest key: every range lies in `[0, MAX_RANGE_KEY]` (2^52, exact in a JS number). */
export const MAX_RANGE_KEY = 2 ** 52;

/** sizeof(struct maple_node) on 64-bit kernels. */
export const MAPLE_NODE_BYTES = 256;

/** Slots of a maple_range_64 node (leaves, and internal nodes of a plain tree). */
export const MAPLE_RANGE64_SLOTS = 16;

/** Slots of a maple_arange_64 node (internal nodes of an MT_FLAGS_ALLOC_RANGE tree). */
export const MAPLE_ARANGE64_SLOTS = 10;

/** One stored range and its value. */
export interface RangeEntry<V> {
  /** First key of the range. */
  start: number;
  /** One past the last key. */
  end: number;
  /** The value stored over it. */
  value: V;
}

/** What a store or an erase did to the ranges already there. */
export interface Displaced<V> {
  /** Values of the stored ranges it covered completely (they are gone), in order. */
  removed: V[];
  /** Value of the one older range cut in two by the new range (it now has one more piece). */
  split: V | undefined;
  /** Values of older ranges that lost a part at one end but keep one piece. */
  trimmed: V[];
}

/** Options of a {@linkcode RangeMap}. */
export interface RangeMapOptions {
  /** The tree has MT_FLAGS_ALLOC_RANGE (MM_MT_FLAGS): internal nodes are maple_arange_64. */
  allocRange?: boolean;
  /** Average node fill, in (0, 1] (default 0.7). */
  occupancy?: number;
  /** Called with the steps of every operation (e.g. ShadowOps.countSteps). */
  onSteps?: (n: number) => void;
  /** Simulator block size (default 256); small values exercise block splits in tests. */
  blockSize?: number;
  /**
   * Called with the change of {@linkcode RangeMap.memoryBytes} after every operation that
   * changes it (lets an owner keep a running total over many trees).
   */
  onBytes?: (delta: number) => void;
}

interface Block<V> {
  s: number[];
  e: number[];
  v: V[];
}

function checkRange(start: number, end: number, what: string): void {
  if (
    !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 ||
    end > MAX_RANGE_KEY ||
    start >= end
  ) {
    throw new RangeError(
      `${what}: bad range [${start}, ${end}) (need integers 0 <= start < end <= 2^52)`,
    );
  }
}

function checkKey(k: number, what: string): void {
  if (!Number.isSafeInteger(k) || k < 0 || k > MAX_RANGE_KEY) {
    throw new RangeError(`${what}: bad key ${k} (need an integer in [0, 2^52])`);
  }
}

/** What a store into a gap displaces: nothing (shared; callers only read it). */
const NOTHING_DISPLACED: Displaced<unknown> = Object.freeze({
  removed: Object.freeze([]) as unknown as unknown[],
  split: undefined,
  trimmed: Object.freeze([]) as unknown as unknown[],
});

/** A maple-tree-like map from disjoint half-open ranges to values, with a cost model. */
export class RangeMap<V> {
  /** Steps spent by every operation so far (see the module's cost model). */
  steps = 0;
  private blocks: Block<V>[] = [];
  private count = 0;
  /** Pairs of consecutive ranges that touch (no NULL gap slot between them). */
  private touching = 0;
  private readonly leafFill: number;
  private readonly internalFill: number;
  private readonly onSteps: ((n: number) => void) | undefined;
  private readonly onBytes: ((delta: number) => void) | undefined;
  private reportedBytes = 0;
  private readonly blockSize: number;
  /** The last shape() and the slot count it was computed for. */
  private shapeSlots = 0;
  private shapeLast = { nodes: 0, height: 0 };

  /** An empty map. */
  constructor(opts: RangeMapOptions = {}) {
    const occ = opts.occupancy ?? 0.7;
    if (!(occ > 0 && occ <= 1)) throw new RangeError(`occupancy ${occ} is not in (0, 1]`);
    const internalSlots = opts.allocRange ? MAPLE_ARANGE64_SLOTS : MAPLE_RANGE64_SLOTS;
    this.leafFill = Math.max(2, Math.round(MAPLE_RANGE64_SLOTS * occ));
    this.internalFill = Math.max(2, Math.round(internalSlots * occ));
    this.onSteps = opts.onSteps;
    this.onBytes = opts.onBytes;
    this.blockSize = Math.max(2, opts.blockSize ?? 256);
  }

  /** Stored ranges (pieces count one each). */
  get size(): number {
    return this.count;
  }

  /** Maple tree slots in use: the ranges plus the NULL gaps around and between them. */
  get slots(): number {
    if (this.count === 0) return 0;
    const lead = this.blocks[0].s[0] > 0 ? 1 : 0;
    const between = this.count - 1 - this.touching;
    return this.count + lead + between + 1; // + the trailing NULL range up to ULONG_MAX
  }

  /** Modeled maple nodes (leaves and internal nodes). */
  get nodes(): number {
    return this.shape().nodes;
  }

  /** Modeled tree height in nodes (0 for an empty tree). */
  get height(): number {
    return this.shape().height;
  }

  /** Modeled kernel bytes of the tree's nodes. */
  get memoryBytes(): number {
    return this.shape().nodes * MAPLE_NODE_BYTES;
  }

  /** Modeled node count and height for the current slot count. */
  private shape(): { nodes: number; height: number } {
    const slots = this.slots;
    if (slots === this.shapeSlots) return this.shapeLast;
    this.shapeSlots = slots;
    return this.shapeLast = this.computeShape(slots);
  }

  private computeShape(slots: number): { nodes: number; height: number } {
    if (slots === 0) return { nodes: 0, height: 0 };
    let c = Math.ceil(slots / this.leafFill);
    let nodes = c;
    let height = 1;
    while (c > 1) {
      c = Math.ceil(c / this.internalFill);
      nodes += c;
      height++;
    }
    return { nodes, height };
  }

  /** Add `n` steps and report them. */
  private charge(n: number): void {
    this.steps += n;
    this.onSteps?.(n);
  }

  /** Height charged for one walk from the root: at least 1 (the root pointer). */
  private walkCost(): number {
    return Math.max(1, this.shape().height);
  }

  // --- positions ------------------------------------------------------------------------

  /** Block index of the first block whose last range ends after `x` (blocks.length if none). */
  private blockEndAbove(x: number): number {
    const bl = this.blocks;
    let lo = 0, hi = bl.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1; // indices, not addresses
      const b = bl[m];
      if (b.e[b.e.length - 1] > x) hi = m;
      else lo = m + 1;
    }
    return lo;
  }

  /** Position [block, index] of the first range whose end is above `x`; block = length if none. */
  private seekEnd(x: number): [number, number] {
    const b = this.blockEndAbove(x);
    if (b === this.blocks.length) return [b, 0];
    const e = this.blocks[b].e;
    let lo = 0, hi = e.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (e[m] > x) hi = m;
      else lo = m + 1;
    }
    return [b, lo];
  }

  /** The position before (b, i), or null at the first range. */
  private prevPos(b: number, i: number): [number, number] | null {
    if (i > 0) return [b, i - 1];
    if (b > 0) return [b - 1, this.blocks[b - 1].s.length - 1];
    return null;
  }

  // --- updates --------------------------------------------------------------------------

  /** Remove `n` consecutive ranges starting at position (b, i). */
  private deleteRun(b: number, i: number, n: number): void {
    const bl = this.blocks;
    const first = b;
    let left = n;
    // The first block: from i.
    const k0 = Math.min(left, bl[first].s.length - i);
    bl[first].s.splice(i, k0);
    bl[first].e.splice(i, k0);
    bl[first].v.splice(i, k0);
    left -= k0;
    let drop = 0; // whole blocks after `first` to drop
    let nb = first + 1;
    while (left > 0 && bl[nb].s.length <= left) {
      left -= bl[nb].s.length;
      drop++;
      nb++;
    }
    if (left > 0) {
      const blk = bl[nb];
      blk.s.splice(0, left);
      blk.e.splice(0, left);
      blk.v.splice(0, left);
    }
    if (drop > 0) bl.splice(first + 1, drop);
    if (bl[first].s.length === 0) bl.splice(first, 1);
  }

  /** Insert one range that overlaps nothing, keeping the order. */
  private insertPiece(s: number, e: number, v: V): void {
    const bl = this.blocks;
    if (bl.length === 0) {
      bl.push({ s: [s], e: [e], v: [v] });
      return;
    }
    // Last block whose first start is <= s (or block 0).
    let lo = 0, hi = bl.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (bl[m].s[0] <= s) lo = m + 1;
      else hi = m;
    }
    const b = Math.max(0, lo - 1);
    const blk = bl[b];
    let a = 0, z = blk.s.length;
    while (a < z) {
      const m = (a + z) >>> 1;
      if (blk.s[m] < s) a = m + 1;
      else z = m;
    }
    if (a === blk.s.length) {
      blk.s.push(s);
      blk.e.push(e);
      blk.v.push(v);
    } else {
      blk.s.splice(a, 0, s);
      blk.e.splice(a, 0, e);
      blk.v.splice(a, 0, v);
    }
    if (blk.s.length > 2 * this.blockSize) {
      const h = blk.s.length >>> 1;
      bl.splice(b + 1, 0, { s: blk.s.splice(h), e: blk.e.splice(h), v: blk.v.splice(h) });
    }
  }

  /**
   * Replace what overlaps [s, e) by `mid` (a value) or by nothing (`hasMid` false). The
   * common part of store() and erase().
   */
  private overwrite(s: number, e: number, hasMid: boolean, mid: V | undefined): Displaced<V> {
    const cost = this.walkCost();
    const [b0, i0] = this.seekEnd(s);
    const bl = this.blocks;
    if (b0 === bl.length || bl[b0].s[i0] >= e) {
      // Nothing overlaps [s, e) (the common store into a gap): no run to collect.
      if (!hasMid) {
        this.charge(cost);
        return NOTHING_DISPLACED as Displaced<V>;
      }
      const prev = this.prevPos(b0, i0);
      const pe = prev ? bl[prev[0]].e[prev[1]] : -1;
      const ns = b0 < bl.length ? bl[b0].s[i0] : -1;
      const before = prev && b0 < bl.length && pe === ns ? 1 : 0;
      const after = (pe === s ? 1 : 0) + (e === ns ? 1 : 0);
      this.insertPiece(s, e, mid as V);
      this.count++;
      this.touching += after - before;
      this.charge(cost + 1);
      return NOTHING_DISPLACED as Displaced<V>;
    }
    const out: Displaced<V> = { removed: [], split: undefined, trimmed: [] };
    // Collect the run of ranges intersecting [s, e).
    const rs: number[] = [], re: number[] = [], rv: V[] = [];
    let b = b0, i = i0;
    let next: [number, number] | null = null;
    while (b < this.blocks.length) {
      const blk = this.blocks[b];
      if (blk.s[i] >= e) {
        next = [b, i];
        break;
      }
      rs.push(blk.s[i]);
      re.push(blk.e[i]);
      rv.push(blk.v[i]);
      if (++i === blk.s.length) {
        b++;
        i = 0;
      }
    }
    const prev = this.prevPos(b0, i0);
    const pe = prev ? this.blocks[prev[0]].e[prev[1]] : -1;
    const ns = next ? this.blocks[next[0]].s[next[1]] : -1;
    // New pieces over the region.
    const news: number[] = [], newe: number[] = [], newv: V[] = [];
    const n = rs.length;
    if (n > 0 && rs[0] < s) {
      news.push(rs[0]);
      newe.push(s);
      newv.push(rv[0]);
    }
    if (hasMid) {
      news.push(s);
      newe.push(e);
      newv.push(mid as V);
    }
    if (n > 0 && re[n - 1] > e) {
      news.push(e);
      newe.push(re[n - 1]);
      newv.push(rv[n - 1]);
    }
    for (let k = 0; k < n; k++) {
      const keepsLeft = k === 0 && rs[0] < s;
      const keepsRight = k === n - 1 && re[n - 1] > e;
      if (keepsLeft && keepsRight) out.split = rv[k];
      else if (keepsLeft || keepsRight) out.trimmed.push(rv[k]);
      else out.removed.push(rv[k]);
    }
    if (n === 0 && !hasMid) {
      this.charge(cost);
      return out;
    }
    // Touching pairs before and after, over [prev, run..., next].
    let before = 0, after = 0;
    if (n > 0) {
      if (pe === rs[0]) before++;
      for (let k = 1; k < n; k++) if (re[k - 1] === rs[k]) before++;
      if (re[n - 1] === ns) before++;
    } else if (prev && next && pe === ns) before++;
    const m = news.length;
    if (m > 0) {
      if (pe === news[0]) after++;
      for (let k = 1; k < m; k++) if (newe[k - 1] === news[k]) after++;
      if (newe[m - 1] === ns) after++;
    } else if (prev && next && pe === ns) after++;
    if (n > 0) this.deleteRun(b0, i0, n);
    for (let k = 0; k < m; k++) this.insertPiece(news[k], newe[k], newv[k]);
    this.count += m - n;
    this.touching += after - before;
    this.charge(cost + n + (hasMid ? 1 : 0));
    return out;
  }

  /**
   * mtree_store_range(): store `value` over [start, end), overwriting what overlaps.
   * Returns what happened to the ranges that were there.
   */
  store(start: number, end: number, value: V): Displaced<V> {
    checkRange(start, end, "store");
    return this.reported(this.overwrite(start, end, true, value));
  }

  /** Tell `onBytes` how memoryBytes changed since last told; returns `r`. */
  private reported<T>(r: T): T {
    if (this.onBytes) {
      const b = this.memoryBytes;
      if (b !== this.reportedBytes) {
        this.onBytes(b - this.reportedBytes);
        this.reportedBytes = b;
      }
    }
    return r;
  }

  /** mtree_store_range(NULL): erase [start, end); pieces of ranges outside it survive. */
  erase(start: number, end: number): Displaced<V> {
    checkRange(start, end, "erase");
    return this.reported(this.overwrite(start, end, false, undefined));
  }

  /**
   * mas_erase() with the state at `index`: remove the whole stored range containing
   * `index` and return it (undefined when `index` is in a gap).
   */
  eraseAt(index: number): RangeEntry<V> | undefined {
    checkKey(index, "eraseAt");
    const [b, i] = this.seekEnd(index);
    const blk = this.blocks[b];
    if (!blk || blk.s[i] > index) {
      this.charge(this.walkCost());
      return undefined;
    }
    const hit = { start: blk.s[i], end: blk.e[i], value: blk.v[i] };
    this.overwrite(hit.start, hit.end, false, undefined); // charges the walk + 1 range
    return this.reported(hit);
  }

  // --- queries --------------------------------------------------------------------------

  /** find() without charging steps. */
  private findNoCharge(start: number, max: number): RangeEntry<V> | undefined {
    if (start >= max) return undefined;
    const [b, i] = this.seekEnd(start);
    const blk = this.blocks[b];
    if (!blk || blk.s[i] >= max) return undefined;
    return { start: blk.s[i], end: blk.e[i], value: blk.v[i] };
  }

  /** mt_find(): the first stored range intersecting [start, max), or undefined. */
  find(start: number, max: number): RangeEntry<V> | undefined {
    checkKey(start, "find");
    checkKey(max, "find");
    const r = this.findNoCharge(start, max);
    this.charge(this.walkCost() + (r ? 1 : 0));
    return r;
  }

  /** mtree_load(): the stored range containing `index`, or undefined. */
  load(index: number): RangeEntry<V> | undefined {
    checkKey(index, "load");
    const r = index < MAX_RANGE_KEY ? this.findNoCharge(index, index + 1) : undefined;
    this.charge(this.walkCost() + (r ? 1 : 0));
    return r;
  }

  /**
   * mt_for_each(): call `fn` on every stored range intersecting [start, max), in order.
   * Each step re-finds from the end of the last range, so `fn` may change the map.
   * `restartWalk` (default true, as mt_for_each() does) charges a walk from the root per
   * entry; false charges one walk (mas_for_each()). Returns the number of entries visited.
   */
  forEach(start: number, max: number, fn: (e: RangeEntry<V>) => void, restartWalk = true): number {
    checkKey(start, "forEach");
    checkKey(max, "forEach");
    let cur = start;
    let n = 0;
    let cost = this.walkCost();
    for (;;) {
      const r = this.findNoCharge(cur, max);
      if (!r) break;
      n++;
      cost += restartWalk ? this.walkCost() + 1 : 1;
      fn(r);
      cur = r.end;
    }
    this.charge(cost);
    return n;
  }

  /** Every stored range in order, for reports and tests (charges nothing). */
  toArray(): RangeEntry<V>[] {
    const out: RangeEntry<V>[] = [];
    for (const b of this.blocks) {
      for (let i = 0; i < b.s.length; i++) out.push({ start: b.s[i], end: b.e[i], value: b.v[i] });
    }
    return out;
  }

  /**
   * Check the simulator's invariants (ranges sorted, disjoint and in bounds, no empty
   * block, counters right); throws an Error naming the first broken one. For tests.
   */
  validate(): void {
    let n = 0, touching = 0, prevEnd = -1;
    for (const [bi, b] of this.blocks.entries()) {
      if (b.s.length === 0) throw new Error(`block ${bi} is empty`);
      if (b.s.length !== b.e.length || b.s.length !== b.v.length) {
        throw new Error(`block ${bi} is ragged`);
      }
      for (let i = 0; i < b.s.length; i++) {
        if (!(b.s[i] < b.e[i]) || b.s[i] < 0 || b.e[i] > MAX_RANGE_KEY) {
          throw new Error(`bad range at ${n}`);
        }
        if (b.s[i] < prevEnd) throw new Error(`range ${n} overlaps or is out of order`);
        if (b.s[i] === prevEnd) touching++;
        prevEnd = b.e[i];
        n++;
      }
    }
    if (n !== this.count) throw new Error(`count ${this.count} != ${n}`);
    if (touching !== this.touching) throw new Error(`touching ${this.touching} != ${touching}`);
  }

  /** mtree_destroy(): drop every range; charges one step per node freed. */
  destroy(): void {
    this.charge(this.shape().nodes);
    this.blocks = [];
    this.count = 0;
    this.touching = 0;
    this.reported(undefined);
  }
}
