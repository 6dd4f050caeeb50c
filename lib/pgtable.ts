/**
 * A sparse, multi-level arm64 stage-2 page table (`struct kvm_pgtable`) and its one
 * walker (`kvm_pgtable_walk()`), driven by visitor callbacks as in
 * arch/arm64/kvm/hyp/pgtable.c.
 *
 * Storage is one set of typed arrays per table page, never one JS object per leaf:
 * `oa` (Float64Array: output address of a leaf, or child table id), `attr` (Uint8Array:
 * descriptor attribute bits, 0 = invalid) and a bitmap of valid descriptors so that runs
 * of invalid descriptors are skipped and counted without visiting them one by one.
 *
 * @example
 * ```ts
 * import { granule, stage2Geometry } from "./granule.ts";
 * import { PTE_R, PTE_W, Stage2Pgtable } from "./pgtable.ts";
 * const pgt = new Stage2Pgtable(stage2Geometry(granule("4K"), 40));
 * pgt.installLeaf(0x4000_0000, 2, 0x8020_0000, PTE_R | PTE_W, 0); // a 2M block
 * console.log(pgt.getLeaf(0x4000_1000), pgt.leafOa); // 2 2149580800
 * ```
 * @module
 */

import {
  isAligned,
  KVM_PGTABLE_LAST_LEVEL,
  levelSize,
  stage2ChunkCount,
  type Stage2Geometry,
  stage2RangeAddrEnd,
} from "./granule.ts";

/** Descriptor attribute: valid. Every non-zero attribute byte has it. */
export const PTE_VALID = 1;
/** Descriptor attribute: table descriptor (`oa` holds the child table id). */
export const PTE_TABLE = 2;
/** Leaf attribute: readable (S2AP[0]). */
export const PTE_R = 4;
/** Leaf attribute: writable (S2AP[1]); cleared by write-protection. */
export const PTE_W = 8;
/**
 * Software bits 4..6 of a shadow leaf: L1's mapping level + 1 (KVM_NV_GUEST_MAP_SZ),
 * read back by compute_tlb_inval_range(); 0 when not recorded.
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

/** struct kvm_pgtable_visit_ctx: where the walker is. One object per table, reused. */
export interface VisitCtx {
  /** The table being walked. */
  pgt: Stage2Pgtable;
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
}

/** struct kvm_pgtable_walker: callbacks and the flags that select them. */
export interface Visitor {
  /** KVM_PGTABLE_WALK_* bits. */
  readonly flags: number;
  /**
   * Whether the leaf callback must see invalid descriptors. When false, runs of invalid
   * descriptors are counted but not visited (every stage-2 visitor except map returns at
   * once on an invalid descriptor, so the counts are the same).
   */
  readonly visitsInvalid: boolean;
  /** KVM_PGTABLE_WALK_LEAF: a leaf or invalid descriptor. */
  leaf?(ctx: VisitCtx): void;
  /** KVM_PGTABLE_WALK_TABLE_PRE. */
  tablePre?(ctx: VisitCtx): void;
  /** KVM_PGTABLE_WALK_TABLE_POST. */
  tablePost?(ctx: VisitCtx): void;
}

/** Called for every leaf that leaves the table, whatever removed it. */
export type LeafRemovedHook = (
  addr: number,
  level: number,
  oa: number,
  attr: number,
  meta: number,
) => void;

/** Options of a {@linkcode Stage2Pgtable}. */
export interface PgtableOptions {
  /** Keep one simulator-only number per leaf (not kernel state; e.g. the canonical IPA). */
  withMeta?: boolean;
}

/** struct kvm_pgtable: a stage-2 table of one geometry. */
export class Stage2Pgtable {
  /** Granule and IPA size. */
  readonly geom: Stage2Geometry;
  /** Per table: output address of a leaf, or child table id of a table descriptor. */
  readonly oa: Float64Array[] = [];
  /** Per table: attribute bits (PTE_*), 0 for an invalid descriptor. */
  readonly attr: Uint8Array[] = [];
  /** Per table: simulator-only number per leaf (present with `withMeta`). */
  readonly meta: Float64Array[] = [];
  /** Per table: bitmap of valid descriptors. */
  readonly bits: Uint32Array[] = [];
  /** Per table: valid descriptors (the kernel's page refcount minus one). */
  readonly count: number[] = [];
  /** Per table: level of its descriptors. */
  readonly level: number[] = [];
  /** Per table: IPA of its first descriptor. */
  readonly base: number[] = [];
  /** Bytes mapped by one descriptor, by level. */
  readonly sizes: number[];
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
  private readonly freeIds: number[] = [];
  private readonly ctxs: VisitCtx[] = [];

  /** An empty table: just the pgd pages, all descriptors invalid. */
  constructor(geom: Stage2Geometry, opts: PgtableOptions = {}) {
    this.geom = geom;
    this.withMeta = opts.withMeta ?? false;
    this.sizes = [];
    for (let l = 0; l <= KVM_PGTABLE_LAST_LEVEL; l++) this.sizes.push(levelSize(geom.granule, l));
    this.newTable(geom.startLevel, 0, geom.rootEntries);
    this.tablePages = geom.pgdPages;
    for (let l = 0; l <= KVM_PGTABLE_LAST_LEVEL; l++) {
      this.ctxs.push({ pgt: this, table: 0, index: 0, level: l, addr: 0, end: 0 });
    }
  }

  /** Bytes of table pages the kernel would hold for this table. */
  get tableBytes(): number {
    return this.tablePages * this.geom.granule.pageSize;
  }

  private newTable(level: number, base: number, entries: number): number {
    let id = this.freeIds.pop();
    if (id === undefined) {
      id = this.oa.length;
      this.oa.push(new Float64Array(entries));
      this.attr.push(new Uint8Array(entries));
      this.meta.push(this.withMeta ? new Float64Array(entries) : new Float64Array(0));
      this.bits.push(new Uint32Array(Math.ceil(entries / 32)));
      this.count.push(0);
      this.level.push(level);
      this.base.push(base);
    } else {
      this.level[id] = level;
      this.base[id] = base;
    }
    return id;
  }

  /** kvm_pgtable_mm_ops.zalloc_page + kvm_init_table_pte: a new child table at (t, i). */
  installTable(t: number, i: number): number {
    const lvl = this.level[t] + 1;
    const id = this.newTable(
      lvl,
      this.base[t] + i * this.sizes[lvl - 1],
      this.geom.granule.ptrsPerTable,
    );
    this.tablePages++;
    this.setValid(t, i);
    this.oa[t][i] = id;
    this.attr[t][i] = PTE_VALID | PTE_TABLE;
    return id;
  }

  private setValid(t: number, i: number): void {
    if (this.attr[t][i] === 0) {
      this.count[t]++;
      this.bits[t][i >>> 5] |= 1 << (i & 31);
    }
  }

  /** Write a leaf descriptor at (t, i); the old descriptor must be invalid or a leaf. */
  setLeaf(t: number, i: number, oa: number, attr: number, meta: number): void {
    const old = this.attr[t][i];
    if (old === 0) {
      this.setValid(t, i);
      this.leaves++;
    }
    this.oa[t][i] = oa;
    this.attr[t][i] = attr | PTE_VALID;
    if (this.withMeta) this.meta[t][i] = meta;
  }

  /** Change a leaf's attribute bits in place (stage2_attr_walker). */
  setAttr(t: number, i: number, attr: number): void {
    this.attr[t][i] = attr | PTE_VALID;
  }

  /** Clear (t, i): a leaf is reported removed; a table is freed with everything below it. */
  clear(t: number, i: number): void {
    const a = this.attr[t][i];
    if (a === 0) return;
    if (a & PTE_TABLE) {
      this.freeTable(this.oa[t][i]);
    } else {
      this.leaves--;
      this.onLeafRemoved?.(
        this.base[t] + i * this.sizes[this.level[t]],
        this.level[t],
        this.oa[t][i],
        a,
        this.withMeta ? this.meta[t][i] : 0,
      );
    }
    this.attr[t][i] = 0;
    this.oa[t][i] = 0;
    this.count[t]--;
    this.bits[t][i >>> 5] &= ~(1 << (i & 31));
  }

  /** kvm_pgtable_stage2_free_unlinked(): free a table and all below it, leaves reported. */
  private freeTable(id: number): void {
    const attr = this.attr[id];
    for (
      let i = this.nextValid(id, 0, attr.length);
      i < attr.length;
      i = this.nextValid(id, i + 1, attr.length)
    ) {
      this.clear(id, i);
    }
    this.tablePages--;
    this.freeIds.push(id);
  }

  /** Number of descriptors in table `t`. */
  entries(t: number): number {
    return this.attr[t].length;
  }

  /** Index of the first valid descriptor of table `t` in [i, end), or `end`. */
  nextValid(t: number, i: number, end: number): number {
    if (i >= end) return end;
    const b = this.bits[t];
    let w = i >>> 5;
    let word = b[w] & (-1 << (i & 31));
    for (;;) {
      if (word !== 0) {
        const j = (w << 5) + 31 - Math.clz32(word & -word);
        return j < end ? j : end;
      }
      w++;
      if (w << 5 >= end) return end;
      word = b[w];
    }
  }

  /**
   * kvm_pgtable_get_leaf(): the leaf translating `ipa`. Returns its level, or -1 when
   * no leaf maps it; the leaf is left in `leafOa`, `leafAttr`, `leafBase`, `leafSize`,
   * `leafMeta`.
   */
  getLeaf(ipa: number): number {
    if (ipa < 0 || ipa >= this.geom.ipaSize) return -1;
    let t = ROOT_TABLE;
    let level = this.geom.startLevel;
    for (;;) {
      const size = this.sizes[level];
      const i = Math.floor((ipa - this.base[t]) / size);
      const a = this.attr[t][i];
      if (a === 0) return -1;
      if (a & PTE_TABLE) {
        t = this.oa[t][i];
        level++;
        continue;
      }
      this.leafOa = this.oa[t][i];
      this.leafAttr = a;
      this.leafBase = this.base[t] + i * size;
      this.leafSize = size;
      this.leafMeta = this.withMeta ? this.meta[t][i] : 0;
      return level;
    }
  }

  /**
   * Install a leaf of `level` at `ipa` (aligned), creating tables on the way and
   * replacing what is there. A convenience over the map visitor for building states
   * by hand (tests, the host's own page tables); the shadow path uses
   * `kvm_pgtable_stage2_map()` in `stage2.ts`.
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
    let t = ROOT_TABLE;
    for (let l = this.geom.startLevel; l < level; l++) {
      const i = Math.floor((ipa - this.base[t]) / this.sizes[l]);
      const a = this.attr[t][i];
      if (!(a & PTE_TABLE)) {
        if (a !== 0) this.clear(t, i);
        t = this.installTable(t, i);
      } else {
        t = this.oa[t][i];
      }
    }
    const i = Math.floor((ipa - this.base[t]) / size);
    if (this.attr[t][i] !== 0) this.clear(t, i);
    this.setLeaf(t, i, oa, attr, meta);
  }

  /**
   * Remove the leaf translating `ipa`, freeing the tables it leaves empty (as the unmap
   * walker's TABLE_POST does). Returns false when no leaf maps `ipa`.
   */
  removeLeafAt(ipa: number): boolean {
    const path: number[] = [];
    let t = ROOT_TABLE;
    let level = this.geom.startLevel;
    for (;;) {
      const i = Math.floor((ipa - this.base[t]) / this.sizes[level]);
      const a = this.attr[t][i];
      if (a === 0) return false;
      path.push(t, i);
      if (a & PTE_TABLE) {
        t = this.oa[t][i];
        level++;
        continue;
      }
      break;
    }
    for (let k = path.length - 2; k >= 0; k -= 2) {
      const pt = path[k], pi = path[k + 1];
      if (k === path.length - 2 || this.count[this.oa[pt][pi]] === 0) this.clear(pt, pi);
      else break;
    }
    return true;
  }

  /**
   * kvm_pgtable_walk(): walk [start, end) from the pgd, calling `v` as the flags say.
   * Adds to `st.descriptors` and `st.tables` (not to `iterations`).
   */
  walk(start: number, end: number, v: Visitor, st: WalkStats): void {
    if (start < 0 || end > this.geom.ipaSize || end < start) {
      throw new RangeError(`walk [${start}, ${end}) is outside the IPA space`);
    }
    if (end === start) return;
    // _kvm_pgtable_walk(): one __kvm_pgtable_walk() per pgd page the range touches.
    const rootSpan = this.sizes[this.geom.startLevel] * this.geom.granule.ptrsPerTable;
    st.tables += Math.floor((end - 1) / rootSpan) - Math.floor(start / rootSpan);
    this.walkTable(ROOT_TABLE, start, end, v, st);
  }

  /** __kvm_pgtable_walk() + __kvm_pgtable_visit() over one table. */
  private walkTable(t: number, start: number, end: number, v: Visitor, st: WalkStats): void {
    const level = this.level[t];
    const size = this.sizes[level];
    const base = this.base[t];
    const attr = this.attr[t];
    const n = attr.length;
    let i = Math.floor((start - base) / size);
    let iEnd = Math.ceil((end - base) / size);
    if (iEnd > n) iEnd = n;
    st.tables++;
    const flags = v.flags;
    const ctx = this.ctxs[level];
    while (i < iEnd) {
      let a = attr[i];
      if (a === 0 && !v.visitsInvalid) {
        const j = this.nextValid(t, i, iEnd);
        st.descriptors += j - i;
        i = j;
        continue;
      }
      st.descriptors++;
      const eBase = base + i * size;
      const table = (a & PTE_TABLE) !== 0;
      if (table && flags & KVM_PGTABLE_WALK_TABLE_PRE) {
        ctx.table = t, ctx.index = i, ctx.addr = eBase, ctx.end = end;
        v.tablePre!(ctx);
        a = attr[i];
      } else if (!table && flags & KVM_PGTABLE_WALK_LEAF) {
        ctx.table = t, ctx.index = i, ctx.addr = eBase, ctx.end = end;
        v.leaf!(ctx);
        a = attr[i];
      }
      if (a & PTE_TABLE) {
        const cs = eBase > start ? eBase : start;
        const ce = eBase + size < end ? eBase + size : end;
        this.walkTable(this.oa[t][i], cs, ce, v, st);
        if (flags & KVM_PGTABLE_WALK_TABLE_POST) {
          ctx.table = t, ctx.index = i, ctx.addr = eBase, ctx.end = end;
          v.tablePost!(ctx);
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
    let level = this.geom.startLevel;
    let depth = 0;
    for (;;) {
      const size = this.sizes[level];
      if (size < chunkSize) return false;
      const i = Math.floor((addr - this.base[t]) / size);
      depth++;
      const a = this.attr[t][i];
      if (a === 0) {
        this.runEnd = this.base[t] + this.nextValid(t, i, this.attr[t].length) * size;
        this.runDepth = depth;
        return true;
      }
      if (!(a & PTE_TABLE) || size === chunkSize) return false;
      t = this.oa[t][i];
      // An empty table would be freed by the first chunk's TABLE_POST: walk it for real.
      if (this.count[t] === 0) return false;
      level++;
    }
  }

  /**
   * stage2_apply_range(): cut [start, end) at KVM_PGTABLE_MIN_BLOCK_LEVEL boundaries and
   * walk each chunk with `v`, one loop iteration each (cond_resched_rwlock_write() runs
   * between them when may_block). Chunks that only meet invalid descriptors are counted
   * (iterations and descriptors exactly as the kernel spends them) without being walked.
   */
  applyRange(start: number, end: number, v: Visitor, st: WalkStats): void {
    const g = this.geom.granule;
    const chunk = this.sizes[g.minBlockLevel];
    let addr = start;
    while (addr < end) {
      if (this.emptyRunAt(addr, chunk)) {
        const runEnd = this.runEnd < end ? this.runEnd : end;
        const n = stage2ChunkCount(g, addr, runEnd);
        st.iterations += n;
        st.descriptors += n * this.runDepth;
        st.tables += n * this.runDepth;
        addr = runEnd;
        continue;
      }
      const next = stage2RangeAddrEnd(g, addr, end);
      this.walk(addr, next, v, st);
      st.iterations++;
      addr = next;
    }
  }

  /** Call `fn` for every leaf in [start, end) in IPA order (simulator use: oracle, dumps). */
  forEachLeaf(
    fn: (addr: number, size: number, oa: number, attr: number, meta: number) => void,
    start = 0,
    end = this.geom.ipaSize,
  ): void {
    this.eachLeaf(ROOT_TABLE, start, end, fn);
  }

  private eachLeaf(
    t: number,
    start: number,
    end: number,
    fn: (addr: number, size: number, oa: number, attr: number, meta: number) => void,
  ): void {
    const size = this.sizes[this.level[t]];
    const base = this.base[t];
    const n = this.attr[t].length;
    let iEnd = Math.ceil((end - base) / size);
    if (iEnd > n) iEnd = n;
    for (
      let i = this.nextValid(t, Math.max(0, Math.floor((start - base) / size)), iEnd);
      i < iEnd;
      i = this.nextValid(t, i + 1, iEnd)
    ) {
      const a = this.attr[t][i];
      if (a & PTE_TABLE) this.eachLeaf(this.oa[t][i], start, end, fn);
      else fn(base + i * size, size, this.oa[t][i], a, this.withMeta ? this.meta[t][i] : 0);
    }
  }
}
