/**
 * arch/arm64/kvm/arm.c, as far as memory accesses go: a vCPU enters the guest with its
 * stage-2 MMU loaded and its requests handled (`check_nested_vcpu_requests()`: the
 * pending unmap of a recycled shadow MMU), the hardware walks that stage-2, and a miss or
 * a permission fault exits to `kvm_handle_guest_abort()` (`mmu.ts`). A hit costs KVM
 * nothing.
 *
 * @example An L2 access faults once, then hits
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { FullWalk } from "../strategies/full_walk.ts";
 * import { l2Access } from "./arm.ts";
 * import { kvmCreateVm } from "./kvm_main.ts";
 * const kvm = kvmCreateVm({
 *   hostGranule: "4K", paBits: 40, vcpus: 1,
 *   memslots: [{ id: 0, base: 0x4000_0000, size: 0x4000_0000, backing: "page" }],
 * }, new FullWalk());
 * kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
 * kvm.l1.map(1, 0x1_0000_0000, 0x1000, 0x4000_0000, true);
 * assertEquals(l2Access(kvm, 0, 1, 0x1_0000_0000, true), "mapped");
 * assertEquals(l2Access(kvm, 0, 1, 0x1_0000_0000, true), "hit");
 * ```
 * @module
 */

import { hex } from "../util/size.ts";
import type { AccessResult, Kvm } from "./kvm.ts";
import { kvmHandleGuestAbort, kvmStage2UnmapRange } from "./mmu.ts";
import { kvmVcpuLoadHwMmu, kvmVcpuPutHwMmu } from "./nested.ts";
import { kvmPgtableGetLeaf } from "./pgtable_stage2.ts";
import { newPgtableLeaf, PTE_W } from "./pte.ts";
import type { ShadowMmu } from "./s2_mmu.ts";

/**
 * check_nested_vcpu_requests() (nested.c), KVM_REQ_NESTED_S2_UNMAP: a recycled MMU's whole
 * shadow table is unmapped before the vCPU uses it for its new context.
 */
export function checkNestedVcpuRequests(kvm: Kvm, mmu: ShadowMmu): void {
  if (!mmu.pendingUnmap) return;
  kvm.strategy.mmuReset(mmu);
  kvm.withCause(
    "reset",
    () => kvmStage2UnmapRange(mmu.pgt, 0, mmu.pgt.geom.ipaSize, kvm.cost.engine),
  );
  kvm.forgetCollateral(mmu);
  mmu.pendingUnmap = false;
}

/** The leaf the hardware's walk of an access found (read at once). */
const ACCESS_LEAF = newPgtableLeaf();

/**
 * An access by vCPU `vcpuId` running L2 in L1 context `contextId` to L2 IPA `l2ipa`:
 * kvm_vcpu_load_hw_mmu() and the vCPU's requests, then the hardware's shadow stage-2 walk
 * (a hit), or kvm_handle_guest_abort() on a miss or a write to a read-only leaf.
 */
export function l2Access(
  kvm: Kvm,
  vcpuId: number,
  contextId: number,
  l2ipa: number,
  write: boolean,
): AccessResult {
  const ctx = kvm.l1.context(contextId);
  const mmu = kvmVcpuLoadHwMmu(kvm, vcpuId, ctx);
  checkNestedVcpuRequests(kvm, mmu);
  const pgt = mmu.pgt;
  if (l2ipa < 0 || l2ipa >= ctx.s2.geom.ipaSize) {
    throw new RangeError(`L2 IPA ${hex(l2ipa)} is beyond context ${contextId}'s IPA space`);
  }
  if (l2ipa >= pgt.geom.ipaSize) {
    throw new RangeError(
      `L2 IPA ${hex(l2ipa)} is beyond the shadow MMUs' ${pgt.geom.ipaBits}-bit IPA space ` +
        `(kvm_get_pa_bits())`,
    );
  }
  const present = kvmPgtableGetLeaf(pgt, l2ipa, ACCESS_LEAF) >= 0;
  if (present && (!write || (ACCESS_LEAF.attr & PTE_W) !== 0)) return "hit";
  return kvmHandleGuestAbort(kvm, mmu, ctx, l2ipa, write, present);
}

/**
 * vCPU `vcpuId` running L2 in context `contextId` touches [l2ipa, l2ipa + size) every
 * `stride` bytes, in order (a working set, or part of one): one {@linkcode l2Access} each.
 * Returns "mapped" when any access faulted a shadow leaf in, else the last result.
 */
export function l2Touch(
  kvm: Kvm,
  vcpuId: number,
  contextId: number,
  l2ipa: number,
  size: number,
  stride: number,
  write: boolean,
): AccessResult {
  let result: AccessResult = "hit";
  let mapped = false;
  for (let off = 0; off < size; off += stride) {
    result = l2Access(kvm, vcpuId, contextId, l2ipa + off, write);
    if (result === "mapped") mapped = true;
  }
  return mapped ? "mapped" : result;
}

/**
 * An access by L1 itself to canonical IPA `ipa`: the hardware's canonical stage-2 walk (a
 * hit), or kvm_handle_guest_abort() -> user_mem_abort() on the canonical MMU.
 */
export function l1Access(kvm: Kvm, ipa: number, write: boolean): AccessResult {
  if (!kvm.host.findMemslot(ipa)) return "mmio";
  const pgt = kvm.canonical;
  if (
    kvmPgtableGetLeaf(pgt, ipa, ACCESS_LEAF) >= 0 && (!write || (ACCESS_LEAF.attr & PTE_W) !== 0)
  ) {
    return "hit";
  }
  return kvmHandleGuestAbort(kvm, null, null, ipa, write);
}

/** Every vCPU leaves its L2 context (kvm_vcpu_put_hw_mmu() on each). */
export function kvmVcpuPutAll(kvm: Kvm): void {
  for (const v of kvm.vcpus) kvmVcpuPutHwMmu(kvm, v.id);
}
