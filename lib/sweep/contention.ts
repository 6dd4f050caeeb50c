/**
 * Lock contention of a design's index inserts, as the kernel runs faults: stage-2 faults,
 * nested ones included, hold `kvm->mmu_lock` for read (`kvm_fault_lock()`), so every vCPU
 * inserts into the reverse index at once and the index needs locks of its own. An insert
 * is *contended* when another vCPU inserted into the same lock domain in the same phase: a
 * maximal run of guest accesses between two other events (host, L1 or TLBI events), during
 * which every vCPU runs. Counted for three domains at once: one per VM, one per shadow MMU,
 * one per canonical chunk (512 leaves of one size, a last-level table's span at that size).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { InsertContention } from "./contention.ts";
 * const c = new InsertContention();
 * c.insert(0, 0, 0x4000_0000, 4096); // vCPU 0, MMU 0
 * c.insert(1, 1, 0x4000_1000, 4096); // vCPU 1, MMU 1, same 2M chunk
 * c.insert(1, 1, 0x8000_0000, 4096); // vCPU 1, another chunk
 * c.endPhase();
 * assertEquals([c.inserts, c.contended.vm, c.contended.mmu, c.contended.chunk], [3, 3, 0, 2]);
 * ```
 * @module
 */

import type { InsertLock } from "../kvm/strategy.ts";
import { AddrMap } from "../util/addr_table.ts";

/** Leaves of one size a chunk domain covers (PTRS_PER_PTE at 4K: a last-level table). */
export const CHUNK_LEAVES = 512;

/** Domains measured (every {@linkcode InsertLock} but `none`). */
export type LockDomain = Exclude<InsertLock, "none">;

/** Owner value of a domain more than one vCPU inserted into in this phase. */
const SHARED = 2 ** 31 - 1;

/** The domains of one kind touched in the current phase: flat, no per-domain object. */
class Domains {
  /** domain key -> its slot in this phase */
  private readonly slot = new AddrMap();
  /** Per slot: the one vCPU that inserted in this phase, or SHARED. */
  private owner: number[] = [];
  /** Per slot: inserts in this phase. */
  private count: number[] = [];
  /** The last key seen and its slot (runs of inserts into one domain). */
  private lastKey = -1;
  private lastSlot = -1;
  contended = 0;

  add(key: number, vcpu: number): void {
    let i = key === this.lastKey ? this.lastSlot : this.slot.get(key);
    if (i < 0) {
      i = this.owner.length;
      this.slot.set(key, i);
      this.owner.push(vcpu);
      this.count.push(1);
    } else {
      if (this.owner[i] !== vcpu) this.owner[i] = SHARED;
      this.count[i]++;
    }
    this.lastKey = key;
    this.lastSlot = i;
  }

  end(): void {
    const n = this.owner.length;
    if (n === 0) return;
    for (let i = 0; i < n; i++) if (this.owner[i] === SHARED) this.contended += this.count[i];
    this.slot.clear();
    this.owner = [];
    this.count = [];
    this.lastKey = -1;
    this.lastSlot = -1;
  }
}

/** Counts inserts, and contended ones per lock domain, over a replay. */
export class InsertContention {
  /** Inserts seen. */
  inserts = 0;
  private readonly d: Record<LockDomain, Domains> = {
    vm: new Domains(),
    mmu: new Domains(),
    chunk: new Domains(),
  };

  /** Inserts that met another vCPU's in the same domain and phase, per domain. */
  get contended(): Record<LockDomain, number> {
    return { vm: this.d.vm.contended, mmu: this.d.mmu.contended, chunk: this.d.chunk.contended };
  }

  /** vCPU `vcpu` inserted a leaf of `size` at canonical IPA `canonical` into MMU `mmu`. */
  insert(vcpu: number, mmu: number, canonical: number, size: number): void {
    this.inserts++;
    this.d.vm.add(0, vcpu);
    this.d.mmu.add(mmu, vcpu);
    // Chunk index (< 2^31 for 52-bit IPAs) and log2(size) (< 64) in one exact number.
    this.d.chunk.add(Math.floor(canonical / (CHUNK_LEAVES * size)) * 64 + Math.log2(size), vcpu);
  }

  /** The phase ended (an event other than a guest access). */
  endPhase(): void {
    this.d.vm.end();
    this.d.mmu.end();
    this.d.chunk.end();
  }
}
