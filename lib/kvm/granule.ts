/**
 * Translation granule geometry for arm64 VMSAv8-64 stage-2 tables: page shift, bits
 * per level, block levels and sizes, and the start level / concatenated start-level
 * tables that KVM picks for an IPA size.
 *
 * @example The stage-2 KVM builds for a 40-bit IPA space with 4K pages
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { granule, stage2ChunkCount, stage2Geometry } from "./granule.ts";
 * const g = stage2Geometry(granule("4K"), 40);
 * assertEquals([g.startLevel, g.pgdPages], [1, 2]);
 * // The full-walk unmap of a 48-bit 4K shadow: one stage2_apply_range() chunk per 1 GiB.
 * assertEquals(stage2ChunkCount(granule("4K"), 0, 2 ** 48), 262144);
 * ```
 * @module
 */

/** Granule names as L1 writes them in VTCR_EL2.TG0 and as the host has them as PAGE_SIZE. */
export type GranuleName = "4K" | "16K" | "64K";

/** The granule names this model knows, in increasing size. */
export const GRANULE_NAMES: readonly GranuleName[] = ["4K", "16K", "64K"];

/** Deepest level of a VMSAv8-64 table walk (the page level). */
export const KVM_PGTABLE_LAST_LEVEL = 3;

/** Smallest IPA size KVM accepts for a stage-2 (ARM64_MIN_PARANGE_BITS). */
export const ARM64_MIN_PARANGE_BITS = 32;

/** Largest IPA size of the architecture (FEAT_LPA2 for 4K/16K, FEAT_LPA for 64K). */
export const ARM64_MAX_PARANGE_BITS = 52;

/** One translation granule. */
export interface Granule {
  /** "4K", "16K" or "64K". */
  readonly name: GranuleName;
  /** PAGE_SHIFT: 12, 14 or 16. */
  readonly pageShift: number;
  /** PAGE_SIZE in bytes. */
  readonly pageSize: number;
  /** Address bits resolved per level: PAGE_SHIFT - 3. */
  readonly bitsPerLevel: number;
  /** PTRS_PER_PTE: descriptors in one table page. */
  readonly ptrsPerTable: number;
  /** KVM_PGTABLE_MIN_BLOCK_LEVEL: 1 for 4K pages, 2 otherwise. */
  readonly minBlockLevel: number;
  /** kvm_granule_size(level) for levels 0..KVM_PGTABLE_LAST_LEVEL (computed once). */
  readonly levelSizes: readonly number[];
}

const GRANULES: Readonly<Record<GranuleName, Granule>> = {
  "4K": makeGranule("4K", 12),
  "16K": makeGranule("16K", 14),
  "64K": makeGranule("64K", 16),
};

function makeGranule(name: GranuleName, pageShift: number): Granule {
  return {
    name,
    pageShift,
    pageSize: 2 ** pageShift,
    bitsPerLevel: pageShift - 3,
    ptrsPerTable: 2 ** (pageShift - 3),
    // kvm_pgtable.h: KVM_PGTABLE_MIN_BLOCK_LEVEL is 1 when PAGE_SHIFT == 12, else 2.
    minBlockLevel: pageShift === 12 ? 1 : 2,
    levelSizes: [0, 1, 2, 3].map((l) => 2 ** (pageShift + (3 - l) * (pageShift - 3))),
  };
}

/** Look up a granule by name; throws a one-line error for anything else. */
export function granule(name: string): Granule {
  const g = (GRANULES as Record<string, Granule | undefined>)[name];
  if (!g) {
    throw new RangeError(`unknown granule "${name}" (expected one of ${GRANULE_NAMES.join(", ")})`);
  }
  return g;
}

/** kvm_granule_shift(level): address shift of one entry at `level`. */
export function levelShift(g: Granule, level: number): number {
  return g.pageShift + (KVM_PGTABLE_LAST_LEVEL - level) * g.bitsPerLevel;
}

/** kvm_granule_size(level): bytes mapped by one entry at `level`. */
export function levelSize(g: Granule, level: number): number {
  return g.levelSizes[level] ?? 2 ** levelShift(g, level);
}

/** Block sizes KVM may map at stage 2 with this granule, largest first (1G, 2M for 4K). */
export function blockSizes(g: Granule): number[] {
  const out: number[] = [];
  for (let l = g.minBlockLevel; l < KVM_PGTABLE_LAST_LEVEL; l++) out.push(levelSize(g, l));
  return out;
}

/** Leaf sizes (blocks and the page), largest first. */
export function leafSizes(g: Granule): number[] {
  return [...blockSizes(g), g.pageSize];
}

/** The level whose entries map exactly `size` bytes, or -1 when no level does. */
export function levelForSize(g: Granule, size: number): number {
  return g.levelSizes.indexOf(size);
}

/** A stage-2 table layout: granule, IPA size, start level and concatenated pgd pages. */
export interface Stage2Geometry {
  /** The translation granule. */
  readonly granule: Granule;
  /** IPA size in bits (VTCR_EL2.T0SZ = 64 - ipaBits). */
  readonly ipaBits: number;
  /** Bytes of IPA space: BIT(ipaBits), kvm_phys_size(). */
  readonly ipaSize: number;
  /** Number of lookup levels, at least 2 (kvm_get_vtcr()). */
  readonly levels: number;
  /** Start level: 4 - levels (VTCR_EL2.SL0 encodes it). */
  readonly startLevel: number;
  /** Descriptors at the start level, over all concatenated pgd pages. */
  readonly rootEntries: number;
  /** Concatenated pgd pages (1..16), kvm_pgd_pages(). */
  readonly pgdPages: number;
}

/**
 * stage2_pgtable_levels(ipa) = ARM64_HW_PGTABLE_LEVELS(ipa - 4), at least 2 (kvm_get_vtcr):
 * up to 16 tables are concatenated at the start level, so 4 more bits are resolved there.
 */
export function stage2Levels(g: Granule, ipaBits: number): number {
  const lvls = Math.floor((ipaBits - 4 - 4) / g.bitsPerLevel);
  return Math.max(2, lvls);
}

/**
 * The stage-2 geometry KVM uses for an IPA size (kvm_get_vtcr(), kvm_pgd_pages()).
 * `minBits`/`maxBits` bound the accepted sizes: the host accepts 32..52 bits; an L1
 * stage-2 walked by walk_nested_s2_pgd() has other bounds (see `l1.ts`).
 */
export function stage2Geometry(
  g: Granule,
  ipaBits: number,
  minBits = ARM64_MIN_PARANGE_BITS,
  maxBits = ARM64_MAX_PARANGE_BITS,
): Stage2Geometry {
  if (!Number.isInteger(ipaBits) || ipaBits < minBits || ipaBits > maxBits) {
    throw new RangeError(
      `IPA size ${ipaBits} bits is out of range for a ${g.name} stage-2 (${minBits}..${maxBits})`,
    );
  }
  const levels = stage2Levels(g, ipaBits);
  const startLevel = KVM_PGTABLE_LAST_LEVEL + 1 - levels;
  const rootEntries = 2 ** (ipaBits - levelShift(g, startLevel));
  const pgdPages = Math.ceil(rootEntries / g.ptrsPerTable);
  if (pgdPages > 16) {
    // The architecture concatenates at most 16 tables at the start level.
    throw new RangeError(
      `IPA size ${ipaBits} bits needs ${pgdPages} concatenated ${g.name} tables`,
    );
  }
  return { granule: g, ipaBits, ipaSize: 2 ** ipaBits, levels, startLevel, rootEntries, pgdPages };
}

/**
 * stage2_range_addr_end(): the end of the `stage2_apply_range()` chunk starting at
 * `addr`, cut at kvm_granule_size(KVM_PGTABLE_MIN_BLOCK_LEVEL) boundaries.
 */
export function stage2RangeAddrEnd(g: Granule, addr: number, end: number): number {
  const size = levelSize(g, g.minBlockLevel);
  const boundary = Math.floor((addr + size) / size) * size;
  return boundary < end ? boundary : end;
}

/**
 * Number of `stage2_apply_range()` loop iterations over [start, end): one per chunk
 * at KVM_PGTABLE_MIN_BLOCK_LEVEL boundaries, computed without looping.
 */
export function stage2ChunkCount(g: Granule, start: number, end: number): number {
  if (end <= start) return 0;
  const size = levelSize(g, g.minBlockLevel);
  return Math.floor((end - 1) / size) - Math.floor(start / size) + 1;
}
