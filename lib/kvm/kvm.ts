/**
 * `struct kvm` of a VM whose L1 runs L2 guests: the host memory behind it, the canonical
 * stage-2 (`kvm->arch.mmu`), the shadow MMUs (`kvm->arch.nested_mmus[]`), the vCPUs'
 * loaded MMUs, the design under test, and the simulator's work counters for the current
 * event. It is a thin VM object: the kernel's functions live in the files named after
 * the kernel's (`mmu.ts`, `nested.ts`, `sys_regs.ts`, `arm.ts`, `kvm_main.ts`) and take it
 * as their first argument. Build one with `kvmCreateVm()` (`kvm_main.ts`).
 *
 * Every shadow leaf that leaves its table, whatever removed it, is reported to the design
 * (its removal hook) and counted here: needed (it translated into the canonical range
 * the host was invalidating), collateral (a host operation removed it without need), or
 * other (a TLBI, an MMU recycle, the map walker replacing it).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Kvm } from "./kvm.ts";
 * const kvm = new Kvm({ hostGranule: "4K", paBits: 40, vcpus: 2, memslots: [] });
 * assertEquals([kvm.vcpus.length, kvm.nestedMmus.length, kvm.canonical.geom.ipaBits], [2, 0, 40]);
 * ```
 * @module
 */

import { PageSet } from "../util/addr_table.ts";
import { type L1Context, L1Hypervisor } from "../guest/l1.ts";
import { HostMemory, type MemslotSpec } from "../host/memory.ts";
import { type Granule, granule, stage2Geometry } from "./granule.ts";
import { KvmPgtable, type PgtableCounter } from "./pgtable.ts";
import { newWalkStats, type WalkStats } from "./pgtable_walk.ts";
import type { ShadowMmu } from "./s2_mmu.ts";
import type { RemovalCause, ReverseMapStrategy } from "./strategy.ts";

/** The VM as a trace configures it. */
export interface KvmConfig {
  /** The host's PAGE_SIZE granule. */
  hostGranule: string;
  /** kvm_get_pa_bits(): the PA range exposed to L1, the IPA size of every shadow MMU. */
  paBits: number;
  /** Online vCPUs; there are S2_MMU_PER_VCPU times as many shadow MMUs. */
  vcpus: number;
  /** L1's memslots. */
  memslots: MemslotSpec[];
}

/** Work and effects of one event, reset by {@linkcode Kvm.resetCost}. */
export interface EventCost {
  /** Shadow work done by the strategy for host operations: chunks, descriptors, tables. */
  strategy: WalkStats;
  /** Steps the strategy spent in its own index. */
  strategySteps: number;
  /** Shadow work the kernel does whatever the strategy: TLBI unmaps, MMU resets. */
  engine: WalkStats;
  /** Canonical stage-2 work (kvm->arch.mmu), the same for every strategy. */
  canonical: WalkStats;
  /** Shadow leaves removed that the host operation required (derived from its range). */
  removedNeeded: number;
  /** Shadow leaves a host operation removed that it did not require. */
  removedCollateral: number;
  /** Shadow leaves removed for other reasons (TLBI, reset, replaced by the map walker). */
  removedOther: number;
  /** Shadow leaves write-protected. */
  wpLeaves: number;
  /** Shadow leaves flushed. */
  flushedLeaves: number;
  /** Shadow faults handled (leaves installed or permissions relaxed). */
  faults: number;
  /** Faults that hit a shadow leaf a host operation had removed as collateral. */
  refaults: number;
  /** Descriptors read from L1 memory by kvm_walk_nested_s2(). */
  l1Descriptors: number;
  /** Shadow MMUs recycled (pending_unmap). */
  recycles: number;
}

/** A fresh zeroed {@linkcode EventCost}. */
export function newEventCost(): EventCost {
  return {
    strategy: newWalkStats(),
    strategySteps: 0,
    engine: newWalkStats(),
    canonical: newWalkStats(),
    removedNeeded: 0,
    removedCollateral: 0,
    removedOther: 0,
    wpLeaves: 0,
    flushedLeaves: 0,
    faults: 0,
    refaults: 0,
    l1Descriptors: 0,
    recycles: 0,
  };
}

/** What a flush covered (see {@linkcode Kvm.lastFlush}). */
export interface FlushRecord {
  /** Canonical ranges whose data had to be cleaned. */
  ranges: [number, number][];
  /** Per shadow MMU id, the base IPAs of the shadow leaves flushed. */
  leaves: Map<number, Set<number>>;
}

/** What a guest access came to. */
export type AccessResult =
  /** The stage-2 already translated it with enough permission (no exit). */
  | "hit"
  /** A stage-2 leaf was installed or its permissions relaxed. */
  | "mapped"
  /** L1's stage-2 does not map it (or not for writing): the fault goes to L1. */
  | "l1-fault"
  /** The L1 IPA is in no memslot: an MMIO exit. */
  | "mmio";

/** struct kvm_vcpu, as far as the shadow MMUs go. */
export interface KvmVcpu {
  /** vcpu->vcpu_id. */
  readonly id: number;
  /** vcpu->arch.hw_mmu when it runs an L2 context, else null. */
  hwMmu: ShadowMmu | null;
  /**
   * The L1 context it runs (simulator bookkeeping), null when none: while the vCPU stays
   * in the same context object, kvm_vcpu_load_hw_mmu() would find the MMU it holds.
   */
  context: L1Context | null;
}

/** struct kvm for a VM whose L1 runs L2 guests. */
export class Kvm {
  /** The host granule (PAGE_SIZE), that of every stage-2 KVM builds. */
  readonly granule: Granule;
  /** kvm_get_pa_bits(): the IPA size of the canonical and every shadow stage-2. */
  readonly paBits: number;
  /** Host memory and the memslots. */
  readonly host: HostMemory;
  /** kvm->arch.mmu: the canonical stage-2, L1 IPA -> host PA. */
  readonly canonical: KvmPgtable;
  /** The L1 guest hypervisor (its tables are guest memory KVM reads). */
  readonly l1: L1Hypervisor;
  /** kvm->arch.nested_mmus[] (filled by kvm_vcpu_init_nested()). */
  readonly nestedMmus: ShadowMmu[] = [];
  /** Leaves and table pages over every shadow MMU, kept as running totals. */
  readonly shadowCounter: PgtableCounter = { leaves: 0, tablePages: 0, tablesFreed: 0 };
  /** kvm->arch.nested_mmus_next: where the round-robin search for a free MMU starts. */
  nestedMmusNext = 0;
  /** The vCPUs. */
  readonly vcpus: KvmVcpu[];
  /** The design under test (set by kvmCreateVm()). */
  strategy!: ReverseMapStrategy;
  /** Work of the current event. */
  cost: EventCost = newEventCost();
  /**
   * Called after each shadow leaf a nested fault installs (the design's insert), with the
   * MMU, canonical IPA, size and shadow IPA; null for none (the sweep measures lock domains
   * with it, the incremental oracle finds the leaves an access installed).
   */
  onShadowInsert:
    | ((mmu: ShadowMmu, canonicalIpa: number, size: number, shadowIpa: number) => void)
    | null = null;
  /**
   * What the last stage2_flush_vm() covered: the canonical ranges flushed and, per shadow
   * MMU, the base IPA of every shadow leaf the design flushed (for the oracle).
   */
  lastFlush: FlushRecord | null = null;
  /** The canonical range of the host operation the design is answering, else null. */
  private hostRange: [number, number] | null = null;
  private cause: RemovalCause = "replaced";
  /** Per shadow MMU: shadow IPAs a host operation removed as collateral (for refaults). */
  private readonly collateral: PageSet[] = [];

  /** A VM with the configuration's memslots, no vCPU in L2 and no shadow MMU yet. */
  constructor(cfg: KvmConfig) {
    this.granule = granule(cfg.hostGranule);
    if (!Number.isInteger(cfg.vcpus) || cfg.vcpus < 1 || cfg.vcpus > 4096) {
      throw new RangeError(`vcpus ${cfg.vcpus} is out of range (1..4096)`);
    }
    this.paBits = cfg.paBits;
    this.host = new HostMemory(this.granule, cfg.paBits);
    this.canonical = new KvmPgtable(stage2Geometry(this.granule, cfg.paBits));
    for (const s of cfg.memslots) this.host.addMemslot(s);
    this.l1 = new L1Hypervisor(this.granule, cfg.paBits);
    this.vcpus = Array.from({ length: cfg.vcpus }, (_, id) => ({ id, hwMmu: null, context: null }));
  }

  /** The vCPU `id`, or a one-line error. */
  vcpu(id: number): KvmVcpu {
    const v = this.vcpus[id];
    if (!v) throw new RangeError(`no vCPU ${id} (the VM has ${this.vcpus.length})`);
    return v;
  }

  /** Start counting a new event; returns the finished event's counters. */
  resetCost(): EventCost {
    const c = this.cost;
    this.cost = newEventCost();
    return c;
  }

  /** Total shadow leaves over all MMUs. */
  shadowLeaves(): number {
    return this.shadowCounter.leaves;
  }

  /** Total shadow table pages over all MMUs (the pgd pages included). */
  shadowTablePages(): number {
    return this.shadowCounter.tablePages;
  }

  /** Add a shadow MMU to nested_mmus[], its removed leaves reported and counted. */
  addNestedMmu(mmu: ShadowMmu): void {
    this.nestedMmus.push(mmu);
    this.collateral.push(new PageSet(this.granule.pageSize));
    mmu.pgt.onLeafRemoved = (addr, level, oa, _attr, canonical) =>
      this.leafRemoved(mmu, addr, mmu.pgt.sizes[level], oa, canonical);
  }

  /** A shadow leaf left its table: count it and tell the design (its removal hook). */
  private leafRemoved(mmu: ShadowMmu, addr: number, size: number, pa: number, canonical: number) {
    const c = this.cost;
    const r = this.hostRange;
    if (r) {
      if (canonical < r[1] && canonical + size > r[0]) c.removedNeeded++;
      else {
        c.removedCollateral++;
        this.collateral[mmu.id].add(addr);
      }
    } else {
      c.removedOther++;
    }
    this.strategy.shadowRemoved(mmu, addr, size, pa, r ? "host" : this.cause);
  }

  /** Whether a fault at shadow IPA `base` of `mmu` refills a leaf removed as collateral. */
  takeCollateral(mmu: ShadowMmu, base: number): boolean {
    const col = this.collateral[mmu.id];
    return col.size !== 0 && col.delete(base);
  }

  /** The MMU's table was emptied whole (a recycle): nothing of it is collateral any more. */
  forgetCollateral(mmu: ShadowMmu): void {
    this.collateral[mmu.id].clear();
  }

  /** Run `fn` with removed shadow leaves attributed to `cause`. */
  withCause(cause: RemovalCause, fn: () => void): void {
    this.cause = cause;
    try {
      fn();
    } finally {
      this.cause = "replaced";
    }
  }

  /**
   * Run `fn`, the design's answer to a host operation on canonical [start, end): removed
   * leaves that translate into that range are needed, the others collateral.
   */
  inHostOp(start: number, end: number, fn: () => void): void {
    this.hostRange = [start, end];
    try {
      fn();
    } finally {
      this.hostRange = null;
    }
  }
}
