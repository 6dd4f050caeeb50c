/**
 * The mutants of `deno task mutate`: small, realistic bugs in lib/, one per entry, each a
 * text that must occur exactly once in its file and its replacement. They cover the designs
 * (alias lists, range queries, fallbacks), the fault path (the nested clamp, alignment,
 * permissions), the TLBI paths (sizing by TTL and by the shadow's hint, the VMID match),
 * the walkers (unmap, map, apply_range), the host and L1 models, and the oracle's rules.
 * A mutant the tests cannot kill, because it changes nothing observable, says so in
 * `equivalent`.
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
    replace: "",
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
  {
    id: "replay-access-check",
    file: "lib/trace/check.ts",
    find: "checkShadows(world, { ...base, only: { mmu, start, end } })",
    replace: "checkShadows(world, { ...base, only: { mmu, start: -2, end: -1 } })",
    what: "replay: the leaf an access installs is never checked",
  },
];
