/**
 * `span-unknown`: the later public series "KVM: arm64: nv: Implement nested stage-2
 * reverse map" (Wei-Lin Chang, linux-arm-kernel: v1 30 Mar 2026, v2 "Avoid full shadow
 * s2 unmap" 11 Apr 2026, v3 10 May 2026, 5 patches). Its code was not available to us:
 * this follows the series' description (cover letters and review summaries) and issue
 * #3; every choice the description leaves open is named below.
 *
 * - Per shadow MMU, a maple tree keyed by canonical IPA range whose value is the shadow
 *   IPA packed into the slot itself (xa_mk_value()), so there is no allocation per
 *   entry. An entry is exact: it maps `[c, c + size)` to the shadow range
 *   `[value, value + size)`.
 * - A new range that overlaps nothing is stored exactly. The same range with the same
 *   shadow IPA again (a re-fault) changes nothing. A new range that overlaps existing
 *   ranges (another shadow IPA for the same canonical page, a page inside a recorded
 *   block, a block over recorded pages) replaces them, with itself, by one range spanning
 *   their union, marked UNKNOWN ("we lost track of the nested IPAs"; "polluted" in
 *   v1/v2, an UNKNOWN_IPA bit from v3).
 * - A host unmap: exact ranges that intersect it are unmapped exactly (their whole
 *   shadow range, since a leaf goes whole) and erased. If it meets an UNKNOWN range, the
 *   conservative reading applies: the MMU's whole shadow table is unmapped
 *   (kvm_stage2_unmap_range(mmu, 0, kvm_phys_size(mmu))) and the MMU's reverse map is
 *   reset, since nothing is left to track. Counted in `wholesaleUnmaps` (and
 *   `fallbacks()`). Whether the series does exactly this, or something narrower, we could
 *   not check.
 * - wp and flush (not described for the series): exact ranges are handled exactly; an
 *   UNKNOWN range makes that MMU's wp or flush wholesale (`wholesaleWps`,
 *   `wholesaleFlushes`); the index does not change.
 * - From v3, entries are also removed when L1 invalidates: a second tree per MMU, the
 *   direct map, keys the shadow range and holds the canonical IPA, so `shadowRemoved`
 *   finds the reverse entry of a leaf and erases both. The model does this for every
 *   shadow leaf that leaves the table (the series names the TLBI path; a leaf removed by
 *   the strategy's own unmap or by an MMU reset is handled by the strategy directly).
 *   Only exact entries have a direct-map entry: merging into UNKNOWN erases them, since
 *   an UNKNOWN range cannot be taken apart leaf by leaf.
 * - `mmuReset` resets both trees of the MMU.
 *
 * ## Memory model (modeled kernel bytes)
 * - No per-entry allocation: values are xa_mk_value() words in the tree slots.
 * - Tree nodes as in range_map.ts: 256 bytes (struct maple_node), 16-slot
 *   maple_range_64 leaves, ~70% full, NULL gaps between non-adjacent ranges take slots.
 *   The series' tree flags are unknown: plain trees (16-slot internal nodes) assumed.
 * - Both trees are counted: the reverse map and the direct map.
 *
 * Steps: every operation on both trees (range_map.ts, with ma_state walks: one walk per
 * operation plus one step per range visited).
 *
 * @module
 */

import type { Design } from "./design.ts";
import { type RangeEntry, RangeMap } from "../util/range_map.ts";
import type { ShadowMmu } from "../kvm/s2_mmu.ts";
import type { HostUnmapKind, ReverseMapStrategy, ShadowOps } from "../kvm/strategy.ts";

/** The value of a range that lost track of its shadow IPAs (the UNKNOWN_IPA bit). */
export const UNKNOWN_IPA: number = -1;

interface MmuIndex {
  /** Canonical range -> shadow IPA, or UNKNOWN_IPA. */
  rev: RangeMap;
  /** Shadow range -> canonical IPA, for exact entries only. */
  direct: RangeMap;
}

/** The 2026 series: exact reverse entries until ranges overlap, then one UNKNOWN span. */
export class SpanUnknown implements ReverseMapStrategy {
  /** `span-unknown`. */
  readonly name = "span-unknown";
  private ops!: ShadowOps;
  /** Modeled bytes of every tree, kept as a running total (RangeMap onBytes). */
  private treeBytes = 0;
  private readonly index: (MmuIndex | undefined)[] = [];
  /** The MMU whose shadow leaves the strategy itself is removing (index already updated). */
  private busy: ShadowMmu | null = null;
  private unmaps = 0;
  private wps = 0;
  private flushes = 0;
  private merges = 0;

  /** Host unmaps that met an UNKNOWN range and unmapped an MMU wholesale. */
  get wholesaleUnmaps(): number {
    return this.unmaps;
  }
  /** wp operations that met an UNKNOWN range and write-protected an MMU wholesale. */
  get wholesaleWps(): number {
    return this.wps;
  }
  /** Flushes that met an UNKNOWN range and flushed an MMU wholesale. */
  get wholesaleFlushes(): number {
    return this.flushes;
  }
  /** Maps that overlapped existing ranges and made (or grew) an UNKNOWN range. */
  get unknownMerges(): number {
    return this.merges;
  }
  /** The reverse map of `mmu` (canonical range -> shadow IPA or UNKNOWN_IPA), for tests. */
  reverseEntries(mmu: ShadowMmu): RangeEntry[] {
    return this.index[mmu.id]?.rev.toArray() ?? [];
  }
  /** The direct map of `mmu` (shadow range -> canonical IPA), for tests. */
  directEntries(mmu: ShadowMmu): RangeEntry[] {
    return this.index[mmu.id]?.direct.toArray() ?? [];
  }

  /** Keep the engine's operations. */
  attach(ops: ShadowOps): void {
    this.ops = ops;
  }

  /** mt_init() of both trees of an MMU, lazily. */
  private idx(mmu: ShadowMmu): MmuIndex {
    let x = this.index[mmu.id];
    if (!x) {
      const onSteps = (n: number) => this.ops.countSteps(n);
      const onBytes = (d: number) => this.treeBytes += d;
      x = {
        // Values are page-aligned IPAs (or UNKNOWN_IPA): 32-bit words in the simulator.
        rev: new RangeMap({ onSteps, onBytes, valueUnit: 4096 }),
        direct: new RangeMap({ onSteps, onBytes, valueUnit: 4096 }),
      };
      this.index[mmu.id] = x;
    }
    return x;
  }

  /** The reverse ranges intersecting [start, end), with one ma_state walk. */
  private intersecting(rev: RangeMap, start: number, end: number): RangeEntry[] {
    return rev.collect(start, end);
  }

  /** Record a nested mapping after kvm_pgtable_stage2_map() (the series' map hook). */
  shadowMapped(mmu: ShadowMmu, shadowIpa: number, canonicalIpa: number, size: number): void {
    const { rev, direct } = this.idx(mmu);
    const s = canonicalIpa, e = canonicalIpa + size;
    const run = this.intersecting(rev, s, e);
    if (run.length === 0) {
      rev.store(s, e, shadowIpa);
      direct.store(shadowIpa, shadowIpa + size, s);
      return;
    }
    const only = run[0];
    if (run.length === 1 && only.start === s && only.end === e && only.value === shadowIpa) return;
    // Overlap: one UNKNOWN range over the union; exact entries lose their direct entry.
    for (const r of run) {
      if (r.value !== UNKNOWN_IPA) direct.erase(r.value, r.value + (r.end - r.start));
    }
    rev.store(Math.min(s, only.start), Math.max(e, run[run.length - 1].end), UNKNOWN_IPA);
    this.merges++;
  }

  /**
   * v3 "Remove reverse map entries during TLBI handling" with the nested IPA direct map:
   * the exact reverse entries of the shadow range [shadowIpa, +size) are erased.
   */
  shadowRemoved(mmu: ShadowMmu, shadowIpa: number, size: number): void {
    if (this.busy === mmu) return;
    const x = this.index[mmu.id];
    if (!x || x.direct.size === 0) return;
    const end = shadowIpa + size;
    let d = x.direct.find(shadowIpa, end);
    while (d) {
      x.direct.erase(d.start, d.end);
      const r = x.rev.load(d.value);
      if (r && r.start === d.value && r.end - r.start === d.end - d.start && r.value === d.start) {
        x.rev.erase(r.start, r.end);
      }
      d = d.end < end ? x.direct.find(d.end, end) : undefined;
    }
  }

  /** The shadow table is about to be unmapped whole: reset both trees. */
  mmuReset(mmu: ShadowMmu): void {
    const x = this.index[mmu.id];
    if (!x) return;
    x.rev.destroy();
    x.direct.destroy();
  }

  /** Run `fn` with shadowRemoved() for `mmu` ignored (the index is already updated). */
  private quietly(mmu: ShadowMmu, fn: () => void): void {
    this.busy = mmu;
    try {
      fn();
    } finally {
      this.busy = null;
    }
  }

  /** The series' kvm_nested_s2_unmap() by canonical range (exact, or wholesale on UNKNOWN). */
  unmapCanonical(start: number, end: number, _kind: HostUnmapKind): void {
    for (const mmu of this.ops.mmus) {
      if (!mmu.valid) continue;
      const x = this.idx(mmu);
      const run = this.intersecting(x.rev, start, end);
      if (run.length === 0) continue;
      if (run.some((r) => r.value === UNKNOWN_IPA)) {
        this.mmuReset(mmu);
        this.quietly(mmu, () => this.ops.unmapShadowRange(mmu, 0, mmu.pgt.geom.ipaSize));
        this.unmaps++;
        continue;
      }
      for (const r of run) {
        const size = r.end - r.start;
        x.rev.erase(r.start, r.end);
        x.direct.erase(r.value, r.value + size);
        this.quietly(mmu, () => this.ops.unmapShadowRange(mmu, r.value, size));
      }
    }
  }

  /** kvm_nested_s2_wp() by canonical range: exact, or the whole MMU on UNKNOWN. */
  wpCanonical(start: number, end: number): void {
    for (const mmu of this.ops.mmus) {
      if (!mmu.valid) continue;
      const run = this.intersecting(this.idx(mmu).rev, start, end);
      if (run.some((r) => r.value === UNKNOWN_IPA)) {
        this.ops.wpShadowRange(mmu, 0, mmu.pgt.geom.ipaSize);
        this.wps++;
        continue;
      }
      for (const r of run) this.ops.wpShadowRange(mmu, r.value, r.end - r.start);
    }
  }

  /** kvm_nested_s2_flush() by canonical range: exact, or the whole MMU on UNKNOWN. */
  flushCanonical(start: number, end: number): void {
    for (const mmu of this.ops.mmus) {
      if (!mmu.valid) continue;
      const run = this.intersecting(this.idx(mmu).rev, start, end);
      if (run.some((r) => r.value === UNKNOWN_IPA)) {
        this.ops.flushShadowRange(mmu, 0, mmu.pgt.geom.ipaSize);
        this.flushes++;
        continue;
      }
      for (const r of run) this.ops.flushShadowRange(mmu, r.value, r.end - r.start);
    }
  }

  /** Nodes of both trees of every MMU (values live in the slots). */
  memoryBytes(): number {
    return this.treeBytes;
  }

  /** Each MMU's reverse and direct map, for exhaustive checking. */
  encodeState(): string {
    const text = (t?: RangeMap) =>
      (t?.toArray() ?? []).map((e) => `${e.start}-${e.end}>${e.value}`).join(",");
    return this.ops.mmus.map((m) => {
      const x = this.index[m.id];
      return `${text(x?.rev)}|${text(x?.direct)}`;
    }).join(";");
  }

  /** Wholesale unmaps: the times an MMU fell back to the full walk. */
  fallbacks(): number {
    return this.unmaps;
  }
}

/** The `span-unknown` design record. */
export const spanUnknownDesign: Design = {
  name: "span-unknown",
  label: "span-unknown (2026 series v1-v3)",
  summary: "the 2026 reverse-map series, v1-v3: exact until overlap, then one UNKNOWN span",
  role: "series",
  knownBroken: false,
  reference: true,
  insertLock: "mmu",
  leafBytes: 240,
  description: "Per shadow MMU, a maple tree from canonical IPA range to the shadow IPA packed " +
    "in the slot, exact until a second shadow IPA or a mixed size overlaps a range; then the " +
    "ranges merge into one UNKNOWN span, and a host unmap that meets it unmaps the MMU's whole " +
    "shadow table. From v3 a second tree maps shadow ranges back, so L1 TLBIs erase entries. " +
    "Modeled from the series' cover letters and review summaries (v1-v3).",
  source: '"KVM: arm64: nv: Implement nested stage-2 reverse map" (Wei-Lin Chang, ' +
    "linux-arm-kernel, v1 30 Mar 2026, v2 11 Apr 2026, v3 10 May 2026)",
  style: { color: "#9467bd", dash: "2,3", symbol: "star", hollow: false },
  make: () => new SpanUnknown(),
};
