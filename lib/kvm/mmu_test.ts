import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import type { Kvm } from "./kvm.ts";
import { l2Access } from "./arm.ts";
import { kvmCreateVm } from "./kvm_main.ts";
import { kvmMmuWpMemoryRegion } from "./mmu.ts";
import { kvmPgtableGetLeaf } from "./pgtable_stage2.ts";
import { newPgtableLeaf, PTE_NV_MAP_SHIFT, PTE_W } from "./pte.ts";
import { checkShadows, oracleWorld } from "../oracle/oracle.ts";
import { FullWalk } from "../strategies/full_walk.ts";
import { applyEvent } from "../trace/ops.ts";

const G = 2 ** 30, M = 2 ** 20, K = 2 ** 10;

function vm(hostGranule: string, backing: string, slotSize = 4 * G) {
  return kvmCreateVm(
    {
      hostGranule,
      paBits: 40,
      vcpus: 2,
      memslots: [{ id: 0, base: 4 * G, size: slotSize, backing }],
    },
    new FullWalk(),
  );
}

/** The shadow leaf an access installed: [size, shadow base, canonical-derived PA offset ok]. */
function shadowLeaf(kvm: Kvm, vcpu: number, l2ipa: number) {
  const mmu = kvm.vcpu(vcpu).hwMmu!;
  const leaf = newPgtableLeaf();
  const level = kvmPgtableGetLeaf(mmu.pgt, l2ipa, leaf);
  assert(level >= 0, "a shadow leaf is installed");
  return { size: leaf.size, base: leaf.base, pa: leaf.oa, attr: leaf.attr };
}

function noViolations(kvm: Kvm) {
  assertEquals(checkShadows(oracleWorld(kvm), { event: 0, op: "t" }), []);
}

Deno.test("L1 64K granule over a host 4K granule: 4K shadow entries, 16 per L1 page", () => {
  const kvm = vm("4K", "thp");
  kvm.l1.createContext({ id: 1, vmid: 1, granule: "64K", ipaBits: 40 });
  kvm.l1.map(1, 8 * G, 64 * K, 4 * G + 64 * K, true);
  for (let off = 0; off < 64 * K; off += 4 * K) {
    assertEquals(l2Access(kvm, 0, 1, 8 * G + off, false), "mapped");
  }
  const leaf = shadowLeaf(kvm, 0, 8 * G + 12 * K);
  assertEquals(leaf.size, 4 * K);
  assertEquals(leaf.base, 8 * G + 12 * K);
  assertEquals(kvm.vcpu(0).hwMmu!.pgt.leaves, 16);
  // The host mapped a 2M THP; the shadow is clamped to 4K all the same.
  assertEquals(kvm.host.hostMapSize, 2 * M);
  assertEquals(leaf.pa, kvm.host.hostPaOf(4 * G + 64 * K + 12 * K));
  noViolations(kvm);
});

Deno.test("L1 4K pages over host 2M THP: 4K shadow entries (force_pte when L1 maps a page)", () => {
  const kvm = vm("4K", "thp");
  kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
  kvm.l1.map(1, 8 * G + 4 * K, 4 * K, 4 * G + 2 * M + 4 * K, true);
  assertEquals(l2Access(kvm, 0, 1, 8 * G + 4 * K + 100, true), "mapped");
  const leaf = shadowLeaf(kvm, 0, 8 * G + 4 * K);
  assertEquals(leaf.size, 4 * K);
  assertEquals(leaf.attr & PTE_W, PTE_W);
  assertEquals((leaf.attr >> PTE_NV_MAP_SHIFT) & 7, 3, "L1's level is recorded in the SW bits");
  noViolations(kvm);
});

Deno.test("L1 2M block over THP: one 2M shadow block, aligned on both sides", () => {
  const kvm = vm("4K", "thp");
  kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
  kvm.l1.map(1, 8 * G + 2 * M, 2 * M, 4 * G + 6 * M, true);
  l2Access(kvm, 0, 1, 8 * G + 2 * M + 123 * K, false);
  const leaf = shadowLeaf(kvm, 0, 8 * G + 3 * M);
  assertEquals([leaf.size, leaf.base], [2 * M, 8 * G + 2 * M]);
  assertEquals(leaf.pa, kvm.host.hostPaOf(4 * G + 6 * M));
  assertEquals(
    leaf.attr & PTE_W,
    PTE_W,
    "a read fault maps writable when the host page and L1 allow it",
  );
  noViolations(kvm);
});

Deno.test("L1 2M block over a 4K-backed slot: 4K shadow entries", () => {
  const kvm = vm("4K", "page");
  kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
  kvm.l1.map(1, 8 * G, 2 * M, 4 * G, true);
  l2Access(kvm, 0, 1, 8 * G + 5 * K, true);
  assertEquals(shadowLeaf(kvm, 0, 8 * G + 5 * K).size, 4 * K);
});

Deno.test("L1 1G block over hugetlb 1G: a 1G shadow block; over THP: 2M", () => {
  const kvm = vm("4K", "hugetlb:1G");
  kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
  kvm.l1.map(1, 16 * G, G, 5 * G, true);
  l2Access(kvm, 0, 1, 16 * G + 7 * M, false);
  assertEquals(shadowLeaf(kvm, 0, 16 * G).size, G);
  const thp = vm("4K", "thp");
  thp.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
  thp.l1.map(1, 16 * G, G, 5 * G, true);
  l2Access(thp, 0, 1, 16 * G + 7 * M, false);
  const leaf = shadowLeaf(thp, 0, 16 * G + 7 * M);
  assertEquals([leaf.size, leaf.base], [2 * M, 16 * G + 6 * M]);
});

Deno.test("L1 16K 32M block over a 4K host with THP: between PMD and PUD -> 2M", () => {
  const kvm = vm("4K", "thp");
  kvm.l1.createContext({ id: 1, vmid: 1, granule: "16K", ipaBits: 40 });
  kvm.l1.map(1, 32 * G, 32 * M, 4 * G + 32 * M, true);
  l2Access(kvm, 0, 1, 32 * G + 5 * M, false);
  const leaf = shadowLeaf(kvm, 0, 32 * G + 5 * M);
  assertEquals([leaf.size, leaf.base], [2 * M, 32 * G + 4 * M]);
});

Deno.test("64K host: L1 64K 512M block over 512M THP -> 512M shadow block", () => {
  const kvm = vm("64K", "thp");
  kvm.l1.createContext({ id: 1, vmid: 1, granule: "64K", ipaBits: 40 });
  kvm.l1.map(1, 8 * G, 512 * M, 4 * G + 512 * M, true);
  l2Access(kvm, 0, 1, 8 * G + 100 * M, false);
  assertEquals(shadowLeaf(kvm, 0, 8 * G).size, 512 * M);
  assertMatch(
    String(
      assertThrows(() => kvm.l1.createContext({ id: 2, vmid: 2, granule: "4K", ipaBits: 40 })),
    ),
    /smaller than the host's 64K/,
  );
});

Deno.test("dirty logging: page-sized, read-only on a read fault, writable after a write fault", () => {
  const kvm = vm("4K", "thp");
  kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
  kvm.l1.map(1, 8 * G, 2 * M, 4 * G, true);
  l2Access(kvm, 0, 1, 8 * G, true);
  assertEquals(shadowLeaf(kvm, 0, 8 * G).size, 2 * M);
  kvmMmuWpMemoryRegion(kvm, 0);
  assertEquals(
    shadowLeaf(kvm, 0, 8 * G).attr & PTE_W,
    0,
    "kvm_nested_s2_wp write-protected the block",
  );
  noViolations(kvm);
  applyEvent(kvm, { op: "tlbi-all" });
  l2Access(kvm, 0, 1, 8 * G + 8 * K, false);
  let leaf = shadowLeaf(kvm, 0, 8 * G + 8 * K);
  assertEquals([leaf.size, leaf.attr & PTE_W], [4 * K, 0]);
  assertEquals(l2Access(kvm, 0, 1, 8 * G + 8 * K, true), "mapped");
  leaf = shadowLeaf(kvm, 0, 8 * G + 8 * K);
  assertEquals(leaf.attr & PTE_W, PTE_W);
  noViolations(kvm);
});

Deno.test("a write to what L1 maps read-only is L1's fault; unmapped is L1's fault; no memslot is MMIO", () => {
  const kvm = vm("4K", "page");
  kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
  kvm.l1.map(1, 8 * G, 4 * K, 4 * G, false);
  kvm.l1.map(1, 9 * G, 4 * K, 1 * G, true);
  assertEquals(l2Access(kvm, 0, 1, 8 * G, true), "l1-fault");
  assertEquals(l2Access(kvm, 0, 1, 8 * G, false), "hit");
  assertEquals(l2Access(kvm, 0, 1, 10 * G, false), "l1-fault");
  assertEquals(l2Access(kvm, 0, 1, 9 * G, false), "mmio");
});

Deno.test("an L2 write to what L1 maps read-only: a read-only shadow leaf, then the fault goes to L1", () => {
  // kvm_handle_guest_abort(): the first fault is a translation fault, which
  // kvm_s2_handle_perm_fault() does not forward; user_mem_abort() maps the page read-only
  // (writable &= kvm_s2_trans_writable()). The retried write is a permission fault on that
  // leaf, which is forwarded to L1.
  const kvm = vm("4K", "page");
  kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
  kvm.l1.map(1, 8 * G, 4 * K, 4 * G, false);
  assertEquals(l2Access(kvm, 0, 1, 8 * G, true), "l1-fault");
  const leaf = shadowLeaf(kvm, 0, 8 * G);
  assertEquals([leaf.size, leaf.attr & PTE_W], [4 * K, 0]);
  assertEquals(kvm.cost.faults, 1);
  assertEquals(l2Access(kvm, 0, 1, 8 * G, false), "hit");
  assertEquals(l2Access(kvm, 0, 1, 8 * G, true), "l1-fault");
  assertEquals(kvm.cost.faults, 1, "a permission fault on the leaf maps nothing");
  noViolations(kvm);
});

// --- the nested clamp against a reference, every combination ---------------------------

/** Host leaf sizes by host granule: PAGE_SIZE, PMD_SIZE, PUD_SIZE. */
const HOST_SIZES: Record<string, [number, number, number]> = {
  "4K": [4 * K, 2 * M, G],
  "16K": [16 * K, 32 * M, 64 * G],
  "64K": [64 * K, 512 * M, 4096 * G],
};
/** L1's leaf sizes by L1 granule (KVM_PGTABLE_MIN_BLOCK_LEVEL up): page and blocks. */
const L1_SIZES: Record<string, number[]> = {
  "4K": [4 * K, 2 * M, G],
  "16K": [16 * K, 32 * M],
  "64K": [64 * K, 512 * M],
};

/**
 * The reference: a nested shadow leaf is the largest host leaf size (PUD, PMD, page) that
 * fits both L1's mapping and the host's backing unit; PAGE_SIZE while dirty logging
 * (user_mem_abort(): max_map_size = min(trans size, PUD), rounded down to a host size, then
 * min with vma_pagesize; force_pte under logging).
 */
function referenceSize(host: string, l1Size: number, unit: number, logging: boolean): number {
  const [page, pmd, pud] = HOST_SIZES[host];
  if (logging) return page;
  return [pud, pmd, page].find((s) => s <= l1Size && s <= unit)!;
}

Deno.test("the nested clamp matches the reference for every host granule, L1 granule, L1 level, backing", () => {
  let combos = 0;
  for (const host of ["4K", "16K", "64K"]) {
    const [page, pmd, pud] = HOST_SIZES[host];
    const backings: [string, number][] = [
      ["page", page],
      ["thp", pmd],
      [`hugetlb:${pmd / M}M`, pmd],
    ];
    if (host === "4K") backings.push(["hugetlb:1G", pud]);
    for (const l1g of ["4K", "16K", "64K"]) {
      if (HOST_SIZES[l1g][0] < page) continue; // L1's granule is at least the host's
      L1_SIZES[l1g].forEach((l1Size) => {
        const l1Level = 3 - L1_SIZES[l1g].indexOf(l1Size);
        for (const [backing, unit] of backings) {
          for (const logging of [false, true]) {
            combos++;
            const label = `host ${host}, L1 ${l1g} ${l1Size / K}K leaf, ${backing}` +
              (logging ? ", dirty logging" : "");
            const kvm = kvmCreateVm({
              hostGranule: host,
              paBits: 44,
              vcpus: 1,
              memslots: [{ id: 0, base: 4 * G, size: 2 * G, backing }],
            }, new FullWalk());
            kvm.l1.createContext({ id: 1, vmid: 1, granule: l1g, ipaBits: 44 });
            kvm.l1.map(1, 8 * G, l1Size, 4 * G, true);
            if (logging) kvmMmuWpMemoryRegion(kvm, 0);
            // A page in the middle of L1's mapping, away from every boundary.
            const off = l1Size === page ? 0 : l1Size / 2 + page;
            assertEquals(l2Access(kvm, 0, 1, 8 * G + off, true), "mapped", label);
            const want = referenceSize(host, l1Size, unit, logging);
            const leaf = shadowLeaf(kvm, 0, 8 * G + off);
            assertEquals(leaf.size, want, label);
            assertEquals(leaf.base, 8 * G + Math.floor(off / want) * want, label);
            assertEquals(
              leaf.pa,
              kvm.host.hostPaOf(4 * G + Math.floor(off / want) * want),
              `${label}: the PA of the canonical base`,
            );
            assertEquals((leaf.attr >> PTE_NV_MAP_SHIFT) & 7, l1Level, `${label}: L1's level`);
            noViolations(kvm);
          }
        }
      });
    }
  }
  assertEquals(combos, 92);
});
