/**
 * `merged-pivot`: the follow-up proposed in the v2 thread (Ganapatrao Kulkarni, reply of
 * 28 Oct 2025 to Marc Zyngier: "How about adding list of multiple mappings ranges to the
 * maple tree entry/node while adding to the lookup and later unmapping every range
 * present in that list?"), modeled as issue #3 describes it. No code was posted; this is
 * the model's reading.
 *
 * - Per shadow MMU, a maple tree keyed by canonical IPA range. Each stored range holds a
 *   list of every shadow range (shadow IPA + size) mapped from inside it.
 * - A shadow map of canonical `[c, c + size)`: with nothing there, a new range with a
 *   one-element list; inside one existing range, the shadow range is appended to its
 *   list (unless already listed); intersecting one or more existing ranges otherwise,
 *   they are replaced by one range covering their union with the new range, whose list
 *   is all their lists plus the new shadow range. Merged ranges only grow.
 * - A host unmap of anything that intersects a stored range unmaps every listed shadow
 *   range and drops the stored range whole. wp and flush work the same way over the
 *   lists of the intersecting ranges.
 * - Like the v2 patch it extends, it has no hook when a shadow leaf goes away for
 *   another reason (L1 TLBI, recycling, map-walker replacement): the list keeps such
 *   shadow ranges until an unmap hits the range (they cost an unmap each, they are
 *   never wrong). A re-fault of a listed shadow range is not listed twice.
 * - `mmuReset` frees the MMU's ranges and lists and destroys its tree.
 *
 * `maxListLength` and `maxSpanBytes` record how long a list and how wide a merged range
 * ever got: under aliasing and mixed page sizes ranges keep merging, and every unmap in
 * a merged range then unmaps its whole list.
 *
 * ## Memory model (modeled kernel bytes)
 * - Per stored range, one entry `{ u64 ipa; u64 size; struct list_head ranges; }`
 *   (32 bytes, kmalloc-32).
 * - Per listed shadow range, one list element `{ struct list_head node; u64 shadow_ipa;
 *   u64 size; }` (32 bytes, kmalloc-32). Merging moves elements (list_splice()), it does
 *   not copy them; the entries of the merged-away ranges are freed.
 * - Tree nodes as in range_map.ts: 256 bytes, 16-slot leaves, MM_MT_FLAGS like v2
 *   (10-slot maple_arange_64 internal nodes), ~70% full, NULL gaps take slots.
 *
 * Steps: tree operations (range_map.ts; a ma_state walk, so one walk per operation plus
 * one step per range visited) and one step per list element visited (the duplicate check
 * on a map, every element on an unmap, wp, flush or free).
 *
 * @module
 */

import { RangeMap } from "../util/range_map.ts";
import type { ShadowMmu } from "../kvm/s2_mmu.ts";
import type { HostUnmapKind, ReverseMapStrategy, ShadowOps } from "../kvm/strategy.ts";

/** kmalloc-32: a merged range's entry, and one list element. */
export const MERGED_OBJECT_BYTES = 32;

/** One shadow range listed under a merged canonical range. */
export interface ShadowRange {
  /** Shadow (L2) IPA. */
  shadowIpa: number;
  /** Bytes. */
  size: number;
}

/** A merged canonical range and the shadow ranges mapped from it. */
export interface MergedRange {
  /** Canonical start. */
  start: number;
  /** Canonical end (exclusive). */
  end: number;
  /** Every shadow range mapped from inside [start, end). */
  list: ShadowRange[];
}

/** The merged-pivot proposal: one list of shadow ranges per merged canonical range. */
export class MergedPivot implements ReverseMapStrategy {
  /** `merged-pivot`. */
  readonly name = "merged-pivot";
  /** The MMU's maple tree, under the tree's own lock. */
  readonly insertLock = "mmu" as const;
  private ops!: ShadowOps;
  /** Modeled bytes of every tree, kept as a running total (RangeMap onBytes). */
  private treeBytes = 0;
  private readonly trees: (RangeMap<MergedRange> | undefined)[] = [];
  private entries = 0;
  private elements = 0;
  private maxList = 0;
  private maxSpan = 0;

  /** Longest list of shadow ranges any merged range has held. */
  get maxListLength(): number {
    return this.maxList;
  }
  /** Widest canonical span any merged range has covered, in bytes. */
  get maxSpanBytes(): number {
    return this.maxSpan;
  }
  /** The merged ranges of `mmu`, in order (for tests and reports). */
  ranges(mmu: ShadowMmu): MergedRange[] {
    return (this.trees[mmu.id]?.toArray() ?? []).map((r) => r.value);
  }

  /** Keep the engine's operations. */
  attach(ops: ShadowOps): void {
    this.ops = ops;
  }

  /** mt_init_flags(&mmu->nested_mmu_mt, MM_MT_FLAGS), lazily. */
  private tree(mmu: ShadowMmu): RangeMap<MergedRange> {
    let t = this.trees[mmu.id];
    if (!t) {
      t = new RangeMap<MergedRange>({
        allocRange: true,
        onSteps: (n) => this.ops.countSteps(n),
        onBytes: (d) => this.treeBytes += d,
      });
      this.trees[mmu.id] = t;
    }
    return t;
  }

  /** The merged ranges intersecting [start, end), found with one ma_state walk. */
  private intersecting(t: RangeMap<MergedRange>, start: number, end: number): MergedRange[] {
    const run: MergedRange[] = [];
    t.forEach(start, end, (p) => run.push(p.value), false);
    return run;
  }

  /** Update the largest list length and span seen. */
  private note(m: MergedRange): void {
    if (m.list.length > this.maxList) this.maxList = m.list.length;
    if (m.end - m.start > this.maxSpan) this.maxSpan = m.end - m.start;
  }

  /** add_to_shadow_ipa_lookup() as the proposal extends it: list or merge. */
  shadowMapped(mmu: ShadowMmu, shadowIpa: number, canonicalIpa: number, size: number): void {
    const t = this.tree(mmu);
    const s = canonicalIpa, e = canonicalIpa + size;
    const run = this.intersecting(t, s, e);
    const item: ShadowRange = { shadowIpa, size };
    if (run.length === 0) {
      const m: MergedRange = { start: s, end: e, list: [item] };
      t.store(s, e, m);
      this.entries++;
      this.elements++;
      this.note(m);
      return;
    }
    // Is this shadow range listed already? (one step per element looked at)
    let seen = 0;
    let dup = false;
    for (const m of run) {
      for (const x of m.list) {
        seen++;
        if (x.shadowIpa === shadowIpa && x.size === size) {
          dup = true;
          break;
        }
      }
      if (dup) break;
    }
    this.ops.countSteps(seen);
    const first = run[0], last = run[run.length - 1];
    if (run.length === 1 && first.start <= s && e <= first.end) {
      if (!dup) {
        first.list.push(item);
        this.elements++;
        this.note(first);
      }
      return;
    }
    // Merge: one range over the union, keeping the first entry; the others are freed
    // and their lists spliced onto it.
    const merged = first;
    for (let i = 1; i < run.length; i++) for (const x of run[i].list) merged.list.push(x);
    if (!dup) {
      merged.list.push(item);
      this.elements++;
    }
    merged.start = Math.min(s, first.start);
    merged.end = Math.max(e, last.end);
    this.entries -= run.length - 1;
    t.store(merged.start, merged.end, merged);
    this.note(merged);
  }

  /** No hook in the proposal: listed shadow ranges stay until an unmap hits them. */
  shadowRemoved(): void {}

  /** Drop the MMU's index: free every entry and list element, mtree_destroy(). */
  mmuReset(mmu: ShadowMmu): void {
    const t = this.trees[mmu.id];
    if (!t) return;
    let visited = 0;
    t.forEach(0, mmu.pgt.geom.ipaSize, (p) => {
      visited += p.value.list.length;
      this.elements -= p.value.list.length;
      this.entries--;
    }, false);
    this.ops.countSteps(visited);
    t.destroy();
  }

  /**
   * The proposal's kvm_nested_s2_unmap_range(): for each valid MMU, every merged range
   * intersecting [start, end) has all its listed shadow ranges unmapped, then is erased.
   */
  unmapCanonical(start: number, end: number, _kind: HostUnmapKind): void {
    for (const mmu of this.ops.mmus) {
      if (!mmu.valid) continue;
      const t = this.tree(mmu);
      for (const m of this.intersecting(t, start, end)) {
        this.ops.countSteps(m.list.length);
        for (const x of m.list) this.ops.unmapShadowRange(mmu, x.shadowIpa, x.size);
        t.erase(m.start, m.end);
        this.entries--;
        this.elements -= m.list.length;
      }
    }
  }

  /** kvm_nested_s2_wp() through the lists of the ranges intersecting [start, end). */
  wpCanonical(start: number, end: number): void {
    for (const mmu of this.ops.mmus) {
      if (!mmu.valid) continue;
      for (const m of this.intersecting(this.tree(mmu), start, end)) {
        this.ops.countSteps(m.list.length);
        for (const x of m.list) this.ops.wpShadowRange(mmu, x.shadowIpa, x.size);
      }
    }
  }

  /** kvm_nested_s2_flush() through the lists of the ranges intersecting [start, end). */
  flushCanonical(start: number, end: number): void {
    for (const mmu of this.ops.mmus) {
      if (!mmu.valid) continue;
      for (const m of this.intersecting(this.tree(mmu), start, end)) {
        this.ops.countSteps(m.list.length);
        for (const x of m.list) this.ops.flushShadowRange(mmu, x.shadowIpa, x.size);
      }
    }
  }

  /** Tree nodes, one entry per merged range, one element per listed shadow range. */
  memoryBytes(): number {
    return (this.entries + this.elements) * MERGED_OBJECT_BYTES + this.treeBytes;
  }

  /** Never falls back to the full walk. */
  fallbacks(): number {
    return 0;
  }
}
