/**
 * What the fuzzer ranges over, one list each: the PA sizes a host can have, the L1 stage-2
 * input sizes, the (host granule, L1 granule) pairs KVM allows, the leaf sizes an L1
 * context can map, and the memslot backings of a host granule. The generator draws from
 * these lists and the coverage counter (`coverage.ts`) reports against them, so that a
 * value the generator never draws shows as a zero.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { backingsOf, GRANULE_PAIRS, l1LeafSizes } from "./domain.ts";
 * assertEquals(GRANULE_PAIRS.length, 6);
 * assertEquals(backingsOf("16K"), ["page", "thp", "hugetlb:32M"]);
 * assertEquals(l1LeafSizes("4K", 32), [2 ** 21, 4096]); // no level-1 block below a level-2 start
 * ```
 * @module
 */

import { NESTED_MAX_IPA_BITS, NESTED_MIN_IPA_BITS } from "../guest/l1.ts";
import {
  granule,
  GRANULE_NAMES,
  type GranuleName,
  leafSizes,
  levelForSize,
  levelSize,
  stage2Geometry,
} from "../kvm/granule.ts";
import { formatSize } from "../util/size.ts";

/**
 * The PA sizes ID_AA64MMFR0_EL1.PARange encodes, which kvm_get_pa_bits() returns
 * (id_aa64mmfr0_parange_to_phys_shift(), arch/arm64/include/asm/cpufeature.h, torvalds/linux
 * v6.12): the host's PA size, L1's PA range and every shadow MMU's IPA size.
 */
export const PA_RANGE_BITS: readonly number[] = [32, 36, 40, 42, 44, 48, 52];

/**
 * L1 stage-2 input sizes (64 - VTCR_EL2.T0SZ) the fuzzer gives contexts: the PARange sizes
 * that walk_nested_s2_pgd() accepts, and 39 bits (a 4K stage-2 of three levels with no
 * concatenated tables at its start, as a VMM's KVM_VM_TYPE_ARM_IPA_SIZE may ask).
 */
export const L1_IPA_BITS: readonly number[] = [
  ...PA_RANGE_BITS.filter((b) => b >= NESTED_MIN_IPA_BITS && b <= NESTED_MAX_IPA_BITS),
  39,
].sort((a, b) => a - b);

/** A host granule and an L1 context granule. */
export interface GranulePair {
  /** Host PAGE_SIZE. */
  host: GranuleName;
  /** L1's VTCR_EL2.TG0. */
  l1: GranuleName;
}

/**
 * Every (host, L1) granule pair KVM allows: L1's granule at least the host's (KVM hides
 * smaller granules from L1, limit_nv_id_reg()).
 */
export const GRANULE_PAIRS: readonly GranulePair[] = GRANULE_NAMES.flatMap((host) =>
  GRANULE_NAMES.filter((l1) => granule(l1).pageSize >= granule(host).pageSize).map((l1) => ({
    host,
    l1,
  }))
);

/**
 * The leaf sizes (blocks, largest first, then the page) an L1 context of granule `g` and
 * input size `ipaBits` can map: a block level at or below the table's start level.
 */
export function l1LeafSizes(g: GranuleName, ipaBits: number): number[] {
  const gr = granule(g);
  const start = stage2Geometry(gr, ipaBits, NESTED_MIN_IPA_BITS, NESTED_MAX_IPA_BITS).startLevel;
  return leafSizes(gr).filter((s) => levelForSize(gr, s) >= start);
}

/** A leaf's name for tables: `4K page`, `4K 2M block`. */
export function leafName(g: GranuleName, size: number): string {
  return size === granule(g).pageSize ? `${g} page` : `${g} ${formatSize(size)} block`;
}

/**
 * The memslot backings of a host granule: base pages, THP, and hugetlb at the PMD size,
 * and at the PUD size with 4K pages (arm64 hugetlbpage.c; `../host/memory.ts`).
 */
export function backingsOf(host: GranuleName): string[] {
  const g = granule(host);
  const out = ["page", "thp", `hugetlb:${formatSize(levelSize(g, 2))}`];
  if (g.pageShift === 12) out.push(`hugetlb:${formatSize(levelSize(g, 1))}`);
  return out;
}
