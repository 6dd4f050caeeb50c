/**
 * The L1 guest hypervisor: its stage-2 contexts (VMID + VTTBR + VTCR, each with its own
 * granule and IPA size), the L2 IPA -> L1 IPA tables it writes in its own memory, and
 * what its TLBIs invalidate. KVM reads these tables with kvm_walk_nested_s2()
 * (`../kvm/nested.ts`) and traps the TLBIs (`../kvm/sys_regs.ts`).
 *
 * L1 is a guest hypervisor that follows the architecture: it may change its tables at
 * any time, and until it invalidates, the old translation may still be cached. The
 * context keeps those old leaves as `pending` records until a TLBI covers them: they
 * are what the architecture still lets a shadow entry hold.
 *
 * @example L1 moves a 2M block with break-before-make: the old block stays allowed until the TLBI
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { granule } from "../kvm/granule.ts";
 * import { L1Hypervisor } from "./l1.ts";
 * const l1 = new L1Hypervisor(granule("4K"), 40);
 * const ctx = l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
 * l1.map(1, 0x1_0000_0000, 0x20_0000, 0x4000_0000, true);
 * l1.unmap(1, 0x1_0000_0000, 0x20_0000); // break
 * assertEquals(ctx.pending.length, 1);
 * l1.tlbiRange(1, 0x1_0000_0000, 0x1_0000_1000); // invalidate: part of the block, all of it goes
 * assertEquals(ctx.pending.length, 0);
 * l1.map(1, 0x1_0000_0000, 0x20_0000, 0x4020_0000, true); // make
 * ```
 * @module
 */

import {
  type Granule,
  granule as granuleByName,
  levelForSize,
  stage2Geometry,
} from "../kvm/granule.ts";
import { KvmPgtable } from "../kvm/pgtable.ts";
import { forEachLeaf, kvmPgtableStage2Map, kvmPgtableStage2Unmap } from "../kvm/pgtable_stage2.ts";
import { newWalkStats } from "../kvm/pgtable_walk.ts";
import { PTE_R, PTE_W } from "../kvm/pte.ts";
import { formatSize, hex, isAligned } from "../util/size.ts";

/** Largest input size walk_nested_s2_pgd() accepts for L1's stage-2. */
export const NESTED_MAX_IPA_BITS = 48;
/** Smallest L1 stage-2 input size this model builds (that of a KVM-built stage-2). */
export const NESTED_MIN_IPA_BITS = 32;

/** An L1 context as a trace declares it. */
export interface L1ContextSpec {
  /** Context id (the trace's name for it). */
  id: number;
  /** VMID L1 puts in VTTBR_EL2. */
  vmid: number;
  /** VTTBR_EL2.BADDR; defaults to a value unique to the context. */
  baddr?: number;
  /** VTCR_EL2.TG0. */
  granule: string;
  /** 64 - VTCR_EL2.T0SZ. */
  ipaBits: number;
  /** HCR_EL2.VM: L1's stage-2 is enabled (default true). */
  s2?: boolean;
}

/** An old L1 leaf that L1 changed but has not invalidated yet. */
export interface PendingLeaf {
  /** L2 IPA of the old leaf. */
  base: number;
  /** Its size. */
  size: number;
  /** The L1 IPA it mapped. */
  l1ipa: number;
  /** Its attribute bits (PTE_R, PTE_W). */
  attr: number;
  /**
   * L1 wrote another translation over it (or over an address it covers) without
   * break-before-make: TLB entries of the two may conflict, and only TLBI VMALLS12E1IS or
   * ALLE1IS are guaranteed to remove them (see `map()`).
   */
  conflict: boolean;
}

/** An old leaf a TLBI invalidated, with the context it was in. */
export interface DroppedLeaf extends PendingLeaf {
  /** The context's id. */
  ctx: number;
}

/**
 * The level a TLBI's TTL hint names for granule `g` (Arm ARM, TLBI IPAS2E1IS, TTL field),
 * or 0 when it names none: `ttl` 0 is no hint, and an encoding reserved without FEAT_LPA2
 * (level 0 for 4K and 64K, levels 0 and 1 for 16K) is treated as no hint.
 */
export function ttlHintLevel(g: Granule, ttl: number): number {
  if (ttl === 0) return 0;
  const firstLevel = g.pageShift === 14 ? 2 : 1;
  return ttl < firstLevel ? 0 : ttl;
}

/** One L1 stage-2 context. */
export class L1Context {
  /** Context id. */
  readonly id: number;
  /** VMID. */
  readonly vmid: number;
  /** VTTBR_EL2.BADDR. */
  readonly baddr: number;
  /** L1's granule for this stage-2. */
  readonly granule: Granule;
  /** HCR_EL2.VM. */
  readonly s2Enabled: boolean;
  /** L1's stage-2 table: L2 IPA -> L1 IPA. */
  readonly s2: KvmPgtable;
  /** Old leaves not yet invalidated. */
  pending: PendingLeaf[] = [];
  /**
   * L2 ranges L1 wrote without break-before-make while another translation of them may
   * still be cached: a leaf there that L1 later replaces or unmaps becomes a conflicting
   * old leaf. Cleared by TLBI VMALLS12E1IS and ALLE1IS.
   */
  conflicts: [number, number][] = [];
  /** L1 tore the context down; kept until a TLBI for its VMID. */
  destroyed = false;

  /** A context with an empty stage-2. */
  constructor(spec: L1ContextSpec, g: Granule) {
    this.id = spec.id;
    this.vmid = spec.vmid;
    this.baddr = spec.baddr ?? 0x1000_0000 + spec.id * 0x10_0000;
    this.granule = g;
    this.s2Enabled = spec.s2 ?? true;
    this.s2 = new KvmPgtable(
      stage2Geometry(g, spec.ipaBits, NESTED_MIN_IPA_BITS, NESTED_MAX_IPA_BITS),
    );
  }

  private inConflict(base: number, size: number): boolean {
    return this.conflicts.some(([a, b]) => base < b && a < base + size);
  }

  /** Keep the leaves of [start, end) as old leaves not yet invalidated; returns them. */
  private recordOld(start: number, end: number): PendingLeaf[] {
    const out: PendingLeaf[] = [];
    forEachLeaf(
      this.s2,
      (base, size, l1ipa, attr) => {
        const p = {
          base,
          size,
          l1ipa,
          attr: attr & (PTE_R | PTE_W),
          conflict: this.inConflict(base, size),
        };
        this.pending.push(p);
        out.push(p);
      },
      start,
      end,
    );
    return out;
  }

  /**
   * L1 writes its stage-2: map [l2ipa, +size) -> l1ipa (one page or block). When a valid
   * or not yet invalidated translation of the range maps elsewhere or at another size, the
   * write skips break-before-make (Arm ARM: write invalid, invalidate, then write the new
   * entry), and TLB entries of the old and the new translation may conflict: both become
   * conflicting (see {@linkcode PendingLeaf.conflict}).
   */
  map(l2ipa: number, size: number, l1ipa: number, writable: boolean): void {
    const end = l2ipa + size;
    const differs = (p: PendingLeaf) => p.base !== l2ipa || p.size !== size || p.l1ipa !== l1ipa;
    const before = this.pending.filter((p) => p.base < end && l2ipa < p.base + p.size);
    const old = this.recordOld(l2ipa, end);
    const clashing = [...before, ...old].filter(differs);
    if (clashing.length > 0) {
      for (const p of clashing) p.conflict = true;
      this.conflicts.push([l2ipa, end]);
    }
    kvmPgtableStage2Map(
      this.s2,
      l2ipa,
      size,
      l1ipa,
      PTE_R | (writable ? PTE_W : 0),
      0,
      newWalkStats(),
    );
  }

  /** L1 clears its stage-2 over [l2ipa, +size) (leaves overlapping it go whole). */
  unmap(l2ipa: number, size: number): void {
    this.recordOld(l2ipa, l2ipa + size);
    kvmPgtableStage2Unmap(this.s2, l2ipa, size, newWalkStats());
  }

  /**
   * Forget the old leaves `match` selects (a TLBI by address invalidated them), but not
   * conflicting ones (only VMALLS12E1IS and ALLE1IS remove those); returns them.
   */
  invalidate(match: (p: PendingLeaf) => boolean): DroppedLeaf[] {
    const dropped: DroppedLeaf[] = [];
    this.pending = this.pending.filter((p) => {
      if (p.conflict || !match(p)) return true;
      dropped.push({ ...p, ctx: this.id });
      return false;
    });
    return dropped;
  }
}

/** The L1 guest hypervisor: its contexts and its PA range. */
export class L1Hypervisor {
  /** Host granule: L1 may only use granules at least this large. */
  readonly hostGranule: Granule;
  /** PA range exposed to L1 (bits): the largest L1 IPA + 1. */
  readonly paBits: number;
  /** Live contexts, and destroyed ones not yet invalidated. */
  readonly contexts: L1Context[] = [];
  private lastLive: L1Context | undefined;
  /** L1 with no contexts. */
  constructor(hostGranule: Granule, paBits: number) {
    this.hostGranule = hostGranule;
    this.paBits = paBits;
  }

  /** Create an L2 context. Its granule must be at least the host's (limit_nv_id_reg()). */
  createContext(spec: L1ContextSpec): L1Context {
    const g = granuleByName(spec.granule);
    if (g.pageSize < this.hostGranule.pageSize) {
      throw new RangeError(
        `context ${spec.id}: L1 granule ${g.name} is smaller than the host's ${this.hostGranule.name}, which KVM does not expose to L1`,
      );
    }
    if (this.live(spec.id)) throw new RangeError(`context ${spec.id} already exists`);
    const ctx = new L1Context(spec, g);
    for (const c of this.contexts) {
      if (!c.destroyed && c.vmid === ctx.vmid && c.baddr === ctx.baddr) {
        throw new RangeError(`context ${spec.id} has the VTTBR of context ${c.id}`);
      }
    }
    this.contexts.push(ctx);
    return ctx;
  }

  /** The live context `id`, or undefined. */
  live(id: number): L1Context | undefined {
    const hit = this.lastLive;
    if (hit && hit.id === id && !hit.destroyed) return hit;
    const c = this.contexts.find((c) => c.id === id && !c.destroyed);
    if (c) this.lastLive = c;
    return c;
  }

  /** The live context `id`, or a one-line error. */
  context(id: number): L1Context {
    const c = this.live(id);
    if (!c) throw new RangeError(`no L1 context ${id}`);
    return c;
  }

  /** L1 tears a context down (its table stays cached until a TLBI for the VMID). */
  destroyContext(id: number): void {
    this.context(id).destroyed = true;
  }

  /** L1 maps in context `id`; checks the output is in L1's PA range and aligned. */
  map(id: number, l2ipa: number, size: number, l1ipa: number, writable: boolean): void {
    const c = this.context(id);
    const level = levelForSize(c.granule, size);
    if (level < c.granule.minBlockLevel || level < c.s2.geom.startLevel) {
      throw new RangeError(
        `context ${id}: ${size} bytes is not a ${c.granule.name} page or block size`,
      );
    }
    if (!isAligned(l2ipa, size) || !isAligned(l1ipa, size)) {
      throw new RangeError(
        `context ${id}: mapping L2 ${hex(l2ipa)} -> L1 ${hex(l1ipa)} is not aligned to its size ${
          formatSize(size)
        }`,
      );
    }
    if (l1ipa + size > 2 ** this.paBits) {
      throw new RangeError(
        `context ${id}: L1 IPA ${l1ipa} is beyond L1's ${this.paBits}-bit PA range`,
      );
    }
    if (l2ipa + size > c.s2.geom.ipaSize) {
      throw new RangeError(
        `context ${id}: L2 IPA ${l2ipa} is beyond its ${c.s2.geom.ipaBits}-bit IPA space`,
      );
    }
    c.map(l2ipa, size, l1ipa, writable);
  }

  /** L1 unmaps in context `id`. */
  unmap(id: number, l2ipa: number, size: number): void {
    this.context(id).unmap(l2ipa, size);
  }

  /**
   * TLBI IPAS2E1IS at `ipa` with TTL level hint `ttl` (0: none), as the architecture
   * requires it (Arm ARM D8.17, the TTL field of TLBI IPAS2E1IS): every old leaf of the
   * VMID's contexts that translates `ipa` is invalidated whole (a TLB that splintered a
   * block into smaller entries must drop them all); with a hint, only the leaves at the
   * hinted level ("if an incorrect TTL value is specified, the architecture does not
   * require any entries to be invalidated"). Returns what was invalidated.
   */
  tlbiIpa(vmid: number, ipa: number, ttl: number): DroppedLeaf[] {
    const out: DroppedLeaf[] = [];
    for (const c of this.contexts) {
      if (c.vmid !== vmid) continue;
      const hint = ttlHintLevel(c.granule, ttl);
      out.push(...c.invalidate((p) =>
        p.base <= ipa && ipa < p.base + p.size &&
        (hint === 0 || levelForSize(c.granule, p.size) === hint)
      ));
    }
    return out;
  }

  /**
   * TLBI RIPAS2E1IS over [start, end): every old leaf of the VMID's contexts that
   * translates an address in the range is invalidated whole, its parts outside the range
   * included (Arm ARM D8.17: the range rule and the splintering rule). Returns them.
   */
  tlbiRange(vmid: number, start: number, end: number): DroppedLeaf[] {
    const out: DroppedLeaf[] = [];
    for (const c of this.contexts) {
      if (c.vmid !== vmid) continue;
      out.push(...c.invalidate((p) => p.base < end && start < p.base + p.size));
    }
    return out;
  }

  /** TLBI VMALLS12E1IS: every context of `vmid` forgets everything. */
  tlbiVmid(vmid: number): void {
    for (const c of this.contexts) {
      if (c.vmid === vmid) c.pending = [], c.conflicts = [];
    }
    this.reapDestroyed((c) => c.vmid === vmid);
  }

  /** TLBI ALLE1IS: everything is forgotten. */
  tlbiAll(): void {
    for (const c of this.contexts) c.pending = [], c.conflicts = [];
    this.reapDestroyed(() => true);
  }

  private reapDestroyed(match: (c: L1Context) => boolean): void {
    for (let i = this.contexts.length - 1; i >= 0; i--) {
      if (this.contexts[i].destroyed && match(this.contexts[i])) this.contexts.splice(i, 1);
    }
  }

  /** L1 reboots: every context is gone, and it starts with TLBI ALLE1IS. */
  reboot(): void {
    for (const c of this.contexts) c.destroyed = true;
    this.tlbiAll();
  }
}
