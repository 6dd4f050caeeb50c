import { assertEquals, assertMatch, assertNotEquals, assertThrows } from "@std/assert";
import { HostMemory, parseBacking } from "./memory.ts";
import { granule } from "../kvm/granule.ts";
import { KNOWN_BROKEN, makeStrategy, STRATEGY_NAMES } from "../strategies/mod.ts";
import { replay } from "../trace/replay.ts";
import { parseTrace } from "../trace/trace.ts";

const G = 2 ** 30, M = 2 ** 20, K = 2 ** 10;

Deno.test("backings per host granule: PMD THP, hugetlb PMD, 1G only with 4K pages", () => {
  assertEquals(parseBacking(granule("4K"), "thp"), { kind: "thp", size: 2 * M });
  assertEquals(parseBacking(granule("16K"), "thp"), { kind: "thp", size: 32 * M });
  assertEquals(parseBacking(granule("64K"), "hugetlb:512M"), {
    kind: "hugetlb",
    size: 512 * M,
  });
  assertEquals(parseBacking(granule("4K"), "hugetlb:1G"), { kind: "hugetlb", size: G });
  assertMatch(
    String(assertThrows(() => parseBacking(granule("16K"), "hugetlb:1G"))),
    /not a 16K hugetlb size \(expected 32M\)/,
  );
  assertMatch(
    String(assertThrows(() => parseBacking(granule("4K"), "hugetlb:64X"))),
    /malformed size "64X"/,
  );
  assertMatch(
    String(assertThrows(() => parseBacking(granule("4K"), "anon"))),
    /unknown backing "anon"/,
  );
});

Deno.test("memslots: alignment, overlap and IPA range are checked", () => {
  const h = new HostMemory(granule("4K"), 36);
  h.addMemslot({ id: 0, base: G, size: G, backing: "page" });
  assertMatch(
    String(assertThrows(() => h.addMemslot({ id: 1, base: G + 4 * K, size: G, backing: "page" }))),
    /overlaps memslot 0/,
  );
  assertMatch(
    String(assertThrows(() => h.addMemslot({ id: 2, base: 3 * G + 1, size: G, backing: "page" }))),
    /multiples of 4K/,
  );
  assertMatch(
    String(assertThrows(() => h.addMemslot({ id: 3, base: 63 * G, size: 2 * G, backing: "page" }))),
    /beyond the 36-bit/,
  );
  assertMatch(
    String(assertThrows(() => h.addMemslot({ id: 0, base: 8 * G, size: G, backing: "page" }))),
    /already exists/,
  );
  assertEquals(h.findMemslot(G + 5)?.id, 0);
  assertEquals(h.findMemslot(2 * G), undefined);
});

Deno.test("faulting in: THP where the whole huge page fits, base pages elsewhere", () => {
  const h = new HostMemory(granule("4K"), 40);
  h.addMemslot({ id: 0, base: G + 4 * K, size: 8 * M, backing: "thp" });
  // The first 2M of the slot starts 4K in: no THP fits there.
  h.faultinPfn(G + 8 * K, false);
  assertEquals(h.hostMapSize, 4 * K);
  h.faultinPfn(G + 2 * M + 100, false);
  assertEquals(h.hostMapSize, 2 * M);
  assertEquals(h.faultinPfn(3 * G, false), -1, "outside every memslot");
});

Deno.test("migration gives new PAs; swap-out frees; THP split keeps PAs; delete drops the slot", () => {
  const h = new HostMemory(granule("4K"), 40);
  h.addMemslot({ id: 0, base: G, size: 4 * M, backing: "thp" });
  const pa = h.faultinPfn(G + 4 * K, true);
  assertEquals(h.hostPaOf(G + 4 * K), pa);
  assertEquals(h.migrateHostRange(G, G + 4 * K), 1, "the whole THP moves");
  const moved = h.hostPaOf(G + 4 * K);
  assertNotEquals(moved, pa);
  assertEquals(h.splitHostRange(G, G + 2 * M), 1);
  assertEquals(h.hostPaOf(G + 4 * K), moved);
  h.faultinPfn(G + 8 * K, false); // present already after the split
  assertEquals(h.hostMapSize, 4 * K);
  assertEquals(h.notifierRange(G + 4 * K, G + 8 * K), [G + 4 * K, G + 8 * K]);
  h.dropHostRange(G, G + 2 * M);
  assertEquals(h.hostPaOf(G + 4 * K), -1);
  const again = h.faultinPfn(G + 4 * K, false);
  assertNotEquals(again, moved, "a refault after swap-out gets a new page");
  h.deleteMemslot(0);
  assertEquals(h.hostPaOf(G + 4 * K), -1);
  assertEquals(h.memslots.length, 0);
});

Deno.test("dirty logging: only pages written since the write-protect may be writable", () => {
  const h = new HostMemory(granule("4K"), 40);
  const slot = h.addMemslot({ id: 0, base: G, size: 4 * M, backing: "page" });
  assertEquals(h.writableForKvm(G, 8 * K), true);
  slot.logging = true;
  assertEquals(h.writableForKvm(G, 4 * K), false);
  h.markDirty(G + 100);
  assertEquals(h.writableForKvm(G, 4 * K), true);
  assertEquals(h.writableForKvm(G, 8 * K), false);
});

Deno.test("a 1G hugetlb page is one host mapping whatever the PA range exposed to L1", () => {
  // 4K pages and a 32-bit PA range: L1's stage-2 starts at level 2, the VMM's tables do not.
  const h = new HostMemory(granule("4K"), 32);
  h.addMemslot({ id: 0, base: G, size: G, backing: "hugetlb:1G" });
  const pa = h.faultinPfn(G + 4 * K, true);
  assertEquals(h.hostMapSize, G);
  assertEquals(h.hostPaOf(G + 512 * M), pa - 4 * K + 512 * M);
  // Memslots still end within the 32-bit range.
  assertThrows(
    () => h.addMemslot({ id: 1, base: 3 * G, size: 2 * G, backing: "page" }),
    RangeError,
    "beyond the 32-bit IPA space",
  );
});

Deno.test("the fuzz finding of a 1G hugetlb slot on a 32-bit PA range replays for every design", async () => {
  const text = await Deno.readTextFile(
    new URL("../../test/fixtures/fuzz/hugetlb-1g-on-32-bit-pa.json", import.meta.url),
  );
  const found = parseTrace(JSON.parse(text));
  // The finding, then L2 over the same page: a shadow leaf of the 1G page, and a migration.
  const shadowed = parseTrace({
    ...JSON.parse(text),
    config: { ...found.config, contexts: [{ id: 1, vmid: 1, granule: "4K", ipaBits: 32 }] },
    events: [
      ...JSON.parse(text).events,
      { op: "l1-map", ctx: 1, l2ipa: "0x80000000", l1ipa: "0x40000000", size: "2M" },
      { op: "access", vcpu: 0, ctx: 1, l2ipa: "0x80001000", write: true },
      { op: "migrate", l1ipa: "0x40000000", size: "4K" },
      { op: "access", vcpu: 0, ctx: 1, l2ipa: "0x80001000" },
    ],
  });
  for (const s of STRATEGY_NAMES.filter((x) => !KNOWN_BROKEN.includes(x))) {
    assertEquals(replay(found, makeStrategy(s)).violations, 0, s);
    const r = replay(shadowed, makeStrategy(s));
    assertEquals([r.violations, r.events[3].removedNeeded > 0], [0, true], s);
  }
});
