/**
 * A range map with the store semantics of the kernel's maple tree (lib/maple_tree.c),
 * for the reverse-map strategies that key shadow mappings by canonical IPA range.
 *
 * Keys are half-open ranges `[start, end)` of integers in `[0, 2^52]` (exact in a JS
 * number; no 32-bit bitwise operation ever touches them). A value is a number, as a
 * maple tree slot holds one word: an integer packed in the slot (xa_mk_value()) or the
 * handle of an object the owner keeps (where the kernel would store its pointer).
 * Stored ranges never overlap:
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
 * A two-level sorted list: blocks of at most `2 × blockSize` ranges, each sorted, with
 * the start, end and value of each range side by side in one typed array (no object per
 * range): 32-bit words (keys in 4 KiB pages, values in `valueUnit`s) while every key and
 * value fits one, doubles from the first that does not; a search is a binary search over
 * the blocks then inside one, an update moves the tail of one block. An append after the
 * last range takes the last block, or starts a new one when it is full. This is the
 * simulator's structure, not the maple tree's: its costs are the model above, not what
 * this code does.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { RangeMap } from "./range_map.ts";
 * const m = new RangeMap();
 * m.store(0x1000, 0x3000, 1);
 * m.store(0x2000, 0x2800, 2); // splits 1 into [0x1000,0x2000) and [0x2800,0x3000)
 * assertEquals([m.size, m.find(0x2400, 0x10000)?.value, m.find(0x2900, 0x10000)?.value], [3, 2, 1]);
 * ```
 * @module
 */

import { fitsFrame, FRAME_MAX, FRAME_UNIT } from "./frame_pool.ts";

/**
 * Modeled bytes of a maple tree holding `slots` slots (ranges and NULL gaps), with
 * nodes `occupancy` full (16-slot maple_range_64 leaves and internal nodes).
 */
export function mapleTreeBytes(slots: number, occupancy = 0.7): number {
  if (slots <= 0) return 0;
  const fill = occupancy === 0.7
    ? DEFAULT_FILL
    : Math.max(2, Math.round(MAPLE_RANGE64_SLOTS * occupancy));
  let c = Math.ceil(slots / fill);
  // The bytes depend on the leaf count only: a count asked for again (the side trees of
  // the reverse maps ask after every insert) is answered from the last.
  if (c === lastLeaves && fill === lastFill) return lastBytes;
  lastLeaves = c;
  lastFill = fill;
  let nodes = c;
  while (c > 1) {
    c = Math.ceil(c / fill);
    nodes += c;
  }
  return (lastBytes = nodes * MAPLE_NODE_BYTES);
}

let lastLeaves = 0, lastFill = 0, lastBytes = 0;

/** Largest key: every range lies in `[0, MAX_RANGE_KEY]` (2^52, exact in a JS number). */
export const MAX_RANGE_KEY = 2 ** 52;

/** sizeof(struct maple_node) on 64-bit kernels. */
export const MAPLE_NODE_BYTES = 256;

/** Slots of a maple_range_64 node (leaves, and internal nodes of a plain tree). */
export const MAPLE_RANGE64_SLOTS = 16;

/** Slots of a leaf at the default occupancy: round(16 × 0.7) = 11. */
const DEFAULT_FILL = Math.max(2, Math.round(MAPLE_RANGE64_SLOTS * 0.7));

/** Slots of a maple_arange_64 node (internal nodes of an MT_FLAGS_ALLOC_RANGE tree). */
export const MAPLE_ARANGE64_SLOTS = 10;

/** One stored range and its value. */
export interface RangeEntry {
  /** First key of the range. */
  start: number;
  /** One past the last key. */
  end: number;
  /** The value stored over it. */
  value: number;
}

/** What a store or an erase did to the ranges already there. */
export interface Displaced {
  /** Values of the stored ranges it covered completely (they are gone), in order. */
  removed: number[];
  /** Value of the one older range cut in two by the new range (it now has one more piece). */
  split: number | undefined;
  /** Values of older ranges that lost a part at one end but keep one piece. */
  trimmed: number[];
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
   * Values are kept in 32 bits while each is -1 or a whole number of this unit below 2^32
   * units (default 1: small integers, such as handles; 4096 for page-aligned addresses).
   * Simulator memory only: a map whose key or value does not fit turns wide (doubles).
   */
  valueUnit?: number;
  /**
   * Called with the change of {@linkcode RangeMap.memoryBytes} after every operation that
   * changes it (lets an owner keep a running total over many trees).
   */
  onBytes?: (delta: number) => void;
}

/**
 * One block of the simulator's sorted list: `n` ranges, three words per range (start,
 * end, value) side by side in one typed array that grows by a quarter: off the JS heap,
 * nothing per range for the garbage collector to copy, one move per insert or removal.
 * A narrow block keeps 32-bit words (keys in 4 KiB pages, values as codes in the map's
 * value unit, -1 as 0), a wide one doubles (`Float64Array`) with keys and values as they
 * are; a map's blocks are all narrow or all wide.
 */
class Block {
  /** Ranges held. */
  n = 0;
  /** start, end, value of range i at 3i, 3i + 1, 3i + 2 (i below `n`). */
  k: Uint32Array | Float64Array;
  /** Narrow: the value unit (values are `(code - 1) × vu`, code 0 is -1). Wide: 0. */
  readonly vu: number;

  constructor(capacity: number, vu: number) {
    this.vu = vu;
    this.k = vu > 0 ? new Uint32Array(3 * capacity) : new Float64Array(3 * capacity);
  }

  /** Ranges the block has room for before it grows. */
  get capacity(): number {
    return this.k.length / 3;
  }

  /** Start of range `i`. */
  s(i: number): number {
    return this.vu > 0 ? this.k[3 * i] * FRAME_UNIT : this.k[3 * i];
  }

  /** End of range `i`. */
  e(i: number): number {
    return this.vu > 0 ? this.k[3 * i + 1] * FRAME_UNIT : this.k[3 * i + 1];
  }

  /** Value of range `i`. */
  v(i: number): number {
    const c = this.k[3 * i + 2];
    if (this.vu === 0) return c;
    return c === 0 ? -1 : (c - 1) * this.vu;
  }

  /**
   * Insert a range at index `i` (into a narrow block, one whose key and value words fit:
   * the map checks); the array grows up to `maxCapacity` ranges.
   */
  insert(i: number, s: number, e: number, v: number, maxCapacity: number): void {
    const n = this.n;
    if (3 * n === this.k.length) {
      const cap = Math.max(n + 1, Math.min(grownCapacity(n), maxCapacity));
      const k = this.vu > 0 ? new Uint32Array(3 * cap) : new Float64Array(3 * cap);
      k.set(this.k);
      this.k = k;
    }
    const k = this.k;
    if (i < n) k.copyWithin(3 * i + 3, 3 * i, 3 * n);
    if (this.vu > 0) {
      k[3 * i] = s / FRAME_UNIT;
      k[3 * i + 1] = e / FRAME_UNIT;
      k[3 * i + 2] = v === -1 ? 0 : v / this.vu + 1;
    } else {
      k[3 * i] = s;
      k[3 * i + 1] = e;
      k[3 * i + 2] = v;
    }
    this.n = n + 1;
  }

  /** Remove `c` ranges from index `i`. */
  remove(i: number, c: number): void {
    this.k.copyWithin(3 * i, 3 * (i + c), 3 * this.n);
    this.n -= c;
  }

  /**
   * Move the ranges from index `h` on to a new block, returned. Both halves keep room for
   * a quarter more than they hold (a full block's room left half empty in each half would
   * be a third of the map's memory).
   */
  splitOff(h: number): Block {
    const b = new Block(grownCapacity(this.n - h), this.vu);
    b.k.set(this.k.subarray(3 * h, 3 * this.n));
    b.n = this.n - h;
    this.n = h;
    this.k = this.k.slice(0, 3 * grownCapacity(h));
    return b;
  }

  /** The same ranges in a wide block. */
  widened(): Block {
    const b = new Block(this.capacity, 0);
    for (let i = 0; i < this.n; i++) {
      b.k[3 * i] = this.s(i);
      b.k[3 * i + 1] = this.e(i);
      b.k[3 * i + 2] = this.v(i);
    }
    b.n = this.n;
    return b;
  }
}

/** Whether value `v` has a narrow code in unit `vu`: -1, or a whole number of units. */
function valueFitsNarrow(v: number, vu: number): boolean {
  if (v === -1) return true;
  const q = v / vu;
  return q >= 0 && q === Math.floor(q) && q + 1 <= FRAME_MAX;
}

/** Initial key capacity of a block. */
const BLOCK_START_CAPACITY = 8;

/** The room a block of `n` ranges grows to: a quarter more (at least BLOCK_START_CAPACITY). */
const grownCapacity = (n: number) => n + Math.max(BLOCK_START_CAPACITY, n >>> 2);

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
const NOTHING_DISPLACED: Displaced = Object.freeze({
  removed: Object.freeze([]) as unknown as number[],
  split: undefined,
  trimmed: Object.freeze([]) as unknown as number[],
});

/** What collect() finds in a gap (shared; callers only read it). */
const NO_ENTRIES: RangeEntry[] = Object.freeze([]) as unknown as RangeEntry[];

/** A maple-tree-like map from disjoint half-open ranges to values, with a cost model. */
export class RangeMap {
  /** Steps spent by every operation so far (see the module's cost model). */
  steps = 0;
  private blocks: Block[] = [];
  private count = 0;
  /** Pairs of consecutive ranges that touch (no NULL gap slot between them). */
  private touching = 0;
  private readonly leafFill: number;
  private readonly internalFill: number;
  private readonly onSteps: ((n: number) => void) | undefined;
  private readonly onBytes: ((delta: number) => void) | undefined;
  private reportedBytes = 0;
  private readonly blockSize: number;
  /** The slot and leaf counts the modeled shape (`shapeNodes`, `shapeHeight`) is for. */
  private shapeSlots = 0;
  private shapeLeaves = 0;
  private shapeNodes = 0;
  private shapeHeight = 0;
  /** The blocks' value unit while narrow, 0 once wide (see {@linkcode Block}). */
  private vu: number;
  private readonly narrowUnit: number;
  /** Position set by seekEnd(): block index and index inside the block. */
  private posB = 0;
  private posI = 0;

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
    const vu = opts.valueUnit ?? 1;
    if (!(vu > 0 && Number.isSafeInteger(vu))) {
      throw new RangeError(`valueUnit ${vu} is not a positive integer`);
    }
    this.vu = this.narrowUnit = vu;
  }

  /** Whether the map keeps 32-bit words (simulator memory; tests). */
  get narrow(): boolean {
    return this.vu > 0;
  }

  /** Turn every block wide: a key or a value to store has no narrow word. */
  private widen(): void {
    this.blocks = this.blocks.map((b) => b.widened());
    this.vu = 0;
  }

  /** Stored ranges (pieces count one each). */
  get size(): number {
    return this.count;
  }

  /** Maple tree slots in use: the ranges plus the NULL gaps around and between them. */
  get slots(): number {
    if (this.count === 0) return 0;
    const lead = this.blocks[0].s(0) > 0 ? 1 : 0;
    const between = this.count - 1 - this.touching;
    return this.count + lead + between + 1; // + the trailing NULL range up to ULONG_MAX
  }

  /** Modeled maple nodes (leaves and internal nodes). */
  get nodes(): number {
    this.shape();
    return this.shapeNodes;
  }

  /** Modeled tree height in nodes (0 for an empty tree). */
  get height(): number {
    this.shape();
    return this.shapeHeight;
  }

  /** Modeled kernel bytes of the tree's nodes. */
  get memoryBytes(): number {
    this.shape();
    return this.shapeNodes * MAPLE_NODE_BYTES;
  }

  /** Bring the modeled node count and height up to date with the slot count. */
  private shape(): void {
    const slots = this.slots;
    if (slots === this.shapeSlots) return;
    this.shapeSlots = slots;
    const leaves = Math.ceil(slots / this.leafFill);
    if (leaves === this.shapeLeaves) return; // the internal nodes follow the leaves
    this.shapeLeaves = leaves;
    let nodes = 0, height = 0;
    if (slots > 0) {
      let c = leaves;
      nodes = c;
      height = 1;
      while (c > 1) {
        c = Math.ceil(c / this.internalFill);
        nodes += c;
        height++;
      }
    }
    this.shapeNodes = nodes;
    this.shapeHeight = height;
  }

  /** Add `n` steps and report them. */
  private charge(n: number): void {
    this.steps += n;
    this.onSteps?.(n);
  }

  /** Height charged for one walk from the root: at least 1 (the root pointer). */
  private walkCost(): number {
    this.shape();
    return Math.max(1, this.shapeHeight);
  }

  // --- positions ------------------------------------------------------------------------

  /** Block index of the first block whose last range ends after `x` (blocks.length if none). */
  private blockEndAbove(x: number): number {
    const bl = this.blocks;
    let lo = 0, hi = bl.length;
    // Past the last range (an append): no search.
    if (hi === 0 || bl[hi - 1].e(bl[hi - 1].n - 1) <= x) return hi;
    while (lo < hi) {
      const m = (lo + hi) >>> 1; // indices, not addresses
      const b = bl[m];
      if (b.e(b.n - 1) > x) hi = m;
      else lo = m + 1;
    }
    return lo;
  }

  /**
   * Set (posB, posI) to the position of the first range whose end is above `x`
   * (posB = blocks.length, posI = 0 if none).
   */
  private seekEnd(x: number): void {
    const b = this.blockEndAbove(x);
    this.posB = b;
    this.posI = 0;
    if (b === this.blocks.length) return;
    const blk = this.blocks[b];
    let lo = 0, hi = blk.n;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (blk.e(m) > x) hi = m;
      else lo = m + 1;
    }
    this.posI = lo;
  }

  /** End of the range before position (b, i), or -1 at the first range. */
  private endBefore(b: number, i: number): number {
    if (i > 0) return this.blocks[b].e(i - 1);
    if (b > 0) {
      const p = this.blocks[b - 1];
      return p.e(p.n - 1);
    }
    return -1;
  }

  // --- updates --------------------------------------------------------------------------

  /** Remove `n` consecutive ranges starting at position (b, i). */
  private deleteRun(b: number, i: number, n: number): void {
    const bl = this.blocks;
    const first = b;
    let left = n;
    // The first block: from i.
    const k0 = Math.min(left, bl[first].n - i);
    bl[first].remove(i, k0);
    left -= k0;
    let drop = 0; // whole blocks after `first` to drop
    let nb = first + 1;
    while (left > 0 && bl[nb].n <= left) {
      left -= bl[nb].n;
      drop++;
      nb++;
    }
    if (left > 0) bl[nb].remove(0, left);
    if (drop > 0) bl.splice(first + 1, drop);
    if (bl[first].n === 0) bl.splice(first, 1);
  }

  /** Insert one range that overlaps nothing, keeping the order. */
  private insertPiece(s: number, e: number, v: number): void {
    const bl = this.blocks;
    const full = 2 * this.blockSize;
    if (bl.length === 0) {
      const blk = new Block(BLOCK_START_CAPACITY, this.vu);
      blk.insert(0, s, e, v, full + 1);
      bl.push(blk);
      return;
    }
    const tail = bl[bl.length - 1];
    if (tail.s(tail.n - 1) < s) {
      // An append after the last range (consecutive faults): no search, no split; a
      // full last block is left full and a new one started.
      if (tail.n < full) tail.insert(tail.n, s, e, v, full + 1);
      else {
        const blk = new Block(full + 1, this.vu);
        blk.insert(0, s, e, v, full + 1);
        bl.push(blk);
      }
      return;
    }
    // Last block whose first start is <= s (or block 0).
    let lo = 0, hi = bl.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (bl[m].s(0) <= s) lo = m + 1;
      else hi = m;
    }
    const b = Math.max(0, lo - 1);
    const blk = bl[b];
    let a = 0, z = blk.n;
    while (a < z) {
      const m = (a + z) >>> 1;
      if (blk.s(m) < s) a = m + 1;
      else z = m;
    }
    this.insertAt(b, a, s, e, v);
  }

  /** Insert a range at index `i` of block `b` (the caller keeps the order); split when full. */
  private insertAt(b: number, i: number, s: number, e: number, v: number): void {
    const blk = this.blocks[b];
    const full = 2 * this.blockSize;
    blk.insert(i, s, e, v, full + 1);
    if (blk.n > full) this.blocks.splice(b + 1, 0, blk.splitOff(blk.n >>> 1));
  }

  /**
   * Replace what overlaps [s, e) by `mid` (a value) or by nothing (`hasMid` false). The
   * common part of store() and erase().
   */
  private overwrite(s: number, e: number, hasMid: boolean, mid: number | undefined): Displaced {
    // Every piece written below has its keys among s, e and stored keys, its value `mid`
    // or a stored one: checking these three keeps the blocks' words exact.
    if (
      this.vu > 0 &&
      !(fitsFrame(s) && fitsFrame(e) && (!hasMid || valueFitsNarrow(mid!, this.vu)))
    ) this.widen();
    const cost = this.walkCost();
    this.seekEnd(s);
    const b0 = this.posB, i0 = this.posI;
    const bl = this.blocks;
    if (b0 === bl.length || bl[b0].s(i0) >= e) {
      // Nothing overlaps [s, e) (the common store into a gap): no run to collect.
      if (!hasMid) {
        this.charge(cost);
        return NOTHING_DISPLACED;
      }
      // End of the range before, start of the range after (-1: none; keys are >= 0).
      const pe = this.endBefore(b0, i0);
      const ns = b0 < bl.length ? bl[b0].s(i0) : -1;
      const before = pe !== -1 && pe === ns ? 1 : 0;
      const after = (pe === s ? 1 : 0) + (e === ns ? 1 : 0);
      // Before the range at (b0, i0), or after the last one.
      if (b0 < bl.length) this.insertAt(b0, i0, s, e, mid as number);
      else this.insertPiece(s, e, mid as number);
      this.count++;
      this.touching += after - before;
      this.charge(cost + 1);
      return NOTHING_DISPLACED;
    }
    const out: Displaced = { removed: [], split: undefined, trimmed: [] };
    // Collect the run of ranges intersecting [s, e).
    const rs: number[] = [], re: number[] = [], rv: number[] = [];
    let b = b0, i = i0;
    let ns = -1; // start of the range after the run (-1: none)
    while (b < this.blocks.length) {
      const blk = this.blocks[b];
      if (blk.s(i) >= e) {
        ns = blk.s(i);
        break;
      }
      rs.push(blk.s(i));
      re.push(blk.e(i));
      rv.push(blk.v(i));
      if (++i === blk.n) {
        b++;
        i = 0;
      }
    }
    const pe = this.endBefore(b0, i0);
    // New pieces over the region.
    const news: number[] = [], newe: number[] = [], newv: number[] = [];
    const n = rs.length;
    if (n > 0 && rs[0] < s) {
      news.push(rs[0]);
      newe.push(s);
      newv.push(rv[0]);
    }
    if (hasMid) {
      news.push(s);
      newe.push(e);
      newv.push(mid as number);
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
    } else if (pe !== -1 && pe === ns) before++;
    const m = news.length;
    if (m > 0) {
      if (pe === news[0]) after++;
      for (let k = 1; k < m; k++) if (newe[k - 1] === news[k]) after++;
      if (newe[m - 1] === ns) after++;
    } else if (pe !== -1 && pe === ns) after++;
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
  store(start: number, end: number, value: number): Displaced {
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
  erase(start: number, end: number): Displaced {
    checkRange(start, end, "erase");
    return this.reported(this.overwrite(start, end, false, undefined));
  }

  /**
   * mas_erase() with the state at `index`: remove the whole stored range containing
   * `index` and return it (undefined when `index` is in a gap).
   */
  eraseAt(index: number): RangeEntry | undefined {
    checkKey(index, "eraseAt");
    this.seekEnd(index);
    const blk = this.blocks[this.posB], i = this.posI;
    if (!blk || blk.s(i) > index) {
      this.charge(this.walkCost());
      return undefined;
    }
    const hit = { start: blk.s(i), end: blk.e(i), value: blk.v(i) };
    this.overwrite(hit.start, hit.end, false, undefined); // charges the walk + 1 range
    return this.reported(hit);
  }

  // --- queries --------------------------------------------------------------------------

  /** find() without charging steps. */
  private findNoCharge(start: number, max: number): RangeEntry | undefined {
    if (start >= max) return undefined;
    this.seekEnd(start);
    const blk = this.blocks[this.posB], i = this.posI;
    if (!blk || blk.s(i) >= max) return undefined;
    return { start: blk.s(i), end: blk.e(i), value: blk.v(i) };
  }

  /** mt_find(): the first stored range intersecting [start, max), or undefined. */
  find(start: number, max: number): RangeEntry | undefined {
    checkKey(start, "find");
    checkKey(max, "find");
    const r = this.findNoCharge(start, max);
    this.charge(this.walkCost() + (r ? 1 : 0));
    return r;
  }

  /** mtree_load(): the stored range containing `index`, or undefined. */
  load(index: number): RangeEntry | undefined {
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
  forEach(start: number, max: number, fn: (e: RangeEntry) => void, restartWalk = true): number {
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

  /**
   * mas_for_each() collecting: the stored ranges intersecting [start, max), in order,
   * charged as `forEach(start, max, fn, false)` (one walk, one step per entry). When
   * there are none, the result is a shared empty array: do not add to it.
   */
  collect(start: number, max: number): RangeEntry[] {
    checkKey(start, "collect");
    checkKey(max, "collect");
    const cost = this.walkCost();
    const bl = this.blocks;
    if (start < max) this.seekEnd(start);
    else this.posB = bl.length;
    let b = this.posB, i = this.posI;
    if (b === bl.length || bl[b].s(i) >= max) {
      this.charge(cost);
      return NO_ENTRIES;
    }
    const out: RangeEntry[] = [];
    while (b < bl.length && bl[b].s(i) < max) {
      const blk = bl[b];
      out.push({ start: blk.s(i), end: blk.e(i), value: blk.v(i) });
      if (++i === blk.n) {
        b++;
        i = 0;
      }
    }
    this.charge(cost + out.length);
    return out;
  }

  /** Every stored range in order, for reports and tests (charges nothing). */
  toArray(): RangeEntry[] {
    const out: RangeEntry[] = [];
    for (const b of this.blocks) {
      for (let i = 0; i < b.n; i++) out.push({ start: b.s(i), end: b.e(i), value: b.v(i) });
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
      if (b.n === 0) throw new Error(`block ${bi} is empty`);
      if (b.n > b.capacity) {
        throw new Error(`block ${bi} is ragged`);
      }
      for (let i = 0; i < b.n; i++) {
        if (!(b.s(i) < b.e(i)) || b.s(i) < 0 || b.e(i) > MAX_RANGE_KEY) {
          throw new Error(`bad range at ${n}`);
        }
        if (b.s(i) < prevEnd) throw new Error(`range ${n} overlaps or is out of order`);
        if (b.s(i) === prevEnd) touching++;
        prevEnd = b.e(i);
        n++;
      }
    }
    if (n !== this.count) throw new Error(`count ${this.count} != ${n}`);
    if (touching !== this.touching) throw new Error(`touching ${this.touching} != ${touching}`);
  }

  /** mtree_destroy(): drop every range; charges one step per node freed. */
  destroy(): void {
    this.shape();
    this.charge(this.shapeNodes);
    this.blocks = [];
    this.vu = this.narrowUnit;
    this.count = 0;
    this.touching = 0;
    this.reported(undefined);
  }
}
