/**
 * L1's rules, each in isolation: what its TLBIs invalidate (docs/oracle.md, "When an old
 * L1 leaf stops being allowed", rows T1-T7), break-before-make (B1-B3), and its own tables
 * and contexts (G1-G4). Each rule has a test where it fires and a near miss where it does
 * not; the names carry the rule's id, which docs/oracle.md points at.
 */

import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { granule } from "../kvm/granule.ts";
import { kvmPgtableGetLeaf } from "../kvm/pgtable_stage2.ts";
import { newPgtableLeaf, PTE_W } from "../kvm/pte.ts";
import { type L1Context, L1Hypervisor, ttlHintLevel } from "./l1.ts";

const K = 2 ** 10, M = 2 ** 20, G = 2 ** 30;

/** L1 on a 4K host with a 40-bit PA range and one context per spec. */
function l1With(...specs: { id: number; vmid: number; granule?: string; baddr?: number }[]) {
  const l1 = new L1Hypervisor(granule("4K"), 40);
  const ctxs = specs.map((s) =>
    l1.createContext({ granule: "4K", ipaBits: 40, ...s, baddr: s.baddr })
  );
  return { l1, ctxs };
}

/** A context's old leaves not yet invalidated: [L2 IPA, size, conflicting]. */
const old = (c: L1Context) => c.pending.map((p) => [p.base, p.size, p.conflict]);

/** L1 maps then clears (break) `size` at `l2ipa` in context `id`: one old leaf pending. */
function broken(l1: L1Hypervisor, id: number, l2ipa: number, size: number, l1ipa: number) {
  l1.map(id, l2ipa, size, l1ipa, true);
  l1.unmap(id, l2ipa, size);
}

// --- T1: TLBI IPAS2E1IS without a TTL hint --------------------------------------------------

Deno.test("l1 T1 fires: TLBI IPAS2E1IS inside an old 2M block, not at its start, invalidates the whole block in every context of the VMID", () => {
  const { l1, ctxs: [a, b] } = l1With({ id: 1, vmid: 1 }, { id: 3, vmid: 1, baddr: 0x7700_0000 });
  broken(l1, 1, 8 * G, 2 * M, G);
  broken(l1, 3, 8 * G, 2 * M, G + 2 * M);
  const dropped = l1.tlbiIpa(1, 8 * G + M + 12 * K, 0);
  assertEquals(dropped.map((d) => [d.ctx, d.base, d.size]), [[1, 8 * G, 2 * M], [3, 8 * G, 2 * M]]);
  assertEquals([old(a), old(b)], [[], []]);
});

Deno.test("l1 T1 near miss: TLBI IPAS2E1IS just past an old block, just before it, or for another VMID invalidates nothing", () => {
  const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1 }, { id: 2, vmid: 2 });
  broken(l1, 1, 8 * G, 2 * M, G);
  assertEquals(l1.tlbiIpa(1, 8 * G + 2 * M, 0), []);
  assertEquals(l1.tlbiIpa(1, 8 * G - 4 * K, 0), []);
  assertEquals(l1.tlbiIpa(2, 8 * G + 4 * K, 0), []);
  assertEquals(old(a), [[8 * G, 2 * M, false]]);
});

// --- T2, T3: TLBI IPAS2E1IS with a TTL hint -----------------------------------------------

Deno.test("l1 T2 fires: a TTL naming the old leaf's level invalidates it whole (level 2 for a 4K-granule 2M block, 3 for a page)", () => {
  const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1 });
  broken(l1, 1, 8 * G, 2 * M, G);
  broken(l1, 1, 9 * G, 4 * K, G + 4 * M);
  assertEquals(l1.tlbiIpa(1, 8 * G + 64 * K, 2).map((d) => d.base), [8 * G]);
  assertEquals(l1.tlbiIpa(1, 9 * G, 3).map((d) => d.base), [9 * G]);
  assertEquals(old(a), []);
});

Deno.test("l1 T2 near miss: a TTL naming the leaf's level at an address outside it invalidates nothing", () => {
  const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1 });
  broken(l1, 1, 8 * G, 2 * M, G);
  assertEquals(l1.tlbiIpa(1, 8 * G + 2 * M, 2), []);
  assertEquals(old(a), [[8 * G, 2 * M, false]]);
});

Deno.test("l1 T3 fires: a TTL naming another level than the old leaf's invalidates nothing", () => {
  const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1 });
  broken(l1, 1, 8 * G, 2 * M, G);
  broken(l1, 1, 9 * G, 4 * K, G + 4 * M);
  assertEquals(l1.tlbiIpa(1, 8 * G, 3), []);
  assertEquals(l1.tlbiIpa(1, 8 * G + 4 * K, 1), []);
  assertEquals(l1.tlbiIpa(1, 9 * G, 2), []);
  assertEquals(old(a), [[8 * G, 2 * M, false], [9 * G, 4 * K, false]]);
});

Deno.test("l1 T3 near miss: of two old leaves at one address, a TTL drops the one at its level only", () => {
  const { l1, ctxs: [a, b] } = l1With({ id: 1, vmid: 1 }, { id: 3, vmid: 1, baddr: 0x7700_0000 });
  broken(l1, 1, 8 * G, 2 * M, G);
  broken(l1, 3, 8 * G, 4 * K, G);
  assertEquals(l1.tlbiIpa(1, 8 * G, 3).map((d) => [d.ctx, d.size]), [[3, 4 * K]]);
  assertEquals([old(a), old(b)], [[[8 * G, 2 * M, false]], []]);
});

// --- T4: reserved TTL encodings ------------------------------------------------------------

Deno.test("l1 T4 fires: on a 16K granule, TTL level 1 is reserved without FEAT_LPA2 and acts as no hint", () => {
  const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1, granule: "16K" });
  broken(l1, 1, 8 * G, 32 * M, G); // a level-2 block
  broken(l1, 1, 9 * G, 16 * K, G + 64 * M); // a level-3 page
  assertEquals(l1.tlbiIpa(1, 8 * G + 16 * M, 1).map((d) => d.size), [32 * M]);
  assertEquals(l1.tlbiIpa(1, 9 * G, 1).map((d) => d.size), [16 * K]);
  assertEquals(old(a), []);
  assertEquals(ttlHintLevel(granule("16K"), 1), 0);
});

Deno.test("l1 T4 near miss: TTL level 1 names level 1 on 4K and 64K granules (not reserved): a level-2 or level-3 leaf stays", () => {
  for (const [g, block] of [["4K", 2 * M], ["64K", 512 * M]] as const) {
    const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1, granule: g });
    broken(l1, 1, 8 * G, block, G);
    broken(l1, 1, 9 * G, granule(g).pageSize, G + G);
    assertEquals(l1.tlbiIpa(1, 8 * G, 1), [], `${g} block`);
    assertEquals(l1.tlbiIpa(1, 9 * G, 1), [], `${g} page`);
    assertEquals(old(a).length, 2);
  }
});

Deno.test("l1 T4: the TTL level each encoding names, per granule (Arm ARM, TLBI IPAS2E1IS, TTL)", () => {
  // TTL 0 is no hint; 4K level 0 and 16K level 0 cannot be written as a trace's ttl (0 is no
  // hint), so the only reserved level a trace can give is 16K level 1.
  const levels = (g: string) => [0, 1, 2, 3].map((ttl) => ttlHintLevel(granule(g), ttl));
  assertEquals(levels("4K"), [0, 1, 2, 3]);
  assertEquals(levels("16K"), [0, 0, 2, 3]);
  assertEquals(levels("64K"), [0, 1, 2, 3]);
});

// --- T5: TLBI RIPAS2E1IS -------------------------------------------------------------------

Deno.test("l1 T5 fires: TLBI RIPAS2E1IS over part of an old block invalidates it whole, its parts outside the range included", () => {
  const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1 });
  broken(l1, 1, 8 * G, 2 * M, G);
  broken(l1, 1, 10 * G, 2 * M, G + 2 * M);
  assertEquals(l1.tlbiRange(1, 8 * G + M, 8 * G + M + 64 * K).map((d) => d.base), [8 * G]);
  // A range that ends one page into the block.
  assertEquals(l1.tlbiRange(1, 10 * G - 64 * K, 10 * G + 4 * K).map((d) => d.base), [10 * G]);
  assertEquals(old(a), []);
});

Deno.test("l1 T5 near miss: a range that ends at an old block's start, starts at its end, or is another VMID's invalidates nothing", () => {
  const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1 }, { id: 2, vmid: 2 });
  broken(l1, 1, 8 * G, 2 * M, G);
  assertEquals(l1.tlbiRange(1, 8 * G - 64 * K, 8 * G), []);
  assertEquals(l1.tlbiRange(1, 8 * G + 2 * M, 8 * G + 4 * M), []);
  assertEquals(l1.tlbiRange(2, 8 * G, 8 * G + 2 * M), []);
  assertEquals(old(a), [[8 * G, 2 * M, false]]);
});

// --- T6: TLBI VMALLS12E1IS -----------------------------------------------------------------

Deno.test("l1 T6 fires: TLBI VMALLS12E1IS forgets every old leaf of the VMID's contexts, conflicting ones included, and its destroyed contexts", () => {
  const { l1, ctxs: [a, b] } = l1With({ id: 1, vmid: 1 }, { id: 3, vmid: 1, baddr: 0x7700_0000 });
  broken(l1, 1, 8 * G, 2 * M, G);
  l1.map(3, 8 * G, 4 * K, G, true);
  l1.map(3, 8 * G, 4 * K, G + 4 * K, true); // no break-before-make: a conflicting old leaf
  l1.createContext({ id: 4, vmid: 1, granule: "4K", ipaBits: 40 });
  l1.destroyContext(4);
  l1.tlbiVmid(1);
  assertEquals([old(a), old(b), b.conflicts], [[], [], []]);
  assertEquals(l1.contexts.map((c) => c.id), [1, 3]);
});

Deno.test("l1 T6 near miss: TLBI VMALLS12E1IS leaves other VMIDs' old leaves and destroyed contexts", () => {
  const { l1, ctxs: [, b] } = l1With({ id: 1, vmid: 1 }, { id: 2, vmid: 2 });
  broken(l1, 2, 8 * G, 2 * M, G);
  l1.createContext({ id: 5, vmid: 2, granule: "4K", ipaBits: 40 });
  l1.destroyContext(5);
  l1.tlbiVmid(1);
  assertEquals(old(b), [[8 * G, 2 * M, false]]);
  assertEquals(l1.contexts.map((c) => [c.id, c.destroyed]), [[1, false], [2, false], [5, true]]);
});

// --- T7: TLBI ALLE1IS -----------------------------------------------------------------------

Deno.test("l1 T7 fires: TLBI ALLE1IS forgets every old leaf of every VMID, conflicting ones included, and every destroyed context", () => {
  const { l1, ctxs: [a, b] } = l1With({ id: 1, vmid: 1 }, { id: 2, vmid: 2 });
  broken(l1, 1, 8 * G, 2 * M, G);
  l1.map(2, 8 * G, 4 * K, G, true);
  l1.map(2, 8 * G, 4 * K, G + 4 * K, true); // conflicting
  l1.createContext({ id: 5, vmid: 3, granule: "4K", ipaBits: 40 });
  l1.destroyContext(5);
  l1.tlbiAll();
  assertEquals([old(a), old(b), b.conflicts], [[], [], []]);
  assertEquals(l1.contexts.map((c) => c.id), [1, 2]);
});

Deno.test("l1 T7 near miss: TLBI ALLE1IS leaves L1's live contexts and their current tables", () => {
  const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1 });
  l1.map(1, 8 * G, 2 * M, G, true);
  l1.tlbiAll();
  const leaf = newPgtableLeaf();
  assertEquals(kvmPgtableGetLeaf(a.s2, 8 * G + 4 * K, leaf), 2);
  assertEquals([leaf.base, leaf.oa, l1.context(1) === a], [8 * G, G, true]);
});

// --- B1-B3: break-before-make ---------------------------------------------------------------

Deno.test("l1 B1 fires: a write over a valid translation to another output address, or at another size, without break-before-make leaves a conflicting old leaf only VMALLS12E1IS removes", () => {
  const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1 });
  l1.map(1, 8 * G, 4 * K, G, true);
  l1.map(1, 8 * G, 4 * K, G + 4 * K, true); // another output address
  l1.map(1, 9 * G, 2 * M, G + 2 * M, true);
  l1.map(1, 9 * G, 4 * K, G + 2 * M, true); // same output, another size
  assertEquals(old(a), [[8 * G, 4 * K, true], [9 * G, 2 * M, true]]);
  assertEquals(l1.tlbiIpa(1, 8 * G, 0), []);
  assertEquals(l1.tlbiIpa(1, 9 * G, 2), []);
  assertEquals(l1.tlbiRange(1, 8 * G, 10 * G), []);
  l1.tlbiVmid(1);
  assertEquals(old(a), []);
});

Deno.test("l1 B1 near miss: a permission-only change, or a change with break-before-make, leaves no conflict (a TLBI by address removes the old leaf)", () => {
  const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1 });
  l1.map(1, 8 * G, 4 * K, G, true);
  l1.map(1, 8 * G, 4 * K, G, false); // same output and size, read-only now
  assertEquals(old(a), [[8 * G, 4 * K, false]]);
  assertEquals(l1.tlbiIpa(1, 8 * G, 3).length, 1);
  l1.map(1, 9 * G, 2 * M, G + 2 * M, true);
  l1.unmap(1, 9 * G, 2 * M); // break
  l1.tlbiIpa(1, 9 * G, 0); // invalidate
  l1.map(1, 9 * G, 4 * K, G + 2 * M, true); // make
  assertEquals([old(a), a.conflicts], [[], []]);
});

Deno.test("l1 B2 fires: a write over an old leaf not yet invalidated (break, make, no TLBI) makes the old leaf conflicting", () => {
  const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1 });
  broken(l1, 1, 8 * G, 2 * M, G);
  l1.map(1, 8 * G, 4 * K, G + 8 * M, true);
  assertEquals(old(a), [[8 * G, 2 * M, true]]);
  assertEquals(l1.tlbiIpa(1, 8 * G, 0), []);
});

Deno.test("l1 B2 near miss: the same write after the TLBI of the old leaf leaves no conflict", () => {
  const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1 });
  broken(l1, 1, 8 * G, 2 * M, G);
  l1.tlbiIpa(1, 8 * G, 2);
  l1.map(1, 8 * G, 4 * K, G + 8 * M, true);
  l1.unmap(1, 8 * G, 4 * K);
  assertEquals(old(a), [[8 * G, 4 * K, false]]);
  assertEquals(l1.tlbiIpa(1, 8 * G, 3).length, 1);
});

Deno.test("l1 B3 fires: the new translation of a write without break-before-make is a conflicting old leaf once L1 replaces or clears it", () => {
  const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1 });
  l1.map(1, 8 * G, 4 * K, G, true);
  l1.map(1, 8 * G, 4 * K, G + 4 * K, true); // no break-before-make: the old leaf conflicts (B1)
  l1.unmap(1, 8 * G, 4 * K); // the new one, cleared, conflicts too
  assertEquals(a.pending.map((p) => [p.l1ipa, p.conflict]), [[G, true], [G + 4 * K, true]]);
  assertEquals(l1.tlbiIpa(1, 8 * G, 3), []);
});

Deno.test("l1 B3 near miss: after TLBI VMALLS12E1IS or ALLE1IS the range is no longer marked: its leaf, cleared later, is an ordinary old leaf", () => {
  for (const clear of ["vmid", "all"]) {
    const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1 });
    l1.map(1, 8 * G, 4 * K, G, true);
    l1.map(1, 8 * G, 4 * K, G + 4 * K, true); // no break-before-make
    if (clear === "vmid") l1.tlbiVmid(1);
    else l1.tlbiAll();
    l1.unmap(1, 8 * G, 4 * K);
    assertEquals(old(a), [[8 * G, 4 * K, false]], clear);
    assertEquals(l1.tlbiIpa(1, 8 * G, 3).length, 1, clear);
  }
});

// --- G1-G4: L1's tables and contexts --------------------------------------------------------

Deno.test("l1 G1 fires: clearing part of a block, or writing a page into it, keeps the whole old block, with its L1 IPA and permissions", () => {
  const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1 });
  l1.map(1, 8 * G, 2 * M, G, true);
  l1.unmap(1, 8 * G + M, 4 * K);
  l1.map(1, 10 * G, 2 * M, G + 2 * M, true);
  l1.map(1, 10 * G + 64 * K, 4 * K, G + 2 * M + 64 * K, true);
  l1.map(1, 12 * G, 4 * K, G + 8 * M, false);
  l1.unmap(1, 12 * G, 4 * K);
  assertEquals(a.pending.map((p) => [p.base, p.size, p.l1ipa, (p.attr & PTE_W) !== 0]), [
    [8 * G, 2 * M, G, true],
    [10 * G, 2 * M, G + 2 * M, true],
    [12 * G, 4 * K, G + 8 * M, false], // read-only, as L1 had it
  ]);
  assertEquals(kvmPgtableGetLeaf(a.s2, 8 * G, newPgtableLeaf()), -1, "the whole block is cleared");
});

Deno.test("l1 G1 near miss: clearing where nothing is mapped, or beside a block, keeps nothing", () => {
  const { l1, ctxs: [a] } = l1With({ id: 1, vmid: 1 });
  l1.map(1, 8 * G, 2 * M, G, true);
  l1.unmap(1, 8 * G + 2 * M, 4 * K);
  l1.unmap(1, 8 * G - 4 * K, 4 * K);
  l1.unmap(1, 9 * G, 2 * M);
  assertEquals(old(a), []);
});

Deno.test("l1 G2 fires: a destroyed context is gone for L1 but kept until a TLBI of its VMID", () => {
  const { l1 } = l1With({ id: 1, vmid: 1 });
  l1.destroyContext(1);
  assertThrows(() => l1.context(1), RangeError, "no L1 context 1");
  assertEquals(l1.contexts.map((c) => [c.id, c.destroyed]), [[1, true]]);
  l1.tlbiVmid(1);
  assertEquals(l1.contexts, []);
});

Deno.test("l1 G2 near miss: TLBIs by address do not forget a destroyed context", () => {
  const { l1 } = l1With({ id: 1, vmid: 1 });
  broken(l1, 1, 8 * G, 2 * M, G);
  l1.destroyContext(1);
  l1.tlbiIpa(1, 8 * G, 0);
  l1.tlbiRange(1, 0, 2 ** 40);
  assertEquals(l1.contexts.map((c) => [c.id, c.destroyed]), [[1, true]]);
});

Deno.test("l1 G3 fires: a context with a granule below the host's, or the VTTBR of a live context, is refused", () => {
  const l1 = new L1Hypervisor(granule("16K"), 40);
  assertThrows(
    () => l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 }),
    RangeError,
    "smaller than the host's 16K",
  );
  l1.createContext({ id: 1, vmid: 1, baddr: 0x5000_0000, granule: "16K", ipaBits: 40 });
  assertThrows(
    () => l1.createContext({ id: 2, vmid: 1, baddr: 0x5000_0000, granule: "64K", ipaBits: 40 }),
    RangeError,
    "has the VTTBR of context 1",
  );
});

Deno.test("l1 G3 near miss: the host's granule, another BADDR for the VMID, or the VTTBR of a destroyed context is accepted", () => {
  const l1 = new L1Hypervisor(granule("16K"), 40);
  l1.createContext({ id: 1, vmid: 1, baddr: 0x5000_0000, granule: "16K", ipaBits: 40 });
  l1.createContext({ id: 2, vmid: 1, baddr: 0x6000_0000, granule: "64K", ipaBits: 40 });
  l1.destroyContext(1);
  l1.createContext({ id: 3, vmid: 1, baddr: 0x5000_0000, granule: "16K", ipaBits: 40 });
  assertEquals(l1.contexts.map((c) => [c.id, c.destroyed]), [[1, true], [2, false], [3, false]]);
});

Deno.test("l1 G4 fires: a mapping that is no page or block of the granule, misaligned, past L1's PA range or the context's IPA space is refused", () => {
  const l1 = new L1Hypervisor(granule("4K"), 36);
  l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 36 });
  // 48-bit IPA spaces: their tables start at level 0, whose entries are no blocks.
  l1.createContext({ id: 2, vmid: 2, granule: "4K", ipaBits: 48 });
  l1.createContext({ id: 3, vmid: 3, granule: "16K", ipaBits: 48 });
  const refused = (id: number, l2: number, size: number, l1ipa: number, what: string) =>
    assertThrows(() => l1.map(id, l2, size, l1ipa, true), RangeError, what);
  refused(2, 0, 512 * G, 0, "is not a 4K page or block size"); // level 0
  refused(3, 0, 64 * G, 0, "is not a 16K page or block size"); // level 1 without FEAT_LPA2
  refused(1, 0, 3 * M, 0, "is not a 4K page or block size");
  refused(1, 4 * K, 2 * M, 0, "not aligned");
  refused(1, 0, 2 * M, 4 * K, "not aligned");
  refused(1, 0, 4 * K, 2 ** 36, "beyond L1's 36-bit PA range");
  refused(1, 2 ** 36, 4 * K, 0, "beyond its 36-bit IPA space");
});

Deno.test("l1 G4 near miss: the last page of L1's PA range and of the IPA space, and each granule's blocks, are accepted", () => {
  const l1 = new L1Hypervisor(granule("4K"), 36);
  const a = l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 36 });
  l1.createContext({ id: 2, vmid: 2, granule: "16K", ipaBits: 36 });
  l1.createContext({ id: 3, vmid: 3, granule: "64K", ipaBits: 36 });
  l1.map(1, 2 ** 36 - 4 * K, 4 * K, 2 ** 36 - 4 * K, true);
  l1.map(1, G, G, 2 * G, true);
  l1.map(2, 0, 32 * M, 0, true);
  l1.map(3, 0, 512 * M, 0, true);
  assertEquals(kvmPgtableGetLeaf(a.s2, 2 ** 36 - 1, newPgtableLeaf()), 3);
  assertEquals(kvmPgtableGetLeaf(a.s2, G, newPgtableLeaf()), 1);
});

Deno.test("l1: every L1 rule of docs/oracle.md (T, B, G) has a firing test and a near miss here", () => {
  const doc = Deno.readTextFileSync(new URL("../../docs/oracle.md", import.meta.url));
  const tests = Deno.readTextFileSync(new URL("./l1_test.ts", import.meta.url));
  const ids = [...doc.matchAll(/^\| ([TBG]\d) \|/gm)].map((m) => m[1]);
  assertEquals(ids.length, 14, `rules found: ${ids}`);
  for (const id of ids) {
    for (const what of ["fires", "near miss"]) {
      assertStringIncludes(tests, `Deno.test("l1 ${id} ${what}: `);
    }
  }
});
