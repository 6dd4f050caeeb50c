/**
 * s2lab: a laboratory for unmapping shadow stage-2 tables in KVM arm64 nested
 * virtualization. It models the canonical stage-2 (L1 IPA -> host PA), L1's stage-2s
 * (L2 IPA -> L1 IPA), the shadow stage-2s KVM builds from them (L2 IPA -> host PA, two
 * shadow MMUs per vCPU), and the host events that must reach the shadows; it replays
 * traces against competing reverse-lookup strategies and checks every step against an
 * independent oracle, counting the loop iterations the kernel would spend.
 *
 * Modules, one job each: `granule.ts` (geometry), `pgtable.ts` (the table and its one
 * walker), `stage2.ts` (map/unmap/wp/flush visitors), `host.ts` (memslots, host memory,
 * canonical stage-2), `l1.ts` (L1's contexts and TLBIs), `shadow.ts` (shadow MMUs),
 * `kvm.ts` (the engine), `strategy.ts` (the seam), `strategies/` (the designs),
 * `oracle.ts`, `trace.ts`, `replay.ts`.
 *
 * @example Replay an alias and a migration under the oracle
 * ```ts
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
 * console.log(upstream.violations, upstream.events[4].iterations); // 0 1024
 * console.log(v2.violations, v2.firstSeen[0].kind); // 1 not-invalidated
 * console.log(ours.violations, ours.events[4].chunks); // 0 2
 * ```
 * @module
 */

export * from "./granule.ts";
export * from "./pgtable.ts";
export * from "./stage2.ts";
export * from "./host.ts";
export * from "./l1.ts";
export * from "./shadow.ts";
export * from "./kvm.ts";
export * from "./strategy.ts";
export * from "./oracle.ts";
export * from "./trace.ts";
export * from "./replay.ts";
export * from "./strategies/mod.ts";
export { FullWalk } from "./strategies/full_walk.ts";
export { MapleV2 } from "./strategies/maple_v2.ts";
export { MergedPivot } from "./strategies/merged_pivot.ts";
export { SpanUnknown } from "./strategies/span_unknown.ts";
export { Rmap } from "./strategies/rmap.ts";
