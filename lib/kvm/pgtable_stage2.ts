/**
 * The stage-2 operations of arch/arm64/kvm/hyp/pgtable.c, each one walk of the walker
 * (`pgtable_walk.ts`) with a visitor: `kvm_pgtable_stage2_map()` (`stage2_map_walker`; a
 * permission-only change is done in place, as kvm_pgtable_stage2_relax_perms() would),
 * `kvm_pgtable_stage2_unmap()` (`stage2_unmap_walker`), `kvm_pgtable_stage2_wrprotect()`
 * (`stage2_attr_walker`), `kvm_pgtable_stage2_flush()` (`stage2_flush_walker`) and
 * `kvm_pgtable_get_leaf()` (`leaf_walker`); and, for the simulator, every leaf of a range
 * through a leaf-only walker ({@linkcode forEachLeaf}).
 *
 * The visitors are those of torvalds/linux at f6a27d6dc51b288106adaf053cff9c9b9cc12c4e
 * (v6.3), arch/arm64/kvm/hyp/pgtable.c: a map replaces what overlaps it, breaks a block it
 * falls in (the rest of the block is faulted back lazily) and replaces a table with a
 * block that covers it; an unmap removes whole leaves (blocks are not split) and frees a
 * table its TABLE_POST visit finds empty (`mm_ops->page_count(childp) == 1`);
 * `kvm_pgtable_get_leaf()` walks the one page at ALIGN_DOWN(addr, PAGE_SIZE) with a
 * LEAF-only walker that keeps the last descriptor it sees.
 *
 * A map starts in the table of the last leaf (or of the last lookup) when it falls there,
 * and `kvm_pgtable_get_leaf()` descends without a walk, unless the table was made with
 * `shortcuts: false` (`pgtable_shortcuts.ts`: same results and counts).
 *
 * @example Map a page, look it up, write-protect it, unmap it
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { granule, stage2Geometry } from "./granule.ts";
 * import { KvmPgtable } from "./pgtable.ts";
 * import {
 *   kvmPgtableGetLeaf,
 *   kvmPgtableStage2Map,
 *   kvmPgtableStage2Unmap,
 *   kvmPgtableStage2Wrprotect,
 * } from "./pgtable_stage2.ts";
 * import { newWalkStats } from "./pgtable_walk.ts";
 * import { newPgtableLeaf, PTE_R, PTE_W } from "./pte.ts";
 * const pgt = new KvmPgtable(stage2Geometry(granule("4K"), 40));
 * const st = newWalkStats();
 * assertEquals(kvmPgtableStage2Map(pgt, 0x4000_0000, 0x1000, 0x8000_0000, PTE_R | PTE_W, 0, st), 1);
 * const leaf = newPgtableLeaf();
 * assertEquals(kvmPgtableGetLeaf(pgt, 0x4000_0fff, leaf), 3);
 * assertEquals(kvmPgtableStage2Wrprotect(pgt, 0, 2 ** 40, st), 1);
 * kvmPgtableGetLeaf(pgt, 0x4000_0000, leaf);
 * assertEquals(leaf.attr & PTE_W, 0);
 * kvmPgtableStage2Unmap(pgt, 0x4000_0000, 0x1000, st);
 * assertEquals(kvmPgtableGetLeaf(pgt, 0x4000_0000, leaf), -1);
 * ```
 * @module
 */

import { isAligned } from "../util/size.ts";
import type { KvmPgtable } from "./pgtable.ts";
import { lookupLeaf, walkFromLiveTable } from "./pgtable_shortcuts.ts";
import {
  KVM_PGTABLE_WALK_LEAF,
  KVM_PGTABLE_WALK_TABLE_POST,
  KVM_PGTABLE_WALK_TABLE_PRE,
  kvmPgtableWalk,
  type KvmPgtableWalker,
  newWalkStats,
  type VisitCtx,
  type WalkStats,
} from "./pgtable_walk.ts";
import { type PgtableLeaf, PTE_TABLE, PTE_VALID, PTE_W } from "./pte.ts";

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
    // at a table there, so a map into a live table of its range may start in it.
    if (!walkFromLiveTable(pgt, ipa, ipa + size, w, st)) kvmPgtableWalk(pgt, ipa, size, w, st);
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
  kvmPgtableWalk(pgt, addr, size, UNMAP_WALKER, st);
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
  kvmPgtableWalk(pgt, addr, size, {
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
  kvmPgtableWalk(pgt, addr, size, {
    cb: stage2FlushWalker,
    arg,
    flags: KVM_PGTABLE_WALK_LEAF,
    visitsInvalid: false,
  }, st);
  return arg.leaves;
}

/** leaf_walker: keep the descriptor the walk reached (its leaf_walk_data is a PgtableLeaf). */
function leafWalker(ctx: VisitCtx<PgtableLeaf>): void {
  const d = ctx.arg;
  d.attr = ctx.old;
  d.oa = ctx.oldOa;
  d.level = ctx.level;
  d.table = ctx.table;
  d.index = ctx.index;
  d.base = ctx.addr;
}

/** What the walks nobody counts add to (a lookup, a listing): never read. */
const UNCOUNTED: WalkStats = newWalkStats();

/**
 * kvm_pgtable_get_leaf(): the leaf translating `addr`. Returns its level and fills `out`,
 * or returns -1 when no leaf maps it (`out` then holds nothing to read). Not counted (the model counts the
 * walks of the range operations and of faults, not lookups). With shortcuts this is
 * {@linkcode lookupLeaf}, the same result without a walk.
 */
export function kvmPgtableGetLeaf(pgt: KvmPgtable, addr: number, out: PgtableLeaf): number {
  // Kept this small so that it is inlined where a lookup is hot.
  return pgt.shortcuts.enabled ? lookupLeaf(pgt, addr, out) : getLeafByWalk(pgt, addr, out);
}

/** kvm_pgtable_get_leaf() as the kernel does it: a walk of one page with leaf_walker. */
function getLeafByWalk(pgt: KvmPgtable, addr: number, out: PgtableLeaf): number {
  if (addr < 0 || addr >= pgt.geom.ipaSize) return -1;
  const page = pgt.page;
  const walker = { cb: leafWalker, arg: out, flags: KVM_PGTABLE_WALK_LEAF, visitsInvalid: true };
  kvmPgtableWalk(pgt, Math.floor(addr / page) * page, page, walker, UNCOUNTED);
  if (out.attr === 0) return -1;
  out.size = pgt.sizes[out.level];
  out.meta = pgt.metaAt(out.table, out.index);
  return out.level;
}

/** Told each leaf: base IPA, size, output address, attribute bits, simulator number. */
export type LeafFn = (addr: number, size: number, oa: number, attr: number, meta: number) => void;

/** The leaf-only visitor of {@linkcode forEachLeaf}: hand the leaf to the caller's function. */
function eachLeafWalker(ctx: VisitCtx<LeafFn>): void {
  const pgt = ctx.pgt;
  const fn = ctx.arg;
  fn(ctx.addr, pgt.sizes[ctx.level], ctx.oldOa, ctx.old, pgt.metaAt(ctx.table, ctx.index));
}

/**
 * Call `fn` for every leaf overlapping [start, end) (clipped to the IPA space) in IPA
 * order: a walk with a LEAF-only walker that skips invalid descriptors (simulator use: the
 * oracle, the host's and L1's tables, design checks). Not counted. `fn` must not change
 * the table.
 */
export function forEachLeaf(
  pgt: KvmPgtable,
  fn: LeafFn,
  start = 0,
  end: number = pgt.geom.ipaSize,
): void {
  const s = start > 0 ? start : 0;
  const e = end < pgt.geom.ipaSize ? end : pgt.geom.ipaSize;
  if (s >= e) return;
  kvmPgtableWalk(pgt, s, e - s, {
    cb: eachLeafWalker,
    arg: fn,
    flags: KVM_PGTABLE_WALK_LEAF,
    visitsInvalid: false,
  }, UNCOUNTED);
}
