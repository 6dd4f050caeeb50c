/**
 * L2 memory layout of an exported selftest: which memslots the L2 VMs get and where in
 * one shared memfd each slot's memory lives.
 *
 * A trace's `l1-map` is L1's stage-2 mapping L2 IPA -> L1 IPA. In a real L1, L1's KVM
 * builds that table from the L2 VM's memslots (L2 GPA -> L1 userspace address -> L1 PA),
 * so a mapping becomes (part of) a memslot at L2 GPA = its L2 IPA. The absolute L1 IPA is
 * chosen by L1's kernel; what the program keeps is which L2 IPAs share an L1 page: every
 * canonical (L1) address the trace maps goes to one memfd offset, through one linear map
 * per cluster of nearby canonical addresses, so aliases share memfd pages and a 4K page
 * inside a 2M block stays at its offset in that block.
 *
 * - Mappings that live to the end and never overlap another mapping of their context
 *   ("stable") are grouped into runs (same context, same L2 - L1 offset, same size class,
 *   same permission, same 1 GiB L2 region) and get one slot per run, created before L2
 *   runs. A run of pages is widened, when nothing else of its context is in the way, to the
 *   power-of-two slot at the start of its 1 GiB region (at least a PMD block): the
 *   published reproducer's mappings become two 128 MiB slots at 4 GiB and 6 GiB.
 *   L1's KVM maps lazily, on L2's first touch, so an early slot is no early mapping.
 * - Mappings that are unmapped or replaced later ("volatile") get a slot of exactly their
 *   range, added at their `l1-map` and deleted at their end.
 * - Blocks (the granule's PMD size) get exact slots, PMD-aligned in the memfd.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { layoutSlots, type Mapping } from "./layout.ts";
 * const m = (event: number, l2ipa: number): Mapping => ({
 *   event, ctx: 1, l2ipa, l1ipa: 0x57fc0000, size: 0x1000, writable: true,
 *   end: null, stable: true, slot: null,
 * });
 * const layout = layoutSlots([m(0, 0x107fc0000), m(2, 0x187fc0000)], 0x200000);
 * assertEquals(layout.slots.map((s) => [s.id, s.gpa, s.size, s.fdOffset]), [
 *   [1, 0x100000000, 0x8000000, 0],
 *   [2, 0x180000000, 0x8000000, 0],
 * ]);
 * assertEquals(layout.memfdSize, 0x8000000);
 * assertEquals(layout.fdOffset(0x57fc0000), 0x7fc0000);
 * ```
 * @module
 */

/** L2 region a page run is widened within (and aligned to). */
export const REGION_SIZE = 2 ** 30;

/** One L1 stage-2 mapping of the trace, with its lifetime. */
export interface Mapping {
  /** The `l1-map` event. */
  event: number;
  /** Trace context. */
  ctx: number;
  /** L2 IPA (L2 GPA in the program). */
  l2ipa: number;
  /** Canonical (L1) IPA. */
  l1ipa: number;
  /** Size: the L1 page or a PMD block. */
  size: number;
  /** L1 maps it writable. */
  writable: boolean;
  /** The event that removes it (`l1-unmap` or a remap), or null when it lives to the end. */
  end: number | null;
  /** Lives to the end and no other mapping of its context ever overlaps it. */
  stable: boolean;
  /** The memslot that backs it (set by {@linkcode layoutSlots}). */
  slot: Slot | null;
}

/** One memslot of an L2 VM. */
export interface Slot {
  /** KVM memslot id (from 1; kvm_util keeps slot 0 for the test's code and page tables). */
  id: number;
  /** Trace context (the VM). */
  ctx: number;
  /** L2 GPA of the slot. */
  gpa: number;
  /** Bytes. */
  size: number;
  /** Canonical (trace L1) address the slot's first byte stands for. */
  canon: number;
  /** Offset of the slot's first byte in the memfd. */
  fdOffset: number;
  /** Block mappings: PMD-aligned, MADV_HUGEPAGE; otherwise MADV_NOHUGEPAGE. */
  huge: boolean;
  /** KVM_MEM_READONLY: L1 maps it read-only. */
  readonly: boolean;
  /** The trace mappings it backs. */
  mappings: Mapping[];
  /** Added at its mapping's `l1-map` and deleted at its end (volatile), or present throughout. */
  volatile: boolean;
}

/** Canonical addresses laid out contiguously in the memfd. */
export interface Cluster {
  /** First canonical address (PMD-aligned). */
  canonBase: number;
  /** Bytes (a multiple of the PMD size). */
  size: number;
  /** memfd offset of `canonBase`. */
  fdBase: number;
}

/** The slots and the memfd they share. */
export interface Layout {
  /** Every slot, in id order. */
  slots: Slot[];
  /** Canonical clusters in memfd order. */
  clusters: Cluster[];
  /** memfd size in bytes. */
  memfdSize: number;
  /** memfd offset of a canonical address, or null when no slot covers its cluster. */
  fdOffset(canonical: number): number | null;
}

const floorTo = (x: number, a: number) => Math.floor(x / a) * a;
const ceilTo = (x: number, a: number) => Math.ceil(x / a) * a;
const pow2ceil = (x: number) => 2 ** Math.ceil(Math.log2(x));
const overlaps = (a: [number, number], b: [number, number]) => a[0] < b[1] && b[0] < a[1];

interface Run {
  ctx: number;
  mappings: Mapping[];
  start: number;
  end: number;
  huge: boolean;
}

/** Group a context's stable mappings into runs (sorted by L2 IPA). */
function runsOf(stable: Mapping[], pmd: number): Run[] {
  const runs: Run[] = [];
  const sorted = [...stable].sort((a, b) => a.ctx - b.ctx || a.l2ipa - b.l2ipa);
  for (const m of sorted) {
    const last = runs.at(-1);
    const first = last?.mappings[0];
    const huge = m.size >= pmd;
    if (
      last && first && last.ctx === m.ctx && last.huge === huge &&
      first.l2ipa - first.l1ipa === m.l2ipa - m.l1ipa && first.writable === m.writable &&
      floorTo(first.l2ipa, REGION_SIZE) === floorTo(m.l2ipa, REGION_SIZE)
    ) {
      last.mappings.push(m);
      last.end = Math.max(last.end, m.l2ipa + m.size);
    } else {
      runs.push({ ctx: m.ctx, mappings: [m], start: m.l2ipa, end: m.l2ipa + m.size, huge });
    }
  }
  return runs;
}

/**
 * Lay the mappings out in memslots and one memfd (see the module doc); `pmd` is the PMD
 * block size of L1's granule (2M for 4K pages).
 */
export function layoutSlots(mappings: Mapping[], pmd: number): Layout {
  const slots: Slot[] = [];
  const volatile = mappings.filter((m) => !m.stable);
  const runs = runsOf(mappings.filter((m) => m.stable), pmd);
  // What each context has in its L2 space, to keep widened slots clear of it.
  const taken = (ctx: number, except: Run): [number, number][] => [
    ...runs.filter((r) => r.ctx === ctx && r !== except).map((r) =>
      [r.start, r.end] as [number, number]
    ),
    ...volatile.filter((m) => m.ctx === ctx).map((m) =>
      [m.l2ipa, m.l2ipa + m.size] as [number, number]
    ),
  ];
  const accepted: [number, number][] = [];
  for (const r of runs) {
    let range: [number, number] = [r.start, r.end];
    if (!r.huge) {
      const base = floorTo(r.start, REGION_SIZE);
      const candidates: [number, number][] = [
        [base, base + pow2ceil(Math.max(r.end - base, pmd))],
        [floorTo(r.start, pmd), ceilTo(r.end, pmd)],
      ];
      const others = [...taken(r.ctx, r), ...accepted.filter((_, i) => slots[i].ctx === r.ctx)];
      range = candidates.find((c) => !others.some((o) => overlaps(c, o))) ?? range;
    }
    const m0 = r.mappings[0];
    const slot: Slot = {
      id: 0,
      ctx: r.ctx,
      gpa: range[0],
      size: range[1] - range[0],
      canon: range[0] - (m0.l2ipa - m0.l1ipa),
      fdOffset: 0,
      huge: r.huge,
      readonly: !m0.writable,
      mappings: r.mappings,
      volatile: false,
    };
    accepted.push(range);
    slots.push(slot);
  }
  for (const m of [...volatile].sort((a, b) => a.event - b.event)) {
    slots.push({
      id: 0,
      ctx: m.ctx,
      gpa: m.l2ipa,
      size: m.size,
      canon: m.l1ipa,
      fdOffset: 0,
      huge: m.size >= pmd,
      readonly: !m.writable,
      mappings: [m],
      volatile: true,
    });
  }
  slots.forEach((s, i) => {
    s.id = i + 1;
    for (const m of s.mappings) m.slot = s;
  });
  // Clusters: the slots' canonical windows, PMD-aligned, merged where they overlap.
  const windows = slots
    .map((s) => [floorTo(s.canon, pmd), ceilTo(s.canon + s.size, pmd)] as [number, number])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const clusters: Cluster[] = [];
  let fd = 0;
  for (const [s, e] of windows) {
    const last = clusters.at(-1);
    if (last && s < last.canonBase + last.size) {
      const grow = Math.max(0, e - (last.canonBase + last.size));
      last.size += grow;
      fd += grow;
    } else {
      clusters.push({ canonBase: s, size: e - s, fdBase: fd });
      fd += e - s;
    }
  }
  const fdOffset = (c: number): number | null => {
    const k = clusters.find((k) => c >= k.canonBase && c < k.canonBase + k.size);
    return k ? k.fdBase + (c - k.canonBase) : null;
  };
  for (const s of slots) s.fdOffset = fdOffset(s.canon)!;
  return { slots, clusters, memfdSize: fd, fdOffset };
}
