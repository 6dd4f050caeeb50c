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

import { FramePool } from "../util/frame_pool.ts";
import { grown, pool } from "../util/growable.ts";
import { RangeMap } from "../util/range_map.ts";
import type { ShadowMmu } from "../kvm/s2_mmu.ts";
import type { HostUnmapKind, ReverseMapStrategy, ShadowOps } from "../kvm/strategy.ts";

/** kmalloc-32: a merged range's entry, and one list element. */
export const MERGED_OBJECT_BYTES = 32;

/** The merged ranges found in a gap (shared; only read). */
const NO_RANGES: number[] = Object.freeze([]) as unknown as number[];

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

/**
 * The merged ranges and their lists, as flat arrays (no object per range or element):
 * a range is a handle (the tree's value) to its bounds and a singly linked list of
 * element handles, in listing order, as the kernel's list_head lists would be; splicing
 * a list onto another is O(1). Freed handles are reused.
 */
class MergedLists {
  /** Per range: canonical start and end (exclusive). */
  start = new FramePool(256);
  end = new FramePool(256);
  /** Per range: first and last element (-1: none) and the list's length. */
  head = pool(Int32Array, 256);
  tail = pool(Int32Array, 256);
  length = pool(Int32Array, 256);
  /**
   * Per element: the shadow range (its size a leaf size, a power of two: exact in a
   * float32), and the next element of its list (-1: none).
   */
  shadowIpa = new FramePool(256);
  size = pool(Float32Array, 256);
  next = pool(Int32Array, 256);
  private freeRanges: number[] = [];
  private rangesUsed = 0;
  /** Freed elements, chained through `next` (-1: none). */
  private freeElems = -1;
  private elemsUsed = 0;

  /** A new range over [start, end) with an empty list; returns its handle. */
  newRange(start: number, end: number): number {
    const r = this.freeRanges.pop() ?? this.rangesUsed++;
    if (r === this.start.length) {
      this.start.grow();
      this.end.grow();
      this.head = grown(this.head);
      this.tail = grown(this.tail);
      this.length = grown(this.length);
    }
    this.start.set(r, start);
    this.end.set(r, end);
    this.head[r] = this.tail[r] = -1;
    this.length[r] = 0;
    return r;
  }

  /** list_add_tail() of a new element for the shadow range [shadowIpa, +size) to range `r`. */
  append(r: number, shadowIpa: number, size: number): void {
    let x = this.freeElems;
    if (x >= 0) this.freeElems = this.next[x];
    else {
      x = this.elemsUsed++;
      if (x === this.next.length) {
        this.shadowIpa.grow();
        this.size = grown(this.size);
        this.next = grown(this.next);
      }
    }
    this.shadowIpa.set(x, shadowIpa);
    this.size[x] = size;
    this.next[x] = -1;
    this.link(r, x, x, 1);
  }

  /** list_splice_tail_init(): move range `from`'s elements to the end of range `to`'s list. */
  splice(to: number, from: number): void {
    if (this.head[from] < 0) return;
    this.link(to, this.head[from], this.tail[from], this.length[from]);
    this.head[from] = this.tail[from] = -1;
    this.length[from] = 0;
  }

  /** Free range `r` and every element of its list. */
  freeRange(r: number): void {
    if (this.head[r] >= 0) {
      this.next[this.tail[r]] = this.freeElems;
      this.freeElems = this.head[r];
    }
    this.freeRanges.push(r);
  }

  /** The list of range `r`, for reports. */
  list(r: number): ShadowRange[] {
    const out: ShadowRange[] = [];
    for (let x = this.head[r]; x >= 0; x = this.next[x]) {
      out.push({ shadowIpa: this.shadowIpa.get(x), size: this.size[x] });
    }
    return out;
  }

  /** Chain elements `first`..`last` (`n` of them) after range `r`'s last element. */
  private link(r: number, first: number, last: number, n: number): void {
    if (this.tail[r] >= 0) this.next[this.tail[r]] = first;
    else this.head[r] = first;
    this.tail[r] = last;
    this.length[r] += n;
  }
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
  /** Per MMU, canonical range -> merged range handle (see MergedLists). */
  private readonly trees: (RangeMap | undefined)[] = [];
  private readonly lists = new MergedLists();
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
    const l = this.lists;
    return (this.trees[mmu.id]?.toArray() ?? []).map(({ value: r }) => ({
      start: l.start.get(r),
      end: l.end.get(r),
      list: l.list(r),
    }));
  }

  /** Keep the engine's operations. */
  attach(ops: ShadowOps): void {
    this.ops = ops;
  }

  /** mt_init_flags(&mmu->nested_mmu_mt, MM_MT_FLAGS), lazily. */
  private tree(mmu: ShadowMmu): RangeMap {
    let t = this.trees[mmu.id];
    if (!t) {
      t = new RangeMap({
        allocRange: true,
        onSteps: (n) => this.ops.countSteps(n),
        onBytes: (d) => this.treeBytes += d,
      });
      this.trees[mmu.id] = t;
    }
    return t;
  }

  /** The merged ranges intersecting [start, end), found with one ma_state walk. */
  private intersecting(t: RangeMap, start: number, end: number): number[] {
    const run = t.collect(start, end);
    return run.length === 0 ? NO_RANGES : run.map((p) => p.value);
  }

  /** Update the largest list length and span seen, with merged range `r`. */
  private note(r: number): void {
    const l = this.lists;
    if (l.length[r] > this.maxList) this.maxList = l.length[r];
    if (l.end.get(r) - l.start.get(r) > this.maxSpan) this.maxSpan = l.end.get(r) - l.start.get(r);
  }

  /** add_to_shadow_ipa_lookup() as the proposal extends it: list or merge. */
  shadowMapped(mmu: ShadowMmu, shadowIpa: number, canonicalIpa: number, size: number): void {
    const t = this.tree(mmu);
    const l = this.lists;
    const s = canonicalIpa, e = canonicalIpa + size;
    const run = this.intersecting(t, s, e);
    if (run.length === 0) {
      const m = l.newRange(s, e);
      l.append(m, shadowIpa, size);
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
      for (let x = l.head[m]; x >= 0; x = l.next[x]) {
        seen++;
        if (l.shadowIpa.get(x) === shadowIpa && l.size[x] === size) {
          dup = true;
          break;
        }
      }
      if (dup) break;
    }
    this.ops.countSteps(seen);
    const first = run[0], last = run[run.length - 1];
    if (run.length === 1 && l.start.get(first) <= s && e <= l.end.get(first)) {
      if (!dup) {
        l.append(first, shadowIpa, size);
        this.elements++;
        this.note(first);
      }
      return;
    }
    // Merge: one range over the union, keeping the first entry; the others are freed
    // and their lists spliced onto it.
    const merged = first;
    for (let i = 1; i < run.length; i++) l.splice(merged, run[i]);
    for (let i = 1; i < run.length; i++) l.freeRange(run[i]);
    if (!dup) {
      l.append(merged, shadowIpa, size);
      this.elements++;
    }
    l.start.set(merged, Math.min(s, l.start.get(first)));
    l.end.set(merged, Math.max(e, l.end.get(last)));
    this.entries -= run.length - 1;
    t.store(l.start.get(merged), l.end.get(merged), merged);
    this.note(merged);
  }

  /** No hook in the proposal: listed shadow ranges stay until an unmap hits them. */
  shadowRemoved(): void {}

  /** Drop the MMU's index: free every entry and list element, mtree_destroy(). */
  mmuReset(mmu: ShadowMmu): void {
    const t = this.trees[mmu.id];
    if (!t) return;
    const l = this.lists;
    let visited = 0;
    t.forEach(0, mmu.pgt.geom.ipaSize, (p) => {
      visited += l.length[p.value];
      this.elements -= l.length[p.value];
      this.entries--;
      l.freeRange(p.value);
    }, false);
    this.ops.countSteps(visited);
    t.destroy();
  }

  /**
   * The proposal's kvm_nested_s2_unmap_range(): for each valid MMU, every merged range
   * intersecting [start, end) has all its listed shadow ranges unmapped, then is erased.
   */
  unmapCanonical(start: number, end: number, _kind: HostUnmapKind): void {
    const l = this.lists;
    for (const mmu of this.ops.mmus) {
      if (!mmu.valid) continue;
      const t = this.tree(mmu);
      for (const m of this.intersecting(t, start, end)) {
        this.ops.countSteps(l.length[m]);
        for (let x = l.head[m]; x >= 0; x = l.next[x]) {
          this.ops.unmapShadowRange(mmu, l.shadowIpa.get(x), l.size[x]);
        }
        t.erase(l.start.get(m), l.end.get(m));
        this.entries--;
        this.elements -= l.length[m];
        l.freeRange(m);
      }
    }
  }

  /** kvm_nested_s2_wp() through the lists of the ranges intersecting [start, end). */
  wpCanonical(start: number, end: number): void {
    const l = this.lists;
    for (const mmu of this.ops.mmus) {
      if (!mmu.valid) continue;
      for (const m of this.intersecting(this.tree(mmu), start, end)) {
        this.ops.countSteps(l.length[m]);
        for (let x = l.head[m]; x >= 0; x = l.next[x]) {
          this.ops.wpShadowRange(mmu, l.shadowIpa.get(x), l.size[x]);
        }
      }
    }
  }

  /** kvm_nested_s2_flush() through the lists of the ranges intersecting [start, end). */
  flushCanonical(start: number, end: number): void {
    const l = this.lists;
    for (const mmu of this.ops.mmus) {
      if (!mmu.valid) continue;
      for (const m of this.intersecting(this.tree(mmu), start, end)) {
        this.ops.countSteps(l.length[m]);
        for (let x = l.head[m]; x >= 0; x = l.next[x]) {
          this.ops.flushShadowRange(mmu, l.shadowIpa.get(x), l.size[x]);
        }
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
