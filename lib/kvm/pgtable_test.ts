import { assertEquals, assertThrows } from "@std/assert";
import { propertyOptions } from "../../test/property.ts";
import fc from "fast-check";
import { granule, levelSize, stage2Geometry, stage2RangeAddrEnd } from "./granule.ts";
import { kvmStage2UnmapRange, kvmStage2WpRange } from "./mmu.ts";
import {
  KvmPgtable,
  kvmPgtableStage2Map,
  newWalkStats,
  PTE_R,
  PTE_TABLE,
  PTE_W,
  ROOT_TABLE,
  type WalkStats,
} from "./pgtable.ts";

const G = 2 ** 30, M = 2 ** 20, K = 2 ** 10;

function leaves(pgt: KvmPgtable): number[][] {
  const out: number[][] = [];
  pgt.forEachLeaf((a, s, oa, attr) => out.push([a, s, oa, attr]));
  return out;
}

Deno.test("map a page and a block, look them up, count tables", () => {
  const pgt = new KvmPgtable(stage2Geometry(granule("4K"), 40));
  const st = newWalkStats();
  kvmPgtableStage2Map(pgt, 2 * G, 2 * M, 0x80_0000_0000, PTE_R | PTE_W, 0, st);
  kvmPgtableStage2Map(pgt, 3 * G + 4 * K, 4 * K, 0x90_0000_0000, PTE_R, 0, st);
  assertEquals(pgt.getLeaf(2 * G + 12345), 2);
  assertEquals(pgt.leafOa, 0x80_0000_0000);
  assertEquals(pgt.leafSize, 2 * M);
  assertEquals(pgt.getLeaf(3 * G + 4 * K + 7), 3);
  assertEquals(pgt.leafAttr & PTE_W, 0);
  assertEquals(pgt.getLeaf(3 * G), -1);
  // pgd (2 concatenated pages) + one L2 table for the block + L2 and L3 for the page.
  assertEquals(pgt.tablePages, 2 + 1 + 2);
  assertEquals(pgt.leaves, 2);
});

Deno.test("a partial unmap removes the whole block (stage2_unmap_walker) and frees empty tables", () => {
  const pgt = new KvmPgtable(stage2Geometry(granule("4K"), 48));
  const st = newWalkStats();
  kvmPgtableStage2Map(pgt, 4 * G, 2 * M, 0x80_0000_0000, PTE_R, 0, st);
  const before = pgt.tablePages;
  const removed: number[] = [];
  pgt.onLeafRemoved = (addr, level) => removed.push(addr, level);
  kvmStage2UnmapRange(pgt, 4 * G + 8 * K, 4 * K, st);
  assertEquals(removed, [4 * G, 2]);
  assertEquals(pgt.getLeaf(4 * G), -1);
  assertEquals(before, 3); // pgd + L1 + L2
  assertEquals(pgt.tablePages, 1); // only the pgd is left
});

Deno.test("a page mapped over a block drops the block; a block over a table drops the table", () => {
  const pgt = new KvmPgtable(stage2Geometry(granule("4K"), 40));
  const st = newWalkStats();
  const removed: number[] = [];
  pgt.onLeafRemoved = (addr, level) => removed.push(addr, level);
  kvmPgtableStage2Map(pgt, 2 * G, 2 * M, 0x80_0000_0000, PTE_R, 0, st);
  kvmPgtableStage2Map(pgt, 2 * G + 4 * K, 4 * K, 0x90_0000_0000, PTE_R, 0, st);
  assertEquals(removed, [2 * G, 2]);
  assertEquals(pgt.getLeaf(2 * G), -1, "the rest of the old block is not remapped");
  kvmPgtableStage2Map(pgt, 2 * G + 8 * K, 4 * K, 0x90_0000_1000, PTE_R, 0, st);
  kvmPgtableStage2Map(pgt, 2 * G, 2 * M, 0xa0_0000_0000, PTE_R, 0, st);
  assertEquals(removed.slice(2), [2 * G + 4 * K, 3, 2 * G + 8 * K, 3]);
  assertEquals(pgt.leaves, 1);
  assertEquals(pgt.getLeaf(2 * G + 8 * K), 2);
});

Deno.test("same output, other permissions: updated in place, not removed", () => {
  const pgt = new KvmPgtable(stage2Geometry(granule("64K"), 42));
  const st = newWalkStats();
  let removed = 0;
  pgt.onLeafRemoved = () => removed++;
  kvmPgtableStage2Map(pgt, 64 * K, 64 * K, 0x80_0000_0000, PTE_R, 0, st);
  kvmPgtableStage2Map(pgt, 64 * K, 64 * K, 0x80_0000_0000, PTE_R | PTE_W, 0, st);
  assertEquals(removed, 0);
  assertEquals(pgt.getLeaf(64 * K), 3);
  assertEquals(pgt.leafAttr & PTE_W, PTE_W);
  assertEquals(kvmStage2WpRange(pgt, 0, pgt.geom.ipaSize, st), 1);
  pgt.getLeaf(64 * K);
  assertEquals(pgt.leafAttr & PTE_W, 0);
});

/**
 * An independent reference for stage2_apply_range(kvm_pgtable_stage2_unmap): every chunk
 * walked from the pgd, every descriptor visited one by one, as pgtable.c does.
 */
function naiveUnmap(pgt: KvmPgtable, start: number, end: number, st: WalkStats): void {
  const visit = (t: number, s: number, e: number) => {
    const size = pgt.sizes[pgt.levelOf(t)];
    const base = pgt.baseOf(t);
    for (let i = Math.floor((s - base) / size); i < pgt.entries(t) && base + i * size < e; i++) {
      st.descriptors++;
      const a = pgt.attrAt(t, i);
      if (a === 0) continue;
      if (a & PTE_TABLE) {
        const eb = base + i * size;
        const child = pgt.oaAt(t, i);
        visit(child, Math.max(s, eb), Math.min(e, eb + size));
        if (pgt.validCount(child) === 0) pgt.clear(t, i);
      } else pgt.clear(t, i);
    }
  };
  let addr = start;
  while (addr < end) {
    const next = stage2RangeAddrEnd(pgt.geom.granule, addr, end);
    visit(ROOT_TABLE, addr, next);
    st.iterations++;
    addr = next;
  }
}

Deno.test("chunked unmap counts equal a naive descriptor-by-descriptor walk (property)", () => {
  const configs: [string, number][] = [["4K", 32], ["4K", 36], ["4K", 40], ["16K", 40], [
    "64K",
    42,
  ]];
  fc.assert(
    fc.property(
      fc.constantFrom(...configs),
      fc.array(fc.tuple(fc.nat(), fc.nat(2), fc.boolean()), { maxLength: 40 }),
      fc.nat(),
      fc.nat(),
      ([gn, bits], maps, a, b) => {
        const g = granule(gn);
        const geo = stage2Geometry(g, bits);
        const x = new KvmPgtable(geo), y = new KvmPgtable(geo);
        const st0 = newWalkStats();
        for (const [slot, lvlPick, writable] of maps) {
          const level = Math.max(g.minBlockLevel, 3 - lvlPick);
          const size = levelSize(g, level);
          // Cluster the mappings in a few 1/16ths of the space so tables share entries.
          const region = geo.ipaSize / 16;
          const ipa = Math.floor(((slot % 3) * 5 * region + (slot * 7919 * size) % region) / size) *
            size;
          const attr = PTE_R | (writable ? PTE_W : 0);
          kvmPgtableStage2Map(x, ipa, size, 2 ** 40 + ipa, attr, 0, st0);
          kvmPgtableStage2Map(y, ipa, size, 2 ** 40 + ipa, attr, 0, st0);
        }
        const start = Math.floor((a % geo.ipaSize) / 4096) * 4096;
        const end = Math.min(
          geo.ipaSize,
          start + 4096 + Math.floor((b % geo.ipaSize) / 4096) * 4096,
        );
        const fast = newWalkStats(), slow = newWalkStats();
        kvmStage2UnmapRange(x, start, end - start, fast);
        naiveUnmap(y, start, end, slow);
        assertEquals(leaves(x), leaves(y));
        assertEquals(fast.iterations, slow.iterations);
        assertEquals(fast.descriptors, slow.descriptors);
        assertEquals(x.tablePages, y.tablePages);
      },
    ),
    propertyOptions(300),
  );
});

Deno.test("full walk of a populated 48-bit table: exact counts, work bounded by the populated part", () => {
  const pgt = new KvmPgtable(stage2Geometry(granule("4K"), 48));
  const st = newWalkStats();
  kvmPgtableStage2Map(pgt, 4 * G, 4 * K, 2 ** 40, PTE_R, 0, st);
  const u = newWalkStats();
  kvmStage2UnmapRange(pgt, 0, 2 ** 48, u);
  assertEquals(u.iterations, 262_144);
  // 4 chunks before 4G see L0+L1 (2 each); the 4G chunk sees L0, L1, 512 L2 and 512 L3
  // descriptors; the rest of the first 512G sees only L0 once its L1 table is freed
  // (507 chunks); the other 511 L0 entries are invalid for 512 chunks each.
  assertEquals(u.descriptors, 4 * 2 + (1 + 1 + 512 + 512) + 507 + 511 * 512);
  assertEquals(pgt.tablePages, 1);
});

Deno.test("a million leaves live in typed arrays, not one object per leaf", () => {
  const pgt = new KvmPgtable(stage2Geometry(granule("4K"), 40));
  const st = newWalkStats();
  const n = 1 << 20;
  for (let i = 0; i < n; i++) {
    kvmPgtableStage2Map(pgt, i * 4096, 4096, 2 ** 40 + i * 4096, PTE_R, 0, st);
  }
  assertEquals(pgt.leaves, n);
  // 2048 L3 tables + 4 L2 tables + the 2-page pgd.
  assertEquals(pgt.tablePages, n / 512 + 4 + 2);
  // One pool slot per table: the root and 2052 others, no per-leaf object.
  assertEquals(pgt.tableSlots, n / 512 + 4 + 1);
});

Deno.test("tables over many pool segments keep their descriptors (every granule, 48 and 52 bits)", () => {
  // The pools grow in segments that are never copied; a table must never straddle two,
  // whatever the root's size (64K at 52 bits has a 1024-entry root, not a whole table).
  for (const g of ["4K", "16K", "64K"]) {
    for (const bits of [48, 52]) {
      const gr = granule(g);
      const pgt = new KvmPgtable(stage2Geometry(gr, bits), { withMeta: true });
      const span = levelSize(gr, 2); // one last-level table per leaf below
      const n = 70;
      for (let i = 0; i < n; i++) {
        pgt.installLeaf(2 ** 32 + i * span, 3, 2 ** 40 + i * gr.pageSize, PTE_R, i);
      }
      const where = `${g}/${bits}`;
      assertEquals(pgt.leaves, n, where);
      for (let i = 0; i < n; i++) {
        assertEquals(pgt.getLeaf(2 ** 32 + i * span), 3, `${where} leaf ${i}`);
        assertEquals([pgt.leafOa, pgt.leafMeta], [2 ** 40 + i * gr.pageSize, i], where);
      }
      let seen = 0;
      pgt.forEachLeaf(() => seen++);
      assertEquals(seen, n, where);
      kvmStage2UnmapRange(pgt, 2 ** 32, n * span, newWalkStats());
      assertEquals([pgt.leaves, pgt.tablePages], [0, stage2Geometry(gr, bits).pgdPages], where);
    }
  }
});

Deno.test("address pools widen when a frame needs more than 32 bits, keeping every descriptor", () => {
  // 4K at 52 bits: a frame of 2^50 is 2^38 pages. Leaves before and after the switch, and a
  // block mapped through the walker across it, must all read back exactly.
  const g = granule("4K");
  const pgt = new KvmPgtable(stage2Geometry(g, 52), { withMeta: true });
  const st = newWalkStats();
  for (let i = 0; i < 600; i++) {
    pgt.installLeaf(2 ** 40 + i * 4096, 3, 2 ** 43 + i * 4096, PTE_R, 2 ** 30 + i * 4096);
  }
  kvmPgtableStage2Map(pgt, 2 ** 41, 2 * M, 2 ** 50 + 2 * M, PTE_R | PTE_W, 2 ** 51, st);
  pgt.installLeaf(2 ** 42, 3, 2 ** 44 - 4096, PTE_R, 2 ** 51 + 4096);
  for (let i = 0; i < 600; i++) {
    assertEquals(pgt.getLeaf(2 ** 40 + i * 4096), 3);
    assertEquals([pgt.leafOa, pgt.leafMeta], [2 ** 43 + i * 4096, 2 ** 30 + i * 4096]);
  }
  assertEquals(pgt.getLeaf(2 ** 41 + 4096), 2);
  assertEquals([pgt.leafOa, pgt.leafMeta], [2 ** 50 + 2 * M, 2 ** 51]);
  assertEquals(pgt.getLeaf(2 ** 42), 3);
  assertEquals([pgt.leafOa, pgt.leafMeta], [2 ** 44 - 4096, 2 ** 51 + 4096]);
  assertEquals(leaves(pgt).length, 602);
});

Deno.test("a number kept beside a leaf lives and dies with the leaf (shadowed translation)", () => {
  const pgt = new KvmPgtable(stage2Geometry(granule("4K"), 48), { withMeta: true });
  const st = newWalkStats();
  kvmPgtableStage2Map(pgt, 0x4000_0000, 0x1000, 0x8000_0000, PTE_R, 0, st);
  pgt.enableShadowed(); // after leaves exist: their numbers start at 0
  assertEquals(pgt.shadowedAt(0x4000_0000), 0);
  pgt.setShadowed(0x4000_0000, 7);
  kvmPgtableStage2Map(pgt, 0x4000_1000, 0x1000, 0x8000_1000, PTE_R, 0, st);
  pgt.setShadowed(0x4000_1000, 8);
  // A permission change in place keeps the leaf, and its number.
  kvmPgtableStage2Map(pgt, 0x4000_0000, 0x1000, 0x8000_0000, PTE_R | PTE_W, 0, st);
  assertEquals([pgt.shadowedAt(0x4000_0000), pgt.shadowedAt(0x4000_1000)], [7, 8]);
  // A new output address replaces the leaf: the number goes with the old one.
  kvmPgtableStage2Map(pgt, 0x4000_0000, 0x1000, 0x9000_0000, PTE_R, 0, st);
  assertEquals(pgt.shadowedAt(0x4000_0000), 0);
  kvmStage2UnmapRange(pgt, 0x4000_1000, 0x1000, st);
  kvmPgtableStage2Map(pgt, 0x4000_1000, 0x1000, 0x8000_1000, PTE_R, 0, st);
  assertEquals([pgt.shadowedAt(0x4000_1000), pgt.shadowedAt(0x5000_0000)], [0, 0]);
  assertThrows(() => pgt.setShadowed(0x5000_0000, 1), RangeError);
});

Deno.test("the lookup hint and the last-leaf position are forgotten with their table and leaf", () => {
  const pgt = new KvmPgtable(stage2Geometry(granule("4K"), 48), { withMeta: true });
  pgt.enableShadowed();
  const a = 0x4000_0000, b = 0x80_4000_0000; // under different level-0 entries
  pgt.installLeaf(a, 3, 0x8000_0000, PTE_R, 0);
  pgt.setShadowed(a, 5); // a is the last leaf written
  assertEquals(pgt.getLeaf(a + 0x1000), -1); // ends in a's last-level table: the hint
  assertEquals(pgt.removeLeafAt(a), true); // frees a's tables (their ids go back to the pool)
  // The position of a's leaf is gone with it: nothing to keep a number beside.
  assertEquals(pgt.shadowedAt(a), 0);
  assertThrows(() => pgt.setShadowed(a, 6), RangeError);
  // b's tables reuse the freed ids; a lookup in a's old range must not start from them.
  pgt.installLeaf(b, 3, 0x9000_0000, PTE_R, 0);
  assertEquals([pgt.getLeaf(a), pgt.getLeaf(b)], [-1, 3]);
  assertEquals(pgt.leafOa, 0x9000_0000);
  pgt.installLeaf(a + 0x1000, 3, 0xa000_0000, PTE_R, 0);
  assertEquals([pgt.getLeaf(a), pgt.getLeaf(a + 0x1000), pgt.leafOa], [-1, 3, 0xa000_0000]);
});

Deno.test("walk shortcuts: the same counts, results and leaves as walks from the pgd (property)", () => {
  const configs: [string, number][] = [["4K", 40], ["4K", 48], ["16K", 40], ["64K", 42]];
  fc.assert(
    fc.property(
      fc.constantFrom(...configs),
      // op: 0-5 map a page (the next one, mostly), 6 map a block, 7 unmap, 8 host install
      fc.array(fc.tuple(fc.nat(8), fc.nat(), fc.boolean()), { minLength: 1, maxLength: 80 }),
      ([gn, bits], ops) => {
        const g = granule(gn);
        const geo = stage2Geometry(g, bits);
        const x = new KvmPgtable(geo, { withMeta: true });
        const y = new KvmPgtable(geo, { withMeta: true, shortcuts: false });
        const block = levelSize(g, Math.max(g.minBlockLevel, 2));
        const span = 4 * block; // a few tables' worth, so that maps meet tables and blocks
        let next = 0;
        for (const [op, r, writable] of ops) {
          const sx = newWalkStats(), sy = newWalkStats();
          const attr = PTE_R | (writable ? PTE_W : 0);
          if (op <= 5) {
            const ipa = op <= 3 ? next : Math.floor((r % span) / g.pageSize) * g.pageSize;
            next = (ipa + g.pageSize) % span;
            const oa = 2 ** 40 + (r % 3) * g.pageSize + ipa;
            assertEquals(
              kvmPgtableStage2Map(x, ipa, g.pageSize, oa, attr, ipa, sx),
              kvmPgtableStage2Map(y, ipa, g.pageSize, oa, attr, ipa, sy),
            );
          } else if (op === 6) {
            const ipa = Math.floor((r % span) / block) * block;
            kvmPgtableStage2Map(x, ipa, block, 2 ** 40 + ipa, attr, ipa, sx);
            kvmPgtableStage2Map(y, ipa, block, 2 ** 40 + ipa, attr, ipa, sy);
          } else if (op === 7) {
            const ipa = Math.floor((r % span) / g.pageSize) * g.pageSize;
            const size = writable ? g.pageSize : block;
            const end = Math.min(span, ipa + size);
            kvmStage2UnmapRange(x, ipa, end - ipa, sx);
            kvmStage2UnmapRange(y, ipa, end - ipa, sy);
          } else {
            // As a host fault: a lookup that misses, then an install where it ended.
            const ipa = Math.floor((r % span) / g.pageSize) * g.pageSize;
            const level = writable ? 3 : Math.max(g.minBlockLevel, 2);
            const base = Math.floor(ipa / levelSize(g, level)) * levelSize(g, level);
            assertEquals(x.getLeaf(ipa), y.getLeaf(ipa));
            x.installLeaf(base, level, 2 ** 41 + base, PTE_R, base);
            y.installLeaf(base, level, 2 ** 41 + base, PTE_R, base);
          }
          assertEquals(sx, sy);
        }
        assertEquals(leaves(x), leaves(y));
        assertEquals([x.tablePages, x.leaves], [y.tablePages, y.leaves]);
      },
    ),
    propertyOptions(300),
  );
});
