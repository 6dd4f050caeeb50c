/**
 * s2lab: a laboratory for unmapping shadow stage-2 tables in KVM arm64 nested
 * virtualization. It models the canonical stage-2 (L1 IPA -> host PA), L1's stage-2s
 * (L2 IPA -> L1 IPA), the shadow stage-2s KVM builds from them (L2 IPA -> host PA, two
 * shadow MMUs per vCPU), and the host events that must reach the shadows; it replays
 * traces against competing reverse-lookup designs, checks every step against an
 * independent oracle, and counts the loop iterations the kernel would spend.
 *
 * The code mirrors the kernel's files:
 * - `kvm/`: arch/arm64/kvm/hyp/pgtable.c in `pgtable.ts` (the table's descriptors and
 *   pages), `pgtable_walk.ts` (its one walker), `pgtable_stage2.ts` (the stage-2 visitors and
 *   operations), `pgtable_shortcuts.ts` (the simulator's shortcuts past the walker) and
 *   `pte.ts` (the descriptor bits), `mmu.ts` (mmu.c: stage2_apply_range(), kvm_stage2_*_range(),
 *   user_mem_abort(), the notifier operations), `nested.ts` (nested.c: kvm_walk_nested_s2(),
 *   the shadow MMUs' life cycle, kvm_nested_s2_{unmap,wp,flush}()), `sys_regs.ts` (the
 *   TLBIs), `arm.ts` (the vCPU run loop's memory accesses), `kvm_main.ts` (VM creation,
 *   memslots, the MMU notifier), `kvm.ts` (struct kvm), `s2_mmu.ts` (struct kvm_s2_mmu),
 *   `granule.ts` (geometry), `strategy.ts` (the seam a design implements);
 * - `host/`: host memory and memslots (`memory.ts`), what the core mm does to it (`mm.ts`);
 * - `guest/l1.ts`: the L1 guest hypervisor's tables, contexts and TLB view;
 * - `strategies/`: the designs; `oracle/`: the independent check;
 * - `trace/`: the trace format and its op table, replay, minimization, the workload
 *   generator; `sweep/`: grids, CSV columns, budget and timeline runs; `plots/`: figures
 *   from CSV files; `util/`: sizes, PRNG, CSV I/O, ordered sets, the maple-tree model.
 *
 * @example Replay an alias and a migration under the oracle
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { makeStrategy, parseTrace, replay } from "./mod.ts";
 *
 * const trace = parseTrace({
 *   name: "two aliases in one L2",
 *   config: {
 *     hostGranule: "4K", paBits: 40, vcpus: 1,
 *     memslots: [{ id: 0, base: "1G", size: "1G", backing: "page" }],
 *     contexts: [{ id: 1, vmid: 1, granule: "4K", ipaBits: 40 }],
 *   },
 *   events: [
 *     { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
 *     { op: "l1-map", ctx: 1, l2ipa: "6G", l1ipa: "1G", size: "4K" },
 *     { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G" },
 *     { op: "access", vcpu: 0, ctx: 1, l2ipa: "6G" },
 *     { op: "migrate", l1ipa: "1G", size: "4K" },
 *   ],
 * });
 * const upstream = replay(trace, makeStrategy("full-walk"));
 * const v2 = replay(trace, makeStrategy("maple-v2"));
 * const ours = replay(trace, makeStrategy("rmap"));
 * assertEquals([upstream.violations, upstream.events[4].iterations], [0, 1024]);
 * assertEquals([v2.violations, v2.firstSeen[0].kind], [1, "not-invalidated"]);
 * assertEquals([ours.violations, ours.events[4].chunks], [0, 2]);
 * ```
 * @module
 */

export * from "./kvm/granule.ts";
export * from "./kvm/pte.ts";
export * from "./kvm/pgtable.ts";
export * from "./kvm/pgtable_walk.ts";
export * from "./kvm/pgtable_stage2.ts";
export * from "./kvm/pgtable_shortcuts.ts";
export * from "./kvm/s2_mmu.ts";
export * from "./kvm/strategy.ts";
export * from "./kvm/kvm.ts";
export * from "./kvm/mmu.ts";
export * from "./kvm/nested.ts";
export * from "./kvm/sys_regs.ts";
export * from "./kvm/arm.ts";
export * from "./kvm/kvm_main.ts";
export * from "./host/memory.ts";
export * from "./host/mm.ts";
export * from "./guest/l1.ts";
export * from "./oracle/oracle.ts";
export * from "./trace/fields.ts";
export * from "./trace/ops.ts";
export * from "./trace/trace.ts";
export * from "./trace/replay.ts";
export * from "./trace/minimize.ts";
export * from "./strategies/mod.ts";
export * from "./util/size.ts";
export { FullWalk } from "./strategies/full_walk.ts";
export { MapleV2 } from "./strategies/maple_v2.ts";
export { MergedPivot } from "./strategies/merged_pivot.ts";
export { SpanUnknown } from "./strategies/span_unknown.ts";
export { Rmap } from "./strategies/rmap.ts";
