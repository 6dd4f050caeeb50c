import { assertEquals, assertMatch, assertThrows } from "@std/assert";
import {
  blockSizes,
  granule,
  levelSize,
  stage2ChunkCount,
  stage2Geometry,
  stage2RangeAddrEnd,
} from "./granule.ts";
import { kvmStage2UnmapRange } from "./mmu.ts";
import { KvmPgtable } from "./pgtable.ts";
import { newWalkStats } from "./pgtable_walk.ts";
import { formatSize, parseSize } from "../util/size.ts";

Deno.test("granule constants: page shift, bits per level, KVM_PGTABLE_MIN_BLOCK_LEVEL", () => {
  const rows = ["4K", "16K", "64K"].map((n) => {
    const g = granule(n);
    return [g.pageShift, g.bitsPerLevel, g.ptrsPerTable, g.minBlockLevel];
  });
  assertEquals(rows, [[12, 9, 512, 1], [14, 11, 2048, 2], [16, 13, 8192, 2]]);
});

Deno.test("block sizes per granule (kvm_level_supports_block_mapping)", () => {
  assertEquals(blockSizes(granule("4K")), [2 ** 30, 2 ** 21]);
  assertEquals(blockSizes(granule("16K")), [2 ** 25]);
  assertEquals(blockSizes(granule("64K")), [2 ** 29]);
});

Deno.test("stage-2 geometry: levels, start level, concatenated pgd pages", () => {
  // Worked by hand from the ARM ARM: start level resolves what is left after the lower
  // levels, up to 16 concatenated tables (4 extra bits), at least 2 levels.
  const cases: [string, number, number, number, number][] = [
    // granule, ipa bits, levels, start level, pgd pages
    ["4K", 32, 2, 2, 4], // L2 resolves bits 21..31: 2048 entries = 4 pages
    ["4K", 36, 3, 1, 1], // L1 resolves 30..35: 64 entries
    ["4K", 40, 3, 1, 2], // L1 resolves 30..39: 1024 entries
    ["4K", 43, 3, 1, 16],
    ["4K", 44, 4, 0, 1],
    ["4K", 48, 4, 0, 1],
    ["4K", 52, 4, 0, 16], // LPA2: level 0 resolves 39..51
    ["16K", 40, 2, 2, 16], // L2 resolves 25..39: 32768 entries
    ["16K", 42, 3, 1, 1],
    ["16K", 48, 3, 1, 2],
    ["16K", 52, 4, 0, 1],
    ["64K", 32, 2, 2, 1],
    ["64K", 42, 2, 2, 1], // L2 resolves 29..41: 8192 entries, one page
    ["64K", 46, 2, 2, 16],
    ["64K", 48, 3, 1, 1],
    ["64K", 52, 3, 1, 1], // L1 resolves 42..51: 1024 of 8192 entries
  ];
  for (const [g, bits, levels, start, pages] of cases) {
    const geo = stage2Geometry(granule(g), bits);
    assertEquals(
      [geo.levels, geo.startLevel, geo.pgdPages],
      [levels, start, pages],
      `${g} ${bits}`,
    );
  }
});

Deno.test("bad granules and IPA sizes are rejected with one clear line", () => {
  assertMatch(String(assertThrows(() => granule("8K"))), /unknown granule "8K"/);
  assertMatch(
    String(assertThrows(() => stage2Geometry(granule("4K"), 31))),
    /IPA size 31 bits is out of range/,
  );
  assertMatch(String(assertThrows(() => stage2Geometry(granule("64K"), 53))), /out of range/);
  assertMatch(String(assertThrows(() => stage2Geometry(granule("4K"), 40.5))), /out of range/);
  assertMatch(String(assertThrows(() => parseSize("64X"))), /malformed size "64X"/);
  assertEquals(parseSize("256G"), 256 * 2 ** 30);
  assertEquals(formatSize(2 ** 21), "2M");
});

Deno.test("stage2_apply_range chunks: the seed's full-walk iteration counts", () => {
  const full = (g: string, bits: number) => stage2ChunkCount(granule(g), 0, 2 ** bits);
  assertEquals(full("4K", 48), 262_144);
  assertEquals(full("64K", 52), 8_388_608);
  // 16K derived from the constants: PAGE_SHIFT 14, 11 bits per level, chunks at level 2.
  const chunkShift16 = 14 + 11 * (3 - 2);
  assertEquals(full("16K", 48), 2 ** (48 - chunkShift16));
  assertEquals(full("16K", 52), 2 ** (52 - chunkShift16));
  assertEquals(full("16K", 48), 8_388_608);
  assertEquals(full("16K", 52), 134_217_728);
  // Upstream caps the nested PARange at 48 bits, so a 64K host walks 2^48 / 512M.
  assertEquals(full("64K", 48), 524_288);
});

Deno.test("stage2_range_addr_end: unaligned start, end inside a chunk", () => {
  const g = granule("4K");
  assertEquals(stage2RangeAddrEnd(g, 0x1000, 2 ** 32), 2 ** 30);
  assertEquals(stage2RangeAddrEnd(g, 2 ** 30, 2 ** 30 + 5), 2 ** 30 + 5);
  assertEquals(stage2ChunkCount(g, 0x1000, 2 ** 30 + 1), 2);
  assertEquals(stage2ChunkCount(g, 5, 5), 0);
});

Deno.test("an empty full-IPA unmap counts every chunk without walking each", () => {
  for (const [g, bits] of [["4K", 48], ["16K", 48], ["64K", 52]] as const) {
    const pgt = new KvmPgtable(stage2Geometry(granule(g), bits));
    const st = newWalkStats();
    kvmStage2UnmapRange(pgt, 0, 2 ** bits, st);
    const chunks = 2 ** bits / levelSize(granule(g), granule(g).minBlockLevel);
    assertEquals(st.iterations, chunks, `${g}/${bits}`);
    // Every chunk visits one invalid descriptor at the start level.
    assertEquals(st.descriptors, chunks, `${g}/${bits}`);
  }
});
