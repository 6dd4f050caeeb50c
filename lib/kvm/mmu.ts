/**
 * arch/arm64/kvm/mmu.c: range operations on a stage-2 (`stage2_apply_range()` and
 * `kvm_stage2_{unmap,wp,flush}_range()`), the stage-2 fault path (`kvm_handle_guest_abort()`
 * -> `user_mem_abort()`, for L1 itself and for an L2 through a shadow MMU), and the host
 * operations that must reach the shadows (`kvm_unmap_gfn_range()`,
 * `kvm_arch_flush_shadow_memslot()`, `kvm_mmu_wp_memory_region()`, `stage2_flush_vm()`).
 * Every walk is counted in the VM's {@linkcode EventCost}.
 *
 * @example The full-walk unmap of one 48-bit 4K shadow: 262,144 chunks, one descriptor each
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { granule, stage2Geometry } from "./granule.ts";
 * import { KvmPgtable } from "./pgtable.ts";
 * import { newWalkStats } from "./pgtable_walk.ts";
 * import { kvmStage2UnmapRange } from "./mmu.ts";
 * const pgt = new KvmPgtable(stage2Geometry(granule("4K"), 48));
 * const st = newWalkStats();
 * kvmStage2UnmapRange(pgt, 0, 2 ** 48, st);
 * assertEquals([st.iterations, st.descriptors], [262144, 262144]);
 * ```
 * @module
 */

import { stage2RangeAddrEnd } from "./granule.ts";
import type { AccessResult, Kvm } from "./kvm.ts";
import {
  kvmNestedS2Flush,
  kvmNestedS2Unmap,
  kvmNestedS2Wp,
  kvmWalkNestedS2,
  newS2Trans,
} from "./nested.ts";
import type { S2Trans } from "./nested.ts";
import type { KvmPgtable } from "./pgtable.ts";
import { emptyRunAt, newEmptyRun } from "./pgtable_shortcuts.ts";
import {
  forEachLeaf,
  kvmPgtableStage2Flush,
  kvmPgtableStage2Map,
  kvmPgtableStage2Unmap,
  kvmPgtableStage2Wrprotect,
} from "./pgtable_stage2.ts";
import type { WalkStats } from "./pgtable_walk.ts";
import { PTE_NV_MAP_SHIFT, PTE_R, PTE_W } from "./pte.ts";
import type { ShadowMmu } from "./s2_mmu.ts";
import type { L1Context } from "../guest/l1.ts";
import type { ShadowOps } from "./strategy.ts";
import { alignDown } from "../util/size.ts";
import { stage2ChunkCount } from "./granule.ts";

/** A kvm_pgtable_stage2_* operation on [addr, addr + size); returns a count (simulator). */
export type Stage2RangeFn = (pgt: KvmPgtable, addr: number, size: number, st: WalkStats) => number;

/** The run of empty chunks emptyRunAt() finds (read at once, before the next chunk). */
const EMPTY_RUN = newEmptyRun();

/**
 * stage2_apply_range(): cut [addr, end) at KVM_PGTABLE_MIN_BLOCK_LEVEL boundaries and run
 * `fn` on each chunk, one loop iteration each (cond_resched_rwlock_write() runs between
 * them when may_block). Chunks that only meet invalid descriptors are counted (iterations
 * and descriptors exactly as the kernel spends them) without being walked. Returns the
 * sum of `fn`'s counts.
 */
export function stage2ApplyRange(
  pgt: KvmPgtable,
  addr: number,
  end: number,
  fn: Stage2RangeFn,
  st: WalkStats,
): number {
  const g = pgt.geom.granule;
  const chunk = pgt.sizes[g.minBlockLevel];
  let total = 0;
  while (addr < end) {
    if (emptyRunAt(pgt, addr, chunk, EMPTY_RUN)) {
      const runEnd = EMPTY_RUN.end < end ? EMPTY_RUN.end : end;
      const n = stage2ChunkCount(g, addr, runEnd);
      st.iterations += n;
      st.descriptors += n * EMPTY_RUN.depth;
      st.tables += n * EMPTY_RUN.depth;
      addr = runEnd;
      continue;
    }
    const next = stage2RangeAddrEnd(g, addr, end);
    total += fn(pgt, addr, next - addr, st);
    st.iterations++;
    addr = next;
  }
  return total;
}

/** kvm_stage2_unmap_range() -> stage2_apply_range(kvm_pgtable_stage2_unmap). */
export function kvmStage2UnmapRange(
  pgt: KvmPgtable,
  start: number,
  size: number,
  st: WalkStats,
): void {
  stage2ApplyRange(pgt, start, start + size, kvmPgtableStage2Unmap, st);
}

/**
 * kvm_stage2_wp_range() -> stage2_apply_range_resched(kvm_pgtable_stage2_wrprotect).
 * Returns the number of leaves that lost write permission.
 */
export function kvmStage2WpRange(
  pgt: KvmPgtable,
  start: number,
  size: number,
  st: WalkStats,
): number {
  return stage2ApplyRange(pgt, start, start + size, kvmPgtableStage2Wrprotect, st);
}

/**
 * kvm_stage2_flush_range() -> stage2_apply_range_resched(kvm_pgtable_stage2_flush).
 * Returns the number of leaves cleaned to the point of coherency; `onLeaf` hears the
 * base IPA of each.
 */
export function kvmStage2FlushRange(
  pgt: KvmPgtable,
  start: number,
  size: number,
  st: WalkStats,
  onLeaf?: (addr: number) => void,
): number {
  return stage2ApplyRange(
    pgt,
    start,
    start + size,
    (p, a, z, s) => kvmPgtableStage2Flush(p, a, z, s, onLeaf),
    st,
  );
}

const FAULT_TRANS: S2Trans = newS2Trans();

/**
 * kvm_handle_guest_abort(): a stage-2 fault at `faultIpa` on the vCPU's current MMU (the
 * canonical one for L1: `mmu` null; a shadow MMU for an L2 running in L1 context `ctx`,
 * whose VTTBR/VTCR the vCPU holds). For a shadow MMU, kvm_walk_nested_s2() first: a fault in L1's stage-2 (or a write L1 maps read-only) goes to L1; otherwise
 * user_mem_abort() with the nested translation.
 */
export function kvmHandleGuestAbort(
  kvm: Kvm,
  mmu: ShadowMmu | null,
  ctx: L1Context | null,
  faultIpa: number,
  write: boolean,
  permissionFault = false,
): AccessResult {
  if (!mmu || !ctx) return userMemAbort(kvm, null, faultIpa, faultIpa, null, write);
  // One kvm_s2_trans per fault, on the stack in the kernel: reused, it is never kept.
  const trans = FAULT_TRANS;
  const ok = kvmWalkNestedS2(ctx, faultIpa, kvm.l1.paBits, trans);
  kvm.cost.l1Descriptors += trans.descriptors;
  if (!ok) return "l1-fault"; // kvm_inject_s2_fault()
  // kvm_s2_handle_perm_fault(): only a permission fault is checked against L1's
  // permissions and forwarded; a translation fault maps the page with what L1 allows.
  const deniedByL1 = write && !trans.writable;
  if (deniedByL1 && permissionFault) return "l1-fault";
  const r = userMemAbort(kvm, mmu, faultIpa, trans.output, trans, write);
  // The write is retried on the read-only leaf just installed: a permission fault, L1's.
  return deniedByL1 && r === "mapped" ? "l1-fault" : r;
}

/**
 * user_mem_abort(): fault in the host page behind canonical `ipa` and map it at
 * `faultIpa` in the canonical stage-2 (`mmu` null, `nested` null) or in a shadow MMU
 * (`nested` is L1's translation): the size is the host mapping's (vma_pagesize), PAGE_SIZE
 * while dirty logging, and for a nested fault never larger than L1's mapping, rounded
 * down to a host size; both IPAs are aligned down to it.
 */
export function userMemAbort(
  kvm: Kvm,
  mmu: ShadowMmu | null,
  faultIpa: number,
  ipa: number,
  nested: S2Trans | null,
  write: boolean,
): AccessResult {
  const host = kvm.host;
  const slot = host.findMemslot(ipa);
  if (!slot) return "mmio";
  const page = kvm.granule.pageSize;
  const pa = host.faultinPfn(ipa, write);
  const loggingActive = slot.logging;
  if (!mmu || !nested) {
    const size = loggingActive ? page : host.hostMapSize;
    const base = alignDown(ipa, size);
    const writable = !loggingActive || write;
    kvmPgtableStage2Map(
      kvm.canonical,
      base,
      size,
      pa - (ipa - base),
      PTE_R | (writable ? PTE_W : 0),
      0,
      kvm.cost.canonical,
    );
    if (writable) host.markDirty(ipa);
    return "mapped";
  }
  const pmd = host.pmdSize;
  const pud = host.pudSize;
  // vma_pagesize: the host mapping (hugetlb, or THP through transparent_hugepage_adjust()),
  // PAGE_SIZE while dirty logging (force_pte).
  let vmaPagesize = loggingActive ? page : host.hostMapSize;
  // Nested clamp: never larger than L1's mapping, rounded down to a host size.
  let maxMapSize = loggingActive ? page : pud;
  maxMapSize = Math.min(nested.blockSize, maxMapSize);
  if (maxMapSize >= pmd && maxMapSize < pud) maxMapSize = pmd;
  else if (maxMapSize >= page && maxMapSize < pmd) maxMapSize = page;
  vmaPagesize = Math.min(vmaPagesize, maxMapSize);
  // ALIGN_DOWN both the fault IPA and the canonical IPA (and the pfn) to the size.
  const shadowBase = alignDown(faultIpa, vmaPagesize);
  const canonicalBase = alignDown(ipa, vmaPagesize);
  const paBase = pa - (ipa - canonicalBase);
  // writable &= kvm_s2_trans_writable(); with dirty logging, only on a write fault.
  const writable = nested.writable && (!loggingActive || write);
  let attr = PTE_R | (writable ? PTE_W : 0);
  // kvm_encode_nested_level(): L1's level in the software bits (0 = no information).
  if (nested.level > 0) attr |= nested.level << PTE_NV_MAP_SHIFT;
  if (kvm.takeCollateral(mmu, shadowBase)) kvm.cost.refaults++;
  const written = kvmPgtableStage2Map(
    mmu.pgt,
    shadowBase,
    vmaPagesize,
    paBase,
    attr,
    canonicalBase,
    kvm.cost.engine,
  );
  if (writable) host.markDirty(ipa);
  kvm.cost.faults++;
  // Nothing written: the leaf was there with this output, only its permissions relaxed
  // (fault_is_perm && vma_pagesize == fault_granule: kvm_pgtable_stage2_relax_perms()).
  kvm.strategy.shadowMapped(mmu, shadowBase, canonicalBase, vmaPagesize, paBase, written === 0);
  kvm.onShadowInsert?.(mmu, canonicalBase, vmaPagesize, shadowBase);
  return "mapped";
}

/**
 * kvm_unmap_gfn_range(): the MMU notifier's unmap of canonical [start, end): the
 * canonical stage-2, then kvm_nested_s2_unmap().
 */
export function kvmUnmapGfnRange(kvm: Kvm, start: number, end: number): void {
  kvmStage2UnmapRange(kvm.canonical, start, end - start, kvm.cost.canonical);
  kvmNestedS2Unmap(kvm, start, end, "notifier");
}

/**
 * kvm_arch_flush_shadow_memslot(): a memslot is deleted or moved: its canonical range
 * is unmapped, then kvm_nested_s2_unmap(). Returns the range.
 */
export function kvmArchFlushShadowMemslot(kvm: Kvm, slotId: number): [number, number] {
  const slot = kvm.host.memslot(slotId);
  const s = slot.base, e = slot.base + slot.size;
  kvmStage2UnmapRange(kvm.canonical, s, slot.size, kvm.cost.canonical);
  kvmNestedS2Unmap(kvm, s, e, "memslot");
  return [s, e];
}

/**
 * kvm_mmu_wp_memory_region(): start (or re-arm) dirty logging on a memslot: the
 * canonical range is write-protected, then kvm_nested_s2_wp().
 */
export function kvmMmuWpMemoryRegion(kvm: Kvm, slotId: number): void {
  const slot = kvm.host.memslot(slotId);
  slot.logging = true;
  slot.dirty.clear();
  kvmStage2WpRange(kvm.canonical, slot.base, slot.size, kvm.cost.canonical);
  kvmNestedS2Wp(kvm, slot.base, slot.base + slot.size);
}

/**
 * stage2_flush_vm(): every memslot of the canonical stage-2, then kvm_nested_s2_flush().
 * What it covered is left in `kvm.lastFlush` for the oracle.
 */
export function stage2FlushVm(kvm: Kvm): void {
  kvm.lastFlush = {
    ranges: kvm.host.memslots.map((s): [number, number] => [s.base, s.base + s.size]),
    leaves: new Map(),
  };
  for (const s of kvm.host.memslots) {
    kvmStage2FlushRange(kvm.canonical, s.base, s.size, kvm.cost.canonical);
  }
  kvmNestedS2Flush(kvm, 0, kvm.canonical.geom.ipaSize);
}

/**
 * What KVM offers a design (the {@linkcode ShadowOps} seam): kvm_stage2_*_range() on a
 * shadow MMU, counted as the design's work, a counter for its own index steps, and (not
 * counted) the leaves of a shadow MMU for a design's self-check.
 */
export function kvmNestedS2Ops(kvm: Kvm): ShadowOps {
  return {
    mmus: kvm.nestedMmus,
    granule: kvm.granule,
    unmapShadowRange(mmu, start, size) {
      kvmStage2UnmapRange(mmu.pgt, start, size, kvm.cost.strategy);
    },
    wpShadowRange(mmu, start, size) {
      kvm.cost.wpLeaves += kvmStage2WpRange(mmu.pgt, start, size, kvm.cost.strategy);
    },
    flushShadowRange(mmu, start, size) {
      const seen = kvm.lastFlush?.leaves;
      let set = seen?.get(mmu.id);
      if (seen && !set) seen.set(mmu.id, set = new Set());
      kvm.cost.flushedLeaves += kvmStage2FlushRange(
        mmu.pgt,
        start,
        size,
        kvm.cost.strategy,
        set ? (addr) => set.add(addr) : undefined,
      );
    },
    countSteps(n) {
      kvm.cost.strategySteps += n;
    },
    forEachShadowLeaf(mmu, fn, start, end) {
      forEachLeaf(mmu.pgt, fn, start, end);
    },
  };
}
