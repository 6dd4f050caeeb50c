/**
 * The one page-table walker of arch/arm64/kvm/hyp/pgtable.c: `kvm_pgtable_walk()` ->
 * `_kvm_pgtable_walk()` (one `__kvm_pgtable_walk()` per pgd page the range touches) ->
 * `__kvm_pgtable_walk()` (the descriptors of one table in the range) ->
 * `__kvm_pgtable_visit()` (one descriptor: the callback of a `struct kvm_pgtable_walker`
 * as its flags select it, then down into a table). Every operation on a table is a walk
 * with a visitor (`pgtable_stage2.ts`); the walk counts what it visits in a
 * {@linkcode WalkStats}.
 *
 * As in torvalds/linux at f6a27d6dc51b288106adaf053cff9c9b9cc12c4e (v6.3),
 * arch/arm64/kvm/hyp/pgtable.c: the callback sees a `kvm_pgtable_visit_ctx` (`old`, the
 * descriptor as read; `arg`, the walker's argument); a table descriptor gets
 * KVM_PGTABLE_WALK_TABLE_PRE before its children and KVM_PGTABLE_WALK_TABLE_POST after,
 * anything else (invalid descriptors included) KVM_PGTABLE_WALK_LEAF; the descriptor is
 * read again after a TABLE_PRE or LEAF callback, so a table the callback installed is
 * walked into and one it removed is not.
 *
 * Simulator only, never a change in what is counted: a walker that returns at once on an
 * invalid descriptor (every stage-2 visitor but map) says so (`visitsInvalid: false`), and
 * a run of invalid descriptors is counted from the table's valid bitmap without a
 * callback each; the contexts handed to callbacks are one per level and table, reused.
 *
 * @example Count a walk of an empty 40-bit 4K table: 2 pgd pages, 1024 descriptors
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { granule, stage2Geometry } from "./granule.ts";
 * import { KvmPgtable } from "./pgtable.ts";
 * import { KVM_PGTABLE_WALK_LEAF, kvmPgtableWalk, newWalkStats } from "./pgtable_walk.ts";
 * const pgt = new KvmPgtable(stage2Geometry(granule("4K"), 40));
 * const st = newWalkStats();
 * let seen = 0;
 * kvmPgtableWalk(pgt, 0, 2 ** 40, {
 *   cb: () => seen++,
 *   arg: null,
 *   flags: KVM_PGTABLE_WALK_LEAF,
 *   visitsInvalid: true,
 * }, st);
 * assertEquals([st.tables, st.descriptors, seen], [2, 1024, 1024]);
 * ```
 * @module
 */

import { KVM_PGTABLE_LAST_LEVEL } from "./granule.ts";
import type { KvmPgtable } from "./pgtable.ts";
import { PTE_TABLE, ROOT_TABLE } from "./pte.ts";

/** kvm_pgtable_walk_flags: call the visitor on leaf (and invalid) descriptors. */
export const KVM_PGTABLE_WALK_LEAF = 1;
/** kvm_pgtable_walk_flags: call the visitor on a table descriptor before its children. */
export const KVM_PGTABLE_WALK_TABLE_PRE = 2;
/** kvm_pgtable_walk_flags: call the visitor on a table descriptor after its children. */
export const KVM_PGTABLE_WALK_TABLE_POST = 4;

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

/** struct kvm_pgtable_visit_ctx: where the walker is, what it read there, and the walk's arg. */
export interface VisitCtx<A> {
  /** The table being walked. */
  readonly pgt: KvmPgtable;
  /** Table id holding the descriptor (with `index`, the simulator's `ptep`). */
  table: number;
  /** Index of the descriptor in that table. */
  index: number;
  /** Level of the descriptor. */
  readonly level: number;
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

/**
 * The contexts a walk of `pgt` hands its callbacks, one per level (the kernel builds one on
 * the stack per visit): made once with the table. A callback reads its context before it
 * starts another walk of the same table, which may reuse it.
 */
export function newVisitCtxs(pgt: KvmPgtable): VisitCtx<unknown>[] {
  const ctxs: VisitCtx<unknown>[] = [];
  for (let level = 0; level <= KVM_PGTABLE_LAST_LEVEL; level++) {
    ctxs.push({ pgt, table: 0, index: 0, level, addr: 0, end: 0, old: 0, oldOa: 0, arg: null });
  }
  return ctxs;
}

/**
 * kvm_pgtable_walk(): walk [addr, addr + size) from the pgd, calling the walker's callback
 * as its flags say. Adds to `st.descriptors` and `st.tables` (not to `iterations`).
 */
export function kvmPgtableWalk<A>(
  pgt: KvmPgtable,
  addr: number,
  size: number,
  walker: KvmPgtableWalker<A>,
  st: WalkStats,
): void {
  const end = addr + size;
  if (addr < 0 || end > pgt.geom.ipaSize || size < 0) {
    throw new RangeError(`walk [${addr}, ${end}) is outside the IPA space`);
  }
  if (size === 0) return;
  // _kvm_pgtable_walk(): one __kvm_pgtable_walk() per pgd page the range touches.
  const rootSpan = pgt.sizes[pgt.geom.startLevel] * pgt.ptrs;
  st.tables += Math.floor((end - 1) / rootSpan) - Math.floor(addr / rootSpan);
  kvmPgtableWalkTable(pgt, ROOT_TABLE, addr, end, walker as KvmPgtableWalker<unknown>, st);
}

/**
 * __kvm_pgtable_walk(): the descriptors of table `t` that [start, end) covers, each
 * visited by {@linkcode kvmPgtableVisit} (a run of invalid ones counted at once for a
 * walker that does not visit them). `t` must be live and linked where its base says (the
 * pgd, or a table a walk from the pgd would enter for this range).
 */
export function kvmPgtableWalkTable(
  pgt: KvmPgtable,
  t: number,
  start: number,
  end: number,
  w: KvmPgtableWalker<unknown>,
  st: WalkStats,
): void {
  const level = pgt.tLevel[t];
  const size = pgt.sizes[level];
  const base = pgt.tBase[t];
  const o = pgt.tOff[t];
  const attrs = pgt.attrSegs[pgt.tSeg[t]];
  const n = pgt.entries(t);
  let i = pgt.slot(t, start);
  let iEnd = Math.ceil((end - base) * pgt.inv[level]);
  if (iEnd > n) iEnd = n;
  st.tables++;
  while (i < iEnd) {
    if (attrs[o + i] === 0 && !w.visitsInvalid) {
      const j = pgt.nextValid(t, i, iEnd);
      st.descriptors += j - i;
      i = j;
      continue;
    }
    st.descriptors++;
    kvmPgtableVisit(pgt, t, i, base + i * size, size, start, end, w, st);
    i++;
  }
}

/**
 * __kvm_pgtable_visit(): descriptor `i` of table `t` (at `addr`, `size` bytes): the TABLE_PRE
 * or LEAF callback as the flags select it, the descriptor read again, then, for a table,
 * its children and the TABLE_POST callback.
 */
function kvmPgtableVisit(
  pgt: KvmPgtable,
  t: number,
  i: number,
  addr: number,
  size: number,
  start: number,
  end: number,
  w: KvmPgtableWalker<unknown>,
  st: WalkStats,
): void {
  const k = pgt.tSeg[t];
  const o = pgt.tOff[t] + i;
  const attrs = pgt.attrSegs[k], oas = pgt.oaSegs[k];
  let a = attrs[o];
  const flags = w.flags;
  const table = (a & PTE_TABLE) !== 0;
  const visit = table ? KVM_PGTABLE_WALK_TABLE_PRE : KVM_PGTABLE_WALK_LEAF;
  const ctx = pgt.walkCtxs[pgt.tLevel[t]];
  if (flags & visit) {
    ctx.table = t, ctx.index = i, ctx.addr = addr, ctx.end = end, ctx.arg = w.arg;
    // An invalid descriptor's output is 0: not read (its page is taken by a first write).
    const oa = a === 0 ? 0 : oas[o];
    ctx.old = a, ctx.oldOa = table ? oa : oa * pgt.page;
    w.cb(ctx, visit);
    a = attrs[o];
  }
  if (!(a & PTE_TABLE)) return;
  const cs = addr > start ? addr : start;
  const ce = addr + size < end ? addr + size : end;
  kvmPgtableWalkTable(pgt, oas[o], cs, ce, w, st);
  if (flags & KVM_PGTABLE_WALK_TABLE_POST) {
    ctx.table = t, ctx.index = i, ctx.addr = addr, ctx.end = end, ctx.arg = w.arg;
    ctx.old = a, ctx.oldOa = oas[o];
    w.cb(ctx, KVM_PGTABLE_WALK_TABLE_POST);
  }
}
