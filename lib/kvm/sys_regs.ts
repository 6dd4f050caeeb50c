/**
 * arch/arm64/kvm/sys_regs.c: the TLBIs L1 issues and KVM traps, applied to the shadow
 * MMUs. IPAS2E1IS (`handle_ipas2e1is()` -> `s2_mmu_unmap_ipa()`) unmaps
 * compute_tlb_inval_range() around the IPA; RIPAS2E1IS (`handle_ripas2e1is()` ->
 * `s2_mmu_unmap_range()`) exactly the range; VMALLS12E1IS (`handle_vmalls12e1is()`) the
 * whole PA range; all of them on every valid shadow MMU of the VMID
 * (kvm_s2_mmu_iterate_by_vmid()). ALLE1IS (`handle_alle1is()`) is kvm_nested_s2_unmap()
 * of everything, which the design under test answers. What the TLBI means for L1's own
 * view (which old L1 mappings stop being allowed) is `../guest/l1.ts`.
 *
 * @example IPAS2E1IS without a TTL hint widens to L1's mapping size recorded in the shadow
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { FullWalk } from "../strategies/full_walk.ts";
 * import { l2Access } from "./arm.ts";
 * import { kvmCreateVm } from "./kvm_main.ts";
 * import { handleIpas2e1is } from "./sys_regs.ts";
 * const kvm = kvmCreateVm({
 *   hostGranule: "4K", paBits: 40, vcpus: 1,
 *   memslots: [{ id: 0, base: 0x4000_0000, size: 0x4000_0000, backing: "page" }],
 * }, new FullWalk());
 * kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
 * kvm.l1.map(1, 0x1_0000_0000, 0x20_0000, 0x4000_0000, true); // a 2M L1 block
 * l2Access(kvm, 0, 1, 0x1_0000_0000, false);
 * l2Access(kvm, 0, 1, 0x1_0010_0000, false); // two 4K shadow leaves of it
 * handleIpas2e1is(kvm, 1, 0x1_0000_0000, 0);
 * assertEquals(kvm.shadowLeaves(), 0);
 * ```
 * @module
 */

import type { Kvm } from "./kvm.ts";
import { kvmStage2UnmapRange } from "./mmu.ts";
import { computeTlbInvalRange, kvmNestedS2Unmap, kvmS2MmuIterateByVmid } from "./nested.ts";
import type { ShadowMmu } from "./s2_mmu.ts";
import { alignDown } from "../util/size.ts";

/** s2_mmu_unmap_ipa(): unmap compute_tlb_inval_range() around `ipa`, aligned down. */
function s2MmuUnmapIpa(kvm: Kvm, mmu: ShadowMmu, ipa: number, ttlLevel: number): void {
  const size = computeTlbInvalRange(mmu, ipa, ttlLevel);
  const base = alignDown(ipa, size);
  const space = mmu.pgt.geom.ipaSize;
  if (base >= space) return;
  kvmStage2UnmapRange(mmu.pgt, base, Math.min(size, space - base), kvm.cost.engine);
}

/** handle_ipas2e1is(): TLBI IPAS2E1IS for `vmid` at `ipa`; `ttlLevel` 0 means no TTL hint. */
export function handleIpas2e1is(kvm: Kvm, vmid: number, ipa: number, ttlLevel: number): void {
  kvm.withCause("tlbi", () => {
    kvmS2MmuIterateByVmid(kvm, vmid, (mmu) => s2MmuUnmapIpa(kvm, mmu, ipa, ttlLevel));
  });
}

/** handle_ripas2e1is() -> s2_mmu_unmap_range(): TLBI RIPAS2E1IS, exactly [start, end). */
export function handleRipas2e1is(kvm: Kvm, vmid: number, start: number, end: number): void {
  kvm.withCause("tlbi", () => {
    kvmS2MmuIterateByVmid(kvm, vmid, (mmu) => {
      const e = Math.min(end, mmu.pgt.geom.ipaSize);
      if (start < e) kvmStage2UnmapRange(mmu.pgt, start, e - start, kvm.cost.engine);
    });
  });
}

/** handle_vmalls12e1is(): TLBI VMALLS12E1IS, [0, BIT(kvm_get_pa_bits())) of the VMID's MMUs. */
export function handleVmalls12e1is(kvm: Kvm, vmid: number): void {
  kvm.withCause("tlbi", () => {
    kvmS2MmuIterateByVmid(kvm, vmid, (mmu) => {
      kvmStage2UnmapRange(mmu.pgt, 0, mmu.pgt.geom.ipaSize, kvm.cost.engine);
    });
  });
}

/**
 * handle_alle1is(): TLBI ALLE1IS is kvm_nested_s2_unmap() of all of the canonical space,
 * which the design under test answers (a design that replaces kvm_nested_s2_unmap()
 * answers this too).
 */
export function handleAlle1is(kvm: Kvm): void {
  kvmNestedS2Unmap(kvm, 0, kvm.canonical.geom.ipaSize, "all");
}
