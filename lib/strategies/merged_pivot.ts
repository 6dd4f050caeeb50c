/**
 * `merged-pivot`: the follow-up proposed in the v2 thread (Ganapatrao Kulkarni, reply of
 * 28 Oct 2025 to Marc Zyngier: "How about adding list of multiple mappings ranges to the
 * maple tree entry/node while adding to the lookup and later unmapping every range
 * present in that list?"). No code was posted; this is
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

import type { Design } from "./design.ts";
import { FramePool } from "../util/frame_pool.ts";
import { grown, pool } from "../util/growable.ts";
import { type RangeEntry, RangeMap } from "../util/range_map.ts";
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

/**
 * The merged ranges' lists, as flat arrays (no object per range or element): a range is
 * a handle (the tree's value; its bounds are the tree's) to a singly linked list of
 * element handles, in listing order, as the kernel's list_head lists would be; splicing
 * a list onto another is O(1). Freed handles are reused.
 */
class MergedLists {
  /** Per range: first and last element (-1: none) and the list's length. */
  head = pool(Int32Array, 256);
  tail = pool(Int32Array, 256);
  length = pool(Int32Array, 256);
  /**
   * Per element: the shadow range (its size a leaf size, a power of two, kept as its
   * log2), and the next element of its list (-1: none).
   */
  shadowIpa = new FramePool(256);
  sizeShift = pool(Uint8Array, 256);
  next = pool(Int32Array, 256);
  private freeRanges: number[] = [];
  private rangesUsed = 0;
  /** Freed elements, chained through `next` (-1: none). */
  private freeElems = -1;
  private elemsUsed = 0;

  /** A new range with an empty list; returns its handle. */
  newRange(): number {
    const r = this.freeRanges.pop() ?? this.rangesUsed++;
    if (r === this.head.length) {
      this.head = grown(this.head);
      this.tail = grown(this.tail);
      this.length = grown(this.length);
    }
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
        this.sizeShift = grown(this.sizeShift);
        this.next = grown(this.next);
      }
    }
    this.shadowIpa.set(x, shadowIpa);
    const shift = Math.log2(size);
    if (2 ** shift !== size) {
      throw new RangeError(`merged-pivot: size ${size} is not a power of two`);
    }
    this.sizeShift[x] = shift;
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
      out.push({ shadowIpa: this.shadowIpa.get(x), size: this.size(x) });
    }
    return out;
  }

  /** Size of element `x`'s shadow range. */
  size(x: number): number {
    return 2 ** this.sizeShift[x];
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
    return (this.trees[mmu.id]?.toArray() ?? []).map(({ start, end, value: r }) => ({
      start,
      end,
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

  /**
   * The merged ranges intersecting [start, end), found with one ma_state walk: the tree's
   * entries, whose bounds are the merged ranges' (a merge stores the union over its run,
   * which covers every range of the run and no other).
   */
  private intersecting(t: RangeMap, start: number, end: number): RangeEntry[] {
    return t.collect(start, end);
  }

  /** Update the largest list length and span seen, with merged range `r` over [s, e). */
  private note(r: number, s: number, e: number): void {
    const l = this.lists;
    if (l.length[r] > this.maxList) this.maxList = l.length[r];
    if (e - s > this.maxSpan) this.maxSpan = e - s;
  }

  /** add_to_shadow_ipa_lookup() as the proposal extends it: list or merge. */
  shadowMapped(mmu: ShadowMmu, shadowIpa: number, canonicalIpa: number, size: number): void {
    const t = this.tree(mmu);
    const l = this.lists;
    const s = canonicalIpa, e = canonicalIpa + size;
    const run = this.intersecting(t, s, e);
    if (run.length === 0) {
      const m = l.newRange();
      l.append(m, shadowIpa, size);
      t.store(s, e, m);
      this.entries++;
      this.elements++;
      this.note(m, s, e);
      return;
    }
    // Is this shadow range listed already? (one step per element looked at)
    let seen = 0;
    let dup = false;
    for (const { value: m } of run) {
      for (let x = l.head[m]; x >= 0; x = l.next[x]) {
        seen++;
        if (l.shadowIpa.get(x) === shadowIpa && l.size(x) === size) {
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
        l.append(first.value, shadowIpa, size);
        this.elements++;
        this.note(first.value, first.start, first.end);
      }
      return;
    }
    // Merge: one range over the union, keeping the first entry; the others are freed
    // and their lists spliced onto it.
    const merged = first.value;
    for (let i = 1; i < run.length; i++) l.splice(merged, run[i].value);
    for (let i = 1; i < run.length; i++) l.freeRange(run[i].value);
    if (!dup) {
      l.append(merged, shadowIpa, size);
      this.elements++;
    }
    const ms = Math.min(s, first.start), me = Math.max(e, last.end);
    this.entries -= run.length - 1;
    t.store(ms, me, merged);
    this.note(merged, ms, me);
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
      for (const { start: ms, end: me, value: m } of this.intersecting(t, start, end)) {
        this.ops.countSteps(l.length[m]);
        for (let x = l.head[m]; x >= 0; x = l.next[x]) {
          this.ops.unmapShadowRange(mmu, l.shadowIpa.get(x), l.size(x));
        }
        t.erase(ms, me);
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
      for (const { value: m } of this.intersecting(this.tree(mmu), start, end)) {
        this.ops.countSteps(l.length[m]);
        for (let x = l.head[m]; x >= 0; x = l.next[x]) {
          this.ops.wpShadowRange(mmu, l.shadowIpa.get(x), l.size(x));
        }
      }
    }
  }

  /** kvm_nested_s2_flush() through the lists of the ranges intersecting [start, end). */
  flushCanonical(start: number, end: number): void {
    const l = this.lists;
    for (const mmu of this.ops.mmus) {
      if (!mmu.valid) continue;
      for (const { value: m } of this.intersecting(this.tree(mmu), start, end)) {
        this.ops.countSteps(l.length[m]);
        for (let x = l.head[m]; x >= 0; x = l.next[x]) {
          this.ops.flushShadowRange(mmu, l.shadowIpa.get(x), l.size(x));
        }
      }
    }
  }

  /** Tree nodes, one entry per merged range, one element per listed shadow range. */
  memoryBytes(): number {
    return (this.entries + this.elements) * MERGED_OBJECT_BYTES + this.treeBytes;
  }

  /**
   * Each MMU's merged ranges with the set of their shadow ranges, for exhaustive checking:
   * a list is only ever handled whole (unmapped, write-protected, flushed, searched for a
   * duplicate), so its order and repeats change nothing.
   */
  encodeState(): string {
    const set = (m: number) =>
      [...new Set(this.lists.list(m).map((r) => `${r.shadowIpa}/${r.size}`))].sort().join(".");
    return this.ops.mmus.map((mmu) =>
      (this.trees[mmu.id]?.toArray() ?? []).map((e) => `${e.start}-${e.end}>${set(e.value)}`)
        .join(",")
    ).join(";");
  }

  /** Never falls back to the full walk. */
  fallbacks(): number {
    return 0;
  }
}

/** The `merged-pivot` design record. */
export const mergedPivotDesign: Design = {
  name: "merged-pivot",
  label: "merged-pivot",
  summary: "merged canonical ranges, each with the list of its shadow ranges",
  role: "proposal",
  knownBroken: false,
  reference: false,
  insertLock: "mmu",
  leafBytes: 340,
  description: "The follow-up proposed in the v2 thread: per shadow MMU, a maple tree keyed by " +
    "canonical IPA range whose entries hold the list of every shadow range mapped from " +
    "inside them; overlapping ranges merge into one covering their union. A host unmap that " +
    "meets a range unmaps its whole list. Correct, but ranges only grow under aliasing and " +
    "mixed sizes, and every unmap in a merged range pays for its whole list. No code was " +
    "posted: this is the model's reading.",
  source: "Ganapatrao Kulkarni, reply of 28 Oct 2025 to Marc Zyngier in the v2 thread " +
    '("adding list of multiple mappings ranges to the maple tree entry")',
  style: { color: "#ff7f0e", dash: "10,4", symbol: "diamond", hollow: false },
  make: () => new MergedPivot(),
};
