/**
 * arch/arm64/kvm/nested.c: the software walk of L1's stage-2 (`kvm_walk_nested_s2()`,
 * returning a `struct kvm_s2_trans`), the shadow MMUs' life cycle (`kvm_vcpu_init_nested()`,
 * `lookup_s2_mmu()`, `get_s2_mmu_nested()`, `kvm_vcpu_load_hw_mmu()`,
 * `kvm_vcpu_put_hw_mmu()`), the host operations on every shadow
 * (`kvm_nested_s2_unmap()`, `kvm_nested_s2_wp()`, `kvm_nested_s2_flush()`, which hand the
 * canonical range to the design under test), and the TLBI helpers
 * (`kvm_s2_mmu_iterate_by_vmid()`, `compute_tlb_inval_range()`, `get_guest_mapping_ttl()`,
 * `ttl_to_size()`).
 *
 * `check_nested_vcpu_requests()` (the pending unmap of a recycled MMU) is in `arm.ts`,
 * beside the vCPU run loop that calls it: it needs mmu.c's `kvm_stage2_unmap_range()`,
 * and `mmu.ts` calls into this file.
 *
 * @example Walk L1's stage-2 for an L2 IPA inside a 2M block
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { granule } from "./granule.ts";
 * import { L1Hypervisor } from "../guest/l1.ts";
 * import { kvmWalkNestedS2, newS2Trans } from "./nested.ts";
 * const l1 = new L1Hypervisor(granule("4K"), 40);
 * const ctx = l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
 * l1.map(1, 0x1_0000_0000, 0x20_0000, 0x4000_0000, true);
 * const t = newS2Trans();
 * assertEquals(kvmWalkNestedS2(ctx, 0x1_0000_1000, 40, t), true);
 * assertEquals([t.output, t.blockSize, t.level, t.writable], [0x4000_1000, 0x20_0000, 2, true]);
 * ```
 * @module
 */

import type { L1Context } from "../guest/l1.ts";
import { type Granule, granule, levelSize } from "./granule.ts";
import type { Kvm } from "./kvm.ts";
import { kvmPgtableGetLeaf } from "./pgtable_stage2.ts";
import { newPgtableLeaf, PTE_NV_MAP_SHIFT, PTE_W } from "./pte.ts";
import { type S2Context, ShadowMmu } from "./s2_mmu.ts";
import type { HostUnmapKind } from "./strategy.ts";
import { stage2Geometry } from "./granule.ts";

/** S2_MMU_PER_VCPU: shadow MMUs per online vCPU (kvm_vcpu_init_nested()). */
export const S2_MMU_PER_VCPU = 2;

/** struct kvm_s2_trans: the result of kvm_walk_nested_s2(). */
export interface S2Trans {
  /** kvm_s2_trans_output(): the L1 IPA (canonical IPA) of the walked L2 IPA. */
  output: number;
  /** kvm_s2_trans_size(): L1's mapping size (Infinity with L1's stage-2 off). */
  blockSize: number;
  /** kvm_s2_trans_writable(). */
  writable: boolean;
  /** trans->level: L1's mapping level (-1 with L1's stage-2 off). */
  level: number;
  /** Descriptors read from L1 memory by the walk. */
  descriptors: number;
}

/** A zeroed {@linkcode S2Trans} for kvmWalkNestedS2() to fill. */
export function newS2Trans(): S2Trans {
  return { output: 0, blockSize: 0, writable: false, level: 0, descriptors: 0 };
}

/** The leaf of L1's stage-2 a nested walk found (read at once). */
const L1_LEAF = newPgtableLeaf();

/**
 * kvm_walk_nested_s2() -> walk_nested_s2_pgd(): translate `gipa` (an L2 IPA) through the
 * stage-2 of L1 context `ctx` into `out`. Returns false on a translation fault (injected
 * into L1). With L1's stage-2 disabled the L2 IPA is the L1 IPA (within L1's `paBits`).
 */
export function kvmWalkNestedS2(
  ctx: L1Context,
  gipa: number,
  paBits: number,
  out: S2Trans,
): boolean {
  if (!ctx.s2Enabled) {
    out.output = gipa;
    out.blockSize = Infinity;
    out.writable = true;
    out.level = -1;
    out.descriptors = 0;
    return gipa < 2 ** paBits;
  }
  const s2 = ctx.s2;
  const leaf = L1_LEAF;
  const level = kvmPgtableGetLeaf(s2, gipa, leaf);
  if (level < 0) {
    out.descriptors = 0;
    return false;
  }
  out.descriptors = level - s2.geom.startLevel + 1;
  out.output = leaf.oa + (gipa - leaf.base);
  out.blockSize = leaf.size;
  out.writable = (leaf.attr & PTE_W) !== 0;
  out.level = level;
  return true;
}

/** kvm_vcpu_init_nested(): grow nested_mmus[] to S2_MMU_PER_VCPU x online vCPUs. */
export function kvmVcpuInitNested(kvm: Kvm): void {
  const geom = stage2Geometry(kvm.granule, kvm.paBits);
  for (let i = kvm.nestedMmus.length; i < kvm.vcpus.length * S2_MMU_PER_VCPU; i++) {
    kvm.addNestedMmu(new ShadowMmu(i, geom, kvm.shadowCounter));
  }
}

/** lookup_s2_mmu(): a valid MMU already holding this context. */
export function lookupS2Mmu(kvm: Kvm, c: S2Context): ShadowMmu | undefined {
  for (const m of kvm.nestedMmus) {
    if (!m.valid) continue;
    if (
      c.s2Enabled && m.s2Enabled && m.vmid === c.vmid && m.baddr === c.baddr && m.vtcr === c.vtcr
    ) {
      return m;
    }
    if (!c.s2Enabled && !m.s2Enabled && m.vmid === c.vmid) return m;
  }
  return undefined;
}

/**
 * get_s2_mmu_nested(): the MMU for a context, taking the next free one round-robin when
 * none holds it. A recycled valid MMU is marked pending_unmap. Increments refcnt.
 */
export function getS2MmuNested(kvm: Kvm, c: S2Context): { mmu: ShadowMmu; recycled: boolean } {
  let mmu = lookupS2Mmu(kvm, c);
  let recycled = false;
  if (!mmu) {
    const mmus = kvm.nestedMmus;
    const n = mmus.length;
    let i = kvm.nestedMmusNext;
    for (; i < n + kvm.nestedMmusNext; i++) {
      if (mmus[i % n].refcnt === 0) break;
    }
    mmu = mmus[i % n];
    if (mmu.refcnt !== 0) throw new Error("BUG_ON: no shadow MMU with refcnt 0");
    kvm.nestedMmusNext = (i + 1) % n;
    // "Make sure we don't forget to do the laundry"
    if (mmu.valid) {
      mmu.pendingUnmap = true;
      recycled = true;
    }
    mmu.valid = true;
    mmu.vmid = c.vmid;
    mmu.baddr = c.baddr;
    mmu.vtcr = c.vtcr;
    mmu.s2Enabled = c.s2Enabled;
    mmu.contextId = c.contextId;
  }
  mmu.refcnt++;
  return { mmu, recycled };
}

/** The VTCR key an MMU caches for a context: its granule and IPA size. */
export function vtcrOf(ctx: L1Context): string {
  return `${ctx.granule.name}/${ctx.s2.geom.ipaBits}`;
}

/** VTCR_EL2.TG0 of a cached VTCR key: the granule of L1's stage-2 for this MMU. */
export function vtcrGranule(mmu: ShadowMmu): Granule {
  return granule(mmu.vtcr.slice(0, mmu.vtcr.indexOf("/")));
}

/**
 * kvm_vcpu_load_hw_mmu() for an L2 context: the vCPU's shadow MMU for `ctx` (found,
 * or taken and possibly recycled). A recycled MMU still has pending_unmap set; the run
 * loop's check_nested_vcpu_requests() (`arm.ts`) empties it before use.
 */
export function kvmVcpuLoadHwMmu(kvm: Kvm, vcpuId: number, ctx: L1Context): ShadowMmu {
  const v = kvm.vcpu(vcpuId);
  // The same context object: L1 has not re-created it (a context destroyed and created
  // again under its id may have another VTTBR or VTCR, so it is looked up afresh).
  if (v.hwMmu && v.context === ctx && v.hwMmu.valid) return v.hwMmu;
  if (v.hwMmu) kvmVcpuPutHwMmu(kvm, vcpuId);
  const { mmu, recycled } = getS2MmuNested(kvm, {
    vmid: ctx.vmid,
    baddr: ctx.baddr,
    vtcr: vtcrOf(ctx),
    s2Enabled: ctx.s2Enabled,
    contextId: ctx.id,
  });
  v.hwMmu = mmu;
  v.context = ctx;
  if (recycled) kvm.cost.recycles++;
  return mmu;
}

/** kvm_vcpu_put_hw_mmu(): the vCPU leaves its L2 context and drops its MMU reference. */
export function kvmVcpuPutHwMmu(kvm: Kvm, vcpuId: number): void {
  const v = kvm.vcpu(vcpuId);
  const mmu = v.hwMmu;
  if (mmu) {
    if (mmu.refcnt <= 0) throw new Error(`shadow MMU ${mmu.id} refcnt underflow`);
    mmu.refcnt--;
  }
  v.hwMmu = null;
  v.context = null;
}

/**
 * kvm_nested_s2_unmap(): the nested part of a host unmap of canonical [start, end).
 * Upstream walks every valid MMU whole; here the design under test answers it.
 */
export function kvmNestedS2Unmap(kvm: Kvm, start: number, end: number, kind: HostUnmapKind) {
  kvm.inHostOp(start, end, () => kvm.strategy.unmapCanonical(start, end, kind));
}

/** kvm_nested_s2_wp(): the nested part of write-protecting canonical [start, end). */
export function kvmNestedS2Wp(kvm: Kvm, start: number, end: number): void {
  kvm.strategy.wpCanonical(start, end);
}

/** kvm_nested_s2_flush(): the nested part of flushing canonical [start, end). */
export function kvmNestedS2Flush(kvm: Kvm, start: number, end: number): void {
  kvm.strategy.flushCanonical(start, end);
}

/** kvm_s2_mmu_iterate_by_vmid(): call `fn` on every valid shadow MMU whose cached VMID is `vmid`. */
export function kvmS2MmuIterateByVmid(
  kvm: Kvm,
  vmid: number,
  fn: (mmu: ShadowMmu) => void,
): void {
  for (const mmu of kvm.nestedMmus.filter((m) => m.valid && m.vmid === vmid)) fn(mmu);
}

/**
 * ttl_to_size(): bytes of an L1 leaf at TTL `level` in granule `g`; 0 where no L1 leaf
 * can be (level 0, and level 1 for 16K/64K: KVM has no 52-bit IPA for nested).
 */
export function ttlToSize(g: Granule, level: number): number {
  return level >= g.minBlockLevel && level <= 3 ? levelSize(g, level) : 0;
}

/** The shadow leaf get_guest_mapping_ttl() reads (read at once). */
const SHADOW_LEAF = newPgtableLeaf();

/**
 * get_guest_mapping_ttl(): L1's level recorded in the shadow leaf (KVM_NV_GUEST_MAP_SZ) at
 * `addr` aligned to L1's leaf sizes from the smallest up: the first leaf found with a level
 * decides, the level if that mapping covers `addr`, else 0 (no information).
 */
export function getGuestMappingTtl(mmu: ShadowMmu, g: Granule, addr: number): number {
  for (let l = 3; l >= g.minBlockLevel; l--) {
    const sz = levelSize(g, l);
    const tmp = Math.floor(addr / sz) * sz;
    if (kvmPgtableGetLeaf(mmu.pgt, tmp, SHADOW_LEAF) < 0) continue;
    const level = (SHADOW_LEAF.attr >> PTE_NV_MAP_SHIFT) & 7;
    if (level === 0) continue;
    // "Check that the resulting range is actually including the original IPA."
    return addr < tmp + ttlToSize(g, level) ? level : 0;
  }
  return 0;
}

/**
 * compute_tlb_inval_range(): the TTL hint's size (ttl_to_size()), or without a hint the L1
 * level recorded in the shadow leaf (get_guest_mapping_ttl()); when that gives no size, L1's
 * largest block for its granule (1G, 32M, 512M).
 */
export function computeTlbInvalRange(mmu: ShadowMmu, ipa: number, ttlLevel: number): number {
  const g = vtcrGranule(mmu);
  // No TTL: the shadow's hint. A TTL (FEAT_TTL is forced on for L1) is used as it is.
  const level = ttlLevel > 0 ? ttlLevel : getGuestMappingTtl(mmu, g, ipa);
  // "Compute the maximum extent of the invalidation": L1's largest block.
  return (level > 0 ? ttlToSize(g, level) : 0) || levelSize(g, g.minBlockLevel);
}
