/**
 * The host (L0) memory behind L1: the memslots the VMM registered over L1 IPA space
 * (`struct kvm_memory_slot`, with their dirty logs), the host memory behind them (the
 * VMM's own page tables over each memslot's HVA range: base pages, THP or hugetlb), and a
 * host PA allocator that gives a migrated page a new PA. What the core mm does to that
 * memory (migration, reclaim, THP split) and the MMU notifier calls it makes are in
 * `mm.ts`; KVM's stage-2s are in `../kvm/`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { granule } from "../kvm/granule.ts";
 * import { HostMemory } from "./memory.ts";
 * const host = new HostMemory(granule("4K"), 40);
 * host.addMemslot({ id: 0, base: 0x4000_0000, size: 0x4000_0000, backing: "thp" });
 * const pa = host.faultinPfn(0x4000_1000, true);
 * assertEquals(host.hostMapSize, 2 * 2 ** 20); // a THP
 * assertEquals(host.hostPaOf(0x4000_1000), pa);
 * ```
 * @module
 */

import { type Granule, levelForSize, levelSize, stage2Geometry } from "../kvm/granule.ts";
import { KvmPgtable } from "../kvm/pgtable.ts";
import { installLeaf } from "../kvm/pgtable_shortcuts.ts";
import { forEachLeaf, kvmPgtableGetLeaf, kvmPgtableStage2Unmap } from "../kvm/pgtable_stage2.ts";
import { newWalkStats } from "../kvm/pgtable_walk.ts";
import { newPgtableLeaf, PTE_R, PTE_W } from "../kvm/pte.ts";
import { type BackingKind, parseBacking } from "./backing.ts";

export { type BackingKind, parseBacking } from "./backing.ts";

/** A memslot as the VMM registers it (KVM_SET_USER_MEMORY_REGION). */
export interface MemslotSpec {
  /** Slot id. */
  id: number;
  /** Guest (L1) physical base address: the canonical IPA of its first byte. */
  base: number;
  /** Bytes. */
  size: number;
  /** `page`, `thp`, or `hugetlb:<size>` (the PMD or, for 4K, the PUD size). */
  backing: string;
}

/** struct kvm_memory_slot with the host backing behind it. */
export interface Memslot {
  /** Slot id. */
  readonly id: number;
  /** Canonical IPA of the first byte. */
  readonly base: number;
  /** Bytes. */
  readonly size: number;
  /** Backing kind. */
  readonly backing: BackingKind;
  /** Host mapping size of the backing (PAGE_SIZE, PMD_SIZE or a hugetlb size). */
  readonly backingSize: number;
  /** KVM_MEM_LOG_DIRTY_PAGES is set (memslot_is_logging()). */
  logging: boolean;
  /** Host pages (by index from `base`) written since the last write-protect. */
  readonly dirty: Set<number>;
}

/**
 * Address bits of the tables that model the VMM's page tables: 40 gives every granule a
 * walk that starts at or above its largest hugetlb level (level 1 for 4K).
 */
const HOST_MM_BITS = 40;

/** The host page a lookup found (read at once). */
const HOST_LEAF = newPgtableLeaf();
/**
 * What the unmap walks of the host's own tables add to: never read (the VMM's page tables
 * are kept in the stage-2 format, so pages go out by the same walk, but only KVM's walks
 * are counted).
 */
const HOST_WALKS = newWalkStats();

/** The host: memslots, host memory and the PA allocator. */
export class HostMemory {
  /** The host's PAGE_SIZE granule (also that of every stage-2 KVM builds). */
  readonly granule: Granule;
  /**
   * The VMM's page tables over the memslots, keyed by canonical IPA: what is present where.
   * Deep enough for every backing whatever the PA range exposed to L1: the VMM's own page
   * tables are the host's (48-bit VA or more), so a 1G hugetlb page is one level-1 leaf
   * even where L1's PA range is 32 bits and its stage-2 starts at level 2.
   */
  readonly mm: KvmPgtable;
  /** kvm_get_pa_bits(): the PA range exposed to L1, which memslots must lie in. */
  readonly paBits: number;
  /** Live memslots. */
  readonly memslots: Memslot[] = [];
  /** Bytes of host memory currently allocated to L1. */
  allocatedBytes = 0;
  /** Result of {@linkcode faultinPfn}: the host mapping size (vma_pagesize). */
  hostMapSize = 0;
  /** PMD_SIZE of the host granule. */
  readonly pmdSize: number;
  /** PUD_SIZE of the host granule. */
  readonly pudSize: number;
  private nextPa: number;
  private lastSlot: Memslot | undefined;

  /** A host with no memslots; `paBits` is the PA range exposed to L1. */
  constructor(g: Granule, paBits: number) {
    this.granule = g;
    this.pmdSize = levelSize(g, 2);
    this.pudSize = levelSize(g, 1);
    this.paBits = paBits;
    this.mm = new KvmPgtable(stage2Geometry(g, Math.max(paBits, HOST_MM_BITS)));
    // Host PAs start at 1 TiB so that they are never mistaken for IPAs in a report.
    this.nextPa = 2 ** 40;
  }

  /** KVM_SET_USER_MEMORY_REGION: add a memslot; it must not overlap another. */
  addMemslot(spec: MemslotSpec): Memslot {
    const g = this.granule;
    const { kind, size: backingSize } = parseBacking(g, spec.backing);
    if (spec.size <= 0 || spec.base % g.pageSize !== 0 || spec.size % g.pageSize !== 0) {
      throw new RangeError(`memslot ${spec.id}: base and size must be multiples of ${g.name}`);
    }
    if (spec.base + spec.size > 2 ** this.paBits) {
      throw new RangeError(`memslot ${spec.id} ends beyond the ${this.paBits}-bit IPA space`);
    }
    for (const s of this.memslots) {
      if (s.id === spec.id) throw new RangeError(`memslot ${spec.id} already exists`);
      if (spec.base < s.base + s.size && s.base < spec.base + spec.size) {
        throw new RangeError(`memslot ${spec.id} overlaps memslot ${s.id}`);
      }
    }
    const slot: Memslot = {
      id: spec.id,
      base: spec.base,
      size: spec.size,
      backing: kind,
      backingSize,
      logging: false,
      dirty: new Set(),
    };
    this.memslots.push(slot);
    return slot;
  }

  /** gfn_to_memslot(): the memslot holding canonical IPA `ipa`, or undefined. */
  findMemslot(ipa: number): Memslot | undefined {
    const last = this.lastSlot;
    if (last && ipa >= last.base && ipa < last.base + last.size) return last;
    for (const s of this.memslots) {
      if (ipa >= s.base && ipa < s.base + s.size) return (this.lastSlot = s);
    }
    return undefined;
  }

  /** The memslot with id `id`, or a one-line error. */
  memslot(id: number): Memslot {
    const s = this.memslots.find((m) => m.id === id);
    if (!s) throw new RangeError(`no memslot ${id}`);
    return s;
  }

  /** KVM_SET_USER_MEMORY_REGION with size 0: the memslot and its host memory go. */
  deleteMemslot(id: number): Memslot {
    const slot = this.memslot(id);
    this.dropHostRange(slot.base, slot.base + slot.size);
    this.memslots.splice(this.memslots.indexOf(slot), 1);
    if (this.lastSlot === slot) this.lastSlot = undefined;
    return slot;
  }

  private allocPa(size: number): number {
    const pa = Math.ceil(this.nextPa / size) * size;
    this.nextPa = pa + size;
    this.allocatedBytes += size;
    return pa;
  }

  /** The host PA now backing canonical IPA `ipa`, or -1 when nothing is present. */
  hostPaOf(ipa: number): number {
    const leaf = HOST_LEAF;
    if (kvmPgtableGetLeaf(this.mm, ipa, leaf) < 0) return -1;
    return leaf.oa + (ipa - leaf.base);
  }

  /**
   * __kvm_faultin_pfn() / the host's own page fault: the host PA backing `ipa`, faulting
   * host memory in (a new PA) if nothing is present. The host mapping size is left in
   * `hostMapSize`. Returns -1 when `ipa` is in no memslot.
   */
  faultinPfn(ipa: number, _write: boolean): number {
    const mm = this.mm;
    const leaf = HOST_LEAF;
    if (kvmPgtableGetLeaf(mm, ipa, leaf) >= 0) {
      this.hostMapSize = leaf.size;
      return leaf.oa + (ipa - leaf.base);
    }
    const slot = this.findMemslot(ipa);
    if (!slot) return -1;
    let size = slot.backingSize;
    let base = Math.floor(ipa / size) * size;
    // A huge page only where the whole of it lies in the slot and nothing of it is present.
    if (
      size > this.granule.pageSize &&
      (base < slot.base || base + size > slot.base + slot.size ||
        this.anyPresent(base, base + size))
    ) {
      size = this.granule.pageSize;
      base = Math.floor(ipa / size) * size;
    }
    const pa = this.allocPa(size);
    installLeaf(mm, base, levelForSize(this.granule, size), pa, PTE_R | PTE_W, 0);
    this.hostMapSize = size;
    return pa + (ipa - base);
  }

  private anyPresent(start: number, end: number): boolean {
    let found = false;
    forEachLeaf(this.mm, () => found = true, start, end);
    return found;
  }

  /**
   * The host range an MMU notifier covers for [start, end): widened to the host pages
   * (THP, hugetlb) that overlap it, as the core mm invalidates whole huge pages.
   */
  notifierRange(start: number, end: number): [number, number] {
    let s = start, e = end;
    forEachLeaf(
      this.mm,
      (addr, size) => {
        if (addr < s) s = addr;
        if (addr + size > e) e = addr + size;
      },
      start,
      end,
    );
    return [s, e];
  }

  /** Swap-out / reclaim: the host pages in [start, end) are freed; nothing is present. */
  dropHostRange(start: number, end: number): void {
    const leaves: number[] = [];
    forEachLeaf(this.mm, (addr, size) => leaves.push(addr, size), start, end);
    for (let i = 0; i < leaves.length; i += 2) {
      kvmPgtableStage2Unmap(this.mm, leaves[i], leaves[i + 1], HOST_WALKS);
      this.allocatedBytes -= leaves[i + 1];
    }
  }

  /** migrate_pages(): every host page in [start, end) moves to a newly allocated PA. */
  migrateHostRange(start: number, end: number): number {
    const leaves: number[] = [];
    forEachLeaf(this.mm, (addr, size) => leaves.push(addr, size), start, end);
    for (let i = 0; i < leaves.length; i += 2) {
      const size = leaves[i + 1];
      const pa = this.allocPa(size);
      this.allocatedBytes -= size;
      installLeaf(this.mm, leaves[i], levelForSize(this.granule, size), pa, PTE_R | PTE_W, 0);
    }
    return leaves.length / 2;
  }

  /** split_huge_pmd(): huge pages in [start, end) become base pages at the same PAs. */
  splitHostRange(start: number, end: number): number {
    const leaves: number[] = [];
    forEachLeaf(
      this.mm,
      (addr, size, oa) => {
        if (size > this.granule.pageSize) leaves.push(addr, size, oa);
      },
      start,
      end,
    );
    const page = this.granule.pageSize;
    for (let i = 0; i < leaves.length; i += 3) {
      for (let off = 0; off < leaves[i + 1]; off += page) {
        installLeaf(this.mm, leaves[i] + off, 3, leaves[i + 2] + off, PTE_R | PTE_W, 0);
      }
    }
    return leaves.length / 3;
  }

  /** Whether KVM may map canonical [ipa, ipa + size) writable now (dirty logging). */
  writableForKvm(ipa: number, size: number): boolean {
    const slot = this.findMemslot(ipa);
    if (!slot) return false;
    if (!slot.logging) return true;
    const page = this.granule.pageSize;
    for (let a = ipa; a < ipa + size; a += page) {
      if (!slot.dirty.has((a - slot.base) / page)) return false;
    }
    return true;
  }

  /** mark_page_dirty_in_slot(). */
  markDirty(ipa: number): void {
    const slot = this.findMemslot(ipa);
    if (slot?.logging) slot.dirty.add(Math.floor((ipa - slot.base) / this.granule.pageSize));
  }
}
