/**
 * The reverse-lookup seam: what every shadow-unmap design implements, and what KVM offers
 * it. A design replaces kvm_nested_s2_unmap(), kvm_nested_s2_wp() and
 * kvm_nested_s2_flush() (`nested.ts` hands them the canonical range); it sees the
 * kernel's events (a shadow leaf installed, a shadow leaf gone, an MMU reset) and answers
 * by driving kvm_stage2_*_range() on shadow MMUs ({@linkcode ShadowOps}, counted).
 *
 * @example A design that keeps no index and unmaps every valid MMU whole (upstream)
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { ReverseMapStrategy, ShadowOps } from "./strategy.ts";
 * const calls: string[] = [];
 * const ops = {
 *   mmus: [{ id: 0, valid: true, pgt: { geom: { ipaSize: 2 ** 40 } } }],
 *   unmapShadowRange: (m: { id: number }, s: number, z: number) => calls.push(`${m.id} ${s} ${z}`),
 * } as unknown as ShadowOps;
 * const walkAll: Pick<ReverseMapStrategy, "unmapCanonical"> = {
 *   unmapCanonical: () => ops.mmus.forEach((m) => ops.unmapShadowRange(m, 0, m.pgt.geom.ipaSize)),
 * };
 * walkAll.unmapCanonical(0x4000_0000, 0x4000_1000, "notifier");
 * assertEquals(calls, ["0 0 1099511627776"]);
 * ```
 * @module
 */

import type { Granule } from "./granule.ts";
import type { LeafFn } from "./pgtable_stage2.ts";
import type { ShadowMmu } from "./s2_mmu.ts";

/** Why the host unmaps a canonical range. */
export type HostUnmapKind =
  /** kvm_unmap_gfn_range(): MMU notifier (migration, NUMA balancing, swap, THP split). */
  | "notifier"
  /** kvm_arch_flush_shadow_memslot(): memslot delete or move. */
  | "memslot"
  /** kvm_nested_s2_unmap() of everything: TLBI ALLE1IS from L1 (handle_alle1is()). */
  | "all";

/** Why a shadow leaf left its table. */
export type RemovalCause =
  /** The strategy's own unmap for a host operation. */
  | "host"
  /** An L1 TLBI (kvm_s2_mmu_iterate_by_vmid() callbacks). */
  | "tlbi"
  /** The MMU was recycled (KVM_REQ_NESTED_S2_UNMAP). */
  | "reset"
  /** The map walker replaced it (a block broken for a page, a table under a block). */
  | "replaced";

/** The engine's face towards a strategy: the shadow MMUs and counted range operations. */
export interface ShadowOps {
  /** kvm->arch.nested_mmus[]. */
  readonly mmus: readonly ShadowMmu[];
  /** The host granule (that of every shadow stage-2). */
  readonly granule: Granule;
  /** kvm_stage2_unmap_range() on a shadow MMU; leaves removed reach `shadowRemoved`. */
  unmapShadowRange(mmu: ShadowMmu, start: number, size: number): void;
  /** kvm_stage2_wp_range() on a shadow MMU. */
  wpShadowRange(mmu: ShadowMmu, start: number, size: number): void;
  /** kvm_stage2_flush_range() on a shadow MMU. */
  flushShadowRange(mmu: ShadowMmu, start: number, size: number): void;
  /** Count `n` steps of the strategy's own index (tree nodes, list entries visited). */
  countSteps(n: number): void;
  /**
   * Simulator only, not counted (a design's self-check in tests): every leaf of a shadow
   * MMU's table in [start, end) (default: all), in IPA order, with its canonical IPA as the
   * last argument. `fn` must not change the table.
   */
  forEachShadowLeaf(mmu: ShadowMmu, fn: LeafFn, start?: number, end?: number): void;
}

/**
 * The lock a design's index insert takes in a kernel port, where stage-2 faults hold
 * `kvm->mmu_lock` for read and so run in parallel on every vCPU: one per VM, one per
 * shadow MMU, one per canonical chunk (512 leaves of one size), or none (no index).
 */
export type InsertLock = "vm" | "mmu" | "chunk" | "none";

/** A reverse-lookup design for unmapping shadow stage-2 entries. */
export interface ReverseMapStrategy {
  /** The name `--strategy` selects it by. */
  readonly name: string;
  /** Called once, before any event, with the engine's operations. */
  attach(ops: ShadowOps): void;
  /**
   * user_mem_abort() installed a shadow leaf: [shadowIpa, +size) in `mmu` maps canonical
   * [canonicalIpa, +size) at host PA `pa`. `relaxed`: the leaf was already there with this
   * output and only its permissions changed (kvm_pgtable_stage2_relax_perms()).
   */
  shadowMapped(
    mmu: ShadowMmu,
    shadowIpa: number,
    canonicalIpa: number,
    size: number,
    pa: number,
    relaxed: boolean,
  ): void;
  /**
   * A shadow leaf left its table, whatever removed it (this strategy's unmap, an L1 TLBI,
   * an MMU reset, a block replaced by a smaller mapping or the reverse). Only what the
   * PTE holds is passed: its shadow IPA, size and host PA, and why it went.
   */
  shadowRemoved(
    mmu: ShadowMmu,
    shadowIpa: number,
    size: number,
    pa: number,
    cause: RemovalCause,
  ): void;
  /** The MMU's whole shadow table is about to be unmapped (recycling, pending_unmap). */
  mmuReset(mmu: ShadowMmu): void;
  /** The nested part of a host unmap of canonical [start, end). */
  unmapCanonical(start: number, end: number, kind: HostUnmapKind): void;
  /** kvm_nested_s2_wp() for canonical [start, end) (dirty logging). */
  wpCanonical(start: number, end: number): void;
  /** kvm_nested_s2_flush() for canonical [start, end). */
  flushCanonical(start: number, end: number): void;
  /** Modeled kernel bytes the strategy's index holds now. */
  memoryBytes(): number;
  /** Times an MMU fell back to the full walk (strategies with a budget); else 0. */
  fallbacks(): number;
  /**
   * Optional, for the exhaustive checker (`lib/exhaust/`): the design's state as a
   * canonical string. Two instances with equal encodings (over equal worlds) must answer
   * every later call alike (the same shadow range operations, equal encodings after), so
   * the checker merges their states; leave out what only counts (steps, modeled bytes) and
   * orders that change nothing (a list whose elements are all handled together). A host PA
   * the design keeps goes through `pa`, which names PAs canonically. A design without this
   * method is checked without merging states reached by different event histories.
   */
  encodeState?(pa: (pa: number) => number): string;
}

/** A constructor of a fresh strategy instance with its options. */
export type StrategyFactory = (opts: Record<string, number>) => ReverseMapStrategy;
