/**
 * The mutants of `deno task mutate`: small, realistic bugs in lib/, one per entry, each a
 * text that must occur exactly once in its file and its replacement. They cover the designs
 * (alias lists, range queries, fallbacks, rmap-bounded's budget), the fault path (the nested
 * clamp, alignment, permissions), the TLBI paths (sizing by TTL and by the shadow's hint, the
 * VMID match), the walkers (unmap, map, apply_range), the host model, and every rule of the
 * oracle and of L1 (docs/oracle.md: oracle rules 1-11, L1's T1-T7, B1-B3, G1-G4), one or
 * more each, written from the rule tables. A mutant the tests cannot kill, because it
 * changes nothing observable, says so in `equivalent`.
 *
 * @module
 */

/** One mutant. */
export interface Mutant {
  /** A short stable name. */
  id: string;
  /** The file it changes, from the repository root. */
  file: string;
  /** Text that occurs exactly once in the file. */
  find: string;
  /** What replaces it. */
  replace: string;
  /** The bug, in a few words. */
  what: string;
  /** Why no test can kill it (an equivalent mutant), when that is so. */
  equivalent?: string;
}

/** Every mutant, by area. */
export const MUTANTS: readonly Mutant[] = [
  // --- rmap --------------------------------------------------------------------------
  {
    id: "rmap-alias-prev",
    file: "lib/strategies/rmap.ts",
    find: "if (head >= 0) this.dPrev[head] = d;",
    replace: "if (head >= 0) this.dPrev[head] = -1;",
    what: "rmap: a new descriptor does not become its successor's prev (alias list update)",
  },
  {
    id: "rmap-alias-head",
    file: "lib/strategies/rmap.ts",
    find: "const head = L.keys.put(c, d);",
    replace: "const head = L.keys.get(c) >= 0 ? L.keys.get(c) : L.keys.put(c, d);",
    what: "rmap: the head keeps the first descriptor, later aliases are unreachable",
  },
  {
    id: "rmap-unlink-middle",
    file: "lib/strategies/rmap.ts",
    find: "if (prev >= 0) this.dNext[prev] = next;",
    replace: "if (prev >= 0) this.dNext[prev] = -1;",
    what: "rmap: unlinking a middle alias cuts off the rest of the list",
  },
  {
    id: "rmap-range-start",
    file: "lib/strategies/rmap.ts",
    find: "const from = Math.floor(start / L.size) * L.size;",
    replace: "const from = start;",
    what: "rmap: the range query misses a key that starts before the unmapped range",
    equivalent:
      "every canonical range a design is asked about is a union of whole host mappings (the MMU notifier widens to huge pages; memslots hold whole huge pages), and a shadow leaf never exceeds the host mapping it came from, so no leaf overlapping the range starts before it",
  },
  {
    id: "rmap-fallback-skip",
    file: "lib/strategies/rmap.ts",
    find:
      "      if (!mmu.valid) continue;\n      this.ops.unmapShadowRange(mmu, 0, mmu.pgt.geom.ipaSize);",
    replace: "      continue;\n      this.ops.unmapShadowRange(mmu, 0, mmu.pgt.geom.ipaSize);",
    what: "rmap-bounded: an MMU over its budget is not walked on unmap",
  },
  {
    id: "rmap-budget-early",
    file: "lib/strategies/rmap.ts",
    find: "(this.sideCount[mmu.id] + 1) * Rmap.entryBytes() > this.budget",
    replace: "(this.sideCount[mmu.id] + 2) * Rmap.entryBytes() > this.budget",
    what: "rmap-bounded: an MMU falls back one entry before its budget is exceeded",
  },
  {
    id: "rmap-budget-late",
    file: "lib/strategies/rmap.ts",
    find: "(this.sideCount[mmu.id] + 1) * Rmap.entryBytes() > this.budget",
    replace: "this.sideCount[mmu.id] * Rmap.entryBytes() > this.budget",
    what: "rmap-bounded: an MMU indexes one entry past its budget",
  },
  {
    id: "rmap-recycled-fallback",
    file: "lib/strategies/rmap.ts",
    find: "    this.dropAll(mmu);\n    if (this.fallback[mmu.id]) this.leaveFallback(mmu);",
    replace: "    this.dropAll(mmu);",
    what: "rmap-bounded: a recycled MMU stays in fallback (walked whole until emptied by an unmap)",
  },
  {
    id: "rmap-removed-ignored",
    file: "lib/strategies/rmap.ts",
    find: "    if (d < 0) return;\n    this.sideForget(mmu.id, shadowIpa);",
    replace: "    if (d < 0 || mmu.id >= 0) return;\n    this.sideForget(mmu.id, shadowIpa);",
    what: "rmap: a leaf removed by a TLBI or the map walker keeps its descriptor",
  },
  {
    id: "compact-exception-search",
    file: "lib/strategies/rmap_compact.ts",
    find: "at = this.exLowerBound(ch, lo, -1, -1);",
    replace: "at = this.exLowerBound(ch, lo + 1, -1, -1);",
    what: "rmap-compact: the range query skips the exceptions at its first slot",
  },
  {
    id: "compact-run-base",
    file: "lib/strategies/rmap_compact.ts",
    find: "    const base = s - i * z;\n",
    replace: "    const base = s;\n",
    what: "rmap-compact: a block's linear run records the leaf's shadow IPA as the block's",
  },
  {
    id: "compact-side-offset",
    file: "lib/strategies/rmap_compact.ts",
    find: "if (c - s !== rec.delta) {",
    replace: "if (c - s !== rec.delta && rec.count < 0) {",
    what: "rmap-compact: the shadow side forgets a leaf off its table page's offset",
  },
  // --- the other designs ----------------------------------------------------------------
  {
    id: "merged-merge-lists",
    file: "lib/strategies/merged_pivot.ts",
    find: "for (let i = 1; i < run.length; i++) l.splice(merged, run[i].value);",
    replace: "",
    what: "merged-pivot: merging ranges drops the other ranges' shadow lists",
  },
  {
    id: "span-unknown-exact",
    file: "lib/strategies/span_unknown.ts",
    find: "if (run.some((r) => r.value === UNKNOWN_IPA)) {\n        this.mmuReset(mmu);",
    replace: "if (run.every((r) => r.value === UNKNOWN_IPA)) {\n        this.mmuReset(mmu);",
    what: "span-unknown: an UNKNOWN range beside exact ones is unmapped as if exact",
  },
  {
    id: "full-walk-invalid",
    file: "lib/strategies/full_walk.ts",
    find:
      "      if (mmu.valid) this.ops.unmapShadowRange(mmu, 0, mmu.pgt.geom.ipaSize);\n    }\n  }\n\n  /** kvm_nested_s2_wp()",
    replace:
      "      if (mmu.valid && mmu.refcnt > 0) this.ops.unmapShadowRange(mmu, 0, mmu.pgt.geom.ipaSize);\n    }\n  }\n\n  /** kvm_nested_s2_wp()",
    what: "full-walk: an MMU no vCPU has loaded is skipped on unmap",
  },
  // --- the fault path ---------------------------------------------------------------------
  {
    id: "clamp-pmd",
    file: "lib/kvm/mmu.ts",
    find: "if (maxMapSize >= pmd && maxMapSize < pud) maxMapSize = pmd;",
    replace: "if (maxMapSize > pmd && maxMapSize <= pud) maxMapSize = pmd;",
    what: "clamp: an L1 block of PUD size over a PUD backing is mapped at PMD size",
  },
  {
    id: "clamp-page",
    file: "lib/kvm/mmu.ts",
    find: "else if (maxMapSize >= page && maxMapSize < pmd) maxMapSize = page;",
    replace: "",
    what: "clamp: an L1 mapping between PAGE and PMD (a 64K L1 page over 4K) is not rounded down",
  },
  {
    id: "clamp-no-l1",
    file: "lib/kvm/mmu.ts",
    find: "maxMapSize = Math.min(nested.blockSize, maxMapSize);",
    replace: "maxMapSize = Math.min(nested.blockSize * 2, maxMapSize);",
    what: "clamp: a shadow leaf may be twice L1's mapping",
  },
  {
    id: "canonical-align",
    file: "lib/kvm/mmu.ts",
    find: "const canonicalBase = alignDown(ipa, vmaPagesize);",
    replace: "const canonicalBase = ipa - (faultIpa - alignDown(faultIpa, vmaPagesize)) + 0;",
    what:
      "fault: the canonical IPA aligned through the fault IPA's offset (wrong when L1 maps at another offset)",
    equivalent:
      "L1 mappings are aligned to their size in both IPA spaces, so faultIpa and ipa have the same offset within any size <= L1's: the two computations agree on every reachable state",
  },
  {
    id: "writable-logging",
    file: "lib/kvm/mmu.ts",
    find: "const writable = nested.writable && (!loggingActive || write);",
    replace: "const writable = nested.writable;",
    what: "fault: a read fault under dirty logging maps the page writable",
  },
  {
    id: "writable-l1",
    file: "lib/kvm/mmu.ts",
    find: "const deniedByL1 = write && !trans.writable;",
    replace: "const deniedByL1 = false;",
    what: "fault: a write L1 maps read-only is not forwarded",
  },
  // --- TLBIs ------------------------------------------------------------------------------
  {
    id: "tlbi-granule-host",
    file: "lib/kvm/nested.ts",
    find: "  const g = vtcrGranule(mmu);\n  // No TTL",
    replace: "  const g = mmu.pgt.geom.granule;\n  // No TTL",
    what: "TLBI sizing with the host granule instead of L1's (wrong for L1 granules above it)",
  },
  {
    id: "tlbi-no-hint",
    file: "lib/kvm/nested.ts",
    find: "const level = ttlLevel > 0 ? ttlLevel : getGuestMappingTtl(mmu, g, ipa);",
    replace: "const level = ttlLevel > 0 ? ttlLevel : 3;",
    what: "TLBI without TTL sized as a page, ignoring the shadow's hint",
  },
  {
    id: "tlbi-ttl-bad",
    file: "lib/kvm/nested.ts",
    find: "  return (level > 0 ? ttlToSize(g, level) : 0) || levelSize(g, g.minBlockLevel);",
    replace: "  return (level > 0 ? ttlToSize(g, level) : 0) || g.pageSize;",
    what: "TLBI with an unusable TTL sized as a page instead of L1's largest block",
  },
  {
    id: "tlbi-vmid",
    file: "lib/kvm/nested.ts",
    find: "for (const mmu of kvm.nestedMmus.filter((m) => m.valid && m.vmid === vmid)) fn(mmu);",
    replace:
      "for (const mmu of kvm.nestedMmus.filter((m) => m.valid && m.vmid === vmid).slice(0, 1)) fn(mmu);",
    what: "TLBI reaches only the first MMU of the VMID",
  },
  {
    id: "tlbi-range-end",
    file: "lib/kvm/sys_regs.ts",
    find: "if (start < e) kvmStage2UnmapRange(mmu.pgt, start, e - start, kvm.cost.engine);",
    replace:
      "if (start < e) kvmStage2UnmapRange(mmu.pgt, start, (e - start) / 2, kvm.cost.engine);",
    what: "TLBI RIPAS2E1IS unmaps half the range",
  },
  {
    id: "tlbi-ipa-align",
    file: "lib/kvm/sys_regs.ts",
    find: "  const base = alignDown(ipa, size);",
    replace: "  const base = ipa;",
    what: "TLBI IPAS2E1IS does not align the base down to the invalidation size",
  },
  // --- walkers and MMUs -------------------------------------------------------------------
  {
    id: "unmap-table-post",
    file: "lib/kvm/pgtable_stage2.ts",
    find: "  } else if (pgt.validCount(ctx.oldOa) === 0) {",
    replace: "  } else if (pgt.validCount(ctx.oldOa) === 1) {",
    what: "unmap walker frees a table that still holds one leaf",
  },
  {
    id: "apply-range-empty",
    file: "lib/kvm/mmu.ts",
    find: "      const runEnd = EMPTY_RUN.end < end ? EMPTY_RUN.end : end;",
    replace: "      const runEnd = EMPTY_RUN.end + pgt.sizes[g.minBlockLevel];",
    what: "stage2_apply_range skips one chunk past an empty run",
  },
  {
    id: "map-break-block",
    file: "lib/kvm/pgtable_stage2.ts",
    find: "  if (ctx.old !== 0) ctx.pgt.clear(ctx.table, ctx.index);\n  ctx.pgt.installTable",
    replace: "  ctx.pgt.installTable",
    what: "map walker installs a table over a block without removing the block's leaf",
  },
  {
    id: "recycle-no-unmap",
    file: "lib/kvm/arm.ts",
    find: "  if (!mmu.pendingUnmap) return;",
    replace: "  if (mmu.pendingUnmap) mmu.pendingUnmap = false;\n  if (!mmu.pendingUnmap) return;",
    what: "a recycled shadow MMU keeps its old context's leaves",
  },
  {
    id: "lookup-baddr",
    file: "lib/kvm/nested.ts",
    find:
      "c.s2Enabled && m.s2Enabled && m.vmid === c.vmid && m.baddr === c.baddr && m.vtcr === c.vtcr",
    replace: "c.s2Enabled && m.s2Enabled && m.vmid === c.vmid && m.vtcr === c.vtcr",
    what: "lookup_s2_mmu ignores BADDR: two contexts of one VMID share a shadow",
  },
  // --- host and L1 models -----------------------------------------------------------------
  {
    id: "migrate-same-pa",
    file: "lib/host/memory.ts",
    find: "      const pa = this.allocPa(size);\n      this.allocatedBytes -= size;",
    replace: "      const pa = this.hostPaOf(leaves[i]);\n      this.allocatedBytes -= 0;",
    what: "migration keeps the old PA (the oracle could not see stale entries)",
  },
  {
    id: "notifier-range",
    file: "lib/host/memory.ts",
    find: "        if (addr < s) s = addr;",
    replace: "",
    what: "the notifier does not widen its range to the start of a huge page",
  },
  {
    id: "l1-ttl-ignored",
    file: "lib/guest/l1.ts",
    find: "        (hint === 0 || levelForSize(c.granule, p.size) === hint)",
    replace: "        (hint === 0 || levelForSize(c.granule, p.size) !== hint)",
    what: "L1's TLB model: a TTL hint invalidates the wrong levels",
  },
  {
    id: "l1-range-partial",
    file: "lib/guest/l1.ts",
    find: "out.push(...c.invalidate((p) => p.base < end && start < p.base + p.size));",
    replace: "out.push(...c.invalidate((p) => start <= p.base && p.base + p.size <= end));",
    what: "L1's TLB model: a range TLBI invalidates only old leaves wholly inside it",
  },
  // L1's rules (docs/oracle.md: T1-T7 what its TLBIs invalidate, B1-B3 break-before-make,
  // G1-G4 its tables and contexts), the bugs a reader of each rule would make.
  {
    id: "l1-tlbi-ipa-start",
    file: "lib/guest/l1.ts",
    find: "p.base <= ipa && ipa < p.base + p.size &&",
    replace: "p.base === ipa &&",
    what: "L1 T1: a TLBI by IPA invalidates only old leaves that start at the IPA",
  },
  {
    id: "l1-tlbi-ipa-end",
    file: "lib/guest/l1.ts",
    find: "p.base <= ipa && ipa < p.base + p.size &&",
    replace: "p.base <= ipa && ipa <= p.base + p.size &&",
    what: "L1 T1: a TLBI by IPA at an old leaf's end invalidates it",
  },
  {
    id: "l1-tlbi-ipa-vmid",
    file: "lib/guest/l1.ts",
    find: "      if (c.vmid !== vmid) continue;\n      const hint",
    replace: "      const hint",
    what: "L1 T1: a TLBI by IPA reaches every VMID's contexts",
  },
  {
    id: "l1-tlbi-ipa-first-context",
    file: "lib/guest/l1.ts",
    find: "      if (c.vmid !== vmid) continue;\n      const hint",
    replace: "      if (c.vmid !== vmid || out.length > 0) continue;\n      const hint",
    what: "L1 T1: a TLBI by IPA stops at the first context of the VMID that held the IPA",
  },
  {
    id: "l1-ttl-wrong-level-invalidates",
    file: "lib/guest/l1.ts",
    find: "        (hint === 0 || levelForSize(c.granule, p.size) === hint)",
    replace: "        hint >= 0",
    what: "L1 T3: a TTL naming another level invalidates the leaf anyway",
  },
  {
    id: "l1-ttl-16k-level1",
    file: "lib/guest/l1.ts",
    find: "const firstLevel = g.pageShift === 14 ? 2 : 1;",
    replace: "const firstLevel = 1;",
    what: "L1 T4: on a 16K granule, TTL level 1 (reserved without FEAT_LPA2) is taken as a hint",
  },
  {
    id: "l1-ttl-64k-level1",
    file: "lib/guest/l1.ts",
    find: "const firstLevel = g.pageShift === 14 ? 2 : 1;",
    replace: "const firstLevel = g.pageShift === 12 ? 1 : 2;",
    what: "L1 T4: on a 64K granule, TTL level 1 is taken as reserved (it names level 1)",
  },
  {
    id: "l1-ttl-reserved-off",
    file: "lib/guest/l1.ts",
    find: "  return ttl < firstLevel ? 0 : ttl;",
    replace: "  return ttl <= firstLevel ? 0 : ttl;",
    what: "L1 T4: the first level that holds blocks is taken as reserved",
  },
  {
    id: "l1-range-end",
    file: "lib/guest/l1.ts",
    find: "out.push(...c.invalidate((p) => p.base < end && start < p.base + p.size));",
    replace: "out.push(...c.invalidate((p) => p.base <= end && start < p.base + p.size));",
    what: "L1 T5: a range TLBI ending at an old leaf's start invalidates it",
  },
  {
    id: "l1-vmalls-every-vmid",
    file: "lib/guest/l1.ts",
    find: "      if (c.vmid === vmid) c.pending = [], c.conflicts = [];",
    replace: "      c.pending = [], c.conflicts = [];",
    what: "L1 T6: TLBI VMALLS12E1IS forgets every VMID's old leaves",
  },
  {
    id: "l1-vmalls-keeps-conflicts",
    file: "lib/guest/l1.ts",
    find: "      if (c.vmid === vmid) c.pending = [], c.conflicts = [];",
    replace: "      if (c.vmid === vmid) c.pending = c.pending.filter((p) => p.conflict);",
    what: "L1 T6: TLBI VMALLS12E1IS keeps conflicting old leaves (as a TLBI by address does)",
  },
  {
    id: "l1-vmalls-no-reap",
    file: "lib/guest/l1.ts",
    find: "    this.reapDestroyed((c) => c.vmid === vmid);",
    replace: "",
    what: "L1 T6: TLBI VMALLS12E1IS keeps the VMID's destroyed contexts",
  },
  {
    id: "l1-alle1is-keeps-conflicts",
    file: "lib/guest/l1.ts",
    find: "    for (const c of this.contexts) c.pending = [], c.conflicts = [];",
    replace:
      "    for (const c of this.contexts) c.pending = c.pending.filter((p) => p.conflict), c.conflicts = [];",
    what: "L1 T7: TLBI ALLE1IS keeps conflicting old leaves",
  },
  {
    id: "l1-alle1is-no-reap",
    file: "lib/guest/l1.ts",
    find: "    this.reapDestroyed(() => true);",
    replace: "",
    what: "L1 T7: TLBI ALLE1IS keeps destroyed contexts",
  },
  {
    id: "l1-bbm-size",
    file: "lib/guest/l1.ts",
    find: "p.base !== l2ipa || p.size !== size || p.l1ipa !== l1ipa",
    replace: "p.base !== l2ipa || p.l1ipa !== l1ipa",
    what:
      "L1 B1: a change of block size at the same output without break-before-make is no conflict",
  },
  {
    id: "l1-bbm-by-address",
    file: "lib/guest/l1.ts",
    find: "      if (p.conflict || !match(p)) return true;",
    replace: "      if (!match(p)) return true;",
    what: "L1 B1: a TLBI by address removes a conflicting old leaf",
  },
  {
    id: "l1-bbm-pending",
    file: "lib/guest/l1.ts",
    find: "const clashing = [...before, ...old].filter(differs);",
    replace: "const clashing = old.filter(differs);",
    what: "L1 B2: a write over an old leaf not yet invalidated is no conflict",
  },
  {
    id: "l1-bbm-range-unmarked",
    file: "lib/guest/l1.ts",
    find: "      this.conflicts.push([l2ipa, end]);",
    replace: "",
    what: "L1 B3: the new translation of a write without break-before-make is no conflict later",
  },
  {
    id: "l1-unmap-forgets",
    file: "lib/guest/l1.ts",
    find: "    this.recordOld(l2ipa, l2ipa + size);\n    kvmPgtableStage2Unmap",
    replace: "    kvmPgtableStage2Unmap",
    what: "L1 G1: what L1 clears is not kept as an old leaf until its TLBI",
  },
  {
    id: "l1-old-clipped",
    file: "lib/guest/l1.ts",
    find: "          base,\n          size,\n          l1ipa,\n",
    replace:
      "          base: Math.max(base, start),\n          size: Math.min(base + size, end) - Math.max(base, start),\n          l1ipa: l1ipa + Math.max(base, start) - base,\n",
    what: "L1 G1: an old block is kept only for the part L1 cleared",
  },
  {
    id: "l1-old-attr",
    file: "lib/guest/l1.ts",
    find: "          attr: attr & (PTE_R | PTE_W),",
    replace: "          attr: PTE_R | PTE_W,",
    what: "L1 G1: an old leaf is kept writable whatever L1 had mapped",
  },
  {
    id: "l1-destroyed-live",
    file: "lib/guest/l1.ts",
    find: "if (hit && hit.id === id && !hit.destroyed) return hit;",
    replace: "if (hit && hit.id === id) return hit;",
    what: "L1 G2: a destroyed context looked up just before stays live",
  },
  {
    id: "l1-context-granule",
    file: "lib/guest/l1.ts",
    find: "if (g.pageSize < this.hostGranule.pageSize) {",
    replace: "if (g.pageSize <= this.hostGranule.pageSize) {",
    what: "L1 G3: a context with the host's own granule is refused",
  },
  {
    id: "l1-context-vttbr-destroyed",
    file: "lib/guest/l1.ts",
    find: "if (!c.destroyed && c.vmid === ctx.vmid && c.baddr === ctx.baddr) {",
    replace: "if (c.vmid === ctx.vmid && c.baddr === ctx.baddr) {",
    what: "L1 G3: the VTTBR of a destroyed context not yet invalidated is refused",
  },
  {
    id: "l1-map-level0",
    file: "lib/guest/l1.ts",
    find: "if (level < c.granule.minBlockLevel || level < c.s2.geom.startLevel) {",
    replace: "if (level < 0 || level < c.s2.geom.startLevel) {",
    what: "L1 G4: a level-0 (4K) or level-1 (16K) entry is accepted as a block",
  },
  {
    id: "l1-map-pa-end",
    file: "lib/guest/l1.ts",
    find: "if (l1ipa + size > 2 ** this.paBits) {",
    replace: "if (l1ipa + size >= 2 ** this.paBits) {",
    what: "L1 G4: the last page of L1's PA range is refused",
  },
  // --- more host operations and visitors --------------------------------------------------
  {
    id: "full-walk-wp",
    file: "lib/strategies/full_walk.ts",
    find: "      if (mmu.valid) this.ops.wpShadowRange(mmu, 0, mmu.pgt.geom.ipaSize);",
    replace:
      "      if (mmu.valid && mmu.id > 0) this.ops.wpShadowRange(mmu, 0, mmu.pgt.geom.ipaSize);",
    what: "full-walk: write-protection skips shadow MMU 0",
  },
  {
    id: "rmap-flush",
    file: "lib/strategies/rmap.ts",
    find: "this.eachDerived(start, end, (m, s, z) => this.ops.flushShadowRange(m, s, z));",
    replace:
      "this.eachDerived(start, end, (m, s, z) => {\n      if (z === m.pgt.geom.granule.pageSize) this.ops.flushShadowRange(m, s, z);\n    });",
    what: "rmap: a flush skips the derived block leaves (cleans pages only)",
  },
  {
    id: "wrprotect-noop",
    file: "lib/kvm/pgtable_stage2.ts",
    find: "ctx.pgt.setAttr(ctx.table, ctx.index, ctx.old & ~d.clr);",
    replace: "ctx.pgt.setAttr(ctx.table, ctx.index, ctx.old);",
    what: "stage2_attr_walker counts a leaf write-protected but leaves it writable",
  },
  {
    id: "dirty-not-marked",
    file: "lib/kvm/mmu.ts",
    find: "  if (writable) host.markDirty(ipa);\n  kvm.cost.faults++;",
    replace: "  kvm.cost.faults++;",
    what: "a nested write fault under dirty logging does not mark the page dirty",
  },
  {
    id: "recycle-no-pending",
    file: "lib/kvm/nested.ts",
    find: "      mmu.pendingUnmap = true;",
    replace: "      mmu.pendingUnmap = false;",
    what: "get_s2_mmu_nested() recycles a valid MMU without pending_unmap",
  },
  {
    id: "thp-split-pa",
    file: "lib/host/memory.ts",
    find: "installLeaf(this.mm, leaves[i] + off, 3, leaves[i + 2] + off, PTE_R | PTE_W, 0);",
    replace: "installLeaf(this.mm, leaves[i] + off, 3, leaves[i + 2], PTE_R | PTE_W, 0);",
    what: "a THP split maps every base page to the huge page's first PA",
  },
  // --- the oracle ---------------------------------------------------------------------------
  {
    id: "oracle-stale-pa",
    file: "lib/oracle/oracle.ts",
    find: '  if (now !== pa) return { kind: "stale-pa", expected: `host PA ${hex(now)}` };',
    replace: "",
    what: "oracle: a leaf on a migrated page's old PA passes",
  },
  {
    id: "oracle-invalidated",
    file: "lib/oracle/oracle.ts",
    find: "      if (canonical < b && canonical + size > a) {",
    replace: "      if (canonical < b && canonical > a) {",
    what: "oracle: a leaf starting exactly at the invalidated range's start passes",
  },
  {
    id: "oracle-pending-size",
    file: "lib/oracle/oracle.ts",
    find: "      if (p.base <= s && s + size <= p.base + p.size) {",
    replace: "      if (p.base <= s) {",
    what: "oracle: an old L1 leaf allows shadow leaves beyond its end",
  },
  {
    id: "oracle-baseline-range",
    file: "lib/oracle/oracle.ts",
    find: "if (v.mmu < 0 || (v.shadowIpa < t.end && t.start < v.shadowIpa + v.size)) continue;",
    replace: "if (v.mmu < 0) continue;",
    what: "oracle: a leaf KVM failed to unmap inside a range TLBI is blamed on KVM, not flagged",
  },
  // Rule by rule (docs/oracle.md, the rules table), the bugs a reader of each rule would make.
  {
    id: "oracle-no-context-kind",
    file: "lib/oracle/oracle.ts",
    find: "  if (ctxs.length === 0) {",
    replace: "  if (ctxs.length < 0) {",
    what: "oracle rule 1: an MMU no context holds any more is judged as l1-unmapped",
  },
  {
    id: "oracle-destroyed-excluded",
    file: "lib/oracle/oracle.ts",
    find: "c.vmid === mmu.vmid && c.s2Enabled === mmu.s2Enabled &&",
    replace: "c.vmid === mmu.vmid && !c.destroyed && c.s2Enabled === mmu.s2Enabled &&",
    what: "oracle rule 1: a destroyed context stops allowing before the TLBI of its VMID",
  },
  {
    id: "oracle-context-baddr",
    file: "lib/oracle/oracle.ts",
    find: "(c.baddr === mmu.baddr && vtcrOf(c) === mmu.vtcr)",
    replace: "vtcrOf(c) === mmu.vtcr",
    what: "oracle rule 1: the context match ignores BADDR (any context of the VMID allows)",
  },
  {
    id: "oracle-context-vtcr",
    file: "lib/oracle/oracle.ts",
    find: "(c.baddr === mmu.baddr && vtcrOf(c) === mmu.vtcr)",
    replace: "c.baddr === mmu.baddr",
    what: "oracle rule 1: the context match ignores VTCR (granule, IPA size)",
  },
  {
    id: "oracle-context-s2",
    file: "lib/oracle/oracle.ts",
    find: "c.vmid === mmu.vmid && c.s2Enabled === mmu.s2Enabled &&",
    replace: "c.vmid === mmu.vmid &&",
    what: "oracle rule 1: an S2-off MMU matches an S2-on context of its VMID",
  },
  {
    id: "oracle-context-s2off-vttbr",
    file: "lib/oracle/oracle.ts",
    find: "(!c.s2Enabled || (c.baddr === mmu.baddr && vtcrOf(c) === mmu.vtcr))",
    replace: "(c.baddr === mmu.baddr && vtcrOf(c) === mmu.vtcr)",
    what: "oracle rule 1: with S2 off the match takes BADDR too (not the VMID alone)",
  },
  {
    id: "oracle-l1-leaf-start-only",
    file: "lib/oracle/oracle.ts",
    find: "if (base <= s && s + size <= base + L1_LEAF.size) {",
    replace: "if (base <= s && s < base + L1_LEAF.size) {",
    what: "oracle rule 2: a leaf starting inside L1's leaf passes, however large (no too-large)",
  },
  {
    id: "oracle-l1-leaf-end",
    file: "lib/oracle/oracle.ts",
    find: "if (base <= s && s + size <= base + L1_LEAF.size) {",
    replace: "if (base <= s && s + size < base + L1_LEAF.size) {",
    what: "oracle rule 2: a leaf ending exactly where L1's leaf ends is too-large",
  },
  {
    id: "oracle-pending-start",
    file: "lib/oracle/oracle.ts",
    find: "      if (p.base <= s && s + size <= p.base + p.size) {",
    replace: "      if (s + size <= p.base + p.size) {",
    what: "oracle rule 2: an old L1 leaf allows shadow leaves before its start",
  },
  {
    id: "oracle-pending-first-skipped",
    file: "lib/oracle/oracle.ts",
    find: "    for (const p of c.pending) {",
    replace: "    for (const p of c.pending.slice(1)) {",
    what: "oracle rule 2: the first old L1 leaf of a context is not a candidate",
  },
  {
    id: "oracle-pending-writable",
    file: "lib/oracle/oracle.ts",
    find: "          writable: (p.attr & PTE_W) !== 0,",
    replace: "          writable: true,",
    what: "oracle rule 3: an old read-only L1 leaf allows a writable shadow leaf",
  },
  {
    id: "oracle-l1-writable",
    file: "lib/oracle/oracle.ts",
    find: "          writable: (L1_LEAF.attr & PTE_W) !== 0,",
    replace: "          writable: true,",
    what: "oracle rule 3: L1's read-only mapping allows a writable shadow leaf",
  },
  {
    id: "oracle-writable-first",
    file: "lib/oracle/oracle.ts",
    find: "expected: `read-only (${c.source})`, canonical: c.canonical };\n      continue;",
    replace: "expected: `read-only (${c.source})`, canonical: c.canonical };\n      break;",
    what: "oracle rule 3: the first candidate decides (a later writable old leaf is not tried)",
  },
  {
    id: "oracle-s2off-pa-range",
    file: "lib/oracle/oracle.ts",
    find: "      if (s + size <= 2 ** l1.paBits) list.push(",
    replace: "      list.push(",
    what: "oracle rule 2: with L1's stage 2 off, a leaf beyond L1's PA range passes",
    equivalent:
      "the shadow MMUs' IPA space is the PA range KVM exposes to L1 (kvmCreateVm() gives the shadow geometry and L1 the same paBits), so no shadow leaf ends beyond 2^paBits",
  },
  {
    id: "oracle-invalidated-end",
    file: "lib/oracle/oracle.ts",
    find: "      if (canonical < b && canonical + size > a) {",
    replace: "      if (canonical <= b && canonical + size > a) {",
    what: "oracle rule 4: a leaf starting exactly at the invalidated range's end is flagged",
  },
  {
    id: "oracle-not-present-host",
    file: "lib/oracle/oracle.ts",
    find: "if (!host.findMemslot(canonical) || kvmPgtableGetLeaf(host.mm, canonical, leaf) < 0) {",
    replace: "if (!host.findMemslot(canonical)) {",
    what: "oracle rule 5: a swapped-out page inside a memslot counts as present",
  },
  {
    id: "oracle-not-present-memslot",
    file: "lib/oracle/oracle.ts",
    find: "if (!host.findMemslot(canonical) || kvmPgtableGetLeaf(host.mm, canonical, leaf) < 0) {",
    replace: "if (kvmPgtableGetLeaf(host.mm, canonical, leaf) < 0) {",
    what: "oracle rule 5: a page present on the host outside any memslot counts as present",
    equivalent:
      "host memory exists only inside memslots: faultinPfn() maps nothing outside one, a huge page only where the slot holds all of it, and deleteMemslot() drops the slot's host range with it, so a present page is always in a memslot",
  },
  {
    id: "oracle-host-end",
    file: "lib/oracle/oracle.ts",
    find: "leaf.base > canonical || canonical + size > leaf.base + leaf.size",
    replace: "leaf.base > canonical",
    what: "oracle rule 7: the end of the host mapping is not checked (a block over a split THP)",
  },
  {
    id: "oracle-host-end-off",
    file: "lib/oracle/oracle.ts",
    find: "leaf.base > canonical || canonical + size > leaf.base + leaf.size",
    replace: "leaf.base > canonical || canonical + size >= leaf.base + leaf.size",
    what: "oracle rule 7: a leaf ending exactly where its host mapping ends is too-large",
  },
  {
    id: "oracle-stale-pa-offset",
    file: "lib/oracle/oracle.ts",
    find: "  const now = leaf.oa + (canonical - leaf.base);",
    replace: "  const now = leaf.oa;",
    what: "oracle rule 6: the host PA is that of the host mapping's start, not the leaf's offset",
  },
  {
    id: "oracle-dirty-read-only",
    file: "lib/oracle/oracle.ts",
    find: "  if (writable && !host.writableForKvm(canonical, size)) {",
    replace: "  if (!writable && !host.writableForKvm(canonical, size)) {",
    what: "oracle rule 8: dirty logging flags the read-only leaves instead of the writable ones",
  },
  {
    id: "oracle-unflushed-any-mmu",
    file: "lib/oracle/oracle.ts",
    find: "f && !f.leaves.get(mmu.id)?.has(s) &&",
    replace: "f && ![...f.leaves.values()].some((l) => l.has(s)) &&",
    what: "oracle rule 9: a leaf counts as flushed when any MMU's leaf at its IPA was",
  },
  {
    id: "oracle-unflushed-range",
    file: "lib/oracle/oracle.ts",
    find: "f.ranges.some(([a, b]) => c.canonical < b && c.canonical + size > a)",
    replace: "f.ranges.length > 0",
    what: "oracle rule 9: leaves outside the flushed ranges are owed a flush",
  },
  {
    id: "oracle-canonical-at-unmap-only",
    file: "lib/oracle/oracle.ts",
    find: "  if (!cx.mmus) forEachLeaf(w.canonical, canonical);",
    replace: "  if (!cx.mmus && cx.invalidated) forEachLeaf(w.canonical, canonical);",
    what: "oracle rule 10: the canonical stage-2 is checked only at host unmaps",
  },
  {
    id: "oracle-baseline-context",
    file: "lib/oracle/oracle.ts",
    find: "      ids.has(d.ctx) && d.base <= v.shadowIpa",
    replace: "      d.base <= v.shadowIpa",
    what: "oracle rule 11: another context's invalidated old leaf excuses this MMU's leaf",
  },
  {
    id: "oracle-baseline-block-end",
    file: "lib/oracle/oracle.ts",
    find: "d.base <= v.shadowIpa && v.shadowIpa + v.size <= d.base + d.size",
    replace: "d.base <= v.shadowIpa",
    what: "oracle rule 11: a leaf beyond the invalidated old block is excused as KVM's",
  },
  {
    id: "replay-access-check",
    file: "lib/trace/check.ts",
    find: "checkShadows(world, { ...base, only: { mmu, start, end } })",
    replace: "checkShadows(world, { ...base, only: { mmu, start: -2, end: -1 } })",
    what: "replay: the leaf an access installs is never checked",
  },
];
