/**
 * `struct kvm_pgtable` of arch/arm64/kvm/hyp/pgtable.c: the descriptors of one stage-2
 * table and the table pages that hold them (`kvm_pgtable_mm_ops`: zalloc_page, put_page,
 * page_count), with the writes a visitor makes to a descriptor (`stage2_make_pte()`,
 * `stage2_try_set_pte()`, `kvm_clear_pte()`, `kvm_init_table_pte()`). What reads and
 * changes them: the walker (`pgtable_walk.ts`), the stage-2 visitors and operations
 * (`pgtable_stage2.ts`) and the simulator's shortcuts (`pgtable_shortcuts.ts`, whose
 * memory every descriptor write here keeps true).
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
 * @example Map a 2M block, then unmap one page of it: the whole block goes
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { granule, stage2Geometry } from "./granule.ts";
 * import { KvmPgtable } from "./pgtable.ts";
 * import {
 *   kvmPgtableGetLeaf,
 *   kvmPgtableStage2Map,
 *   kvmPgtableStage2Unmap,
 * } from "./pgtable_stage2.ts";
 * import { newWalkStats } from "./pgtable_walk.ts";
 * import { newPgtableLeaf, PTE_R, PTE_W } from "./pte.ts";
 * const pgt = new KvmPgtable(stage2Geometry(granule("4K"), 40));
 * const st = newWalkStats();
 * kvmPgtableStage2Map(pgt, 0x4000_0000, 0x20_0000, 0x8020_0000, PTE_R | PTE_W, 0, st);
 * const leaf = newPgtableLeaf();
 * assertEquals(kvmPgtableGetLeaf(pgt, 0x4000_1000, leaf), 2); // a level-2 leaf
 * assertEquals(leaf.oa, 0x8020_0000);
 * kvmPgtableStage2Unmap(pgt, 0x4000_1000, 0x1000, st);
 * assertEquals([pgt.leaves, pgt.tablePages], [0, 2]); // the emptied level-2 table is freed
 * ```
 * @module
 */

import { KVM_PGTABLE_LAST_LEVEL, levelSize, type Stage2Geometry } from "./granule.ts";
import { leafSlot, PgtableShortcuts, type PoolSlot } from "./pgtable_shortcuts.ts";
import { newVisitCtxs, type VisitCtx } from "./pgtable_walk.ts";
import { PTE_TABLE, PTE_VALID, ROOT_TABLE } from "./pte.ts";

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
   * Take the shortcuts of `pgtable_shortcuts.ts` (default true): same results, counts and
   * state as walks from the pgd; false walks from the pgd every time (the tests compare).
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
  readonly inv: number[];
  /** Descriptors in one (non-root) table page: PTRS_PER_PTE. */
  readonly ptrs: number;
  /** The page size (the unit of the address pools). */
  readonly page: number;
  /** Whether one simulator-only number is kept per leaf. */
  readonly withMeta: boolean;
  /** Leaves currently installed. */
  leaves = 0;
  /** Table pages currently allocated, the pgd pages included. */
  tablePages: number;
  /** Called for every removed leaf. */
  onLeafRemoved: LeafRemovedHook | null = null;
  /** What the shortcuts remember (the last leaf, the lookup hint); kept true by every write. */
  readonly shortcuts: PgtableShortcuts;
  /** The walker's contexts, one per level (`newVisitCtxs()`). */
  readonly walkCtxs: VisitCtx<unknown>[];

  // Per table (by id): level, base IPA, pool segment and offset in it. The walker and the
  // shortcuts read these and the pools below; only this class writes them.
  /** Level of each table's descriptors. */
  tLevel: Int8Array;
  /** IPA of each table's first descriptor. */
  tBase: Float64Array;
  /** Pool segment of each table. */
  tSeg: Uint8Array;
  /** Offset of each table's first descriptor in its segment. */
  tOff: Int32Array;
  /**
   * Descriptor pools in segments that are never copied (a segment adds an eighth to the
   * pools, at least 4 tables; the root sits at the start of the first): per descriptor, output
   * address, attribute bits, simulator number; per 32, valid bits. Addresses (a leaf's
   * output address, the simulator number) are kept in units of the page size, 32 bits
   * each while every one is a whole frame below 2^32 (16 TiB at 4K), widened to 64-bit
   * floats (exact for any number) the first time one is not; a table descriptor keeps
   * its child's table id.
   */
  oaSegs: (Uint32Array | Float64Array)[] = [];
  /** Attribute bits per descriptor (see {@linkcode oaSegs}). */
  readonly attrSegs: Uint8Array[] = [];
  /** Simulator-only number per descriptor, as a frame (see {@linkcode oaSegs}). */
  metaSegs: (Uint32Array | Float64Array)[] = [];

  private readonly counter: PgtableCounter;
  /** Descriptors of the root, rounded up to a whole bitmap word. */
  private readonly rootLen: number;
  /** Valid descriptors per table (mm_ops->page_count() - 1). */
  private tCount: Int32Array;
  /**
   * Per descriptor, once {@linkcode enableShadowed} was called: a number a reverse-map
   * design keeps beside each shadow leaf, as x86 keeps `sp->shadowed_translation[]` beside
   * each shadow page's SPTEs (0 = none; cleared when the leaf goes).
   */
  private shadowedSegs: Int32Array[] = [];
  private withShadowed = false;
  /** Where {@linkcode shadowedAt} and {@linkcode setShadowed} find their leaf. */
  private readonly slotOut: PoolSlot = { seg: 0, off: 0 };
  /** Whether the address pools are 64-bit (see {@linkcode oaSegs}). */
  private wide = false;
  /** The inverse of the page size (exact: a power of two). */
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

  /** An empty table: just the pgd pages, all descriptors invalid. */
  constructor(geom: Stage2Geometry, opts: PgtableOptions = {}) {
    this.geom = geom;
    this.withMeta = opts.withMeta ?? false;
    this.shortcuts = new PgtableShortcuts(opts.shortcuts ?? true);
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
    this.walkCtxs = newVisitCtxs(this);
  }

  /** Bytes of table pages the kernel would hold for this table. */
  get tableBytes(): number {
    return this.tablePages * this.geom.granule.pageSize;
  }

  /** Table slots allocated in the pools (live tables plus recycled ones; simulator memory). */
  get tableSlots(): number {
    return this.tables;
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

  /** Simulator-only number of leaf (t, i) (0 when the table keeps none). */
  metaAt(t: number, i: number): number {
    return this.withMeta ? this.metaSegs[this.tSeg[t]][this.tOff[t] + i] * this.page : 0;
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

  /**
   * The number kept beside the leaf translating `ipa` (x86: kvm_mmu_page_get_gfn() reading
   * `sp->shadowed_translation[index]`); 0 when there is none or no leaf.
   */
  shadowedAt(ipa: number): number {
    if (!this.withShadowed) return 0;
    const p = this.slotOut;
    return leafSlot(this, ipa, p) ? this.shadowedSegs[p.seg][p.off] : 0;
  }

  /** Keep `v` beside the leaf translating `ipa` (which must exist; needs enableShadowed()). */
  setShadowed(ipa: number, v: number): void {
    const p = this.slotOut;
    if (!this.withShadowed || !leafSlot(this, ipa, p)) {
      throw new RangeError(`no leaf at ${ipa} to keep a shadowed number beside`);
    }
    this.shadowedSegs[p.seg][p.off] = v;
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
    const o = this.tOff[t] + i;
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
    const o = this.tOff[t] + i;
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
    this.shortcuts.remember(t, i, k, o);
  }

  /** Change a leaf's attribute bits in place (stage2_attr_walker). */
  setAttr(t: number, i: number, attr: number): void {
    const k = this.tSeg[t], o = this.tOff[t] + i;
    this.attrSegs[k][o] = attr | PTE_VALID;
    this.shortcuts.remember(t, i, k, o);
  }

  /** Clear (t, i): a leaf is reported removed; a table is freed with everything below it. */
  clear(t: number, i: number): void {
    const o = this.tOff[t] + i;
    const k = this.tSeg[t];
    const attrs = this.attrSegs[k], oas = this.oaSegs[k];
    const a = attrs[o];
    if (a === 0) return;
    if (a & PTE_TABLE) {
      this.freeTable(oas[o]);
    } else {
      this.leaves--;
      this.counter.leaves--;
      this.shortcuts.remember(t, i, k, o);
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
    this.shortcuts.forgetDescriptor(k, o);
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
    this.shortcuts.forgetTable(id);
  }

  /** Index of the first valid descriptor of table `t` in [i, end), or `end`. */
  nextValid(t: number, i: number, end: number): number {
    if (i >= end) return end;
    const o = this.tOff[t];
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
}
