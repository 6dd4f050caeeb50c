/**
 * `rmap-compact` — ours, the memory-lean reverse map: the same invariant as `rmap` (every
 * live shadow leaf indexed exactly once under the canonical range it translates), laid out
 * like x86 KVM's per-level rmap arrays but allocated lazily per canonical chunk and
 * compressed where L2's memory is laid out linearly, which it mostly is.
 *
 * ## Layout (modeled kernel bytes in brackets)
 * - **Reverse side, per leaf size Z** ("level"): canonical IPA space cut into chunks of
 *   {@linkcode COMPACT_CHUNK_SLOTS} slots of Z (a last-level table's span at that size; 2M for
 *   4K leaves). A per-level ordered directory of populated chunks (a maple tree keyed by chunk
 *   index: one slot per chunk, a NULL gap between chunks that do not touch) points to each
 *   chunk's record, one allocation [kmalloc size class of 8 + 16 u + 8 e]: a header word (which
 *   of its 8 blocks of 64 slots are in use), then per block in use a *linear run*: a 64-bit
 *   occupancy bitmap and one descriptor (shadow MMU, shadow IPA of the block's slot 0) [16 B],
 *   meaning "slot i of this block maps shadow IPA base + i x Z of that MMU", and the chunk's
 *   *exceptions* [8 B each]: descriptors (slot, MMU, shadow frame packed in one u64, as x86's
 *   rmap entries) for leaves that do not fit their block's run, sorted by slot: aliases (a
 *   second MMU, or a second shadow IPA, on the same canonical page) and non-linear layouts.
 * - **Shadow side** ("shadowed translation"), per shadow table page holding indexed leaves:
 *   one word, the canonical-minus-shadow offset of its first indexed leaf [8 B, kept with the
 *   table page as x86 keeps `shadowed_translation` with its shadow page], and the canonical
 *   frame of every leaf of the page that does not follow that offset, sorted by slot
 *   [kmalloc size class of 8 + 8 e]. Whether a slot is indexed is the shadow PTE's valid bit:
 *   no state of its own.
 *
 * Dense linear memory costs 16 B per 64 leaves on the reverse side and 8 B per 512 on the
 * shadow side; a scattered leaf (one per chunk) costs its directory slots, a 32-byte chunk
 * record and 8 B of shadow side.
 *
 * ## Operations
 * - Insert (after user_mem_abort() installed a leaf): the shadow side gives the offset (a new
 *   table page takes the leaf's); the reverse side sets the bit of the leaf's block run if the
 *   run is free or the leaf continues it linearly, else inserts an exception.
 * - Removal (any leaf leaving its table: this design's unmap, L1's TLBIs, recycling, the map
 *   walker): the shadow side gives the canonical IPA, the chunk record the entry (bit or
 *   exception); emptied records, blocks and table words are freed.
 * - Host unmap of [s, e): per level, the directory search for the first chunk, then every
 *   chunk in range: its runs' set bits in the slot range (bit scans) and its exceptions from
 *   one binary search. Every set bit and exception visited is a leaf derived from [s, e),
 *   unmapped with one stage2_apply_range() iteration each.
 *
 * ## Steps counted (one per directory key, chunk, bit, exception visited, and the searches)
 * The directory search (about log2 of the chunks + 1, as `rmap`), the exception search of the
 * first chunk (log2 of its exceptions + 1), one per chunk visited and one for the key that
 * ends the range, one per leaf, one per partial block that yields nothing: with k leaves
 * removed out of n indexed, steps <= 2k + 2⌈log2(n+1)⌉ + 6 per populated level (tested).
 * Nothing depends on the IPA space or the number of MMUs.
 *
 * ## Locking (kernel port)
 * Faults hold `mmu_lock` for read: a chunk record is updated under a per-chunk lock (a bit
 * of its header word), the directory through the maple tree's own lock; unmaps, wp and TLBIs
 * hold `mmu_lock` for write (docs/rmap.md). The sweep's `inserts_contended_chunk` column
 * measures that domain.
 *
 * @module
 */

import type { Design } from "./design.ts";
import type { ShadowMmu } from "../kvm/s2_mmu.ts";
import type { HostUnmapKind, ReverseMapStrategy, ShadowOps } from "../kvm/strategy.ts";
import { mapleTreeBytes } from "../util/range_map.ts";
import { eachFound } from "./derived.ts";
import { SortedKeys } from "../util/sorted_keys.ts";

/** Slots (leaves of one size) per canonical chunk: PTRS_PER_PTE at 4K. */
export const COMPACT_CHUNK_SLOTS = 512;
/** Slots per block: one 64-bit occupancy word each. */
export const COMPACT_BLOCK_SLOTS = 64;
const BLOCKS = COMPACT_CHUNK_SLOTS / COMPACT_BLOCK_SLOTS;

/** kmalloc size classes up to a page; beyond, whole pages (kvmalloc). */
const KMALLOC_CLASSES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096];

/** Bytes the allocator hands out for a request of `n` bytes (0 for 0). */
export function allocBytes(n: number): number {
  if (n <= 0) return 0;
  for (const c of KMALLOC_CLASSES) if (n <= c) return c;
  return Math.ceil(n / 4096) * 4096;
}

/** ⌈log2 n⌉ of a whole number below 2^31 (its bit length less one for powers of two). */
const ceilLog2 = (n: number) => (n <= 1 ? 0 : 32 - Math.clz32(n - 1));

/**
 * Numbers per block's linear run in {@linkcode Chunk.runs}: the MMU ({@linkcode NO_RUN} for
 * a block not in use), the shadow IPA of the block's slot 0 under the run's linear map, and
 * the occupancy as two 32-bit halves (bit operations on slots only).
 */
const RUN = 4;
const RUN_MMU = 0, RUN_BASE = 1, RUN_LO = 2, RUN_HI = 3;
/** The MMU field of a block whose run is not in use. */
const NO_RUN = -1;
/** Numbers per exception in {@linkcode Chunk.ex}: slot, MMU, shadow IPA. */
const EX = 3;

/** A chunk record. */
interface Chunk {
  /** The blocks' linear runs, {@linkcode RUN} numbers each (one flat array, no objects). */
  runs: number[];
  usedRuns: number;
  /** Exceptions as (slot, mmu, shadow IPA) triples, sorted. */
  ex: number[];
  bytes: number;
}

/** A shadow table page's side record. */
interface Side {
  /** canonical - shadow of the page's first indexed leaf */
  delta: number;
  /** indexed leaves in the page */
  count: number;
  /** (slot, canonical IPA) pairs sorted by slot, for leaves off `delta` */
  exc: number[] | null;
  bytes: number;
}

interface Level {
  size: number;
  /** canonical bytes per chunk */
  chunkSpan: number;
  /** shadow bytes per shadow table page at this leaf size */
  sideSpan: number;
  dir: SortedKeys;
  adjacent: number;
  chunks: Map<number, Chunk>;
}

/** Bit `i` of the run at `k` of `runs`. */
const bit = (runs: number[], k: number, i: number) =>
  i < 32 ? (runs[k + RUN_LO] >>> i) & 1 : (runs[k + RUN_HI] >>> (i - 32)) & 1;

/** A chunk record with no run and no exception. */
function newChunk(): Chunk {
  const runs: number[] = [];
  // A NaN base keeps the array one of doubles from the start (shadow IPAs pass 2^31).
  for (let b = 0; b < BLOCKS; b++) runs.push(NO_RUN, NaN, 0, 0);
  return { runs, usedRuns: 0, ex: [], bytes: 0 };
}
const popcount32 = (x: number) => {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
};

/** Pair index of the first side exception of `rec` at or after `slot`. */
function sideExceptionAt(exc: number[], slot: number): number {
  let lo = 0, hi = exc.length >> 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (exc[2 * mid] < slot) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The canonical IPA the side record keeps for `slot` off its offset, or undefined. */
function sideException(rec: Side, slot: number): number | undefined {
  const exc = rec.exc;
  if (exc === null) return undefined;
  const k = 2 * sideExceptionAt(exc, slot);
  return k < exc.length && exc[k] === slot ? exc[k + 1] : undefined;
}

/** Keep canonical IPA `c` for `slot` off the side record's offset (replacing any). */
function sideExceptionSet(rec: Side, slot: number, c: number): void {
  const exc = (rec.exc ??= []);
  const k = 2 * sideExceptionAt(exc, slot);
  if (k < exc.length && exc[k] === slot) exc[k + 1] = c;
  else exc.splice(k, 0, slot, c);
}

/** Forget the side record's exception for `slot`, if any. */
function sideExceptionDelete(rec: Side, slot: number): void {
  const exc = rec.exc;
  if (exc === null) return;
  const k = 2 * sideExceptionAt(exc, slot);
  if (k < exc.length && exc[k] === slot) exc.splice(k, 2);
}

/** The compact reverse map. */
export class RmapCompact implements ReverseMapStrategy {
  /** `rmap-compact`. */
  readonly name = "rmap-compact";
  private ops!: ShadowOps;
  private levels: Level[] = [];
  /** Descriptors per shadow table page (PTRS_PER_PTE of the host granule). */
  private tableSlots = 0;
  /** Per MMU, per level: shadow table page index -> side record. */
  private side: Map<number, Side>[][] = [];
  private chunkBytes = 0;
  private sideBytes = 0;
  private dirBytes = 0;
  private entryCount = 0;
  /** Inside unmapCanonical(): removals were just visited (not counted again). */
  private ownUnmap = false;

  /** Build one level per leaf size the host granule allows. */
  attach(ops: ShadowOps): void {
    this.ops = ops;
    const g = ops.granule;
    this.tableSlots = g.ptrsPerTable;
    for (let l = 0; l <= 3; l++) {
      const size = 2 ** (g.pageShift + (3 - l) * g.bitsPerLevel);
      this.levels.push({
        size,
        chunkSpan: size * COMPACT_CHUNK_SLOTS,
        sideSpan: size * g.ptrsPerTable,
        dir: new SortedKeys(),
        adjacent: 0,
        chunks: new Map(),
      });
    }
    this.side = ops.mmus.map(() => this.levels.map(() => new Map()));
  }

  private levelOf(size: number): number {
    for (let l = 0; l < this.levels.length; l++) if (this.levels[l].size === size) return l;
    throw new RangeError(`rmap-compact: no level maps ${size} bytes`);
  }

  /** Leaves indexed now. */
  get entries(): number {
    return this.entryCount;
  }

  /** rmap_add(): after kvm_pgtable_stage2_map() installed the leaf(s) of a nested fault. */
  shadowMapped(mmu: ShadowMmu, shadowIpa: number, canonicalIpa: number, size: number): void {
    const rootSize = mmu.pgt.sizes[mmu.pgt.geom.startLevel];
    const z = size < rootSize ? size : rootSize;
    for (let off = 0; off < size; off += z) this.add(mmu, shadowIpa + off, canonicalIpa + off, z);
  }

  /** The canonical IPA shadow leaf `s` (size index `l`) of MMU `m` is indexed under, or NaN. */
  private canonicalOf(m: number, l: number, s: number): number {
    const L = this.levels[l];
    const page = Math.floor(s / L.sideSpan);
    const rec = this.side[m][l].get(page);
    if (!rec) return NaN;
    const slot = (s - page * L.sideSpan) / L.size;
    const c = sideException(rec, slot) ?? s + rec.delta;
    return this.findEntry(L, c, m, s) ? c : NaN;
  }

  private add(mmu: ShadowMmu, s: number, c: number, z: number): void {
    const l = this.levelOf(z);
    const old = this.canonicalOf(mmu.id, l, s);
    if (old === c) return; // a re-fault or a permission relax of the same leaf
    if (!Number.isNaN(old)) this.remove(mmu.id, l, s, old);
    const L = this.levels[l];
    // Shadow side.
    const sm = this.side[mmu.id][l];
    const page = Math.floor(s / L.sideSpan);
    const sslot = (s - page * L.sideSpan) / z;
    let rec = sm.get(page);
    if (!rec) {
      rec = { delta: c - s, count: 0, exc: null, bytes: 8 };
      sm.set(page, rec);
      this.sideBytes += 8;
    }
    rec.count++;
    if (c - s !== rec.delta) {
      sideExceptionSet(rec, sslot, c);
      this.resizeSide(rec);
    }
    // Reverse side.
    const ci = Math.floor(c / L.chunkSpan);
    let ch = L.chunks.get(ci);
    if (!ch) {
      ch = newChunk();
      L.chunks.set(ci, ch);
      this.ops.countSteps(L.dir.insert(ci));
      L.adjacent += (L.dir.pred + 1 === ci ? 1 : 0) + (ci + 1 === L.dir.succ ? 1 : 0);
      this.updateDirBytes();
    }
    const slot = (c - ci * L.chunkSpan) / z;
    const b = Math.floor(slot / COMPACT_BLOCK_SLOTS), i = slot % COMPACT_BLOCK_SLOTS;
    const base = s - i * z;
    const runs = ch.runs, k = b * RUN;
    if (runs[k + RUN_MMU] === NO_RUN) {
      runs[k + RUN_MMU] = mmu.id;
      runs[k + RUN_BASE] = base;
      ch.usedRuns++;
    }
    if (runs[k + RUN_MMU] === mmu.id && runs[k + RUN_BASE] === base && !bit(runs, k, i)) {
      if (i < 32) runs[k + RUN_LO] = (runs[k + RUN_LO] | (1 << i)) >>> 0;
      else runs[k + RUN_HI] = (runs[k + RUN_HI] | (1 << (i - 32))) >>> 0;
      this.ops.countSteps(1);
    } else {
      const at = this.exLowerBound(ch, slot, mmu.id, s);
      this.ops.countSteps(1 + ceilLog2(ch.ex.length / EX + 1));
      ch.ex.splice(at * EX, 0, slot, mmu.id, s);
    }
    this.entryCount++;
    this.resizeChunk(ch);
  }

  /** First exception index at or after (slot, mmu, s) in the chunk's order. */
  private exLowerBound(ch: Chunk, slot: number, mmu: number, s: number): number {
    const ex = ch.ex;
    let lo = 0, hi = ex.length / EX;
    while (lo < hi) {
      const mid = (lo + hi) >> 1, e = mid * EX;
      const before = ex[e] < slot ||
        (ex[e] === slot && (ex[e + 1] < mmu || (ex[e + 1] === mmu && ex[e + 2] < s)));
      if (before) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Whether (mmu m, shadow IPA s) is indexed under canonical c at level L. */
  private findEntry(L: Level, c: number, m: number, s: number): boolean {
    const ch = L.chunks.get(Math.floor(c / L.chunkSpan));
    if (!ch) return false;
    const slot = (c - Math.floor(c / L.chunkSpan) * L.chunkSpan) / L.size;
    const b = Math.floor(slot / COMPACT_BLOCK_SLOTS), i = slot % COMPACT_BLOCK_SLOTS;
    const runs = ch.runs, k = b * RUN;
    if (
      runs[k + RUN_MMU] === m && runs[k + RUN_BASE] === s - i * L.size && bit(runs, k, i)
    ) return true;
    const e = this.exLowerBound(ch, slot, m, s) * EX, ex = ch.ex;
    return e < ex.length && ex[e] === slot && ex[e + 1] === m && ex[e + 2] === s;
  }

  private resizeChunk(ch: Chunk): void {
    const e = ch.ex.length / EX;
    const bytes = ch.usedRuns + e === 0 ? 0 : allocBytes(8 + 16 * ch.usedRuns + 8 * e);
    this.chunkBytes += bytes - ch.bytes;
    ch.bytes = bytes;
  }

  private resizeSide(rec: Side): void {
    const e = rec.exc === null ? 0 : rec.exc.length / 2;
    const bytes = rec.count === 0 ? 0 : 8 + (e > 0 ? allocBytes(8 + 8 * e) : 0);
    this.sideBytes += bytes - rec.bytes;
    rec.bytes = bytes;
  }

  private updateDirBytes(): void {
    let b = 0;
    for (const L of this.levels) {
      const n = L.dir.size;
      b += mapleTreeBytes(n === 0 ? 0 : 2 * n + 1 - L.adjacent);
    }
    this.dirBytes = b;
  }

  /** Remove the entry of (MMU m, shadow IPA s) at level l, indexed under canonical c. */
  private remove(m: number, l: number, s: number, c: number): void {
    const L = this.levels[l];
    const steps = this.ownUnmap ? 0 : 1;
    // Shadow side.
    const sm = this.side[m][l];
    const page = Math.floor(s / L.sideSpan);
    const rec = sm.get(page)!;
    sideExceptionDelete(rec, (s - page * L.sideSpan) / L.size);
    rec.count--;
    this.resizeSide(rec);
    if (rec.count === 0) sm.delete(page);
    // Reverse side.
    const ci = Math.floor(c / L.chunkSpan);
    const ch = L.chunks.get(ci)!;
    const slot = (c - ci * L.chunkSpan) / L.size;
    const b = Math.floor(slot / COMPACT_BLOCK_SLOTS), i = slot % COMPACT_BLOCK_SLOTS;
    const runs = ch.runs, k = b * RUN;
    if (
      runs[k + RUN_MMU] === m && runs[k + RUN_BASE] === s - i * L.size && bit(runs, k, i)
    ) {
      if (i < 32) runs[k + RUN_LO] = (runs[k + RUN_LO] & ~(1 << i)) >>> 0;
      else runs[k + RUN_HI] = (runs[k + RUN_HI] & ~(1 << (i - 32))) >>> 0;
      if (runs[k + RUN_LO] === 0 && runs[k + RUN_HI] === 0) {
        runs[k + RUN_MMU] = NO_RUN;
        ch.usedRuns--;
      }
    } else {
      const at = this.exLowerBound(ch, slot, m, s);
      ch.ex.splice(at * EX, EX);
    }
    this.entryCount--;
    this.resizeChunk(ch);
    if (ch.usedRuns === 0 && ch.ex.length === 0) {
      L.chunks.delete(ci);
      const ds = L.dir.remove(ci);
      L.adjacent -= (L.dir.pred + 1 === ci ? 1 : 0) + (ci + 1 === L.dir.succ ? 1 : 0);
      this.updateDirBytes();
      if (!this.ownUnmap) this.ops.countSteps(ds);
    }
    if (steps) this.ops.countSteps(steps);
  }

  /** A shadow leaf left its table: drop its entry through the shadow side. */
  shadowRemoved(mmu: ShadowMmu, shadowIpa: number, size: number): void {
    const rootSize = mmu.pgt.sizes[mmu.pgt.geom.startLevel];
    const z = size < rootSize ? size : rootSize;
    const l = this.levels.findIndex((L) => L.size === z);
    if (l < 0) return;
    for (let off = 0; off < size; off += z) {
      const c = this.canonicalOf(mmu.id, l, shadowIpa + off);
      if (!Number.isNaN(c)) this.remove(mmu.id, l, shadowIpa + off, c);
    }
  }

  /** The MMU is recycled: its entries go (its table is about to be emptied whole). */
  mmuReset(mmu: ShadowMmu): void {
    for (let l = 0; l < this.levels.length; l++) {
      const L = this.levels[l];
      const sm = this.side[mmu.id][l];
      const leaves: [number, number][] = [];
      for (const [page, rec] of sm) {
        // The PTE valid bits say which slots are indexed; here: every slot whose entry exists.
        for (let slot = 0; slot < this.tableSlots; slot++) {
          const s = page * L.sideSpan + slot * L.size;
          const c = sideException(rec, slot) ?? s + rec.delta;
          if (this.findEntry(L, c, mmu.id, s)) leaves.push([s, c]);
        }
      }
      for (const [s, c] of leaves) this.remove(mmu.id, l, s, c);
    }
  }

  /**
   * Every (MMU, shadow IPA, size) whose canonical range meets [start, end), each level:
   * the directory search, then each chunk's runs and exceptions in the slot range.
   */
  private collect(start: number, end: number): number[] {
    const out: number[] = [];
    for (const L of this.levels) {
      if (L.dir.size === 0) continue;
      const from = Math.floor(start / L.size) * L.size;
      const firstChunk = Math.floor(from / L.chunkSpan);
      const lastChunk = Math.floor((end - 1) / L.chunkSpan);
      let first = true;
      const steps = L.dir.forRange(firstChunk, lastChunk + 1, (ci) => {
        const ch = L.chunks.get(ci)!;
        const base = ci * L.chunkSpan;
        const lo = Math.max(0, (from - base) / L.size);
        const hi = Math.min(COMPACT_CHUNK_SLOTS, Math.ceil((end - base) / L.size));
        for (let b = Math.floor(lo / COMPACT_BLOCK_SLOTS); b * COMPACT_BLOCK_SLOTS < hi; b++) {
          const runs = ch.runs, k = b * RUN;
          if (runs[k + RUN_MMU] === NO_RUN) continue;
          const b0 = b * COMPACT_BLOCK_SLOTS;
          const iLo = Math.max(lo - b0, 0), iHi = Math.min(hi - b0, COMPACT_BLOCK_SLOTS);
          let found = 0;
          for (let i = iLo; i < iHi; i++) {
            if (!bit(runs, k, i)) continue;
            out.push(runs[k + RUN_MMU], runs[k + RUN_BASE] + i * L.size, L.size);
            found++;
          }
          // A partial block with nothing in range still cost its bitmap read.
          this.ops.countSteps(found === 0 ? 1 : found);
        }
        const ex = ch.ex, n = ex.length / EX;
        if (n > 0) {
          let at = 0;
          if (first && lo > 0) {
            at = this.exLowerBound(ch, lo, -1, -1);
            this.ops.countSteps(1 + ceilLog2(n + 1));
          }
          for (; at < n; at++) {
            this.ops.countSteps(1);
            if (ex[at * EX] >= hi) break;
            out.push(ex[at * EX + 1], ex[at * EX + 2], L.size);
          }
        }
        first = false;
      });
      this.ops.countSteps(steps);
    }
    return out;
  }

  /** kvm_nested_s2_unmap() replaced: unmap exactly the leaves derived from [start, end). */
  unmapCanonical(start: number, end: number, _kind: HostUnmapKind): void {
    const found = this.collect(start, end);
    this.ownUnmap = true;
    try {
      eachFound(this.ops.mmus, found, (m, s, z) => this.ops.unmapShadowRange(m, s, z));
    } finally {
      this.ownUnmap = false;
    }
  }

  /** kvm_nested_s2_wp() replaced: write-protect exactly the leaves derived from [start, end). */
  wpCanonical(start: number, end: number): void {
    eachFound(
      this.ops.mmus,
      this.collect(start, end),
      (m, s, z) => this.ops.wpShadowRange(m, s, z),
    );
  }

  /** kvm_nested_s2_flush() replaced: flush exactly the leaves derived from [start, end). */
  flushCanonical(start: number, end: number): void {
    eachFound(
      this.ops.mmus,
      this.collect(start, end),
      (m, s, z) => this.ops.flushShadowRange(m, s, z),
    );
  }

  /** Modeled kernel bytes: chunk records, directories, shadow-side words and exceptions. */
  memoryBytes(): number {
    return this.chunkBytes + this.dirBytes + this.sideBytes;
  }

  /**
   * For exhaustive checking: every entry as the reverse side holds it (level, canonical
   * IPA, MMU, shadow IPA) with what the shadow side answers for it; how entries are packed
   * (runs or exceptions, table words) changes no answer.
   */
  encodeState(): string {
    const out: string[] = [];
    this.levels.forEach((L, l) => {
      for (const [ci, ch] of L.chunks) {
        const entry = (slot: number, m: number, s: number) =>
          out.push(
            `${l}/${ci * L.chunkSpan + slot * L.size}/${m}/${s}/${this.canonicalOf(m, l, s)}`,
          );
        const runs = ch.runs, ex = ch.ex;
        for (let k = 0; k < runs.length; k += RUN) {
          for (let i = 0; runs[k + RUN_MMU] !== NO_RUN && i < COMPACT_BLOCK_SLOTS; i++) {
            if (bit(runs, k, i)) {
              const slot = (k / RUN) * COMPACT_BLOCK_SLOTS + i;
              entry(slot, runs[k + RUN_MMU], runs[k + RUN_BASE] + i * L.size);
            }
          }
        }
        for (let e = 0; e < ex.length; e += EX) entry(ex[e], ex[e + 1], ex[e + 2]);
      }
    });
    return out.sort().join(",");
  }

  /** Never falls back. */
  fallbacks(): number {
    return 0;
  }

  /** Check the invariant against the shadow tables (tests): every leaf indexed once, no more. */
  verify(): string[] {
    const problems: string[] = [];
    let leaves = 0;
    for (const mmu of this.ops.mmus) {
      this.ops.forEachShadowLeaf(mmu, (s, size, _oa, _attr, canonical) => {
        const rootSize = mmu.pgt.sizes[mmu.pgt.geom.startLevel];
        const z = size < rootSize ? size : rootSize;
        const l = this.levels.findIndex((L) => L.size === z);
        for (let off = 0; off < size; off += z) {
          leaves++;
          const c = this.canonicalOf(mmu.id, l, s + off);
          if (c !== canonical + off) {
            problems.push(
              `MMU ${mmu.id}: leaf at ${s + off} indexed under ${c}, not ${canonical + off}`,
            );
          }
        }
      });
    }
    if (leaves !== this.entryCount) {
      problems.push(`${this.entryCount} entries for ${leaves} leaves`);
    }
    let counted = 0, chunkBytes = 0;
    for (const L of this.levels) {
      if (L.dir.size !== L.chunks.size) {
        problems.push(`level ${L.size}: directory and chunks disagree`);
      }
      const k = L.dir.keys();
      let adj = 0;
      for (let i = 1; i < k.length; i++) if (k[i - 1] + 1 === k[i]) adj++;
      if (adj !== L.adjacent) {
        problems.push(`level ${L.size}: ${L.adjacent} adjacent, recount ${adj}`);
      }
      for (const ch of L.chunks.values()) {
        let used = 0;
        const runs = ch.runs, ex = ch.ex;
        for (let k = 0; k < runs.length; k += RUN) {
          if (runs[k + RUN_MMU] === NO_RUN) continue;
          used++;
          const lo = runs[k + RUN_LO], hi = runs[k + RUN_HI];
          counted += popcount32(lo) + popcount32(hi);
          if (lo === 0 && hi === 0) problems.push(`level ${L.size}: an empty run is kept`);
        }
        if (used !== ch.usedRuns) problems.push(`level ${L.size}: run count off`);
        counted += ex.length / EX;
        for (let e = EX; e < ex.length; e += EX) {
          if (ex[e - EX] > ex[e]) {
            problems.push(`level ${L.size}: exceptions unsorted`);
          }
        }
        chunkBytes += ch.bytes;
      }
    }
    if (counted !== this.entryCount) {
      problems.push(`${counted} entries in chunks, ${this.entryCount} counted`);
    }
    if (chunkBytes !== this.chunkBytes) {
      problems.push(`chunk bytes ${this.chunkBytes}, recount ${chunkBytes}`);
    }
    return problems;
  }
}

/** The `rmap-compact` design record. */
export const rmapCompactDesign: Design = {
  name: "rmap-compact",
  label: "rmap-compact (ours)",
  summary: "s2lab's compact reverse map: per-chunk linear runs and exceptions",
  role: "ours",
  knownBroken: false,
  reference: true,
  insertLock: "chunk",
  leafBytes: 130,
  description: "The same invariant as rmap (every live shadow leaf indexed once under the " +
    "canonical range it translates), laid out per canonical chunk of 512 leaves: a linear run " +
    "(one descriptor for 64 slots whose shadow IPAs follow the canonical ones) where L2's " +
    "memory is laid out linearly, exceptions for aliases and non-linear layouts, and one " +
    "word per shadow table page for the reverse direction.",
  source: "docs/rmap.md; lib/strategies/rmap_compact.ts",
  style: { color: "#2ca02c", dash: "1,2", symbol: "wye", hollow: false },
  make: () => new RmapCompact(),
};
