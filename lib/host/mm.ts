/**
 * What the host's core mm does to the memory behind L1, each time through the MMU
 * notifier first (kvm_mmu_notifier_invalidate_range_start(), so KVM unmaps the canonical
 * stage-2 and every shadow entry derived from it): page migration (`migrate_pages()`:
 * migratepages, NUMA balancing), a NUMA-balancing scan (`change_prot_numa()`), swap-out
 * and reclaim, and a THP split. The notifier covers whole huge pages. Each returns the
 * canonical range it invalidated.
 *
 * @example Migrating a page gives it a new host PA
 * ```ts
 * import { assertEquals, assertNotEquals } from "@std/assert";
 * import { FullWalk } from "../strategies/full_walk.ts";
 * import { kvmCreateVm } from "../kvm/kvm_main.ts";
 * import { l1Access } from "../kvm/arm.ts";
 * import { migratePages } from "./mm.ts";
 * const kvm = kvmCreateVm({
 *   hostGranule: "4K", paBits: 40, vcpus: 1,
 *   memslots: [{ id: 0, base: 0x4000_0000, size: 0x4000_0000, backing: "thp" }],
 * }, new FullWalk());
 * l1Access(kvm, 0x4000_1000, true);
 * const before = kvm.host.hostPaOf(0x4000_1000);
 * assertEquals(migratePages(kvm, 0x4000_1000, 0x4000_2000), [0x4000_0000, 0x4020_0000]); // the THP
 * assertNotEquals(kvm.host.hostPaOf(0x4000_1000), before);
 * ```
 * @module
 */

import type { Kvm } from "../kvm/kvm.ts";
import { kvmMmuNotifierInvalidateRangeStart } from "../kvm/kvm_main.ts";

/** The notifier's invalidation of the host pages overlapping [start, end); returns the range. */
function invalidate(kvm: Kvm, start: number, end: number): [number, number] {
  const [s, e] = kvm.host.notifierRange(start, end);
  kvmMmuNotifierInvalidateRangeStart(kvm, s, e);
  return [s, e];
}

/** Swap-out / reclaim: notifier unmap, then the host pages are freed. */
export function swapOut(kvm: Kvm, start: number, end: number): [number, number] {
  const [s, e] = invalidate(kvm, start, end);
  kvm.host.dropHostRange(s, e);
  return [s, e];
}

/** migrate_pages() (migratepages, NUMA balancing): notifier unmap, then new host PAs. */
export function migratePages(kvm: Kvm, start: number, end: number): [number, number] {
  const [s, e] = invalidate(kvm, start, end);
  kvm.host.migrateHostRange(s, e);
  return [s, e];
}

/** change_prot_numa(): a NUMA-balancing scan: notifier unmap, pages stay where they are. */
export function numaScan(kvm: Kvm, start: number, end: number): [number, number] {
  return invalidate(kvm, start, end);
}

/** split_huge_pmd(): notifier unmap over the huge pages, then base pages at the same PAs. */
export function thpSplit(kvm: Kvm, start: number, end: number): [number, number] {
  const [s, e] = invalidate(kvm, start, end);
  kvm.host.splitHostRange(s, e);
  return [s, e];
}
