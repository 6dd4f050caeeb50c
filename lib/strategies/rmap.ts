/**
 * `rmap` — ours: a per-VM reverse map from canonical IPA to every shadow leaf derived
 * from it, one index per shadow leaf size (host PAGE_SIZE, PMD, PUD), in the manner of
 * x86 KVM's per-level rmaps (`kvm_rmap_head` / `pte_list_desc`) but sparse and ordered,
 * so that a range query costs one search plus the entries it finds. `rmap-bounded` is the
 * same under a per-MMU memory budget, falling back to the full walk for an MMU that
 * exceeds it until its table is empty again.
 *
 * ## What it stores
 * - For each leaf size Z (one "level"), an ordered set of canonical keys (Z-aligned
 *   canonical IPAs), each with an rmap head: the list of descriptors (shadow MMU, shadow
 *   IPA) of the live shadow leaves of size Z that translate [key, key + Z).
 * - Per shadow MMU, a "shadowed translation" side table: shadow IPA -> descriptor, so
 *   that a leaf leaving its table for any reason finds and drops its descriptor (x86
 *   keeps the gfn of every SPTE in `sp->shadowed_translation` for the same purpose).
 *
 * ## Invariant (correct by construction)
 * A descriptor (m, s) sits under key c of level Z if and only if shadow MMU m has a live
 * leaf of size Z at shadow IPA s installed for canonical range [c, c + Z). Every leaf is
 * installed by user_mem_abort() (`shadowMapped`) and every leaf leaves through the
 * stage-2 walkers, which report it (`shadowRemoved`), whatever the cause: this
 * strategy's unmap, an L1 TLBI, an MMU recycle, the map walker breaking a block or
 * freeing a table under a new block, ALLE1IS. Hence on a host unmap of [s, e), the
 * leaves derived from it are exactly the descriptors under keys in
 * [ALIGN_DOWN(s, Z), e) of each level (keys are Z-aligned, so each such key's range
 * meets [s, e), and no key outside meets it): aliases in one or many MMUs, any mix of
 * sizes and partial overlaps are all distinct descriptors; nothing is overwritten.
 *
 * ## Cost of an unmap (index steps, counted)
 * A step is a key or a descriptor visited, its removal included (unlinking a descriptor,
 * erasing a key at the cursor, as mas_erase() on the walk's ma_state does). Per level
 * that holds keys: one search (⌈log2(blocks+1)⌉ + ⌈log2(block+1)⌉ compares, about
 * log2 n + 1) and one step per key visited plus one for the key that ends the range;
 * one step per descriptor visited. Every key visited has at least one
 * descriptor and every descriptor visited is removed, so with k leaves removed:
 * steps <= 2k + sum over populated levels of (log2 n_level + 2). Each removal is then a
 * kvm_stage2_unmap_range() of exactly that leaf: one stage2_apply_range() iteration.
 * Nothing depends on the IPA space or on the number of shadow MMUs.
 *
 * ## Memory model (modeled kernel bytes)
 * - A descriptor packs the MMU index (12 bits) and the shadow IPA frame (40 bits) in one
 *   u64: 8 bytes. A head with one descriptor holds it inline (x86's `rmap_head->val`);
 *   more descriptors go to 128-byte `pte_list_desc` chunks of 14 (PTE_LIST_EXT).
 * - The keys of each level sit in a maple tree whose slot is the head word: one slot per
 *   key plus a NULL gap between keys that do not touch (`mapleTreeBytes(2n + 1 - adjacent)`).
 * - The side table: per shadow MMU, a maple tree keyed by shadow IPA range whose slot is
 *   the packed canonical key and level (xa_mk_value(), no allocation), counted the same
 *   way. (x86 spends a page per shadow page on `shadowed_translation`; a sparse tree
 *   costs less when shadow leaves are scattered, about the same when they are dense.)
 *
 * ## Simulator layout (not the model: its own memory and speed)
 * Descriptors are a struct of typed arrays (addresses as 32-bit page frames while they
 * fit); each level is one ordered map from key to its head descriptor's id
 * ({@linkcode SortedKeys} with values: 8 bytes a key), whose searches give the steps and
 * the trees' neighbours; the side table is kept beside each shadow leaf in its table page
 * (`KvmPgtable.shadowedAt()`, as x86 keeps `shadowed_translation[]`), so a removal finds
 * its descriptor from the leaf's position, and its order in one ordered set per MMU.
 *
 * ## Kernel port sketch
 * Faults hold `kvm->mmu_lock` for read (kvm_fault_lock()), so inserts run in parallel and
 * take a per-chunk index lock; unmaps, wp and TLBIs hold it for write (docs/rmap.md). Insert
 * at the end of user_mem_abort() after kvm_pgtable_stage2_map() for a nested MMU, with
 * descriptors and chunks taken from the vCPU's memcache (topped up before taking the
 * lock, like page-table pages); removal from a nested-MMU hook in stage2_unmap_walker,
 * stage2_map_walk_leaf (break) and free_unlinked_table; the side table allocated with
 * each shadow table page.
 *
 * @module
 */

import type { Design } from "./design.ts";
import { MAPLE_NODE_BYTES, mapleTreeBytes } from "../util/range_map.ts";
import type { ShadowMmu } from "../kvm/s2_mmu.ts";
import { FramePool } from "../util/frame_pool.ts";
import { grown, pool } from "../util/growable.ts";
import { SortedKeys } from "../util/sorted_keys.ts";
import { eachFound } from "./derived.ts";
import type { HostUnmapKind, ReverseMapStrategy, ShadowOps } from "../kvm/strategy.ts";

/** Descriptors per `pte_list_desc` chunk (PTE_LIST_EXT). */
export const PTE_LIST_EXT = 14;
/** Bytes of a `pte_list_desc` chunk: next, count and 14 entries. */
export const PTE_LIST_DESC_BYTES = 128;
/** Bytes of one packed descriptor. */
export const RMAP_DESC_BYTES = 8;

/** Options: `budget` (bytes of index per shadow MMU; `rmap-bounded` only). */
export interface RmapOptions {
  /** Per-MMU budget in modeled bytes (descriptors, their share of heads and side pages). */
  budget?: number;
}

/** pte_list_desc bytes of a head with `n` descriptors (one is held inline). */
function chunkBytes(n: number): number {
  return n > 1 ? Math.ceil(n / PTE_LIST_EXT) * PTE_LIST_DESC_BYTES : 0;
}

interface Level {
  size: number;
  /** pairs of neighbouring keys that touch (no NULL gap between them in the tree) */
  adjacent: number;
  /** canonical key -> its head: the first descriptor of the key's list */
  keys: SortedKeys;
}

/** The reverse map. */
export class Rmap implements ReverseMapStrategy {
  /** `rmap`, or `rmap-bounded` with a budget. */
  readonly name: string;
  /** Per-MMU budget in bytes (Infinity for `rmap`). */
  readonly budget: number;
  private ops!: ShadowOps;
  private levels: Level[] = [];
  // Descriptor pool, struct of arrays over resizable buffers: they grow in place within a
  // reservation (a copy would touch every byte twice), copied only when one runs out.
  private dMmu = pool(Uint16Array);
  private dIpa = new FramePool();
  private dKey = new FramePool();
  private dLevel = pool(Int8Array);
  private dNext = pool(Int32Array);
  private dPrev = pool(Int32Array);
  private freeList: number[] = [];
  private used = 0;
  /**
   * The side table: per MMU, shadow IPA -> descriptor, kept beside each shadow leaf in its
   * table page (descriptor + 1; `KvmPgtable.shadowedAt`), and the descriptors it holds.
   */
  private sideCount: number[] = [];
  /** Per MMU: the side table's keys in order, and how many neighbours touch. */
  private sideKeys: SortedKeys[] = [];
  private sideAdjacent: number[] = [];
  /** Per MMU: the side tree's slots when last asked, and its bytes then. */
  private sideSlotsSeen: number[] = [];
  private sideBytesSeen: number[] = [];
  /** Per MMU: the side key added last and where its range ends (NaN: none). */
  private lastAdded: number[] = [];
  private lastAddedEnd: number[] = [];
  /** Per MMU: in full-walk fallback. */
  private fallback: boolean[] = [];
  private fallbackList: ShadowMmu[] = [];
  private fallbackCount = 0;
  /** Bytes of pte_list_desc chunks over all heads. */
  private chunkBytes = 0;
  /** Bytes of every MMU's side tree, kept as a running total. */
  private sideBytes = 0;
  /** Inside unmapCanonical(): the descriptors being removed were just visited. */
  private ownUnmap = false;

  /** `rmap` without a budget, `rmap-bounded` with one. */
  constructor(opts: RmapOptions = {}) {
    this.budget = opts.budget ?? Infinity;
    if (!(this.budget > 0)) throw new RangeError(`rmap budget ${opts.budget} must be positive`);
    this.name = opts.budget === undefined ? "rmap" : "rmap-bounded";
  }

  /** Build one level per leaf size the host granule allows. */
  attach(ops: ShadowOps): void {
    // A descriptor's MMU index is 12 bits in the model; the simulator keeps 16.
    if (ops.mmus.length > 2 ** 16) {
      throw new RangeError(`rmap: ${ops.mmus.length} shadow MMUs (at most 65,536)`);
    }
    this.ops = ops;
    const g = ops.granule;
    for (let l = 0; l <= 3; l++) {
      const size = 2 ** (g.pageShift + (3 - l) * g.bitsPerLevel);
      this.levels.push({
        size,
        adjacent: 0,
        keys: new SortedKeys(true),
      });
    }
    for (const m of ops.mmus) m.pgt.enableShadowed();
    this.sideCount = ops.mmus.map(() => 0);
    this.sideKeys = ops.mmus.map(() => new SortedKeys());
    this.sideAdjacent = ops.mmus.map(() => 0);
    this.sideSlotsSeen = ops.mmus.map(() => 0);
    this.sideBytesSeen = ops.mmus.map(() => 0);
    this.lastAdded = ops.mmus.map(() => NaN);
    this.lastAddedEnd = ops.mmus.map(() => NaN);
    this.fallback = ops.mmus.map(() => false);
  }

  private levelOf(size: number): number {
    for (let l = 0; l < this.levels.length; l++) if (this.levels[l].size === size) return l;
    throw new RangeError(`rmap: no level maps ${size} bytes`);
  }

  private alloc(): number {
    const f = this.freeList.pop();
    if (f !== undefined) return f;
    if (this.used === this.dMmu.length) {
      this.dMmu = grown(this.dMmu);
      this.dIpa.grow();
      this.dKey.grow();
      this.dLevel = grown(this.dLevel);
      this.dNext = grown(this.dNext);
      this.dPrev = grown(this.dPrev);
    }
    return this.used++;
  }

  /**
   * Budget accounting: bytes charged to one MMU per descriptor, worst case (scattered
   * keys): the descriptor, two slots of a key tree and two of the side tree.
   */
  static entryBytes(): number {
    return RMAP_DESC_BYTES + 4 * (MAPLE_NODE_BYTES / 11);
  }

  /** rmap_add(): after kvm_pgtable_stage2_map() installed the leaf(s) of a nested fault. */
  shadowMapped(mmu: ShadowMmu, shadowIpa: number, canonicalIpa: number, size: number): void {
    if (this.fallback[mmu.id]) return;
    // A table whose start level maps less than `size` holds several leaves.
    const rootSize = mmu.pgt.sizes[mmu.pgt.geom.startLevel];
    const z = size < rootSize ? size : rootSize;
    for (let off = 0; off < size; off += z) this.add(mmu, shadowIpa + off, canonicalIpa + off, z);
  }

  private add(mmu: ShadowMmu, s: number, c: number, z: number): void {
    const lvl = this.levelOf(z);
    const old = mmu.pgt.shadowedAt(s) - 1;
    if (old >= 0) {
      // A re-fault or a permission relax of the same leaf: already there.
      if (this.dKey.get(old) === c && this.dLevel[old] === lvl) return;
      this.sideForget(mmu.id, s);
      this.drop(old);
    }
    if (
      this.budget !== Infinity && (this.sideCount[mmu.id] + 1) * Rmap.entryBytes() > this.budget
    ) {
      this.enterFallback(mmu);
      return;
    }
    const L = this.levels[lvl];
    const d = this.alloc();
    this.dMmu[d] = mmu.id;
    this.dIpa.set(d, s);
    this.dKey.set(d, c);
    this.dLevel[d] = lvl;
    // The new descriptor becomes the key's head (pushed at the front of its list).
    const head = L.keys.put(c, d);
    this.dPrev[d] = -1;
    this.dNext[d] = head;
    if (head >= 0) this.dPrev[head] = d;
    else {
      this.ops.countSteps(L.keys.lastSteps);
      L.adjacent += (L.keys.pred + L.size === c ? 1 : 0) + (c + L.size === L.keys.succ ? 1 : 0);
    }
    const n = head >= 0 ? this.listLength(d) : 1;
    this.chunkBytes += chunkBytes(n) - chunkBytes(n - 1);
    const before = this.sideTreeBytes(mmu.id);
    mmu.pgt.setShadowed(s, d + 1);
    this.sideCount[mmu.id]++;
    const sk = this.sideKeys[mmu.id];
    this.ops.countSteps(1 + sk.insert(s));
    this.sideAdjacent[mmu.id] += (sk.succ === s + z ? 1 : 0) +
      (this.sideEndsAt(mmu.id, sk.pred, s) ? 1 : 0);
    this.sideBytes += this.sideTreeBytes(mmu.id) - before;
    this.lastAdded[mmu.id] = s;
    this.lastAddedEnd[mmu.id] = s + z;
  }

  /** Modeled bytes of MMU `m`'s side tree (a slot per key and per gap between keys). */
  private sideTreeBytes(m: number): number {
    const n = this.sideCount[m];
    const slots = n === 0 ? 0 : 2 * n + 1 - this.sideAdjacent[m];
    // Asked before and after each change: the answer before is the last one after.
    if (slots !== this.sideSlotsSeen[m]) {
      this.sideSlotsSeen[m] = slots;
      this.sideBytesSeen[m] = mapleTreeBytes(slots);
    }
    return this.sideBytesSeen[m];
  }

  /** End of the side-table range that starts at `s` (a key of MMU `m`'s side table). */
  private sideEnd(m: number, s: number): number {
    if (s === this.lastAdded[m]) return this.lastAddedEnd[m];
    const d = this.ops.mmus[m].pgt.shadowedAt(s) - 1;
    return s + this.levels[this.dLevel[d]].size;
  }

  /**
   * Whether the side-table range from `pred` (the key just below `s`, or NaN) ends at `s`:
   * then the leaf translating `s - 1`, in the table page beside `s`'s (warm, where a walk
   * from `pred` would be cold), is `pred`'s. Side ranges are leaves of one table: they do
   * not overlap, so `pred`'s range ends at `s` exactly when its leaf holds `s - 1`.
   */
  private sideEndsAt(m: number, pred: number, s: number): boolean {
    if (Number.isNaN(pred)) return false;
    if (pred === this.lastAdded[m]) return this.lastAddedEnd[m] === s;
    const d = this.ops.mmus[m].pgt.shadowedAt(s - 1) - 1;
    return d >= 0 && this.dIpa.get(d) === pred;
  }

  /** Forget `s` in MMU `m`'s side table (its descriptor is dropped by the caller). */
  private sideForget(m: number, s: number): void {
    if (s === this.lastAdded[m]) this.lastAdded[m] = NaN;
    const before = this.sideTreeBytes(m);
    const sk = this.sideKeys[m];
    const end = this.sideEnd(m, s);
    const steps = sk.remove(s);
    this.sideAdjacent[m] -= (sk.succ === end ? 1 : 0) + (this.sideEndsAt(m, sk.pred, s) ? 1 : 0);
    this.ops.mmus[m].pgt.setShadowed(s, 0);
    this.sideCount[m]--;
    this.sideBytes += this.sideTreeBytes(m) - before;
    if (!this.ownUnmap) this.ops.countSteps(steps);
  }

  /**
   * Descriptors in the list from `d` on (a key's count, from its head: pte_list_count()).
   * Walked rather than kept: lists are short (one per alias of a page), and a count per
   * descriptor would cost 4 bytes of simulator memory per shadow leaf.
   */
  private listLength(d: number): number {
    let n = 0;
    for (; d >= 0; d = this.dNext[d]) {
      // More than every descriptor allocated: the list loops (a broken unlink).
      if (++n > this.used) throw new Error(`rmap: the descriptor list from ${d} loops`);
    }
    return n;
  }

  /** Unlink descriptor `d` from its head (rmap_remove() / pte_list_remove()). */
  private drop(d: number): void {
    const L = this.levels[this.dLevel[d]];
    const c = this.dKey.get(d);
    const prev = this.dPrev[d], next = this.dNext[d];
    if (prev >= 0) this.dNext[prev] = next;
    else if (next >= 0) L.keys.put(c, next);
    else {
      const steps = L.keys.remove(c);
      L.adjacent -= (L.keys.pred + L.size === c ? 1 : 0) + (c + L.size === L.keys.succ ? 1 : 0);
      // During its own unmap the key was just visited: erased at the cursor, no search.
      if (!this.ownUnmap) this.ops.countSteps(steps);
    }
    if (next >= 0) this.dPrev[next] = prev;
    // The key's descriptors left: its list from the head (unchanged, or `next` now).
    const n = prev >= 0 ? this.listLength(L.keys.get(c)) : next >= 0 ? this.listLength(next) : 0;
    this.chunkBytes += chunkBytes(n) - chunkBytes(n + 1);
    this.freeList.push(d);
    // During its own unmap, unlinking is part of the descriptor's visit.
    if (!this.ownUnmap) this.ops.countSteps(1);
  }

  /** A shadow leaf left its table: drop its descriptor through the side table. */
  shadowRemoved(mmu: ShadowMmu, shadowIpa: number): void {
    const d = mmu.pgt.shadowedAt(shadowIpa) - 1;
    if (d < 0) return;
    this.sideForget(mmu.id, shadowIpa);
    this.drop(d);
  }

  private dropAll(mmu: ShadowMmu): void {
    const pgt = mmu.pgt;
    // In shadow IPA order (as a walk of the side tree goes): the steps each removal costs
    // depend on the order.
    for (const s of this.sideKeys[mmu.id].keys()) {
      this.drop(pgt.shadowedAt(s) - 1);
      pgt.setShadowed(s, 0);
    }
    this.sideBytes -= this.sideTreeBytes(mmu.id);
    this.sideCount[mmu.id] = 0;
    this.lastAdded[mmu.id] = NaN;
    this.sideKeys[mmu.id].clear();
    this.sideAdjacent[mmu.id] = 0;
  }

  private enterFallback(mmu: ShadowMmu): void {
    this.dropAll(mmu);
    this.fallback[mmu.id] = true;
    this.fallbackList.push(mmu);
    this.fallbackCount++;
  }

  private leaveFallback(mmu: ShadowMmu): void {
    this.fallback[mmu.id] = false;
    this.fallbackList.splice(this.fallbackList.indexOf(mmu), 1);
  }

  /** The MMU is recycled: its descriptors go, and it is indexed again from empty. */
  mmuReset(mmu: ShadowMmu): void {
    this.dropAll(mmu);
    if (this.fallback[mmu.id]) this.leaveFallback(mmu);
  }

  /**
   * Every (MMU, shadow IPA, size) whose canonical range meets [start, end), over all
   * levels: one search per populated level, one step per key and per descriptor.
   */
  private collect(start: number, end: number): number[] {
    const out: number[] = [];
    for (const L of this.levels) {
      if (L.keys.size === 0) continue;
      const from = Math.floor(start / L.size) * L.size;
      const steps = L.keys.forRange(from, end, (_c, head) => {
        for (let d = head; d >= 0; d = this.dNext[d]) {
          out.push(this.dMmu[d], this.dIpa.get(d), L.size);
          this.ops.countSteps(1);
        }
      });
      this.ops.countSteps(steps);
    }
    return out;
  }

  /** kvm_nested_s2_unmap() replaced: unmap exactly the leaves derived from [start, end). */
  unmapCanonical(start: number, end: number, _kind: HostUnmapKind): void {
    const found = this.collect(start, end);
    this.ownUnmap = true;
    try {
      eachFound(this.ops.mmus, found, (m, s, z) => this.ops.unmapShadowRange(m, s, z));
    } finally {
      this.ownUnmap = false;
    }
    for (const mmu of [...this.fallbackList]) {
      if (!mmu.valid) continue;
      this.ops.unmapShadowRange(mmu, 0, mmu.pgt.geom.ipaSize);
      // Its table is empty now, so an empty index is exact for it again.
      if (mmu.pgt.leaves === 0) this.leaveFallback(mmu);
    }
  }

  /** Apply a shadow range operation to every leaf derived from [start, end), whole MMUs in fallback. */
  private eachDerived(
    start: number,
    end: number,
    op: (mmu: ShadowMmu, start: number, size: number) => void,
  ): void {
    eachFound(this.ops.mmus, this.collect(start, end), op);
    for (const mmu of this.fallbackList) if (mmu.valid) op(mmu, 0, mmu.pgt.geom.ipaSize);
  }

  /** kvm_nested_s2_wp() replaced: write-protect exactly the leaves derived from [start, end). */
  wpCanonical(start: number, end: number): void {
    this.eachDerived(start, end, (m, s, z) => this.ops.wpShadowRange(m, s, z));
  }

  /** kvm_nested_s2_flush() replaced: flush exactly the leaves derived from [start, end). */
  flushCanonical(start: number, end: number): void {
    this.eachDerived(start, end, (m, s, z) => this.ops.flushShadowRange(m, s, z));
  }

  /** Descriptors indexed now. */
  get entries(): number {
    let n = 0;
    for (const c of this.sideCount) n += c;
    return n;
  }

  /** Modeled kernel bytes: pte_list_desc chunks, the key trees and the side trees. */
  memoryBytes(): number {
    const slots = (n: number, adjacent: number) => (n === 0 ? 0 : 2 * n + 1 - adjacent);
    let bytes = this.chunkBytes + this.sideBytes;
    for (const L of this.levels) bytes += mapleTreeBytes(slots(L.keys.size, L.adjacent));
    return bytes;
  }

  /**
   * For exhaustive checking: the descriptors as an unmap finds them (level, key, MMU,
   * shadow IPA, and whether the side table points at it), as a set (a key's list is only
   * ever handled whole); each MMU's side keys and whether it is in fallback.
   */
  encodeState(): string {
    const out: string[] = [];
    this.levels.forEach((L, l) =>
      L.keys.forEach((c, head) => {
        for (let d = head; d >= 0; d = this.dNext[d]) {
          const m = this.dMmu[d], s = this.dIpa.get(d);
          out.push(`${l}/${c}/${m}/${s}/${this.ops.mmus[m].pgt.shadowedAt(s) === d + 1 ? 1 : 0}`);
        }
      })
    );
    out.sort();
    for (const m of this.ops.mmus) {
      out.push(`${m.id}${this.fallback[m.id] ? "F" : ""}:${this.sideKeys[m.id].keys().join(".")}`);
    }
    return out.join(",");
  }

  /** Times an MMU went over its budget and fell back to the full walk. */
  fallbacks(): number {
    return this.fallbackCount;
  }

  /** Check the invariant against the shadow tables (tests): every leaf indexed once, no more. */
  verify(): string[] {
    const problems: string[] = [];
    let leaves = 0;
    for (const mmu of this.ops.mmus) {
      if (this.fallback[mmu.id]) {
        // Nothing of an MMU in fallback is indexed: no leaf keeps a descriptor.
        this.ops.forEachShadowLeaf(mmu, (s) => {
          if (mmu.pgt.shadowedAt(s) !== 0) problems.push(`MMU ${mmu.id}: leaf at ${s} indexed`);
        });
        continue;
      }
      this.ops.forEachShadowLeaf(mmu, (s, size, _oa, _attr, canonical) => {
        leaves++;
        const d = mmu.pgt.shadowedAt(s) - 1;
        if (d < 0) problems.push(`MMU ${mmu.id}: leaf at ${s} has no descriptor`);
        else if (this.dMmu[d] !== mmu.id || this.dIpa.get(d) !== s) {
          problems.push(`MMU ${mmu.id}: leaf at ${s} keeps another leaf's descriptor`);
        } else if (this.levels[this.dLevel[d]].size !== size || this.dKey.get(d) !== canonical) {
          problems.push(`MMU ${mmu.id}: leaf at ${s} indexed under the wrong key`);
        }
      });
    }
    if (leaves !== this.entries) problems.push(`${this.entries} descriptors for ${leaves} leaves`);
    // Every descriptor is reachable from its key's head, the lists are doubly linked (what
    // an unmap walks is what is indexed), and the pte_list_desc bytes kept as a running
    // total are those of the lists' lengths.
    let listed = 0, chunks = 0;
    for (const L of this.levels) {
      L.keys.forEach((c, head) => {
        let n = 0;
        for (let d = head, prev = -1; d >= 0; prev = d, d = this.dNext[d]) {
          if (this.dPrev[d] !== prev) problems.push(`key ${c}: descriptor ${d} has a wrong prev`);
          if (this.dKey.get(d) !== c) problems.push(`key ${c}: descriptor ${d} is another key's`);
          if (++n > this.dMmu.length) {
            problems.push(`key ${c}: the list loops`);
            break;
          }
        }
        listed += n;
        chunks += chunkBytes(n);
      });
    }
    if (listed !== this.entries) {
      problems.push(`${listed} descriptors listed, ${this.entries} indexed`);
    }
    if (chunks !== this.chunkBytes) {
      problems.push(`pte_list_desc: running total ${this.chunkBytes} B, recount ${chunks} B`);
    }
    // The memory model's counts of touching neighbours, recomputed.
    for (const L of this.levels) {
      const k = L.keys.keys();
      let adj = 0;
      for (let i = 1; i < k.length; i++) if (k[i - 1] + L.size === k[i]) adj++;
      if (adj !== L.adjacent) {
        problems.push(`level ${L.size}: ${L.adjacent} adjacent keys, recount ${adj}`);
      }
    }
    let sideBytes = 0;
    for (let m = 0; m < this.sideCount.length; m++) sideBytes += this.sideTreeBytes(m);
    if (sideBytes !== this.sideBytes) {
      problems.push(`side trees: running total ${this.sideBytes} B, recount ${sideBytes} B`);
    }
    for (let m = 0; m < this.sideCount.length; m++) {
      const k = this.sideKeys[m].keys();
      let adj = 0;
      for (let i = 1; i < k.length; i++) if (this.sideEnd(m, k[i - 1]) === k[i]) adj++;
      if (adj !== this.sideAdjacent[m]) {
        problems.push(`MMU ${m}: ${this.sideAdjacent[m]} adjacent side keys, recount ${adj}`);
      }
      if (k.length !== this.sideCount[m]) {
        problems.push(`MMU ${m}: side keys and side map disagree`);
      }
    }
    return problems;
  }
}

/** The `rmap` design record. */
export const rmapDesign: Design = {
  name: "rmap",
  label: "rmap (ours)",
  summary: "s2lab's per-VM, per-level ordered reverse map",
  role: "ours",
  knownBroken: false,
  reference: false,
  insertLock: "vm",
  leafBytes: 280,
  description: "A per-VM reverse map from canonical IPA to every shadow leaf derived from it, " +
    "one ordered index per leaf size (page, PMD, PUD) as x86's per-level rmaps, with a " +
    "per-MMU side table from shadow IPA to descriptor so that a leaf leaving its table for " +
    "any reason (TLBI, recycling, the map walker) drops its descriptor. A host unmap costs " +
    "one search per level plus a step per leaf it removes, whatever the IPA size or the " +
    "number of shadow MMUs.",
  source: "docs/rmap.md; lib/strategies/rmap.ts",
  style: { color: "#1f77b4", dash: "", symbol: "circle", hollow: false },
  make: () => new Rmap(),
};
