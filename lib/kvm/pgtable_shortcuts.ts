/**
 * The simulator's shortcuts past the walker (`pgtable_walk.ts`): each gives what a walk
 * from the pgd gives, the same result, state and counts, in less time. None is kernel
 * code. A table made with `shortcuts: false` takes none of them (its lookups, maps and
 * range operations walk from the pgd; a direct {@linkcode installLeaf} descends from the
 * pgd), and the property tests in `pgtable_test.ts` hold each shortcut to that table.
 *
 * - **The last-leaf position**: the leaf written, changed or being removed last (its
 *   table, index and pool slot), so that a number kept beside it ({@linkcode KvmPgtable.shadowedAt})
 *   is found without a descent: a reverse map asks for the leaf a fault just installed, or
 *   the one being removed. Forgotten when its descriptor is cleared.
 * - **The lookup hint**: the (non-root) table the last lookup ended in, and the IPA range
 *   it spans: a live table stays linked where it is, so a lookup in its range starts
 *   there. Forgotten when the table is freed (its id may come back elsewhere).
 * - **A map starts in a live table**: a map that falls in one descriptor of the table of
 *   the last leaf (or of the hint's table) starts its walk there, and counts the table
 *   descriptors above it as a walk from the pgd visits them ({@linkcode walkFromLiveTable}).
 * - **Runs of empty chunks**: `stage2_apply_range()` counts the chunks that meet one
 *   invalid descriptor without walking each ({@linkcode emptyRunAt}).
 * - **One host page in**: the map of exactly one leaf into the host's own page tables,
 *   descended from the hint ({@linkcode installLeaf}).
 *
 * Three descents stay apart from the walker for speed: {@linkcode lookupLeaf} (every L2
 * and L1 access looks up a leaf or two, and a walk costs a callback and a context filled
 * per level), {@linkcode installLeaf} (every fault brings a host page in, and the map
 * walker's checks, setup and callbacks cost more than the install itself) and
 * {@linkcode emptyRunAt} (it finds where a run ends from the valid bitmap, which no walk
 * does).
 *
 * @example A lookup, and a map next to the last leaf that starts in its table
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { granule, stage2Geometry } from "./granule.ts";
 * import { KvmPgtable } from "./pgtable.ts";
 * import { kvmPgtableStage2Map } from "./pgtable_stage2.ts";
 * import { lookupLeaf } from "./pgtable_shortcuts.ts";
 * import { newWalkStats } from "./pgtable_walk.ts";
 * import { newPgtableLeaf, PTE_R } from "./pte.ts";
 * const pgt = new KvmPgtable(stage2Geometry(granule("4K"), 48));
 * const st = newWalkStats();
 * kvmPgtableStage2Map(pgt, 0x4000_0000, 0x1000, 0x8000_0000, PTE_R, 0, st);
 * const leaf = newPgtableLeaf();
 * assertEquals(lookupLeaf(pgt, 0x4000_0000, leaf), 3);
 * assertEquals([leaf.base, leaf.size, leaf.oa], [0x4000_0000, 0x1000, 0x8000_0000]);
 * assertEquals(lookupLeaf(pgt, 0x4000_1000, leaf), -1); // ends in the level-3 table
 * const next = newWalkStats();
 * kvmPgtableStage2Map(pgt, 0x4000_1000, 0x1000, 0x8000_1000, PTE_R, 0, next);
 * // Counted as from the pgd: one table and one descriptor per level.
 * assertEquals([next.tables, next.descriptors], [4, 4]);
 * ```
 * @module
 */

import { isAligned } from "../util/size.ts";
import { KVM_PGTABLE_LAST_LEVEL } from "./granule.ts";
import type { KvmPgtable } from "./pgtable.ts";
import {
  KVM_PGTABLE_WALK_TABLE_POST,
  type KvmPgtableWalker,
  kvmPgtableWalkTable,
  type WalkStats,
} from "./pgtable_walk.ts";
import { newPgtableLeaf, type PgtableLeaf, PTE_TABLE, PTE_VALID, ROOT_TABLE } from "./pte.ts";

/** What the shortcuts remember of one table; its descriptor writes keep it true. */
export class PgtableShortcuts {
  /** Whether the shortcuts are taken (false: every lookup and walk starts at the pgd). */
  readonly enabled: boolean;
  /** The table of the last leaf written, changed or being removed (-1: none) ... */
  lastT = -1;
  /** ... its index there ... */
  lastI = 0;
  /** ... and where its descriptor is in the pools (segment, offset). */
  lastSeg = 0;
  /** Offset of the last leaf's descriptor in its pool segment. */
  lastOff = 0;
  /** The table the last lookup ended in (the pgd: none) ... */
  hint = ROOT_TABLE;
  /** ... and the IPA range it spans (NaN: none). */
  hintLo = NaN;
  /** End of the hint's range. */
  hintHi = NaN;

  /** Nothing remembered yet. */
  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  /** Leaf (t, i), at offset `o` of pool segment `k`, was written, changed, or is being removed. */
  remember(t: number, i: number, k: number, o: number): void {
    this.lastT = t;
    this.lastI = i;
    this.lastSeg = k;
    this.lastOff = o;
  }

  /** The descriptor at offset `o` of segment `k` was cleared: it may name another leaf next. */
  forgetDescriptor(k: number, o: number): void {
    if (this.lastOff === o && this.lastSeg === k) this.lastT = -1;
  }

  /** Table `id` was freed: its id may come back for another range. */
  forgetTable(id: number): void {
    if (id === this.hint) this.hintLo = this.hintHi = NaN;
  }
}

/**
 * Where a descent for `ipa` down to `level` starts: the hint's table when it spans `ipa`
 * at or above `level` (it is live and linked where it is, so the walk from the pgd would
 * pass through it), else the pgd (always without shortcuts).
 */
function startTable(pgt: KvmPgtable, ipa: number, level: number): number {
  const s = pgt.shortcuts;
  return s.enabled && ipa >= s.hintLo && ipa < s.hintHi && pgt.tLevel[s.hint] <= level
    ? s.hint
    : ROOT_TABLE;
}

/**
 * kvm_pgtable_get_leaf()'s result without a walk: the leaf translating `ipa`, descended
 * from the hint's table (or the pgd) with one index per level and no callback. Returns its
 * level and fills `out`, or returns -1 (`out` untouched) when no leaf maps `ipa`. The
 * table the descent ends in becomes the hint.
 */
export function lookupLeaf(pgt: KvmPgtable, ipa: number, out: PgtableLeaf): number {
  if (ipa < 0 || ipa >= pgt.geom.ipaSize) return -1;
  const tLevel = pgt.tLevel, tBase = pgt.tBase, tSeg = pgt.tSeg, tOff = pgt.tOff;
  const inv = pgt.inv;
  const s = pgt.shortcuts;
  // startTable() for the last level, inline: a lookup is the hottest descent.
  let t = s.enabled && ipa >= s.hintLo && ipa < s.hintHi ? s.hint : ROOT_TABLE;
  for (;;) {
    const level = tLevel[t];
    const i = Math.floor((ipa - tBase[t]) * inv[level]);
    const o = tOff[t] + i;
    const k = tSeg[t];
    const a = pgt.attrSegs[k][o];
    if (a & PTE_TABLE) {
      t = pgt.oaSegs[k][o];
      continue;
    }
    const size = pgt.sizes[level];
    if (t !== ROOT_TABLE) {
      s.hint = t;
      s.hintLo = tBase[t];
      s.hintHi = tBase[t] + pgt.ptrs * size;
    }
    if (a === 0) return -1;
    const page = pgt.page;
    out.level = level;
    out.table = t;
    out.index = i;
    out.base = tBase[t] + i * size;
    out.size = size;
    out.oa = pgt.oaSegs[k][o] * page;
    out.attr = a;
    out.meta = pgt.withMeta ? pgt.metaSegs[k][o] * page : 0;
    return level;
  }
}

/**
 * kvm_pgtable_stage2_map() of exactly one leaf, [ipa, ipa + kvm_granule_size(level)) ->
 * `oa`, descended instead of walked, and not counted: the host's page tables take it for
 * every host page a fault brings in. It starts in the hint's table (a host fault maps where
 * its lookup missed) and does what the map walker does on the way: a block above `level`
 * is broken and a table put in its place, an invalid descriptor gets a table, a table at
 * `level` is freed for the leaf, a leaf with this output keeps its place (and its simulator
 * number) and takes the new attributes. The property test holds it to the map walker.
 */
export function installLeaf(
  pgt: KvmPgtable,
  ipa: number,
  level: number,
  oa: number,
  attr: number,
  meta: number,
): void {
  const size = pgt.sizes[level];
  if (
    !(level >= pgt.geom.granule.minBlockLevel && level >= pgt.geom.startLevel &&
      level <= KVM_PGTABLE_LAST_LEVEL) ||
    !isAligned(ipa, size) || !isAligned(oa, size) || ipa < 0 || ipa + size > pgt.geom.ipaSize
  ) {
    throw new RangeError(`no level-${level} leaf at ${ipa} -> ${oa} in this table`);
  }
  let t = startTable(pgt, ipa, level);
  for (let l = pgt.tLevel[t]; l < level; l++) {
    const i = pgt.slot(t, ipa);
    const a = pgt.attrAt(t, i);
    if (a & PTE_TABLE) {
      t = pgt.oaAt(t, i);
      continue;
    }
    if (a !== 0) pgt.clear(t, i);
    t = pgt.installTable(t, i);
  }
  const i = pgt.slot(t, ipa);
  const a = pgt.attrAt(t, i);
  if (a !== 0 && !(a & PTE_TABLE) && pgt.oaAt(t, i) === oa) {
    pgt.setAttr(t, i, attr | PTE_VALID);
    return;
  }
  if (a !== 0) pgt.clear(t, i);
  pgt.setLeaf(t, i, oa, attr | PTE_VALID, meta);
}

/** Where a descriptor is in the pools: its segment and its offset there. */
export interface PoolSlot {
  /** Pool segment. */
  seg: number;
  /** Offset in that segment. */
  off: number;
}

/** The leaf a {@linkcode leafSlot} that misses the last leaf looks up (read at once). */
const SLOT_LEAF = newPgtableLeaf();

/**
 * Where the descriptor of the leaf translating `ipa` is in the pools (filled into `out`):
 * the last-leaf position when `ipa` is that leaf's base, else {@linkcode lookupLeaf}'s.
 * Returns false (`out` untouched) when no leaf maps `ipa`.
 */
export function leafSlot(pgt: KvmPgtable, ipa: number, out: PoolSlot): boolean {
  const s = pgt.shortcuts;
  const t = s.lastT;
  if (s.enabled && t >= 0 && ipa === pgt.tBase[t] + s.lastI * pgt.sizes[pgt.tLevel[t]]) {
    out.seg = s.lastSeg;
    out.off = s.lastOff;
    return true;
  }
  const l = SLOT_LEAF;
  if (lookupLeaf(pgt, ipa, l) < 0) return false;
  out.seg = pgt.tSeg[l.table];
  out.off = pgt.tOff[l.table] + l.index;
  return true;
}

/**
 * kvm_pgtable_walk() of [start, end) begun in a live table instead of the pgd: the table of
 * the last leaf, else the hint's table, where the range lies in one descriptor of it that
 * is not a table. The walker must have no TABLE_POST visit and do nothing at a table
 * descriptor of a level above the range's (the map walker: no leaf fits there). A walk
 * from the pgd would visit one table descriptor per level down to that table, each a
 * no-op: they are counted as it counts them, not visited; then the table is walked as the
 * walk would walk it. Returns false, having done nothing, where this does not hold.
 */
export function walkFromLiveTable<A>(
  pgt: KvmPgtable,
  start: number,
  end: number,
  w: KvmPgtableWalker<A>,
  st: WalkStats,
): boolean {
  const s = pgt.shortcuts;
  if (!s.enabled || (w.flags & KVM_PGTABLE_WALK_TABLE_POST) !== 0) return false;
  for (let pick = 0; pick < 2; pick++) {
    const t = pick === 0 ? s.lastT : start >= s.hintLo && end <= s.hintHi ? s.hint : -1;
    if (t <= ROOT_TABLE) continue;
    const level = pgt.tLevel[t];
    const size = pgt.sizes[level];
    const base = pgt.tBase[t];
    const i = pgt.slot(t, start);
    if (!(start >= base && i < pgt.ptrs && start < end && end <= base + (i + 1) * size)) continue;
    if (pgt.attrAt(t, i) & PTE_TABLE) continue;
    // The pgd page and each table above: one table entered, one descriptor visited.
    const above = level - pgt.geom.startLevel;
    st.tables += above;
    st.descriptors += above;
    kvmPgtableWalkTable(pgt, t, start, end, w as KvmPgtableWalker<unknown>, st);
    return true;
  }
  return false;
}

/** A run of invalid descriptors that `stage2_apply_range()` chunks meet: see {@linkcode emptyRunAt}. */
export interface EmptyRun {
  /** Where the run ends. */
  end: number;
  /** Descriptors (and tables) one chunk's walk visits to reach it. */
  depth: number;
}

/** A zeroed {@linkcode EmptyRun} for {@linkcode emptyRunAt} to fill (one per caller, reused). */
export function newEmptyRun(): EmptyRun {
  return { end: 0, depth: 0 };
}

/**
 * For `stage2_apply_range()`: when every chunk from `addr` on meets the same invalid
 * descriptor at a level whose entries are at least `chunkSize`, fill `out` with where that
 * run of invalid descriptors ends and how many descriptors one chunk visits to reach it,
 * so that the chunks can be counted without walking each one. Returns false (`out`
 * untouched) where a chunk must really be walked, and always without shortcuts.
 */
export function emptyRunAt(
  pgt: KvmPgtable,
  addr: number,
  chunkSize: number,
  out: EmptyRun,
): boolean {
  if (!pgt.shortcuts.enabled) return false;
  let t = ROOT_TABLE;
  let depth = 0;
  for (;;) {
    const size = pgt.sizes[pgt.tLevel[t]];
    if (size < chunkSize) return false;
    const i = pgt.slot(t, addr);
    depth++;
    const a = pgt.attrAt(t, i);
    if (a === 0) {
      out.end = pgt.tBase[t] + pgt.nextValid(t, i, pgt.entries(t)) * size;
      out.depth = depth;
      return true;
    }
    if (!(a & PTE_TABLE) || size === chunkSize) return false;
    t = pgt.oaAt(t, i);
    // An empty table would be freed by the first chunk's TABLE_POST: walk it for real.
    if (pgt.validCount(t) === 0) return false;
  }
}
