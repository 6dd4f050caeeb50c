/**
 * The engine: one VM with nested virtualization, as KVM arm64 runs it. It holds the
 * host, the L1 guest hypervisor, the shadow MMUs and one reverse-lookup strategy, and
 * implements the kernel entry points that move shadow state: the nested fault path
 * (kvm_handle_guest_abort() -> user_mem_abort()), the host's MMU-notifier and memslot
 * operations, and L1's TLBIs. Every stage-2 walk is counted in {@linkcode EventCost}.
 *
 * @example
 * ```ts
 * import { NestedKvm } from "./kvm.ts";
 * import { FullWalk } from "./strategies/full_walk.ts";
 * const kvm = new NestedKvm({
 *   hostGranule: "4K", paBits: 40, vcpus: 1,
 *   memslots: [{ id: 0, base: 0x4000_0000, size: 0x4000_0000, backing: "page" }],
 * }, new FullWalk());
 * kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
 * kvm.l1.map(1, 0x1_0000_0000, 0x1000, 0x4000_0000, true);
 * console.log(kvm.access(0, 1, 0x1_0000_0000, true)); // mapped
 * kvm.unmapGfnRange(0x4000_0000, 0x4000_1000);
 * console.log(kvm.cost.strategy.iterations, kvm.cost.removedNeeded); // 1024 1
 * ```
 * @module
 */

import { type Granule, granule, levelSize } from "./granule.ts";
import { HostMemory, type MemslotSpec } from "./host.ts";
import { type L1Context, L1Hypervisor } from "./l1.ts";
import { newWalkStats, PTE_NV_MAP_SHIFT, PTE_R, PTE_W, type WalkStats } from "./pgtable.ts";
import { NestedMmus, type ShadowMmu } from "./shadow.ts";
import {
  kvmPgtableStage2Map,
  kvmStage2FlushRange,
  kvmStage2UnmapRange,
  kvmStage2WpRange,
} from "./stage2.ts";
import type { RemovalCause, ReverseMapStrategy, ShadowOps } from "./strategy.ts";

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

/** Work and effects of one event, reset by {@linkcode NestedKvm.resetCost}. */
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

/** What a flush covered (see {@linkcode NestedKvm.lastFlush}). */
export interface FlushRecord {
  /** Canonical ranges whose data had to be cleaned. */
  ranges: [number, number][];
  /** Per shadow MMU id, the base IPAs of the shadow leaves flushed. */
  leaves: Map<number, Set<number>>;
}

/** What an L2 access came to. */
export type AccessResult =
  /** The shadow already translated it with enough permission (no exit). */
  | "hit"
  /** A shadow leaf was installed or its permissions relaxed. */
  | "mapped"
  /** L1's stage-2 does not map it (or not for writing): the fault goes to L1. */
  | "l1-fault"
  /** The L1 IPA is in no memslot: an MMIO exit. */
  | "mmio";

interface Vcpu {
  mmu: ShadowMmu | null;
  contextId: number;
}

/** struct kvm for a VM whose L1 runs L2 guests. */
export class NestedKvm implements ShadowOps {
  /** The host granule. */
  readonly granule: Granule;
  /** Host memory, memslots and the canonical stage-2. */
  readonly host: HostMemory;
  /** The L1 guest hypervisor. */
  readonly l1: L1Hypervisor;
  /** kvm->arch.nested_mmus[]. */
  readonly nested: NestedMmus;
  /** The reverse-lookup strategy. */
  readonly strategy: ReverseMapStrategy;
  /** Work of the current event. */
  cost: EventCost = newEventCost();
  private readonly vcpus: Vcpu[];
  /** The canonical range of the host operation the strategy is answering, else null. */
  private classify: [number, number] | null = null;
  private cause: RemovalCause = "replaced";
  private readonly collateral: Set<number>[];

  /** A VM with the configuration's memslots, no L1 contexts yet. */
  constructor(cfg: KvmConfig, strategy: ReverseMapStrategy) {
    this.granule = granule(cfg.hostGranule);
    if (!Number.isInteger(cfg.vcpus) || cfg.vcpus < 1 || cfg.vcpus > 4096) {
      throw new RangeError(`vcpus ${cfg.vcpus} is out of range (1..4096)`);
    }
    this.host = new HostMemory(this.granule, cfg.paBits);
    for (const s of cfg.memslots) this.host.addMemslot(s);
    this.l1 = new L1Hypervisor(this.granule, cfg.paBits);
    this.nested = new NestedMmus(this.host.mm.geom, cfg.vcpus);
    this.vcpus = Array.from({ length: cfg.vcpus }, () => ({ mmu: null, contextId: -1 }));
    this.collateral = this.nested.mmus.map(() => new Set<number>());
    for (const mmu of this.nested.mmus) {
      mmu.pgt.onLeafRemoved = (addr, level, oa, _attr, meta) =>
        this.leafRemoved(mmu, addr, mmu.pgt.sizes[level], oa, meta);
    }
    this.strategy = strategy;
    strategy.attach(this);
  }

  /** kvm->arch.nested_mmus[]. */
  get mmus(): readonly ShadowMmu[] {
    return this.nested.mmus;
  }

  /** Start counting a new event. */
  resetCost(): EventCost {
    const c = this.cost;
    this.cost = newEventCost();
    return c;
  }

  private leafRemoved(mmu: ShadowMmu, addr: number, size: number, pa: number, canonical: number) {
    const c = this.cost;
    const r = this.classify;
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

  // --- ShadowOps: what strategies call -------------------------------------------------

  /** kvm_stage2_unmap_range() on a shadow MMU, counted to the strategy. */
  unmapShadowRange(mmu: ShadowMmu, start: number, size: number): void {
    kvmStage2UnmapRange(mmu.pgt, start, size, this.cost.strategy);
  }

  /** kvm_stage2_wp_range() on a shadow MMU, counted to the strategy. */
  wpShadowRange(mmu: ShadowMmu, start: number, size: number): void {
    this.cost.wpLeaves += kvmStage2WpRange(mmu.pgt, start, size, this.cost.strategy);
  }

  /** kvm_stage2_flush_range() on a shadow MMU, counted to the strategy. */
  flushShadowRange(mmu: ShadowMmu, start: number, size: number): void {
    const seen = this.lastFlush?.leaves;
    let set = seen?.get(mmu.id);
    if (seen && !set) seen.set(mmu.id, set = new Set());
    this.cost.flushedLeaves += kvmStage2FlushRange(
      mmu.pgt,
      start,
      size,
      this.cost.strategy,
      set ? (addr) => set.add(addr) : undefined,
    );
  }

  /** Count strategy index steps. */
  countSteps(n: number): void {
    this.cost.strategySteps += n;
  }

  // --- vCPU and shadow MMU life cycle --------------------------------------------------

  /** kvm_vcpu_load_hw_mmu() for an L2 context: get (or recycle) its shadow MMU. */
  loadContext(vcpuId: number, ctx: L1Context): ShadowMmu {
    const v = this.vcpu(vcpuId);
    if (v.mmu && v.contextId === ctx.id && v.mmu.valid) return v.mmu;
    if (v.mmu) this.nested.put(v.mmu);
    const { mmu, recycled } = this.nested.get({
      vmid: ctx.vmid,
      baddr: ctx.baddr,
      vtcr: `${ctx.granule.name}/${ctx.s2.geom.ipaBits}`,
      s2Enabled: ctx.s2Enabled,
      contextId: ctx.id,
    });
    v.mmu = mmu;
    v.contextId = ctx.id;
    if (recycled) this.cost.recycles++;
    if (mmu.pendingUnmap) this.resetMmu(mmu);
    return mmu;
  }

  /** check_nested_vcpu_requests(): KVM_REQ_NESTED_S2_UNMAP, the whole shadow unmapped. */
  private resetMmu(mmu: ShadowMmu): void {
    this.strategy.mmuReset(mmu);
    this.withCause(
      "reset",
      () => kvmStage2UnmapRange(mmu.pgt, 0, mmu.pgt.geom.ipaSize, this.cost.engine),
    );
    this.collateral[mmu.id].clear();
    mmu.pendingUnmap = false;
  }

  private vcpu(id: number): Vcpu {
    const v = this.vcpus[id];
    if (!v) throw new RangeError(`no vCPU ${id} (the VM has ${this.vcpus.length})`);
    return v;
  }

  /** vcpu->arch.hw_mmu: the shadow MMU vCPU `id` has loaded, or null. */
  hwMmu(id: number): ShadowMmu | null {
    return this.vcpu(id).mmu;
  }

  /** The vCPUs leave their L2 contexts (kvm_vcpu_put_hw_mmu()). */
  putAll(): void {
    for (const v of this.vcpus) {
      if (v.mmu) this.nested.put(v.mmu);
      v.mmu = null;
      v.contextId = -1;
    }
  }

  // --- the nested fault path ------------------------------------------------------------

  /**
   * An L2 access by `vcpuId` in L1 context `contextId`: a shadow hit, or
   * kvm_handle_guest_abort() -> kvm_walk_nested_s2() -> user_mem_abort() on a miss.
   */
  access(vcpuId: number, contextId: number, l2ipa: number, write: boolean): AccessResult {
    const ctx = this.l1.context(contextId);
    const mmu = this.loadContext(vcpuId, ctx);
    const pgt = mmu.pgt;
    if (l2ipa < 0 || l2ipa >= ctx.s2.geom.ipaSize) {
      throw new RangeError(`L2 IPA ${l2ipa} is beyond context ${contextId}'s IPA space`);
    }
    if (pgt.getLeaf(l2ipa) >= 0 && (!write || (pgt.leafAttr & PTE_W) !== 0)) return "hit";
    const l1 = this.l1;
    const ok = l1.walk(ctx, l2ipa);
    this.cost.l1Descriptors += l1.outDescriptors;
    // kvm_s2_handle_perm_fault() forwards a write to what L1 maps read-only.
    if (!ok || (write && !l1.outWritable)) return "l1-fault";
    return this.userMemAbortNested(
      mmu,
      l2ipa,
      l1.outIpa,
      l1.outSize,
      l1.outWritable,
      l1.outLevel,
      write,
    );
  }

  /** user_mem_abort() with a nested translation: size, align, map the shadow leaf. */
  private userMemAbortNested(
    mmu: ShadowMmu,
    faultIpa: number,
    ipa: number,
    transSize: number,
    transWritable: boolean,
    transLevel: number,
    write: boolean,
  ): AccessResult {
    const host = this.host;
    const slot = host.findMemslot(ipa);
    if (!slot) return "mmio";
    const page = this.granule.pageSize;
    const pmd = host.pmdSize;
    const pud = host.pudSize;
    const pa = host.faultinPfn(ipa, write);
    const loggingActive = slot.logging;
    // vma_pagesize: the host mapping (hugetlb, or THP through transparent_hugepage_adjust()),
    // PAGE_SIZE while dirty logging (force_pte).
    let vmaPagesize = loggingActive ? page : host.hostMapSize;
    // Nested clamp: never larger than L1's mapping, rounded down to a host size.
    let maxMapSize = loggingActive ? page : pud;
    maxMapSize = Math.min(transSize, maxMapSize);
    if (maxMapSize >= pmd && maxMapSize < pud) maxMapSize = pmd;
    else if (maxMapSize >= page && maxMapSize < pmd) maxMapSize = page;
    vmaPagesize = Math.min(vmaPagesize, maxMapSize);
    // ALIGN_DOWN both the fault IPA and the canonical IPA (and the pfn) to the size.
    const shadowBase = Math.floor(faultIpa / vmaPagesize) * vmaPagesize;
    const canonicalBase = Math.floor(ipa / vmaPagesize) * vmaPagesize;
    const paBase = pa - (ipa - canonicalBase);
    // writable &= kvm_s2_trans_writable(); with dirty logging, only on a write fault.
    const writable = transWritable && (!loggingActive || write);
    let attr = PTE_R | (writable ? PTE_W : 0);
    // kvm_encode_nested_level(): L1's level in the software bits (0 = no information).
    if (transLevel > 0) attr |= transLevel << PTE_NV_MAP_SHIFT;
    const col = this.collateral[mmu.id];
    if (col.size !== 0 && col.delete(shadowBase)) this.cost.refaults++;
    kvmPgtableStage2Map(
      mmu.pgt,
      shadowBase,
      vmaPagesize,
      paBase,
      attr,
      canonicalBase,
      this.cost.engine,
    );
    if (writable) host.markDirty(ipa);
    this.cost.faults++;
    this.strategy.shadowMapped(mmu, shadowBase, canonicalBase, vmaPagesize, paBase);
    return "mapped";
  }

  /** user_mem_abort() for L1 itself: fill the canonical stage-2 (kvm->arch.mmu). */
  l1Access(ipa: number, write: boolean): AccessResult {
    const host = this.host;
    const slot = host.findMemslot(ipa);
    if (!slot) return "mmio";
    const pgt = host.canonical;
    if (pgt.getLeaf(ipa) >= 0 && (!write || (pgt.leafAttr & PTE_W) !== 0)) return "hit";
    const pa = host.faultinPfn(ipa, write);
    const size = slot.logging ? this.granule.pageSize : host.hostMapSize;
    const base = Math.floor(ipa / size) * size;
    const writable = !slot.logging || write;
    kvmPgtableStage2Map(
      pgt,
      base,
      size,
      pa - (ipa - base),
      PTE_R | (writable ? PTE_W : 0),
      0,
      this.cost.canonical,
    );
    if (writable) host.markDirty(ipa);
    return "mapped";
  }

  // --- host operations -------------------------------------------------------------------

  /**
   * kvm_unmap_gfn_range(): the MMU notifier's unmap of canonical [start, end): the
   * canonical stage-2, then the strategy's nested part (kvm_nested_s2_unmap() upstream).
   */
  unmapGfnRange(start: number, end: number): void {
    kvmStage2UnmapRange(this.host.canonical, start, end - start, this.cost.canonical);
    this.inStrategyOp(start, end, () => this.strategy.unmapCanonical(start, end, "notifier"));
  }

  private withCause(cause: RemovalCause, fn: () => void): void {
    this.cause = cause;
    try {
      fn();
    } finally {
      this.cause = "replaced";
    }
  }

  private inStrategyOp(start: number, end: number, fn: () => void): void {
    this.classify = [start, end];
    try {
      fn();
    } finally {
      this.classify = null;
    }
  }

  /** Swap-out: notifier unmap, then the host pages are freed. Returns the range. */
  swapOut(start: number, end: number): [number, number] {
    const [s, e] = this.host.notifierRange(start, end);
    this.unmapGfnRange(s, e);
    this.host.dropHostRange(s, e);
    return [s, e];
  }

  /** Page migration (migratepages, NUMA balancing): notifier unmap, then new PAs. */
  migrate(start: number, end: number): [number, number] {
    const [s, e] = this.host.notifierRange(start, end);
    this.unmapGfnRange(s, e);
    this.host.migrateHostRange(s, e);
    return [s, e];
  }

  /** NUMA-balancing scan (change_prot_numa): notifier unmap, pages stay where they are. */
  numaScan(start: number, end: number): [number, number] {
    const [s, e] = this.host.notifierRange(start, end);
    this.unmapGfnRange(s, e);
    return [s, e];
  }

  /** THP split: notifier unmap over the huge pages, then base pages at the same PAs. */
  thpSplit(start: number, end: number): [number, number] {
    const [s, e] = this.host.notifierRange(start, end);
    this.unmapGfnRange(s, e);
    this.host.splitHostRange(s, e);
    return [s, e];
  }

  /** kvm_arch_flush_shadow_memslot(): memslot delete. Returns the slot's range. */
  deleteMemslot(id: number): [number, number] {
    const slot = this.host.memslot(id);
    const s = slot.base, e = slot.base + slot.size;
    kvmStage2UnmapRange(this.host.canonical, s, slot.size, this.cost.canonical);
    this.inStrategyOp(s, e, () => this.strategy.unmapCanonical(s, e, "memslot"));
    this.host.deleteMemslot(id);
    return [s, e];
  }

  /** Add a memslot (KVM_SET_USER_MEMORY_REGION). */
  addMemslot(spec: MemslotSpec): void {
    this.host.addMemslot(spec);
  }

  /**
   * kvm_mmu_wp_memory_region(): start (or re-arm) dirty logging on a memslot: the
   * canonical range is write-protected, then kvm_nested_s2_wp().
   */
  wpMemslot(id: number): void {
    const slot = this.host.memslot(id);
    slot.logging = true;
    slot.dirty.clear();
    kvmStage2WpRange(this.host.canonical, slot.base, slot.size, this.cost.canonical);
    this.strategy.wpCanonical(slot.base, slot.base + slot.size);
  }

  /**
   * What the last flushVm() covered: the canonical ranges flushed and, per shadow MMU,
   * the base IPA of every shadow leaf the strategy flushed (for the oracle).
   */
  lastFlush: FlushRecord | null = null;

  /** stage2_flush_vm(): every memslot of the canonical stage-2, then kvm_nested_s2_flush(). */
  flushVm(): void {
    this.lastFlush = {
      ranges: this.host.memslots.map((s): [number, number] => [s.base, s.base + s.size]),
      leaves: new Map(),
    };
    for (const s of this.host.memslots) {
      kvmStage2FlushRange(this.host.canonical, s.base, s.size, this.cost.canonical);
    }
    this.strategy.flushCanonical(0, this.host.mm.geom.ipaSize);
  }

  // --- L1's TLB invalidations (sys_regs.c) ------------------------------------------------

  /** kvm_s2_mmu_iterate_by_vmid(): valid shadow MMUs whose cached VMID is `vmid`. */
  private mmusByVmid(vmid: number): ShadowMmu[] {
    return this.nested.mmus.filter((m) => m.valid && m.vmid === vmid);
  }

  /**
   * compute_tlb_inval_range(): the TTL hint's size, else the L1 level recorded in the
   * shadow leaf (get_guest_mapping_ttl()), else L1's largest block for its granule.
   */
  tlbInvalRange(mmu: ShadowMmu, ipa: number, ttlLevel: number): number {
    const gName = mmu.vtcr.split("/")[0];
    const g = granule(gName);
    const ttlToSize = (level: number) =>
      level >= g.minBlockLevel && level <= 3 ? levelSize(g, level) : 0;
    let size = ttlLevel > 0 ? ttlToSize(ttlLevel) : 0;
    if (!size) {
      // get_guest_mapping_ttl(): try L1's leaf sizes from the smallest up.
      for (let l = 3; l >= g.minBlockLevel && !size; l--) {
        const sz = levelSize(g, l);
        const tmp = Math.floor(ipa / sz) * sz;
        if (mmu.pgt.getLeaf(tmp) >= 0) {
          const lvl = (mmu.pgt.leafAttr >> PTE_NV_MAP_SHIFT) & 7;
          if (lvl > 0 && ipa < tmp + ttlToSize(lvl)) size = ttlToSize(lvl);
        }
      }
    }
    return size || levelSize(g, g.minBlockLevel);
  }

  /** TLBI IPAS2E1IS (s2_mmu_unmap_ipa): `ttlLevel` 0 means no TTL hint. */
  tlbiIpa(vmid: number, ipa: number, ttlLevel = 0): void {
    this.withCause("tlbi", () => {
      for (const mmu of this.mmusByVmid(vmid)) {
        const size = this.tlbInvalRange(mmu, ipa, ttlLevel);
        const base = Math.floor(ipa / size) * size;
        if (base >= mmu.pgt.geom.ipaSize) continue;
        kvmStage2UnmapRange(
          mmu.pgt,
          base,
          Math.min(size, mmu.pgt.geom.ipaSize - base),
          this.cost.engine,
        );
      }
    });
    this.l1.tlbiRange(vmid, ipa, ipa + 1);
  }

  /** TLBI RIPAS2E1IS (s2_mmu_unmap_range): exactly [start, end). */
  tlbiRange(vmid: number, start: number, end: number): void {
    this.withCause("tlbi", () => {
      for (const mmu of this.mmusByVmid(vmid)) {
        const e = Math.min(end, mmu.pgt.geom.ipaSize);
        if (start < e) kvmStage2UnmapRange(mmu.pgt, start, e - start, this.cost.engine);
      }
    });
    this.l1.tlbiRange(vmid, start, end);
  }

  /** TLBI VMALLS12E1IS: [0, BIT(kvm_get_pa_bits())) of every MMU of the VMID. */
  tlbiVmid(vmid: number): void {
    this.withCause("tlbi", () => {
      for (const mmu of this.mmusByVmid(vmid)) {
        kvmStage2UnmapRange(mmu.pgt, 0, mmu.pgt.geom.ipaSize, this.cost.engine);
      }
    });
    this.l1.tlbiVmid(vmid);
  }

  /**
   * TLBI ALLE1IS (handle_alle1is): kvm_nested_s2_unmap(), which is the strategy's own
   * code (a design that replaces kvm_nested_s2_unmap() answers this too), over all of
   * the canonical space.
   */
  tlbiAll(): void {
    const end = this.host.mm.geom.ipaSize;
    this.inStrategyOp(0, end, () => this.strategy.unmapCanonical(0, end, "all"));
    this.l1.tlbiAll();
  }

  /** L1 reboots: its vCPUs leave L2, its contexts are gone, it issues TLBI ALLE1IS. */
  l1Reboot(): void {
    this.putAll();
    for (const c of this.l1.contexts) c.destroyed = true;
    this.tlbiAll();
  }

  /** Total shadow leaves over all MMUs. */
  shadowLeaves(): number {
    let n = 0;
    for (const m of this.nested.mmus) n += m.pgt.leaves;
    return n;
  }
}
