/**
 * `struct kvm_s2_mmu` of a nested context (arch/arm64/include/asm/kvm_host.h): one shadow
 * stage-2 (L2 IPA -> host PA) of the host granule over the PA range KVM exposes to L1,
 * with the VTTBR/VTCR it caches for lookup_s2_mmu(), its refcount and its
 * pending_unmap flag. Its life cycle (lookup, recycling, pending unmap) is in `nested.ts`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { granule, stage2Geometry } from "./granule.ts";
 * import { ShadowMmu } from "./s2_mmu.ts";
 * const mmu = new ShadowMmu(0, stage2Geometry(granule("4K"), 40));
 * assertEquals([mmu.valid, mmu.pgt.leaves, mmu.pgt.geom.ipaBits], [false, 0, 40]);
 * ```
 * @module
 */

import type { Stage2Geometry } from "./granule.ts";
import { KvmPgtable, type PgtableCounter } from "./pgtable.ts";

/** What identifies an L1 context to lookup_s2_mmu(): VTTBR (VMID + BADDR), VTCR, HCR_EL2.VM. */
export interface S2Context {
  /** VTTBR_EL2.VMID. */
  vmid: number;
  /** VTTBR_EL2.BADDR. */
  baddr: number;
  /** VTCR_EL2, as a comparable key (granule and size). */
  vtcr: string;
  /** HCR_EL2.VM. */
  s2Enabled: boolean;
  /** The trace's id of the L1 context (for reports; not kernel state). */
  contextId: number;
}

/** struct kvm_s2_mmu for a nested context (an entry of kvm->arch.nested_mmus[]). */
export class ShadowMmu {
  /** Index in nested_mmus[]. */
  readonly id: number;
  /** The shadow stage-2: L2 IPA -> host PA. Leaves carry the canonical IPA as metadata. */
  readonly pgt: KvmPgtable;
  /** !(tlb_vttbr & VTTBR_CNP_BIT): the MMU holds a context (kvm_s2_mmu_valid()). */
  valid = false;
  /** Cached VTTBR.VMID (tlb_vttbr). */
  vmid = -1;
  /** Cached VTTBR.BADDR. */
  baddr = -1;
  /** Cached VTCR (tlb_vtcr). */
  vtcr = "";
  /** nested_stage2_enabled. */
  s2Enabled = false;
  /** vCPUs that have this MMU loaded. */
  refcnt = 0;
  /** The whole table must be unmapped before use (KVM_REQ_NESTED_S2_UNMAP). */
  pendingUnmap = false;
  /** The L1 context id this MMU serves (simulator bookkeeping for reports). */
  contextId = -1;

  /** init_nested_s2_mmu(): an invalid MMU with an empty table (counted in `counter`). */
  constructor(id: number, geom: Stage2Geometry, counter?: PgtableCounter) {
    this.id = id;
    this.pgt = new KvmPgtable(geom, { withMeta: true, counter });
  }
}
