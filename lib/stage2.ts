/**
 * Stage-2 operations as visitors of the one walker in `pgtable.ts`, each mirroring a
 * walker of arch/arm64/kvm/hyp/pgtable.c, and the range operations of mmu.c that drive
 * them through `stage2_apply_range()`.
 *
 * @example
 * ```ts
 * import { granule, stage2Geometry } from "./granule.ts";
 * import { newWalkStats, PTE_R, Stage2Pgtable } from "./pgtable.ts";
import { isAligned } from "./granule.ts";
 * import { kvmPgtableStage2Map, kvmStage2UnmapRange } from "./stage2.ts";
 * const pgt = new Stage2Pgtable(stage2Geometry(granule("4K"), 48));
 * const st = newWalkStats();
 * kvmPgtableStage2Map(pgt, 0x20_0000, 0x20_0000, 0x4000_0000, PTE_R, 0, st);
 * kvmStage2UnmapRange(pgt, 0x20_1000, 0x1000, st); // partial: the whole 2M block goes
 * console.log(pgt.leaves, pgt.tablePages); // 0 1
 * ```
 * @module
 */

import { isAligned } from "./granule.ts";
import {
  KVM_PGTABLE_WALK_LEAF,
  KVM_PGTABLE_WALK_TABLE_POST,
  KVM_PGTABLE_WALK_TABLE_PRE,
  PTE_TABLE,
  PTE_VALID,
  PTE_W,
  type Stage2Pgtable,
  type VisitCtx,
  type Visitor,
  type WalkStats,
} from "./pgtable.ts";

/**
 * stage2_map_walker (with stage2_map_walk_table_pre / stage2_map_walk_leaf): map
 * [ipa, end) -> oa with the largest leaf each descriptor allows.
 */
class MapVisitor implements Visitor {
  readonly flags = KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_PRE;
  readonly visitsInvalid = true;
  ipa = 0;
  end = 0;
  oa = 0;
  attr = 0;
  meta = 0;

  /** kvm_block_mapping_supported(): a leaf fits here (level, size, both alignments). */
  private leafAllowed(ctx: VisitCtx): boolean {
    const pgt = ctx.pgt;
    if (ctx.level < pgt.geom.granule.minBlockLevel) return false;
    const size = pgt.sizes[ctx.level];
    return ctx.addr >= this.ipa && ctx.addr + size <= this.end &&
      isAligned(this.oa + (ctx.addr - this.ipa), size);
  }

  /** stage2_map_walk_table_pre(): a leaf allowed here replaces the table under it. */
  tablePre(ctx: VisitCtx): void {
    if (!this.leafAllowed(ctx)) return;
    ctx.pgt.clear(ctx.table, ctx.index); // free_unlinked_table(): its leaves go
    this.install(ctx);
  }

  /** stage2_map_walk_leaf(): install here, or break a block / fill a hole with a table. */
  leaf(ctx: VisitCtx): void {
    const pgt = ctx.pgt;
    if (this.leafAllowed(ctx)) {
      this.install(ctx);
      return;
    }
    // Going deeper: an existing block is broken (stage2_try_break_pte) and dropped;
    // the rest of it is faulted back lazily.
    if (pgt.attr[ctx.table][ctx.index] !== 0) pgt.clear(ctx.table, ctx.index);
    pgt.installTable(ctx.table, ctx.index);
  }

  /** stage2_map_walker_try_leaf(). */
  private install(ctx: VisitCtx): void {
    const pgt = ctx.pgt;
    const t = ctx.table, i = ctx.index;
    const old = pgt.attr[t][i];
    const off = ctx.addr - this.ipa;
    const oa = this.oa + off;
    if (old !== 0 && !(old & PTE_TABLE) && pgt.oa[t][i] === oa) {
      // stage2_pte_needs_update(): only permissions differ -> changed in place.
      pgt.setAttr(t, i, this.attr);
      return;
    }
    if (old !== 0) pgt.clear(t, i);
    pgt.setLeaf(t, i, oa, this.attr, this.meta + off);
  }
}

/** stage2_unmap_walker: leaves overlapping the range go whole; emptied tables are freed. */
class UnmapVisitor implements Visitor {
  readonly flags = KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_POST;
  readonly visitsInvalid = false;
  leaf(ctx: VisitCtx): void {
    ctx.pgt.clear(ctx.table, ctx.index);
  }
  tablePost(ctx: VisitCtx): void {
    const pgt = ctx.pgt;
    const child = pgt.oa[ctx.table][ctx.index];
    // mm_ops->page_count(childp) != 1: the table still holds something.
    if (pgt.count[child] === 0) pgt.clear(ctx.table, ctx.index);
  }
}

/** stage2_attr_walker as used by kvm_pgtable_stage2_wrprotect(): clear S2AP W. */
class WrprotectVisitor implements Visitor {
  readonly flags = KVM_PGTABLE_WALK_LEAF;
  readonly visitsInvalid = false;
  changed = 0;
  leaf(ctx: VisitCtx): void {
    const a = ctx.pgt.attr[ctx.table][ctx.index];
    if (a & PTE_W) {
      ctx.pgt.setAttr(ctx.table, ctx.index, a & ~PTE_W);
      this.changed++;
    }
  }
}

/** stage2_flush_walker: clean+invalidate the data cache over each cacheable leaf. */
class FlushVisitor implements Visitor {
  readonly flags = KVM_PGTABLE_WALK_LEAF;
  readonly visitsInvalid = false;
  leavesFlushed = 0;
  bytesFlushed = 0;
  onLeaf: ((addr: number) => void) | undefined = undefined;
  leaf(ctx: VisitCtx): void {
    this.leavesFlushed++;
    this.bytesFlushed += ctx.pgt.sizes[ctx.level];
    this.onLeaf?.(ctx.addr);
  }
}

const mapVisitor = new MapVisitor();
const unmapVisitor = new UnmapVisitor();
const wpVisitor = new WrprotectVisitor();
const flushVisitor = new FlushVisitor();

/**
 * kvm_pgtable_stage2_map(): map [ipa, ipa + size) to `oa` with the largest leaves that
 * fit (one leaf when `size` is a page or block size the table can hold), replacing what
 * overlaps it. `meta` is simulator-only (each leaf gets `meta` plus its offset).
 */
export function kvmPgtableStage2Map(
  pgt: Stage2Pgtable,
  ipa: number,
  size: number,
  oa: number,
  attr: number,
  meta: number,
  st: WalkStats,
): void {
  const page = pgt.geom.granule.pageSize;
  if (
    size <= 0 || !isAligned(size, page) || !isAligned(ipa, page) || !isAligned(oa, page) ||
    ipa + size > pgt.geom.ipaSize
  ) {
    throw new RangeError(
      `cannot map ${size} bytes at IPA ${ipa} -> ${oa} with ${pgt.geom.granule.name}`,
    );
  }
  mapVisitor.oa = oa;
  mapVisitor.ipa = ipa;
  mapVisitor.end = ipa + size;
  mapVisitor.attr = attr | PTE_VALID;
  mapVisitor.meta = meta;
  pgt.walk(ipa, ipa + size, mapVisitor, st);
}

/**
 * kvm_stage2_unmap_range() -> stage2_apply_range(kvm_pgtable_stage2_unmap): unmap
 * [start, start + size), chunked; returns nothing, the removed leaves reach
 * `pgt.onLeafRemoved`.
 */
export function kvmStage2UnmapRange(
  pgt: Stage2Pgtable,
  start: number,
  size: number,
  st: WalkStats,
): void {
  pgt.applyRange(start, start + size, unmapVisitor, st);
}

/**
 * kvm_stage2_wp_range() -> stage2_apply_range_resched(kvm_pgtable_stage2_wrprotect).
 * Returns the number of leaves that lost write permission.
 */
export function kvmStage2WpRange(
  pgt: Stage2Pgtable,
  start: number,
  size: number,
  st: WalkStats,
): number {
  wpVisitor.changed = 0;
  pgt.applyRange(start, start + size, wpVisitor, st);
  return wpVisitor.changed;
}

/**
 * stage2_flush_memslot() -> stage2_apply_range_resched(kvm_pgtable_stage2_flush).
 * Returns the number of leaves cleaned to the point of coherency; `onLeaf` hears the
 * base IPA of each.
 */
export function kvmStage2FlushRange(
  pgt: Stage2Pgtable,
  start: number,
  size: number,
  st: WalkStats,
  onLeaf?: (addr: number) => void,
): number {
  flushVisitor.leavesFlushed = 0;
  flushVisitor.bytesFlushed = 0;
  flushVisitor.onLeaf = onLeaf;
  try {
    pgt.applyRange(start, start + size, flushVisitor, st);
  } finally {
    flushVisitor.onLeaf = undefined;
  }
  return flushVisitor.leavesFlushed;
}
