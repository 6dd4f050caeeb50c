/**
 * arch/arm64/kvm/hyp/pgtable.c: a stage-2 page table (`struct kvm_pgtable`), its one
 * walker (`kvm_pgtable_walk()`) and the stage-2 operations as visitors of that walker
 * (`stage2_map_walker`, `stage2_unmap_walker`, `stage2_attr_walker`,
 * `stage2_flush_walker`). Every operation on a table is one walk with a visitor callback
 * that sees a `kvm_pgtable_visit_ctx`: where the walker is, the descriptor it read
 * (`old`), and the walk's per-call argument (`arg`).
 *
 * Storage is pooled typed arrays, never one JS object per descriptor: per descriptor an
 * output address (a leaf's page frame, or a child table's id: 32 bits, widened to 64-bit
 * floats if a frame ever needs more), attribute bits (`Uint8Array`, 0 = invalid),
 * optionally one simulator-only number (the canonical IPA of a shadow leaf, as a frame too)
 * and optionally a number a reverse-map design keeps beside each leaf
 * ({@linkcode KvmPgtable.shadowedAt}); per table a bitmap of valid descriptors (so that
 * runs of invalid descriptors are counted without being visited one by one), its level,
 * base address and valid count. Table pages are recycled through a free list.
 *
 * Simulator shortcuts, never a change in what is counted: a map that falls in the table of
 * the last leaf written starts its walk there and counts the table descriptors above it as
 * a walk from the pgd visits them ({@linkcode KvmPgtable.walkNearLastLeaf}); lookups and
 * installs start from the table the last lookup ended in. `shortcuts: false` turns them
 * off, and a test compares the two.
 *
 * @example Map a 2M block, then unmap one page of it: the whole block goes
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { granule, stage2Geometry } from "./granule.ts";
 * import {
 *   KvmPgtable,
 *   kvmPgtableStage2Map,
 *   kvmPgtableStage2Unmap,
 *   newWalkStats,
 *   PTE_R,
 *   PTE_W,
 * } from "./pgtable.ts";
 * const pgt = new KvmPgtable(stage2Geometry(granule("4K"), 40));
 * const st = newWalkStats();
 * kvmPgtableStage2Map(pgt, 0x4000_0000, 0x20_0000, 0x8020_0000, PTE_R | PTE_W, 0, st);
 * assertEquals(pgt.getLeaf(0x4000_1000), 2); // a level-2 leaf
 * assertEquals(pgt.leafOa, 0x8020_0000);
 * kvmPgtableStage2Unmap(pgt, 0x4000_1000, 0x1000, st);
 * assertEquals([pgt.leaves, pgt.tablePages], [0, 2]); // the emptied level-2 table is freed
 * ```
 * @module
 */

import { KVM_PGTABLE_LAST_LEVEL, levelSize, type Stage2Geometry } from "./granule.ts";
import { isAligned } from "../util/size.ts";

/** Descriptor attribute: valid. Every non-zero attribute byte has it. */
export const PTE_VALID = 1;
/** Descriptor attribute: table descriptor (the output address holds the child table id). */
export const PTE_TABLE = 2;
/** Leaf attribute: readable (S2AP[0]). */
export const PTE_R = 4;
/** Leaf attribute: writable (S2AP[1]); cleared by write-protection. */
export const PTE_W = 8;
/**
 * Software bits 4..6 of a shadow leaf: L1's mapping level (KVM_NV_GUEST_MAP_SZ, written by
 * kvm_encode_nested_level()), read back by get_guest_mapping_ttl(); 0 means no information
 * (a level-0 mapping encodes as 0 too).
 */
export const PTE_NV_MAP_SHIFT = 4;

/** kvm_pgtable_walk_flags: call the visitor on leaf (and invalid) descriptors. */
export const KVM_PGTABLE_WALK_LEAF = 1;
/** kvm_pgtable_walk_flags: call the visitor on a table descriptor before its children. */
export const KVM_PGTABLE_WALK_TABLE_PRE = 2;
/** kvm_pgtable_walk_flags: call the visitor on a table descriptor after its children. */
export const KVM_PGTABLE_WALK_TABLE_POST = 4;

/** The root (pgd, all concatenated pages) is table id 0. */
export const ROOT_TABLE = 0;

/** Work counters a walk adds to: the kernel's loop iterations and descriptors visited. */
export interface WalkStats {
  /** `stage2_apply_range()` loop iterations (chunks); plain walks do not add to it. */
  iterations: number;
  /** Descriptors `__kvm_pgtable_visit()` ran on, valid or not. */
  descriptors: number;
  /** Table pages `__kvm_pgtable_walk()` entered. */
  tables: number;
}

/** A fresh zeroed {@linkcode WalkStats}. */
export function newWalkStats(): WalkStats {
  return { iterations: 0, descriptors: 0, tables: 0 };
}

/** Add `b` into `a`. */
export function addWalkStats(a: WalkStats, b: WalkStats): void {
  a.iterations += b.iterations;
  a.descriptors += b.descriptors;
  a.tables += b.tables;
}

/** struct kvm_pgtable_visit_ctx: where the walker is, what it read there, and the walk's arg. */
export interface VisitCtx<A> {
  /** The table being walked. */
  readonly pgt: KvmPgtable;
  /** Table id holding the descriptor. */
  table: number;
  /** Index of the descriptor in that table. */
  index: number;
  /** Level of the descriptor. */
  level: number;
  /** Base IPA of the descriptor (aligned to its level size). */
  addr: number;
  /** End of the walked range. */
  end: number;
  /** ctx->old: the descriptor's attribute bits as read (0 = invalid). */
  old: number;
  /** ctx->old's output address: a leaf's address, or a table descriptor's child table id. */
  oldOa: number;
  /** ctx->arg: the walk's per-call argument. */
  arg: A;
}

/** struct kvm_pgtable_walker: the callback, its per-call argument and the flags that select it. */
export interface KvmPgtableWalker<A> {
  /** kvm_pgtable_visitor_fn_t: called with the context and which visit it is (a WALK_* bit). */
  readonly cb: (ctx: VisitCtx<A>, visit: number) => void;
  /** The per-call argument (ctx->arg). */
  readonly arg: A;
  /** KVM_PGTABLE_WALK_* bits. */
  readonly flags: number;
  /**
   * Simulator only: whether the leaf callback must see invalid descriptors. When false,
   * runs of invalid descriptors are counted but not visited (every stage-2 visitor but map
   * returns at once on an invalid descriptor, so the counts are the same).
   */
  readonly visitsInvalid: boolean;
}

/** Called for every leaf that leaves the table, whatever removed it. */
export type LeafRemovedHook = (
  addr: number,
  level: number,
  oa: number,
  attr: number,
  meta: number,
) => void;

/** Running totals several tables share (e.g. every shadow MMU of a VM). */
export interface PgtableCounter {
  /** Leaves installed over the tables. */
  leaves: number;
  /** Table pages allocated over the tables. */
  tablePages: number;
  /** Table pages freed so far (cumulative: an event's share is the difference). */
  tablesFreed: number;
}

/** Options of a {@linkcode KvmPgtable}. */
export interface PgtableOptions {
  /** Keep one simulator-only number per leaf (not kernel state; e.g. the canonical IPA). */
  withMeta?: boolean;
  /** Add this table's leaves and table pages to these running totals. */
  counter?: PgtableCounter;
  /**
   * Take the walk shortcuts (default true): a map inside the table of the last leaf written
   * starts there ({@linkcode KvmPgtable.walkNearLastLeaf}), a lookup or an install from the
   * table the last lookup ended in. Same counts and same state as from the pgd; false walks from the
   * pgd every time (the tests compare the two).
   */
  shortcuts?: boolean;
}

/** struct kvm_pgtable: a stage-2 table of one geometry. */
export class KvmPgtable {
  /** Granule and IPA size. */
  readonly geom: Stage2Geometry;
  /** Bytes mapped by one descriptor, by level. */
  readonly sizes: number[];
  /** 1 / sizes[level]: exact (sizes are powers of two), a multiply instead of a divide. */
  private readonly inv: number[];
  /** Descriptors in one (non-root) table page: PTRS_PER_PTE. */
  readonly ptrs: number;
  /** Leaves currently installed. */
  leaves = 0;
  /** Table pages currently allocated, the pgd pages included. */
  tablePages: number;
  /** Called for every removed leaf. */
  onLeafRemoved: LeafRemovedHook | null = null;
  /** Result of {@linkcode getLeaf}: output address of the leaf. */
  leafOa = 0;
  /** Result of {@linkcode getLeaf}: attribute bits. */
  leafAttr = 0;
  /** Result of {@linkcode getLeaf}: base IPA of the leaf. */
  leafBase = 0;
  /** Result of {@linkcode getLeaf}: size of the leaf in bytes. */
  leafSize = 0;
  /** Result of {@linkcode getLeaf}: simulator-only number of the leaf. */
  leafMeta = 0;
  /** Result of {@linkcode emptyRunAt}: end of the run of invalid descriptors. */
  runEnd = 0;
  /** Result of {@linkcode emptyRunAt}: descriptors one chunk visits to reach it. */
  runDepth = 0;

  private readonly withMeta: boolean;
  private readonly shortcuts: boolean;
  private readonly counter: PgtableCounter;
  /** Descriptors of the root, rounded up to a whole bitmap word. */
  private readonly rootLen: number;
  /** Per table: level, base IPA, valid descriptors, pool segment and offset in it. */
  private tLevel: Int8Array;
  private tBase: Float64Array;
  private tCount: Int32Array;
  private tSeg: Uint8Array;
  private tOff: Int32Array;
  /**
   * Descriptor pools in segments that are never copied (a segment adds an eighth to the
   * pools, at least 4 tables; the root sits at the start of the first): per descriptor, output
   * address, attribute bits, simulator number; per 32, valid bits. Addresses (a leaf's
   * output address, the simulator number) are kept in units of the page size, 32 bits
   * each while every one is a whole frame below 2^32 (16 TiB at 4K), widened to 64-bit
   * floats (exact for any number) the first time one is not; a table descriptor keeps
   * its child's table id.
   */
  private oaSegs: (Uint32Array | Float64Array)[] = [];
  private readonly attrSegs: Uint8Array[] = [];
  private metaSegs: (Uint32Array | Float64Array)[] = [];
  /**
   * Per descriptor, once {@linkcode enableShadowed} was called: a number a reverse-map
   * design keeps beside each shadow leaf, as x86 keeps `sp->shadowed_translation[]` beside
   * each shadow page's SPTEs (0 = none; cleared when the leaf goes).
   */
  private shadowedSegs: Int32Array[] = [];
  private withShadowed = false;
  /** Result of {@linkcode leafPos}: the leaf's pool segment. */
  private posSeg = 0;
  /**
   * The leaf written, changed or being removed last: its table (-1: none), index, pool
   * segment and offset, so that {@linkcode leafPos} finds it without a walk (a reverse map
   * asks for the leaf a fault just installed, or the one being removed). Forgotten when
   * its descriptor is cleared: a position names another descriptor only after that.
   */
  private lastT = -1;
  private lastI = 0;
  private lastSeg = 0;
  private lastOff = 0;
  /**
   * The (non-root) table the last {@linkcode getLeaf} ended in and the IPA range it spans
   * (NaN: none): a live table stays linked where it is, so a lookup in its range may start
   * there; forgotten when the table is freed (its id may come back elsewhere).
   */
  private hint = ROOT_TABLE;
  private hintLo = NaN;
  private hintHi = NaN;
  /** Whether the address pools are 64-bit (see {@linkcode oaSegs}). */
  private wide = false;
  /** The page size, and its inverse (exact: a power of two). */
  private readonly page: number;
  private readonly invPage: number;
  private readonly bitsSegs: Uint32Array[] = [];
  /** Descriptors used and held in the last segment. */
  private segUsed = 0;
  private segCap = 0;
  /** Descriptors in all segments. */
  private poolCap = 0;
  /** Table ids handed out so far (the next new id), and the ones freed since. */
  private tables = 1;
  private readonly freeIds: number[] = [];
  private readonly ctxs: VisitCtx<unknown>[] = [];

  /** An empty table: just the pgd pages, all descriptors invalid. */
  constructor(geom: Stage2Geometry, opts: PgtableOptions = {}) {
    this.geom = geom;
    this.withMeta = opts.withMeta ?? false;
    this.shortcuts = opts.shortcuts ?? true;
    this.counter = opts.counter ?? { leaves: 0, tablePages: 0, tablesFreed: 0 };
    this.sizes = [];
    for (let l = 0; l <= KVM_PGTABLE_LAST_LEVEL; l++) this.sizes.push(levelSize(geom.granule, l));
    this.inv = this.sizes.map((z) => 1 / z);
    this.ptrs = geom.granule.ptrsPerTable;
    this.page = geom.granule.pageSize;
    this.invPage = 1 / this.page;
    this.rootLen = Math.ceil(geom.rootEntries / 32) * 32;
    const cap = 4;
    this.tLevel = new Int8Array(cap);
    this.tBase = new Float64Array(cap);
    this.tCount = new Int32Array(cap);
    this.tSeg = new Uint8Array(cap);
    this.tOff = new Int32Array(cap);
    this.addSegment(this.rootLen + (cap - 1) * this.ptrs);
    this.segUsed = this.rootLen;
    this.tLevel[ROOT_TABLE] = geom.startLevel;
    this.tablePages = geom.pgdPages;
    this.counter.tablePages += geom.pgdPages;
    for (let l = 0; l <= KVM_PGTABLE_LAST_LEVEL; l++) {
      this.ctxs.push({
        pgt: this,
        table: 0,
        index: 0,
        level: l,
        addr: 0,
        end: 0,
        old: 0,
        oldOa: 0,
        arg: null,
      });
    }
  }

  /** Bytes of table pages the kernel would hold for this table. */
  get tableBytes(): number {
    return this.tablePages * this.geom.granule.pageSize;
  }

  /** Table slots allocated in the pools (live tables plus recycled ones; simulator memory). */
  get tableSlots(): number {
    return this.tables;
  }

  /** Offset of table `t`'s first descriptor in its segment of the pools. */
  private off(t: number): number {
    return this.tOff[t];
  }

  /** Number of descriptors in table `t`. */
  entries(t: number): number {
    return t === ROOT_TABLE ? this.geom.rootEntries : this.ptrs;
  }

  /** Level of table `t`'s descriptors. */
  levelOf(t: number): number {
    return this.tLevel[t];
  }

  /** IPA of table `t`'s first descriptor. */
  baseOf(t: number): number {
    return this.tBase[t];
  }

  /** Valid descriptors in table `t` (mm_ops->page_count() - 1). */
  validCount(t: number): number {
    return this.tCount[t];
  }

  /** The index of the descriptor of table `t` that translates `addr`: the one index formula. */
  slot(t: number, addr: number): number {
    return Math.floor((addr - this.tBase[t]) * this.inv[this.tLevel[t]]);
  }

  /** Attribute bits of descriptor (t, i); 0 when invalid. */
  attrAt(t: number, i: number): number {
    return this.attrSegs[this.tSeg[t]][this.tOff[t] + i];
  }

  /** Output address of descriptor (t, i): a leaf's address, or a table's child id. */
  oaAt(t: number, i: number): number {
    const k = this.tSeg[t], o = this.tOff[t] + i;
    const v = this.oaSegs[k][o];
    return this.attrSegs[k][o] & PTE_TABLE ? v : v * this.page;
  }

  /** An address in pool units (pages); the pools widen first if it does not fit 32 bits. */
  private frame(x: number): number {
    const v = x * this.invPage;
    if (!this.wide && !(v >= 0 && v <= 0xffff_ffff && Math.floor(v) === v)) this.widen();
    return v;
  }

  /**
   * Widen the address pools now if leaves mapping [oa, oa + size) with simulator numbers
   * from `meta` on would not fit them, so that no walk sees its pools replaced under it.
   */
  fitAddresses(oa: number, meta: number, size: number): void {
    if (this.wide) return;
    const last = size - this.page;
    this.frame(oa);
    this.frame(oa + last);
    if (this.withMeta) {
      this.frame(meta);
      this.frame(meta + last);
    }
  }

  /** Keep a number beside every leaf from now on (see {@linkcode shadowedAt}). */
  enableShadowed(): void {
    if (this.withShadowed) return;
    this.withShadowed = true;
    this.shadowedSegs = this.attrSegs.map((a) => new Int32Array(a.length));
  }

  /** Segment and offset of the leaf translating `ipa`, or -1 (left in `posSeg`). */
  private leafPos(ipa: number): number {
    const lt = this.lastT;
    if (lt >= 0 && ipa === this.tBase[lt] + this.lastI * this.sizes[this.tLevel[lt]]) {
      this.posSeg = this.lastSeg;
      return this.lastOff;
    }
    if (ipa < 0 || ipa >= this.geom.ipaSize) return -1;
    const tLevel = this.tLevel, tBase = this.tBase, tSeg = this.tSeg, tOff = this.tOff;
    let t = ROOT_TABLE;
    for (;;) {
      const o = tOff[t] + Math.floor((ipa - tBase[t]) * this.inv[tLevel[t]]);
      const k = tSeg[t];
      const a = this.attrSegs[k][o];
      if (a === 0) return -1;
      if (!(a & PTE_TABLE)) {
        this.posSeg = k;
        return o;
      }
      t = this.oaSegs[k][o];
    }
  }

  /**
   * The number kept beside the leaf translating `ipa` (x86: kvm_mmu_page_get_gfn() reading
   * `sp->shadowed_translation[index]`); 0 when there is none or no leaf.
   */
  shadowedAt(ipa: number): number {
    if (!this.withShadowed) return 0;
    const o = this.leafPos(ipa);
    return o < 0 ? 0 : this.shadowedSegs[this.posSeg][o];
  }

  /** Keep `v` beside the leaf translating `ipa` (which must exist; needs enableShadowed()). */
  setShadowed(ipa: number, v: number): void {
    const o = this.leafPos(ipa);
    if (o < 0 || !this.withShadowed) {
      throw new RangeError(`no leaf at ${ipa} to keep a shadowed number beside`);
    }
    this.shadowedSegs[this.posSeg][o] = v;
  }

  /** Switch the address pools to 64-bit floats (values kept). */
  private widen(): void {
    this.wide = true;
    this.oaSegs = this.oaSegs.map((a) => Float64Array.from(a));
    this.metaSegs = this.metaSegs.map((a) => Float64Array.from(a));
  }

  /** A new zeroed segment of `n` descriptors (a multiple of 32). */
  private addSegment(n: number): void {
    const m = this.withMeta ? n : 0;
    this.oaSegs.push(this.wide ? new Float64Array(n) : new Uint32Array(n));
    this.attrSegs.push(new Uint8Array(n));
    this.metaSegs.push(this.wide ? new Float64Array(m) : new Uint32Array(m));
    this.shadowedSegs.push(new Int32Array(this.withShadowed ? n : 0));
    this.bitsSegs.push(new Uint32Array(n / 32));
    this.segUsed = 0;
    this.segCap = n;
    this.poolCap += n;
    if (this.oaSegs.length > 256) throw new RangeError("page table: more than 256 pool segments");
  }

  /** Room for table id `id`: the per-table arrays grow (copied, small), the pools do not. */
  private growTables(): void {
    const cap = this.tLevel.length * 2;
    const g = <T extends Int8Array | Uint8Array | Int32Array | Float64Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.tLevel = g(this.tLevel, new Int8Array(cap));
    this.tBase = g(this.tBase, new Float64Array(cap));
    this.tCount = g(this.tCount, new Int32Array(cap));
    this.tSeg = g(this.tSeg, new Uint8Array(cap));
    this.tOff = g(this.tOff, new Int32Array(cap));
  }

  private newTable(level: number, base: number): number {
    let id = this.freeIds.pop();
    if (id === undefined) {
      if (this.tables === this.tLevel.length) this.growTables();
      id = this.tables++;
      if (this.segUsed + this.ptrs > this.segCap) {
        // An eighth of the pools more (at least 4 tables): at most an eighth of them is
        // room not yet used, in at most a hundred or so segments for any table held.
        this.addSegment(Math.max(4, Math.ceil(this.poolCap / this.ptrs / 8)) * this.ptrs);
      }
      this.tSeg[id] = this.oaSegs.length - 1;
      this.tOff[id] = this.segUsed;
      this.segUsed += this.ptrs;
    }
    this.tLevel[id] = level;
    this.tBase[id] = base;
    return id;
  }

  /** kvm_pgtable_mm_ops.zalloc_page + kvm_init_table_pte: a new child table at (t, i). */
  installTable(t: number, i: number): number {
    const lvl = this.tLevel[t] + 1;
    const id = this.newTable(lvl, this.tBase[t] + i * this.sizes[lvl - 1]);
    this.tablePages++;
    this.counter.tablePages++;
    const o = this.off(t) + i;
    this.setValid(t, o);
    const k = this.tSeg[t];
    this.oaSegs[k][o] = id;
    this.attrSegs[k][o] = PTE_VALID | PTE_TABLE;
    return id;
  }

  private setValid(t: number, o: number): void {
    const k = this.tSeg[t];
    if (this.attrSegs[k][o] === 0) {
      this.tCount[t]++;
      this.bitsSegs[k][o >>> 5] |= 1 << (o & 31);
    }
  }

  /** Write a leaf descriptor at (t, i); the old descriptor must be invalid or a leaf. */
  setLeaf(t: number, i: number, oa: number, attr: number, meta: number): void {
    const o = this.off(t) + i;
    const k = this.tSeg[t];
    const attrs = this.attrSegs[k];
    if (attrs[o] === 0) {
      this.setValid(t, o);
      this.leaves++;
      this.counter.leaves++;
    }
    const f = this.frame(oa);
    const mf = this.withMeta ? this.frame(meta) : 0;
    this.oaSegs[k][o] = f;
    attrs[o] = attr | PTE_VALID;
    if (this.withMeta) this.metaSegs[k][o] = mf;
    this.remember(t, i, k, o);
  }

  /** Remember leaf (t, i), at offset `o` of pool segment `k`, for {@linkcode leafPos}. */
  private remember(t: number, i: number, k: number, o: number): void {
    this.lastT = t;
    this.lastI = i;
    this.lastSeg = k;
    this.lastOff = o;
  }

  /** Change a leaf's attribute bits in place (stage2_attr_walker). */
  setAttr(t: number, i: number, attr: number): void {
    const k = this.tSeg[t], o = this.off(t) + i;
    this.attrSegs[k][o] = attr | PTE_VALID;
    this.remember(t, i, k, o);
  }

  /** Clear (t, i): a leaf is reported removed; a table is freed with everything below it. */
  clear(t: number, i: number): void {
    const o = this.off(t) + i;
    const k = this.tSeg[t];
    const attrs = this.attrSegs[k], oas = this.oaSegs[k];
    const a = attrs[o];
    if (a === 0) return;
    if (a & PTE_TABLE) {
      this.freeTable(oas[o]);
    } else {
      this.leaves--;
      this.counter.leaves--;
      this.remember(t, i, k, o);
      this.onLeafRemoved?.(
        this.tBase[t] + i * this.sizes[this.tLevel[t]],
        this.tLevel[t],
        oas[o] * this.page,
        a,
        this.withMeta ? this.metaSegs[k][o] * this.page : 0,
      );
    }
    attrs[o] = 0;
    oas[o] = 0;
    if (this.lastOff === o && this.lastSeg === k) this.lastT = -1;
    if (this.withShadowed) this.shadowedSegs[k][o] = 0;
    this.tCount[t]--;
    this.bitsSegs[k][o >>> 5] &= ~(1 << (o & 31));
  }

  /** kvm_pgtable_stage2_free_unlinked(): free a table and all below it, leaves reported. */
  private freeTable(id: number): void {
    const n = this.entries(id);
    for (let i = this.nextValid(id, 0, n); i < n; i = this.nextValid(id, i + 1, n)) {
      this.clear(id, i);
    }
    this.tablePages--;
    this.counter.tablePages--;
    this.counter.tablesFreed++;
    this.freeIds.push(id);
    if (id === this.hint) this.hintLo = this.hintHi = NaN;
  }

  /** Index of the first valid descriptor of table `t` in [i, end), or `end`. */
  nextValid(t: number, i: number, end: number): number {
    if (i >= end) return end;
    const o = this.off(t);
    const b = this.bitsSegs[this.tSeg[t]];
    // Table offsets are multiples of 32, so bit j of the table is bit (o + j) of the pool.
    const w0 = o >>> 5;
    let w = i >>> 5;
    let word = b[w0 + w] & (-1 << (i & 31));
    for (;;) {
      if (word !== 0) {
        const j = (w << 5) + 31 - Math.clz32(word & -word);
        return j < end ? j : end;
      }
      w++;
      if (w << 5 >= end) return end;
      word = b[w0 + w];
    }
  }

  /**
   * Where a lookup or install of `ipa` down to `level` starts: the table the last lookup
   * ended in when it spans `ipa` at or above `level` (it is live and linked where it is,
   * so the walk from the pgd would pass through it), else the pgd (always without
   * shortcuts).
   */
  private startTable(ipa: number, level: number): number {
    return this.shortcuts && ipa >= this.hintLo && ipa < this.hintHi &&
        this.tLevel[this.hint] <= level
      ? this.hint
      : ROOT_TABLE;
  }

  /**
   * kvm_pgtable_get_leaf(): the leaf translating `ipa`. Returns its level, or -1 when
   * no leaf maps it; the leaf is left in `leafOa`, `leafAttr`, `leafBase`, `leafSize`,
   * `leafMeta`.
   */
  getLeaf(ipa: number): number {
    if (ipa < 0 || ipa >= this.geom.ipaSize) return -1;
    const tLevel = this.tLevel, tBase = this.tBase, tSeg = this.tSeg, tOff = this.tOff;
    const inv = this.inv;
    let t = this.startTable(ipa, KVM_PGTABLE_LAST_LEVEL);
    for (;;) {
      const level = tLevel[t];
      const i = Math.floor((ipa - tBase[t]) * inv[level]);
      const o = tOff[t] + i;
      const k = tSeg[t];
      const a = this.attrSegs[k][o];
      if (a & PTE_TABLE) {
        t = this.oaSegs[k][o];
        continue;
      }
      if (t !== ROOT_TABLE) {
        this.hint = t;
        this.hintLo = tBase[t];
        this.hintHi = tBase[t] + this.ptrs * this.sizes[level];
      }
      if (a === 0) return -1;
      const size = this.sizes[level];
      this.leafOa = this.oaSegs[k][o] * this.page;
      this.leafAttr = a;
      this.leafBase = tBase[t] + i * size;
      this.leafSize = size;
      this.leafMeta = this.withMeta ? this.metaSegs[k][o] * this.page : 0;
      return level;
    }
  }

  /**
   * Install a leaf of `level` at `ipa` (aligned), creating tables on the way and
   * replacing what is there. A convenience over the map visitor for building states by
   * hand (tests, the host's own page tables); shadow faults use
   * {@linkcode kvmPgtableStage2Map}.
   */
  installLeaf(ipa: number, level: number, oa: number, attr: number, meta: number): void {
    const size = this.sizes[level];
    if (level < this.geom.startLevel || level > KVM_PGTABLE_LAST_LEVEL) {
      throw new RangeError(
        `no level-${level} leaf in a table starting at level ${this.geom.startLevel}`,
      );
    }
    if (!isAligned(ipa, size) || !isAligned(oa, size)) {
      throw new RangeError(`leaf at ${ipa} -> ${oa} is not aligned to its size ${size}`);
    }
    // A host fault installs where its lookup missed.
    let t = this.startTable(ipa, level);
    for (let l = this.tLevel[t]; l < level; l++) {
      const i = this.slot(t, ipa);
      const a = this.attrAt(t, i);
      if (!(a & PTE_TABLE)) {
        if (a !== 0) this.clear(t, i);
        t = this.installTable(t, i);
      } else {
        t = this.oaAt(t, i);
      }
    }
    const i = this.slot(t, ipa);
    if (this.attrAt(t, i) !== 0) this.clear(t, i);
    this.setLeaf(t, i, oa, attr, meta);
  }

  /**
   * Remove the leaf translating `ipa`, freeing the tables it leaves empty (as the unmap
   * walker's TABLE_POST does). Returns false when no leaf maps `ipa`.
   */
  removeLeafAt(ipa: number): boolean {
    const path: number[] = [];
    let t = ROOT_TABLE;
    for (;;) {
      const i = this.slot(t, ipa);
      const a = this.attrAt(t, i);
      if (a === 0) return false;
      path.push(t, i);
      if (!(a & PTE_TABLE)) break;
      t = this.oaAt(t, i);
    }
    for (let k = path.length - 2; k >= 0; k -= 2) {
      const pt = path[k], pi = path[k + 1];
      if (k === path.length - 2 || this.tCount[this.oaAt(pt, pi)] === 0) this.clear(pt, pi);
      else break;
    }
    return true;
  }

  /**
   * kvm_pgtable_walk(): walk [start, end) from the pgd, calling the walker's callback as
   * its flags say. Adds to `st.descriptors` and `st.tables` (not to `iterations`).
   */
  walk<A>(start: number, end: number, walker: KvmPgtableWalker<A>, st: WalkStats): void {
    if (start < 0 || end > this.geom.ipaSize || end < start) {
      throw new RangeError(`walk [${start}, ${end}) is outside the IPA space`);
    }
    if (end === start) return;
    // _kvm_pgtable_walk(): one __kvm_pgtable_walk() per pgd page the range touches.
    const rootSpan = this.sizes[this.geom.startLevel] * this.ptrs;
    st.tables += Math.floor((end - 1) / rootSpan) - Math.floor(start / rootSpan);
    for (const c of this.ctxs) c.arg = walker.arg;
    this.walkTable(ROOT_TABLE, start, end, walker as KvmPgtableWalker<unknown>, st);
  }

  /**
   * kvm_pgtable_walk() of [start, end) for a walker whose callback does nothing at a table
   * descriptor above the range's level and that has no TABLE_POST visit, when the range
   * lies in one descriptor (not a table) of the table holding the last leaf written (live
   * and linked where it is, as the last-leaf position names only a live leaf). A walk from
   * the pgd would visit one table descriptor per level down to that table, each a no-op:
   * they are counted as it counts them, not visited; then that table is walked as the walk
   * would walk it. Returns false, having done nothing, where this does not hold.
   */
  walkNearLastLeaf<A>(start: number, end: number, w: KvmPgtableWalker<A>, st: WalkStats): boolean {
    const t = this.lastT;
    if (t <= ROOT_TABLE || !this.shortcuts || (w.flags & KVM_PGTABLE_WALK_TABLE_POST) !== 0) {
      return false;
    }
    const level = this.tLevel[t];
    const size = this.sizes[level];
    const base = this.tBase[t];
    const i = this.slot(t, start);
    if (!(start >= base && i < this.ptrs && start < end && end <= base + (i + 1) * size)) {
      return false;
    }
    if (this.attrSegs[this.tSeg[t]][this.tOff[t] + i] & PTE_TABLE) return false;
    // The pgd page and each table above: one table entered, one descriptor visited.
    const above = level - this.geom.startLevel;
    st.tables += above;
    st.descriptors += above;
    for (let l = level; l <= KVM_PGTABLE_LAST_LEVEL; l++) this.ctxs[l].arg = w.arg;
    this.walkTable(t, start, end, w as KvmPgtableWalker<unknown>, st);
    return true;
  }

  /** __kvm_pgtable_walk() + __kvm_pgtable_visit() over one table. */
  private walkTable(
    t: number,
    start: number,
    end: number,
    w: KvmPgtableWalker<unknown>,
    st: WalkStats,
  ): void {
    const level = this.tLevel[t];
    const size = this.sizes[level];
    const base = this.tBase[t];
    const o = this.off(t);
    const k = this.tSeg[t];
    const attrs = this.attrSegs[k], oas = this.oaSegs[k];
    const n = this.entries(t);
    let i = this.slot(t, start);
    let iEnd = Math.ceil((end - base) * this.inv[level]);
    if (iEnd > n) iEnd = n;
    st.tables++;
    const flags = w.flags;
    const ctx = this.ctxs[level];
    while (i < iEnd) {
      let a = attrs[o + i];
      if (a === 0 && !w.visitsInvalid) {
        const j = this.nextValid(t, i, iEnd);
        st.descriptors += j - i;
        i = j;
        continue;
      }
      st.descriptors++;
      const eBase = base + i * size;
      const table = (a & PTE_TABLE) !== 0;
      const visit = table ? KVM_PGTABLE_WALK_TABLE_PRE : KVM_PGTABLE_WALK_LEAF;
      if (flags & visit) {
        ctx.table = t, ctx.index = i, ctx.addr = eBase, ctx.end = end;
        // An invalid descriptor's output is 0: not read (its page is taken by a first write).
        const oa = a === 0 ? 0 : oas[o + i];
        ctx.old = a, ctx.oldOa = table ? oa : oa * this.page;
        w.cb(ctx, visit);
        a = attrs[o + i];
      }
      if (a & PTE_TABLE) {
        const cs = eBase > start ? eBase : start;
        const ce = eBase + size < end ? eBase + size : end;
        this.walkTable(oas[o + i], cs, ce, w, st);
        if (flags & KVM_PGTABLE_WALK_TABLE_POST) {
          ctx.table = t, ctx.index = i, ctx.addr = eBase, ctx.end = end;
          ctx.old = a, ctx.oldOa = oas[o + i];
          w.cb(ctx, KVM_PGTABLE_WALK_TABLE_POST);
        }
      }
      i++;
    }
  }

  /**
   * For `stage2_apply_range()`: when every chunk from `addr` on meets the same invalid
   * descriptor at a level whose entries are at least `chunkSize`, report in `runEnd` where
   * that run of invalid descriptors ends and in `runDepth` how many descriptors one chunk
   * visits to reach it, so that the chunks can be counted without walking each one.
   * Returns false where a chunk must really be walked.
   */
  emptyRunAt(addr: number, chunkSize: number): boolean {
    let t = ROOT_TABLE;
    let depth = 0;
    for (;;) {
      const size = this.sizes[this.tLevel[t]];
      if (size < chunkSize) return false;
      const i = this.slot(t, addr);
      depth++;
      const a = this.attrAt(t, i);
      if (a === 0) {
        this.runEnd = this.tBase[t] + this.nextValid(t, i, this.entries(t)) * size;
        this.runDepth = depth;
        return true;
      }
      if (!(a & PTE_TABLE) || size === chunkSize) return false;
      t = this.oaAt(t, i);
      // An empty table would be freed by the first chunk's TABLE_POST: walk it for real.
      if (this.tCount[t] === 0) return false;
    }
  }

  /** Call `fn` for every leaf in [start, end) in IPA order (simulator use: oracle, dumps). */
  forEachLeaf(
    fn: (addr: number, size: number, oa: number, attr: number, meta: number) => void,
    start = 0,
    end: number = this.geom.ipaSize,
  ): void {
    this.eachLeaf(ROOT_TABLE, start, end, fn);
  }

  private eachLeaf(
    t: number,
    start: number,
    end: number,
    fn: (addr: number, size: number, oa: number, attr: number, meta: number) => void,
  ): void {
    const size = this.sizes[this.tLevel[t]];
    const base = this.tBase[t];
    const n = this.entries(t);
    const o = this.off(t);
    const k = this.tSeg[t];
    const attrs = this.attrSegs[k], oas = this.oaSegs[k], metas = this.metaSegs[k];
    let iEnd = Math.ceil((end - base) * this.inv[this.tLevel[t]]);
    if (iEnd > n) iEnd = n;
    for (
      let i = this.nextValid(t, Math.max(0, this.slot(t, start)), iEnd);
      i < iEnd;
      i = this.nextValid(t, i + 1, iEnd)
    ) {
      const a = attrs[o + i];
      if (a & PTE_TABLE) this.eachLeaf(oas[o + i], start, end, fn);
      else {
        const page = this.page;
        fn(base + i * size, size, oas[o + i] * page, a, this.withMeta ? metas[o + i] * page : 0);
      }
    }
  }
}

// --- the stage-2 visitors ------------------------------------------------------------------

/** stage2_map_data: what kvm_pgtable_stage2_map() hands its walker. */
interface Stage2MapData {
  /** Start of the mapped IPA range. */
  ipa: number;
  /** Its end. */
  end: number;
  /** Output address of `ipa`. */
  phys: number;
  /** Attribute bits of the new leaves. */
  attr: number;
  /** Simulator-only number of the leaf at `ipa` (each leaf gets it plus its offset). */
  meta: number;
  /** Leaves written (new or replaced), not counting permission changes in place. */
  installed: number;
}

/** kvm_block_mapping_supported(): a leaf fits at ctx (level, size, both alignments). */
function leafAllowed(ctx: VisitCtx<Stage2MapData>): boolean {
  const pgt = ctx.pgt;
  if (ctx.level < pgt.geom.granule.minBlockLevel) return false;
  const size = pgt.sizes[ctx.level];
  const d = ctx.arg;
  return ctx.addr >= d.ipa && ctx.addr + size <= d.end &&
    isAligned(d.phys + (ctx.addr - d.ipa), size);
}

/** stage2_map_walker_try_leaf(): install the leaf, or change its permissions in place. */
function stage2MapWalkerTryLeaf(ctx: VisitCtx<Stage2MapData>): void {
  const pgt = ctx.pgt;
  const d = ctx.arg;
  const off = ctx.addr - d.ipa;
  const oa = d.phys + off;
  if (ctx.old !== 0 && !(ctx.old & PTE_TABLE) && ctx.oldOa === oa) {
    // stage2_pte_needs_update(): only permissions differ -> changed in place.
    pgt.setAttr(ctx.table, ctx.index, d.attr);
    return;
  }
  if (ctx.old !== 0) pgt.clear(ctx.table, ctx.index);
  pgt.setLeaf(ctx.table, ctx.index, oa, d.attr, d.meta + off);
  d.installed++;
}

/**
 * stage2_map_walker: stage2_map_walk_table_pre() (a leaf allowed here replaces the table
 * under it) and stage2_map_walk_leaf() (install here, or break a block / fill a hole with
 * a table and go deeper).
 */
function stage2MapWalker(ctx: VisitCtx<Stage2MapData>, visit: number): void {
  const allowed = leafAllowed(ctx);
  if (visit === KVM_PGTABLE_WALK_TABLE_PRE) {
    if (!allowed) return;
    ctx.pgt.clear(ctx.table, ctx.index); // free_unlinked_table(): its leaves go
    ctx.old = 0;
    stage2MapWalkerTryLeaf(ctx);
    return;
  }
  if (allowed) {
    stage2MapWalkerTryLeaf(ctx);
    return;
  }
  // Going deeper: an existing block is broken (stage2_try_break_pte) and dropped; the
  // rest of it is faulted back lazily.
  if (ctx.old !== 0) ctx.pgt.clear(ctx.table, ctx.index);
  ctx.pgt.installTable(ctx.table, ctx.index);
}

/** stage2_unmap_walker: leaves overlapping the range go whole; emptied tables are freed. */
function stage2UnmapWalker(ctx: VisitCtx<null>, visit: number): void {
  const pgt = ctx.pgt;
  if (visit === KVM_PGTABLE_WALK_LEAF) {
    pgt.clear(ctx.table, ctx.index);
  } else if (pgt.validCount(ctx.oldOa) === 0) {
    // TABLE_POST, mm_ops->page_count(childp) != 1: the table still holds something.
    pgt.clear(ctx.table, ctx.index);
  }
}

/** stage2_attr_data: the bits to clear, and (simulator) how many leaves changed. */
interface Stage2AttrData {
  /** Attribute bits to clear. */
  clr: number;
  /** Leaves whose attributes changed. */
  changed: number;
}

/** stage2_attr_walker as kvm_pgtable_stage2_wrprotect() uses it: clear S2AP W. */
function stage2AttrWalker(ctx: VisitCtx<Stage2AttrData>): void {
  const d = ctx.arg;
  if (ctx.old & d.clr) {
    ctx.pgt.setAttr(ctx.table, ctx.index, ctx.old & ~d.clr);
    d.changed++;
  }
}

/** What stage2_flush_walker reports (simulator): leaves cleaned and who heard of them. */
interface Stage2FlushData {
  /** Leaves cleaned to the point of coherency. */
  leaves: number;
  /** Told the base IPA of each leaf cleaned. */
  onLeaf: ((addr: number) => void) | undefined;
}

/** stage2_flush_walker: clean+invalidate the data cache over each cacheable leaf. */
function stage2FlushWalker(ctx: VisitCtx<Stage2FlushData>): void {
  ctx.arg.leaves++;
  ctx.arg.onLeaf?.(ctx.addr);
}

/**
 * kvm_pgtable_stage2_map(): map [ipa, ipa + size) to `phys` with the largest leaves that
 * fit (one leaf when `size` is a page or block size the table can hold), replacing what
 * overlaps it. `meta` is simulator-only (each leaf gets `meta` plus its offset). Returns
 * the leaves written: 0 when every leaf was already there with this output and only its
 * permissions changed (what kvm_pgtable_stage2_relax_perms() does).
 */
export function kvmPgtableStage2Map(
  pgt: KvmPgtable,
  ipa: number,
  size: number,
  phys: number,
  attr: number,
  meta: number,
  st: WalkStats,
): number {
  const page = pgt.geom.granule.pageSize;
  if (
    size <= 0 || !isAligned(size, page) || !isAligned(ipa, page) || !isAligned(phys, page) ||
    ipa + size > pgt.geom.ipaSize
  ) {
    throw new RangeError(
      `cannot map ${size} bytes at IPA ${ipa} -> ${phys} with ${pgt.geom.granule.name}`,
    );
  }
  pgt.fitAddresses(phys, meta, size);
  // One walker and map data per call, reused (the map walker never maps again inside a walk;
  // should it, the inner call gets its own).
  const reuse = !mapWalkerBusy;
  const w = reuse ? MAP_WALKER : newMapWalker();
  const d = w.arg;
  d.ipa = ipa, d.end = ipa + size, d.phys = phys, d.attr = attr | PTE_VALID, d.meta = meta;
  d.installed = 0;
  mapWalkerBusy = true;
  try {
    // Above the level of [ipa, ipa + size) no leaf is allowed: the map walker does nothing
    // at a table there, so a map into the table a fault filled last starts in it.
    if (!pgt.walkNearLastLeaf(ipa, ipa + size, w, st)) pgt.walk(ipa, ipa + size, w, st);
  } finally {
    if (reuse) mapWalkerBusy = false;
  }
  return d.installed;
}

function newMapWalker(): KvmPgtableWalker<Stage2MapData> {
  return {
    cb: stage2MapWalker,
    arg: { ipa: 0, end: 0, phys: 0, attr: 0, meta: 0, installed: 0 },
    flags: KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_PRE,
    visitsInvalid: true,
  };
}

const MAP_WALKER = newMapWalker();
let mapWalkerBusy = false;

const UNMAP_WALKER: KvmPgtableWalker<null> = {
  cb: stage2UnmapWalker,
  arg: null,
  flags: KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_POST,
  visitsInvalid: false,
};

/**
 * kvm_pgtable_stage2_unmap(): remove every leaf overlapping [addr, addr + size) (whole,
 * blocks are not split) and free the tables left empty; the removed leaves reach
 * `pgt.onLeafRemoved`. Returns 0 (the kernel's error code).
 */
export function kvmPgtableStage2Unmap(
  pgt: KvmPgtable,
  addr: number,
  size: number,
  st: WalkStats,
): number {
  pgt.walk(addr, addr + size, UNMAP_WALKER, st);
  return 0;
}

/**
 * kvm_pgtable_stage2_wrprotect(): clear write permission of every leaf overlapping
 * [addr, addr + size). Returns the number of leaves that lost it.
 */
export function kvmPgtableStage2Wrprotect(
  pgt: KvmPgtable,
  addr: number,
  size: number,
  st: WalkStats,
): number {
  const arg: Stage2AttrData = { clr: PTE_W, changed: 0 };
  pgt.walk(addr, addr + size, {
    cb: stage2AttrWalker,
    arg,
    flags: KVM_PGTABLE_WALK_LEAF,
    visitsInvalid: false,
  }, st);
  return arg.changed;
}

/**
 * kvm_pgtable_stage2_flush(): clean every leaf overlapping [addr, addr + size) to the
 * point of coherency. Returns the number of leaves cleaned; `onLeaf` hears each base IPA.
 */
export function kvmPgtableStage2Flush(
  pgt: KvmPgtable,
  addr: number,
  size: number,
  st: WalkStats,
  onLeaf?: (addr: number) => void,
): number {
  const arg: Stage2FlushData = { leaves: 0, onLeaf };
  pgt.walk(addr, addr + size, {
    cb: stage2FlushWalker,
    arg,
    flags: KVM_PGTABLE_WALK_LEAF,
    visitsInvalid: false,
  }, st);
  return arg.leaves;
}
