/**
 * `guest-s2-tracking`: a design brought from a file, as a user of s2lab writes one (the
 * worked example of docs/designs.md). It reads the 2026 reverse-map series as merged, v6
 * ("KVM: arm64: nv: Implement nested stage-2 reverse map", Wei-Lin Chang, 15 Sep 2026),
 * merged into kvmarm/kvmarm `next` on 2026-09-20 (merge 23ddf997ab16, branch
 * kvm-arm64/s2-rmap), as far as its patch titles say, and no further:
 * a6ca6cba5959 "KVM: arm64: nv: Introduce guest stage-2 tracking structures", c2778d14cd2f
 * "Track guest stage-2 mapping creation", 5491980c1a41 "Track guest stage-2 mapping
 * removal", e6084aecaeef "Avoid full shadow stage-2 unmap", 2064f15b0848 "Drop kvm_s2_mmu
 * pointer from kvm_guest_s2_mapping".
 *
 * - Stated by the titles: KVM tracks the guest (L1) stage-2 mappings behind shadow
 *   entries in new structures; a mapping is recorded when it is created (a shadow fault
 *   walks L1's table) and dropped when it is removed; a host unmap uses them instead of
 *   unmapping whole shadow stage-2s; from v6 a mapping no longer points at its
 *   `kvm_s2_mmu`.
 * - Inferred here: since a mapping holds no MMU pointer, the structures are per shadow
 *   MMU (a host unmap looks in every valid MMU's); a tracked mapping is one shadow leaf
 *   (L2 IPA, canonical IPA, size: what user_mem_abort() installs), so aliases of one
 *   canonical page and mixed sizes are separate entries and none overwrites another (the
 *   maple-tree patch's bug); "removal" is any way a shadow leaf goes (TLBI, recycling,
 *   the map walker), as the engine reports it; the index is ordered by canonical IPA per
 *   leaf size, so a range lookup is one search plus the entries it finds. Memory: one
 *   64-byte object per mapping (an rb_node and three u64 in kmalloc-64).
 *
 * None of the series' code was read: where it differs, this is a model of a design the
 * titles allow, not of the series.
 *
 * @module
 */

import type { Design, HostUnmapKind, ReverseMapStrategy, ShadowMmu, ShadowOps } from "s2lab";

/** One leaf size's tracked mappings in one MMU: sorted canonical keys, shadow IPAs per key. */
interface Level {
  /** Leaf size in bytes. */
  size: number;
  /** Canonical IPA / size of every key, ascending. */
  keys: number[];
  /** Key -> shadow IPAs of the leaves that translate it. */
  shadows: Map<number, number[]>;
}

/** One shadow MMU's tracking structures. */
interface MmuTracking {
  /** By leaf size. */
  levels: Map<number, Level>;
  /** Shadow IPA -> [canonical key, leaf size], to drop a mapping when its leaf goes. */
  byShadow: Map<number, [number, number]>;
}

/** Bytes of one tracked mapping: struct kvm_guest_s2_mapping in kmalloc-64 (inferred). */
const MAPPING_BYTES = 64;

/** First index in the sorted `a` whose value is >= `x` (binary search; counts its compares). */
function lowerBound(a: readonly number[], x: number, count: (n: number) => void): number {
  let lo = 0, hi = a.length, n = 0;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
    n++;
  }
  count(n);
  return lo;
}

/** Per-MMU tracking of the guest stage-2 mappings behind shadow leaves. */
export class GuestS2Tracking implements ReverseMapStrategy {
  readonly name = "guest-s2-tracking";
  private ops!: ShadowOps;
  private readonly mmus = new Map<number, MmuTracking>();
  private mappings = 0;

  attach(ops: ShadowOps): void {
    this.ops = ops;
  }

  private tracking(mmu: ShadowMmu): MmuTracking {
    let t = this.mmus.get(mmu.id);
    if (!t) this.mmus.set(mmu.id, t = { levels: new Map(), byShadow: new Map() });
    return t;
  }

  /** "Track guest stage-2 mapping creation": a fault installed a shadow leaf. */
  shadowMapped(mmu: ShadowMmu, shadowIpa: number, canonicalIpa: number, size: number): void {
    const t = this.tracking(mmu);
    if (t.byShadow.has(shadowIpa)) return; // a permission relaxed, or a re-fault: tracked
    let level = t.levels.get(size);
    if (!level) t.levels.set(size, level = { size, keys: [], shadows: new Map() });
    const key = canonicalIpa / size;
    let list = level.shadows.get(key);
    if (!list) {
      const at = lowerBound(level.keys, key, (n) => this.ops.countSteps(n));
      level.keys.splice(at, 0, key);
      level.shadows.set(key, list = []);
    }
    list.push(shadowIpa);
    t.byShadow.set(shadowIpa, [key, size]);
    this.mappings++;
    this.ops.countSteps(1);
  }

  /** "Track guest stage-2 mapping removal": a shadow leaf left its table. */
  shadowRemoved(mmu: ShadowMmu, shadowIpa: number): void {
    const t = this.mmus.get(mmu.id);
    const hit = t?.byShadow.get(shadowIpa);
    if (!t || !hit) return;
    const [key, size] = hit;
    t.byShadow.delete(shadowIpa);
    const level = t.levels.get(size)!;
    const list = level.shadows.get(key)!;
    list.splice(list.indexOf(shadowIpa), 1);
    if (list.length === 0) {
      level.shadows.delete(key);
      level.keys.splice(lowerBound(level.keys, key, () => {}), 1);
    }
    this.mappings--;
  }

  /** The MMU is recycled: its whole shadow table goes, and its tracking with it. */
  mmuReset(mmu: ShadowMmu): void {
    const t = this.mmus.get(mmu.id);
    if (!t) return;
    this.mappings -= t.byShadow.size;
    this.mmus.delete(mmu.id);
  }

  /** The leaves of every valid MMU that translate into canonical [start, end). */
  private found(start: number, end: number): [ShadowMmu, number, number][] {
    const out: [ShadowMmu, number, number][] = [];
    for (const mmu of this.ops.mmus) {
      if (!mmu.valid) continue;
      this.ops.countSteps(1); // the MMU's tracking root
      const t = this.mmus.get(mmu.id);
      if (!t) continue;
      for (const level of t.levels.values()) {
        if (level.keys.length === 0) continue;
        const last = Math.ceil(end / level.size);
        let i = lowerBound(
          level.keys,
          Math.floor(start / level.size),
          (n) => this.ops.countSteps(n),
        );
        for (; i < level.keys.length && level.keys[i] < last; i++) {
          const list = level.shadows.get(level.keys[i])!;
          this.ops.countSteps(1 + list.length);
          for (const s of list) out.push([mmu, s, level.size]);
        }
      }
    }
    return out;
  }

  /** "Avoid full shadow stage-2 unmap": unmap exactly the tracked leaves of the range. */
  unmapCanonical(start: number, end: number, _kind: HostUnmapKind): void {
    // Collected first: each unmap reports its leaf back through shadowRemoved().
    for (const [mmu, s, z] of this.found(start, end)) this.ops.unmapShadowRange(mmu, s, z);
  }

  wpCanonical(start: number, end: number): void {
    for (const [mmu, s, z] of this.found(start, end)) this.ops.wpShadowRange(mmu, s, z);
  }

  flushCanonical(start: number, end: number): void {
    for (const [mmu, s, z] of this.found(start, end)) this.ops.flushShadowRange(mmu, s, z);
  }

  memoryBytes(): number {
    return this.mappings * MAPPING_BYTES;
  }

  fallbacks(): number {
    return 0;
  }

  /**
   * For `deno task exhaust`: the tracked mappings, canonically (MMUs, sizes, keys and
   * shadow IPAs in order). No host PA is kept.
   */
  encodeState(): string {
    const out: string[] = [];
    for (const id of [...this.mmus.keys()].sort((a, b) => a - b)) {
      const t = this.mmus.get(id)!;
      for (const size of [...t.levels.keys()].sort((a, b) => a - b)) {
        const level = t.levels.get(size)!;
        for (const key of level.keys) {
          const shadows = [...level.shadows.get(key)!].sort((a, b) => a - b);
          out.push(`${id}:${size}:${key}:${shadows.join(",")}`);
        }
      }
    }
    return out.join(";");
  }
}

/** The design record `--design experiments/designs/guest_s2_tracking.ts` loads. */
const design: Design = {
  name: "guest-s2-tracking",
  label: "guest-s2-tracking (v5/v6 as titled)",
  summary: "per-MMU tracking of the guest stage-2 mappings behind shadow leaves",
  role: "user",
  knownBroken: false,
  reference: false,
  insertLock: "mmu",
  leafBytes: 400,
  description: "The 2026 reverse-map series from v5 on, read from its patch titles only: " +
    "per shadow MMU, the guest stage-2 mappings behind shadow leaves are recorded when a " +
    "fault creates them and dropped when they go; a host unmap looks in every valid MMU's " +
    "structures and unmaps exactly the leaves that translate into its range. Inferred: " +
    "structures per MMU (v6 drops the MMU pointer), one entry per shadow leaf, ordered by " +
    "canonical IPA per leaf size.",
  source: '"KVM: arm64: nv: Implement nested stage-2 reverse map" v6 (15 Sep 2026), patch ' +
    "titles only; kvmarm/kvmarm next, merge 23ddf997ab16 (2026-09-20)",
  make: () => new GuestS2Tracking(),
};
export default design;
