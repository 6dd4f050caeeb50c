/**
 * `full-walk`: the upstream behaviour (ec14c272408a, "KVM: arm64: nv: Unmap/flush shadow
 * stage 2 page tables"): every host operation walks the whole IPA space of every valid
 * shadow MMU, chunked by stage2_apply_range(). It keeps no index.
 *
 * @module
 */

import type { Design } from "./design.ts";
import type { HostUnmapKind, ReverseMapStrategy, ShadowOps } from "../kvm/strategy.ts";

/** kvm_nested_s2_unmap() / kvm_nested_s2_wp() / kvm_nested_s2_flush() as upstream has them. */
export class FullWalk implements ReverseMapStrategy {
  /** `full-walk`. */
  readonly name = "full-walk";
  private ops!: ShadowOps;

  /** Keep the engine's operations. */
  attach(ops: ShadowOps): void {
    this.ops = ops;
  }
  /** No index: nothing to record. */
  shadowMapped(): void {}
  /** No index: nothing to forget. */
  shadowRemoved(): void {}
  /** No index: nothing to reset. */
  mmuReset(): void {}

  /** kvm_nested_s2_unmap(): for each valid MMU, kvm_stage2_unmap_range(mmu, 0, kvm_phys_size(mmu)). */
  unmapCanonical(_start: number, _end: number, _kind: HostUnmapKind): void {
    for (const mmu of this.ops.mmus) {
      if (mmu.valid) this.ops.unmapShadowRange(mmu, 0, mmu.pgt.geom.ipaSize);
    }
  }

  /** kvm_nested_s2_wp(): for each valid MMU, kvm_stage2_wp_range(mmu, 0, kvm_phys_size(mmu)). */
  wpCanonical(): void {
    for (const mmu of this.ops.mmus) {
      if (mmu.valid) this.ops.wpShadowRange(mmu, 0, mmu.pgt.geom.ipaSize);
    }
  }

  /** kvm_nested_s2_flush(): for each valid MMU, kvm_stage2_flush_range(mmu, 0, kvm_phys_size(mmu)). */
  flushCanonical(): void {
    for (const mmu of this.ops.mmus) {
      if (mmu.valid) this.ops.flushShadowRange(mmu, 0, mmu.pgt.geom.ipaSize);
    }
  }

  /** No index. */
  memoryBytes(): number {
    return 0;
  }
  /** No index: no state (exhaustive checking). */
  encodeState(): string {
    return "";
  }
  /** Never falls back: it is the fallback. */
  fallbacks(): number {
    return 0;
  }
}

/** The `full-walk` design record. */
export const fullWalkDesign: Design = {
  name: "full-walk",
  label: "full-walk (upstream)",
  summary: "upstream kvm_nested_s2_unmap(): every valid shadow MMU, whole IPA space",
  role: "upstream",
  knownBroken: false,
  reference: true,
  insertLock: "none",
  leafBytes: 130,
  description: "What the kernel does today: kvm_nested_s2_unmap(), kvm_nested_s2_wp() and " +
    "kvm_nested_s2_flush() walk the whole IPA space of every valid shadow MMU, chunked by " +
    "stage2_apply_range(), whatever canonical range the host unmapped. It keeps no index, so " +
    "it cannot miss a leaf; its cost grows with the shadow IPA size times the number of shadow " +
    "MMUs (two per vCPU), and every unmap destroys every shadow leaf as collateral.",
  source:
    'torvalds/linux ec14c272408a, "KVM: arm64: nv: Unmap/flush shadow stage 2 page tables"; ' +
    "arch/arm64/kvm/nested.c",
  style: { color: "#4d4d4d", dash: "14,4,3,4", symbol: "square", hollow: false },
  make: () => new FullWalk(),
};
