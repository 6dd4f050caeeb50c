/**
 * virt/kvm/kvm_main.c: creating the VM (`kvm_create_vm()`, with its shadow MMUs and the
 * design under test attached), the memslot ioctl (`KVM_SET_USER_MEMORY_REGION`: add, or
 * delete with kvm_arch_flush_shadow_memslot()), and the MMU notifier's invalidation
 * (`kvm_mmu_notifier_invalidate_range_start()` -> kvm_unmap_gfn_range()).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { FullWalk } from "../strategies/full_walk.ts";
 * import { kvmCreateVm } from "./kvm_main.ts";
 * const kvm = kvmCreateVm({ hostGranule: "4K", paBits: 40, vcpus: 2, memslots: [] }, new FullWalk());
 * assertEquals(kvm.nestedMmus.length, 4); // S2_MMU_PER_VCPU x 2
 * ```
 * @module
 */

import type { MemslotSpec } from "../host/memory.ts";
import { Kvm, type KvmConfig } from "./kvm.ts";
import { kvmArchFlushShadowMemslot, kvmNestedS2Ops, kvmUnmapGfnRange } from "./mmu.ts";
import { kvmVcpuInitNested } from "./nested.ts";
import type { ReverseMapStrategy } from "./strategy.ts";

/**
 * kvm_create_vm() with its vCPUs initialised for nested virtualization
 * (kvm_vcpu_init_nested()): the memslots of `cfg`, S2_MMU_PER_VCPU shadow MMUs per vCPU,
 * and `strategy` attached as the design that answers kvm_nested_s2_{unmap,wp,flush}().
 */
export function kvmCreateVm(cfg: KvmConfig, strategy: ReverseMapStrategy): Kvm {
  const kvm = new Kvm(cfg);
  kvmVcpuInitNested(kvm);
  kvm.strategy = strategy;
  strategy.attach(kvmNestedS2Ops(kvm));
  return kvm;
}

/** KVM_SET_USER_MEMORY_REGION: add a memslot. */
export function kvmAddMemslot(kvm: Kvm, spec: MemslotSpec): void {
  kvm.host.addMemslot(spec);
}

/**
 * KVM_SET_USER_MEMORY_REGION with size 0: kvm_arch_flush_shadow_memslot(), then the
 * memslot and its host memory go. Returns the slot's canonical range.
 */
export function kvmDeleteMemslot(kvm: Kvm, slotId: number): [number, number] {
  const range = kvmArchFlushShadowMemslot(kvm, slotId);
  kvm.host.deleteMemslot(slotId);
  return range;
}

/**
 * kvm_mmu_notifier_invalidate_range_start(): the core mm is about to change the host
 * pages behind canonical [start, end): kvm_unmap_gfn_range().
 */
export function kvmMmuNotifierInvalidateRangeStart(kvm: Kvm, start: number, end: number): void {
  kvmUnmapGfnRange(kvm, start, end);
}
