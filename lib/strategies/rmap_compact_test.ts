import { assert, assertEquals } from "@std/assert";
import { l2Access } from "../kvm/arm.ts";
import { kvmCreateVm } from "../kvm/kvm_main.ts";
import { kvmUnmapGfnRange } from "../kvm/mmu.ts";
import { makeStrategy } from "./mod.ts";
import { allocBytes, type RmapCompact } from "./rmap_compact.ts";

const G = 2 ** 30, M = 2 ** 20, K = 2 ** 10;

/** The layouts of docs/rmap.md's memory table. */
export type Layout = "dense" | "scattered" | "realistic";

/**
 * `n` primary 4K leaves of context 1 over one 4K-backed memslot, laid out `layout`, and a
 * fraction `alias` of their canonical pages mapped again by context 2 (every 1/alias-th).
 * Dense: consecutive pages, L2 linear; scattered: one page per 2M, L2 linear; realistic:
 * runs of 16 consecutive pages at pseudo-random places of a 1 GiB window.
 */
export function layoutVm(strategy: string, layout: Layout, n: number, alias: number) {
  const design = makeStrategy(strategy);
  const kvm = kvmCreateVm(
    {
      hostGranule: "4K",
      paBits: 40,
      vcpus: 2,
      memslots: [{ id: 0, base: G, size: 64 * G, backing: "page" }],
    },
    design,
  );
  kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
  kvm.l1.createContext({ id: 2, vmid: 2, granule: "4K", ipaBits: 40 });
  const canon = (i: number) => {
    if (layout === "dense") return G + i * 4 * K;
    if (layout === "scattered") return G + i * 2 * M;
    const run = Math.floor(i / 16);
    return G + ((run * 7919) % 16384) * 64 * K + (i % 16) * 4 * K;
  };
  const every = alias > 0 ? Math.round(1 / alias) : 0;
  for (let i = 0; i < n; i++) {
    const c = canon(i);
    kvm.l1.map(1, 4 * G + (c - G), 4 * K, c, true);
    l2Access(kvm, 0, 1, 4 * G + (c - G), false);
    if (every && i % every === 0) {
      kvm.l1.map(2, 128 * G + i * 4 * K, 4 * K, c, true);
      l2Access(kvm, 1, 2, 128 * G + i * 4 * K, false);
    }
  }
  const leaves = kvm.shadowLeaves();
  return {
    kvm,
    design,
    leaves,
    perEntry: design.memoryBytes() / leaves,
    tablesPerEntry: (kvm.shadowTablePages() * 4 * K) / leaves,
  };
}

Deno.test("rmap-compact memory: <= 16 B/entry dense at alias 0.1, never more than the shadow tables, <= span-unknown + 8 at alias 0", () => {
  for (const layout of ["dense", "scattered", "realistic"] as const) {
    for (const alias of [0, 0.1, 0.5]) {
      const c = layoutVm("rmap-compact", layout, 4096, alias);
      const what = `${layout}, alias ${alias}: ${c.perEntry.toFixed(2)} B/entry`;
      assert(c.perEntry <= c.tablesPerEntry, `${what} > shadow tables ${c.tablesPerEntry}`);
      if (layout === "dense" && alias <= 0.1) assert(c.perEntry <= 16, what);
      if (alias === 0) {
        const span = layoutVm("span-unknown", layout, 4096, 0).perEntry;
        assert(c.perEntry <= span + 8, `${what} > span-unknown ${span} + 8`);
      }
      assertEquals((c.design as RmapCompact).verify(), []);
    }
  }
});

Deno.test("rmap-compact: a dense linear chunk is one run per 64 leaves; an alias is one exception", () => {
  const { design, kvm } = layoutVm("rmap-compact", "dense", 512, 0);
  const rc = design as RmapCompact;
  // 8 runs of 16 B and the header in one record, one directory slot, one shadow-side word.
  assertEquals(rc.entries, 512);
  const before = rc.memoryBytes();
  assertEquals(before - 256 - 8, allocBytes(8 + 8 * 16));
  // An alias of page 0 in the same MMU (another L2 IPA): one exception of 8 B, and a second
  // shadow-side word for its table page.
  kvm.l1.map(1, 200 * G, 4 * K, G, true);
  l2Access(kvm, 0, 1, 200 * G, false);
  assertEquals(rc.entries, 513);
  assertEquals(rc.memoryBytes() - before, allocBytes(8 + 8 * 16 + 8) - allocBytes(8 + 8 * 16) + 8);
  // Migrating page 0 removes both leaves; the rest stay.
  kvm.resetCost();
  kvmUnmapGfnRange(kvm, G, G + 4 * K);
  assertEquals([kvm.cost.removedNeeded, kvm.cost.removedCollateral, rc.entries], [2, 0, 511]);
  assertEquals(rc.verify(), []);
});

Deno.test("allocBytes: kmalloc size classes, then whole pages", () => {
  assertEquals([0, 1, 9, 17, 65, 97, 129, 193, 257, 513, 4096, 4097].map(allocBytes), [
    0,
    8,
    16,
    32,
    96,
    128,
    192,
    256,
    512,
    1024,
    4096,
    8192,
  ]);
});
