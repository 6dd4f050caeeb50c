/**
 * `kvm_pte_t`: what the bits of a stage-2 descriptor mean in this model (the attribute
 * byte kept per descriptor; its output address is kept beside it), and a leaf as
 * `kvm_pgtable_get_leaf()` hands it back, decoded. Every other page-table module reads
 * descriptors through these names.
 *
 * @example A writable shadow leaf that records L1's level-2 mapping in its software bits
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { PTE_NV_MAP_SHIFT, PTE_R, PTE_TABLE, PTE_VALID, PTE_W } from "./pte.ts";
 * const attr = PTE_VALID | PTE_R | PTE_W | (2 << PTE_NV_MAP_SHIFT);
 * assertEquals([(attr & PTE_TABLE) !== 0, (attr >> PTE_NV_MAP_SHIFT) & 7], [false, 2]);
 * ```
 * @module
 */

/** KVM_PTE_VALID: every non-zero attribute byte has it (0 is an invalid descriptor). */
export const PTE_VALID = 1;
/** KVM_PTE_TYPE_TABLE: a table descriptor (its output address holds the child table id). */
export const PTE_TABLE = 2;
/** Leaf attribute: readable (KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R). */
export const PTE_R = 4;
/** Leaf attribute: writable (KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W); cleared by write-protection. */
export const PTE_W = 8;
/**
 * Software bits 4..6 of a shadow leaf: L1's mapping level (KVM_NV_GUEST_MAP_SZ, written by
 * kvm_encode_nested_level()), read back by get_guest_mapping_ttl(); 0 means no information
 * (a level-0 mapping encodes as 0 too).
 */
export const PTE_NV_MAP_SHIFT = 4;

/** The root (pgd, all concatenated pages) is table id 0: no table descriptor points to it. */
export const ROOT_TABLE = 0;

/**
 * A leaf found by `kvm_pgtable_get_leaf()` (its `*ptep` and `*level`, decoded): where it is
 * and what it holds. Callers pass one in and read it after the call; nothing of it is kept.
 */
export interface PgtableLeaf {
  /** Level of the leaf. */
  level: number;
  /** Table id holding the descriptor (the simulator's `ptep`, with {@linkcode index}). */
  table: number;
  /** Index of the descriptor in that table. */
  index: number;
  /** Base IPA of the leaf (aligned to its size). */
  base: number;
  /** Bytes the leaf maps: kvm_granule_size(level). */
  size: number;
  /** Output address of the leaf. */
  oa: number;
  /** Attribute bits. */
  attr: number;
  /** Simulator-only number of the leaf (0 when the table keeps none). */
  meta: number;
}

/** A zeroed {@linkcode PgtableLeaf} for a lookup to fill (one per caller, reused). */
export function newPgtableLeaf(): PgtableLeaf {
  return { level: -1, table: 0, index: 0, base: 0, size: 0, oa: 0, attr: 0, meta: 0 };
}
