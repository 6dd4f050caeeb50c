/**
 * Shadow stage-2 MMUs (`struct kvm_s2_mmu` in `kvm->arch.nested_mmus[]`): two per vCPU,
 * each a stage-2 of the host granule over the PA range KVM exposes to L1, looked up by
 * L1 context and recycled round-robin as arch/arm64/kvm/nested.c does.
 *
 * @example
 * ```ts
 * import { granule, stage2Geometry } from "./granule.ts";
 * import { NestedMmus } from "./shadow.ts";
 * const mmus = new NestedMmus(stage2Geometry(granule("4K"), 40), 2); // 2 vCPUs -> 4 MMUs
 * const { mmu, recycled } = mmus.get({ vmid: 1, baddr: 0x1000, vtcr: "4K/40", s2Enabled: true, contextId: 1 });
 * console.log(mmus.mmus.length, mmu.id, recycled); // 4 0 false
 * ```
 * @module
 */

import type { Stage2Geometry } from "./granule.ts";
import { Stage2Pgtable } from "./pgtable.ts";

/** S2_MMU_PER_VCPU: shadow MMUs per online vCPU (kvm_vcpu_init_nested()). */
export const S2_MMU_PER_VCPU = 2;

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

/** struct kvm_s2_mmu for a nested context. */
export class ShadowMmu {
  /** Index in nested_mmus[]. */
  readonly id: number;
  /** The shadow stage-2: L2 IPA -> host PA. Leaves carry the canonical IPA as metadata. */
  readonly pgt: Stage2Pgtable;
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

  /** An invalid MMU with an empty table. */
  constructor(id: number, geom: Stage2Geometry) {
    this.id = id;
    this.pgt = new Stage2Pgtable(geom, { withMeta: true });
  }
}

/** kvm->arch.nested_mmus[] with nested_mmus_next. */
export class NestedMmus {
  /** All shadow MMUs. */
  readonly mmus: ShadowMmu[] = [];
  /** nested_mmus_next: where the round-robin search starts. */
  next = 0;

  /** `S2_MMU_PER_VCPU * vcpus` invalid MMUs, each of geometry `geom`. */
  constructor(geom: Stage2Geometry, vcpus: number) {
    for (let i = 0; i < vcpus * S2_MMU_PER_VCPU; i++) this.mmus.push(new ShadowMmu(i, geom));
  }

  /** lookup_s2_mmu(): a valid MMU already holding this context. */
  lookup(c: S2Context): ShadowMmu | undefined {
    for (const m of this.mmus) {
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
  get(c: S2Context): { mmu: ShadowMmu; recycled: boolean } {
    let mmu = this.lookup(c);
    let recycled = false;
    if (!mmu) {
      const n = this.mmus.length;
      let i = this.next;
      for (; i < n + this.next; i++) {
        if (this.mmus[i % n].refcnt === 0) break;
      }
      mmu = this.mmus[i % n];
      if (mmu.refcnt !== 0) throw new Error("BUG_ON: no shadow MMU with refcnt 0");
      this.next = (i + 1) % n;
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

  /** kvm_vcpu_put_hw_mmu(): drop a vCPU's reference. */
  put(mmu: ShadowMmu): void {
    if (mmu.refcnt <= 0) throw new Error(`shadow MMU ${mmu.id} refcnt underflow`);
    mmu.refcnt--;
  }
}
