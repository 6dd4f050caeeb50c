import { assertEquals, assertThrows } from "@std/assert";
import { propertyOptions } from "../../test/property.ts";
import fc from "fast-check";
import { granule, levelSize, stage2Geometry, stage2RangeAddrEnd } from "./granule.ts";
import { kvmStage2FlushRange, kvmStage2UnmapRange, kvmStage2WpRange } from "./mmu.ts";
import { KvmPgtable } from "./pgtable.ts";
import { installLeaf } from "./pgtable_shortcuts.ts";
import {
  forEachLeaf,
  kvmPgtableGetLeaf,
  kvmPgtableStage2Map,
  kvmPgtableStage2Unmap,
} from "./pgtable_stage2.ts";
import {
  KVM_PGTABLE_WALK_LEAF,
  KVM_PGTABLE_WALK_TABLE_POST,
  KVM_PGTABLE_WALK_TABLE_PRE,
  kvmPgtableWalk,
  newWalkStats,
  type WalkStats,
} from "./pgtable_walk.ts";
import { newPgtableLeaf, type PgtableLeaf, PTE_R, PTE_TABLE, PTE_W, ROOT_TABLE } from "./pte.ts";

const G = 2 ** 30, M = 2 ** 20, K = 2 ** 10;

function leaves(pgt: KvmPgtable): number[][] {
  const out: number[][] = [];
  forEachLeaf(pgt, (a, s, oa, attr, meta) => out.push([a, s, oa, attr, meta]));
  return out;
}

/** The leaf the last {@linkcode getLeaf} found. */
const leaf = newPgtableLeaf();

/** kvm_pgtable_get_leaf() into {@linkcode leaf}: the level, or -1. */
function getLeaf(pgt: KvmPgtable, ipa: number): number {
  return kvmPgtableGetLeaf(pgt, ipa, leaf);
}

/** A read-only leaf of `level` at `ipa`, built by hand (a map of exactly that size). */
function mapLeaf(pgt: KvmPgtable, ipa: number, level: number, oa: number, meta: number) {
  kvmPgtableStage2Map(pgt, ipa, pgt.sizes[level], oa, PTE_R, meta, newWalkStats());
}

Deno.test("map a page and a block, look them up, count tables", () => {
  const pgt = new KvmPgtable(stage2Geometry(granule("4K"), 40));
  const st = newWalkStats();
  kvmPgtableStage2Map(pgt, 2 * G, 2 * M, 0x80_0000_0000, PTE_R | PTE_W, 0, st);
  kvmPgtableStage2Map(pgt, 3 * G + 4 * K, 4 * K, 0x90_0000_0000, PTE_R, 0, st);
  assertEquals(getLeaf(pgt, 2 * G + 12345), 2);
  assertEquals(leaf.oa, 0x80_0000_0000);
  assertEquals(leaf.size, 2 * M);
  assertEquals(getLeaf(pgt, 3 * G + 4 * K + 7), 3);
  assertEquals(leaf.attr & PTE_W, 0);
  assertEquals(getLeaf(pgt, 3 * G), -1);
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
  assertEquals(getLeaf(pgt, 4 * G), -1);
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
  assertEquals(getLeaf(pgt, 2 * G), -1, "the rest of the old block is not remapped");
  kvmPgtableStage2Map(pgt, 2 * G + 8 * K, 4 * K, 0x90_0000_1000, PTE_R, 0, st);
  kvmPgtableStage2Map(pgt, 2 * G, 2 * M, 0xa0_0000_0000, PTE_R, 0, st);
  assertEquals(removed.slice(2), [2 * G + 4 * K, 3, 2 * G + 8 * K, 3]);
  assertEquals(pgt.leaves, 1);
  assertEquals(getLeaf(pgt, 2 * G + 8 * K), 2);
});

Deno.test("same output, other permissions: updated in place, not removed", () => {
  const pgt = new KvmPgtable(stage2Geometry(granule("64K"), 42));
  const st = newWalkStats();
  let removed = 0;
  pgt.onLeafRemoved = () => removed++;
  kvmPgtableStage2Map(pgt, 64 * K, 64 * K, 0x80_0000_0000, PTE_R, 0, st);
  kvmPgtableStage2Map(pgt, 64 * K, 64 * K, 0x80_0000_0000, PTE_R | PTE_W, 0, st);
  assertEquals(removed, 0);
  assertEquals(getLeaf(pgt, 64 * K), 3);
  assertEquals(leaf.attr & PTE_W, PTE_W);
  assertEquals(kvmStage2WpRange(pgt, 0, pgt.geom.ipaSize, st), 1);
  getLeaf(pgt, 64 * K);
  assertEquals(leaf.attr & PTE_W, 0);
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
        mapLeaf(pgt, 2 ** 32 + i * span, 3, 2 ** 40 + i * gr.pageSize, i);
      }
      const where = `${g}/${bits}`;
      assertEquals(pgt.leaves, n, where);
      for (let i = 0; i < n; i++) {
        assertEquals(getLeaf(pgt, 2 ** 32 + i * span), 3, `${where} leaf ${i}`);
        assertEquals([leaf.oa, leaf.meta], [2 ** 40 + i * gr.pageSize, i], where);
      }
      let seen = 0;
      forEachLeaf(pgt, () => seen++);
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
    mapLeaf(pgt, 2 ** 40 + i * 4096, 3, 2 ** 43 + i * 4096, 2 ** 30 + i * 4096);
  }
  kvmPgtableStage2Map(pgt, 2 ** 41, 2 * M, 2 ** 50 + 2 * M, PTE_R | PTE_W, 2 ** 51, st);
  mapLeaf(pgt, 2 ** 42, 3, 2 ** 44 - 4096, 2 ** 51 + 4096);
  for (let i = 0; i < 600; i++) {
    assertEquals(getLeaf(pgt, 2 ** 40 + i * 4096), 3);
    assertEquals([leaf.oa, leaf.meta], [2 ** 43 + i * 4096, 2 ** 30 + i * 4096]);
  }
  assertEquals(getLeaf(pgt, 2 ** 41 + 4096), 2);
  assertEquals([leaf.oa, leaf.meta], [2 ** 50 + 2 * M, 2 ** 51]);
  assertEquals(getLeaf(pgt, 2 ** 42), 3);
  assertEquals([leaf.oa, leaf.meta], [2 ** 44 - 4096, 2 ** 51 + 4096]);
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
  mapLeaf(pgt, a, 3, 0x8000_0000, 0);
  pgt.setShadowed(a, 5); // a is the last leaf written
  assertEquals(getLeaf(pgt, a + 0x1000), -1); // ends in a's last-level table: the hint
  kvmPgtableStage2Unmap(pgt, a, 0x1000, newWalkStats()); // frees a's tables (ids go back)
  assertEquals(pgt.tablePages, 1);
  // The position of a's leaf is gone with it: nothing to keep a number beside.
  assertEquals(pgt.shadowedAt(a), 0);
  assertThrows(() => pgt.setShadowed(a, 6), RangeError);
  // b's tables reuse the freed ids; a lookup in a's old range must not start from them.
  mapLeaf(pgt, b, 3, 0x9000_0000, 0);
  assertEquals([getLeaf(pgt, a), getLeaf(pgt, b)], [-1, 3]);
  assertEquals(leaf.oa, 0x9000_0000);
  mapLeaf(pgt, a + 0x1000, 3, 0xa000_0000, 0);
  assertEquals([getLeaf(pgt, a), getLeaf(pgt, a + 0x1000), leaf.oa], [-1, 3, 0xa000_0000]);
});

/** Every leaf of [0, end) as per-page lookups find them (a reference for forEachLeaf). */
function leavesByLookup(pgt: KvmPgtable, end: number): number[][] {
  const out: number[][] = [];
  const l = newPgtableLeaf();
  for (let a = 0; a < end; a += pgt.page) {
    if (kvmPgtableGetLeaf(pgt, a, l) >= 0 && l.base === a) {
      out.push([l.base, l.size, l.oa, l.attr, l.meta]);
    }
  }
  return out;
}

/** kvm_pgtable_get_leaf() of `ipa`: [level, the leaf] (no leaf on a miss). */
function lookup(pgt: KvmPgtable, ipa: number): [number, PgtableLeaf | null] {
  const l = newPgtableLeaf();
  const level = kvmPgtableGetLeaf(pgt, ipa, l);
  return [level, level >= 0 ? l : null];
}

Deno.test("walk shortcuts: the same counts, results and leaves as walks from the pgd (property)", () => {
  const configs: [string, number][] = [["4K", 40], ["4K", 48], ["16K", 40], ["64K", 42]];
  fc.assert(
    fc.property(
      fc.constantFrom(...configs),
      // op: 0-5 map a page (the next one, mostly), 6 map a block, 7 unmap, 8 host fault
      // (a lookup, then one leaf in: installLeaf() with shortcuts, the uncounted map walk
      // without), 9 write-protect
      fc.array(fc.tuple(fc.nat(9), fc.nat(), fc.boolean()), { minLength: 1, maxLength: 80 }),
      ([gn, bits], ops) => {
        const g = granule(gn);
        const geo = stage2Geometry(g, bits);
        const x = new KvmPgtable(geo, { withMeta: true });
        const y = new KvmPgtable(geo, { withMeta: true, shortcuts: false });
        x.enableShadowed();
        y.enableShadowed();
        const removed: number[][][] = [[], []];
        x.onLeafRemoved = (...leaf) => removed[0].push(leaf);
        y.onLeafRemoved = (...leaf) => removed[1].push(leaf);
        const block = levelSize(g, Math.max(g.minBlockLevel, 2));
        const span = 4 * block; // a few tables' worth, so that maps meet tables and blocks
        const chunk = levelSize(g, g.minBlockLevel);
        let next = 0;
        let n = 0;
        for (const [op, r, writable] of ops) {
          const sx = newWalkStats(), sy = newWalkStats();
          const attr = PTE_R | (writable ? PTE_W : 0);
          const page = Math.floor((r % span) / g.pageSize) * g.pageSize;
          let mapped = -1;
          if (op <= 5) {
            const ipa = op <= 3 ? next : page;
            next = (ipa + g.pageSize) % span;
            const oa = 2 ** 40 + (r % 3) * g.pageSize + ipa;
            assertEquals(
              kvmPgtableStage2Map(x, ipa, g.pageSize, oa, attr, ipa, sx),
              kvmPgtableStage2Map(y, ipa, g.pageSize, oa, attr, ipa, sy),
            );
            mapped = ipa;
          } else if (op === 6) {
            const ipa = Math.floor((r % span) / block) * block;
            kvmPgtableStage2Map(x, ipa, block, 2 ** 40 + ipa, attr, ipa, sx);
            kvmPgtableStage2Map(y, ipa, block, 2 ** 40 + ipa, attr, ipa, sy);
            mapped = ipa;
          } else if (op === 7) {
            // A page, a block, or many chunks (runs of empty ones beyond the span).
            const size = writable ? g.pageSize : r % 2 ? block : 16 * chunk;
            const end = Math.min(geo.ipaSize, page + size);
            kvmStage2UnmapRange(x, page, end - page, sx);
            kvmStage2UnmapRange(y, page, end - page, sy);
          } else if (op === 8) {
            const level = writable ? 3 : Math.max(g.minBlockLevel, 2);
            const size = levelSize(g, level);
            const base = Math.floor(page / size) * size;
            const oa = 2 ** 41 + (r % 2) * size + base;
            assertEquals(lookup(x, page), lookup(y, page));
            installLeaf(x, base, level, oa, attr, base);
            kvmPgtableStage2Map(y, base, size, oa, attr, base, newWalkStats());
            mapped = base;
          } else {
            assertEquals(
              kvmStage2WpRange(x, page, block, sx),
              kvmStage2WpRange(y, page, block, sy),
            );
          }
          assertEquals(sx, sy);
          if (mapped >= 0) {
            n++;
            x.setShadowed(mapped, n);
            y.setShadowed(mapped, n);
          }
          const probe = Math.floor(((r * 7919) % span) / g.pageSize) * g.pageSize;
          assertEquals(lookup(x, probe), lookup(y, probe));
          assertEquals(x.shadowedAt(probe), y.shadowedAt(probe));
        }
        assertEquals(leaves(x), leaves(y));
        assertEquals(leaves(x), leavesByLookup(x, span));
        assertEquals(removed[0], removed[1]);
        assertEquals([x.tablePages, x.leaves], [y.tablePages, y.leaves]);
      },
    ),
    propertyOptions(300),
  );
});

/**
 * A fixed workload on one table: 3000 steps of page and block maps, unmaps, write-protects
 * and flushes over 64 blocks, then the full unmap. Returns the walk counts per operation
 * ([iterations, descriptors, tables]), what the operations returned, and the table after.
 */
function fixedWorkload(gn: string, bits: number, shortcuts: boolean, full: boolean) {
  const g = granule(gn);
  const pgt = new KvmPgtable(stage2Geometry(g, bits), { withMeta: true, shortcuts });
  const block = levelSize(g, 2);
  const span = 64 * block;
  const st = {
    map: newWalkStats(),
    unmap: newWalkStats(),
    wp: newWalkStats(),
    flush: newWalkStats(),
    full: newWalkStats(),
  };
  let seed = 12345, written = 0, wp = 0, flushed = 0, next = 0;
  const rnd = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
  for (let step = 0; step < 3000; step++) {
    const op = rnd(20);
    if (op < 12) {
      const ipa = op < 8 ? next : rnd(span / g.pageSize) * g.pageSize;
      next = (ipa + g.pageSize) % span;
      const attr = PTE_R | (op & 1 ? PTE_W : 0);
      written += kvmPgtableStage2Map(pgt, ipa, g.pageSize, 2 ** 40 + ipa, attr, ipa, st.map);
    } else if (op < 14) {
      const ipa = rnd(span / block) * block;
      written += kvmPgtableStage2Map(pgt, ipa, block, 2 ** 41 + ipa, PTE_R | PTE_W, ipa, st.map);
    } else if (op < 17) {
      const ipa = rnd(span / g.pageSize) * g.pageSize;
      const size = Math.min(span - ipa, (1 + rnd(3 * block / g.pageSize)) * g.pageSize);
      kvmStage2UnmapRange(pgt, ipa, size, st.unmap);
    } else if (op < 19) {
      wp += kvmStage2WpRange(pgt, rnd(span / block) * block, 8 * block, st.wp);
    } else {
      flushed += kvmStage2FlushRange(pgt, 0, span, st.flush);
    }
  }
  const before = [pgt.leaves, pgt.tablePages];
  if (full) kvmStage2UnmapRange(pgt, 0, pgt.geom.ipaSize, st.full);
  const counts = Object.fromEntries(
    Object.entries(st).map(([k, v]) => [k, [v.iterations, v.descriptors, v.tables]]),
  );
  return { counts, results: [written, wp, flushed], before, after: [pgt.leaves, pgt.tablePages] };
}

Deno.test("fixed workload: every walk count exactly as recorded, with and without shortcuts", () => {
  // Recorded from the walker before it was split into modules; any change in what a walk
  // visits or counts moves them.
  // Per table: [iterations, descriptors, tables] of its maps, unmaps, write-protects, flushes
  // and full unmap; what the maps, write-protects and flushes returned; [leaves, table
  // pages] before the full unmap and after it.
  const recorded = `
    4K/40  0 6083 6083 | 434 128276 1265 | 293 439373 1439 | 151 1972823 4136 | 1024 16384 1054 | 2075 770 20335 | 134 32 | 0 2
    4K/48  0 8205 8205 | 434 128709 1698 | 293 439666 1732 | 151 1972974 4287 | 262144 277505 262175 | 2075 770 20335 | 134 32 | 0 1
    16K/47 0 6083 6083 | 1073 528463 2594 | 2344 1915472 5621 | 9664 8338304 23390 | 4194304 4263999 4194401 | 2077 774 20086 | 179 36 | 0 1
    64K/52 0 6083 6083 | 1061 1936622 2518 | 2344 6689360 5504 | 9664 31640448 23188 | 8388608 8609855 8388698 | 2075 722 19822 | 152 29 | 0 1`;
  for (const line of recorded.trim().split("\n")) {
    const config = line.trim().split(/\s+/)[0];
    const groups = line.trim().slice(config.length).split("|").map((g) =>
      g.trim().split(/\s+/).map(Number)
    );
    const [map, unmap, wp, flush, full, results, before, after] = groups;
    const want = { counts: { map, unmap, wp, flush, full }, results, before, after };
    const [gn, bits] = config.split("/");
    assertEquals(fixedWorkload(gn, Number(bits), true, true), want, config);
    // Without shortcuts every chunk is walked: the full unmap of a 52-bit space would take
    // minutes, so that table stops before it.
    const slow = fixedWorkload(gn, Number(bits), false, false);
    assertEquals(slow.counts, { ...want.counts, full: [0, 0, 0] }, `${config} without shortcuts`);
    assertEquals([slow.results, slow.before], [results, before], config);
  }
});

Deno.test("the walker: TABLE_PRE before a table's children, TABLE_POST after, a LEAF in order", () => {
  const pgt = new KvmPgtable(stage2Geometry(granule("4K"), 40));
  const st = newWalkStats();
  kvmPgtableStage2Map(pgt, 2 * G, 4 * K, 2 ** 40, PTE_R, 0, st);
  kvmPgtableStage2Map(pgt, 2 * G + 2 * M, 2 * M, 2 ** 41, PTE_R, 0, st);
  const seen: string[] = [];
  const names: Record<number, string> = {
    [KVM_PGTABLE_WALK_LEAF]: "leaf",
    [KVM_PGTABLE_WALK_TABLE_PRE]: "pre",
    [KVM_PGTABLE_WALK_TABLE_POST]: "post",
  };
  kvmPgtableWalk(pgt, 2 * G, 4 * M, {
    cb: (ctx, visit) => {
      seen.push(
        `${names[visit]} L${ctx.level} ${(ctx.addr - 2 * G) / K}K${ctx.old ? "" : " invalid"}`,
      );
    },
    arg: null,
    flags: KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_PRE | KVM_PGTABLE_WALK_TABLE_POST,
    visitsInvalid: false,
  }, st);
  assertEquals(seen, [
    "pre L1 0K",
    "pre L2 0K",
    "leaf L3 0K",
    "post L2 0K",
    "leaf L2 2048K",
    "post L1 0K",
  ]);
  // A LEAF callback that installs a table is walked into: the descriptor is read again.
  const fresh = new KvmPgtable(stage2Geometry(granule("4K"), 40));
  const levels: number[] = [];
  kvmPgtableWalk(fresh, 0, 4 * K, {
    cb: (ctx) => {
      levels.push(ctx.level);
      if (ctx.level < 3) fresh.installTable(ctx.table, ctx.index);
    },
    arg: null,
    flags: KVM_PGTABLE_WALK_LEAF,
    visitsInvalid: true,
  }, newWalkStats());
  assertEquals([levels, fresh.tablePages], [[1, 2, 3], 4]);
});
