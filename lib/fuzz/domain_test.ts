import { assert, assertEquals, assertThrows } from "@std/assert";
import { L1Hypervisor } from "../guest/l1.ts";
import { parseBacking } from "../host/memory.ts";
import {
  granule,
  GRANULE_NAMES,
  leafSizes,
  levelForSize,
  levelSize,
  stage2Geometry,
} from "../kvm/granule.ts";
import {
  backingsOf,
  GRANULE_PAIRS,
  L1_IPA_BITS,
  l1LeafSizes,
  leafName,
  PA_RANGE_BITS,
} from "./domain.ts";

Deno.test("domain: the granule pairs are those the L1 model accepts, and no other", () => {
  for (const host of GRANULE_NAMES) {
    for (const l1 of GRANULE_NAMES) {
      const listed = GRANULE_PAIRS.some((p) => p.host === host && p.l1 === l1);
      const hv = new L1Hypervisor(granule(host), 40);
      const create = () => hv.createContext({ id: 1, vmid: 1, granule: l1, ipaBits: 40 });
      if (listed) create();
      else assertThrows(create, RangeError, "smaller than the host's");
    }
  }
  assertEquals(GRANULE_PAIRS.length, 6);
});

Deno.test("domain: every PA size gives a host stage-2 for every granule", () => {
  for (const g of GRANULE_NAMES) {
    for (const bits of PA_RANGE_BITS) assertEquals(stage2Geometry(granule(g), bits).ipaBits, bits);
  }
  assertEquals(PA_RANGE_BITS, [32, 36, 40, 42, 44, 48, 52]);
});

Deno.test("domain: every L1 input size gives a context of every granule; its leaves start at the table's start level", () => {
  for (const g of GRANULE_NAMES) {
    const gr = granule(g);
    for (const bits of L1_IPA_BITS) {
      const hv = new L1Hypervisor(granule("4K"), 48);
      const ctx = hv.createContext({ id: 1, vmid: 1, granule: g, ipaBits: bits });
      const sizes = l1LeafSizes(g, bits);
      assertEquals(sizes.at(-1), gr.pageSize, `${g}/${bits}: the page`);
      // Each listed leaf maps; each leaf size left out does not.
      for (const size of leafSizes(gr)) {
        const map = () => hv.map(1, 0, size, 0, true);
        if (sizes.includes(size)) map();
        else {
          assert(levelForSize(gr, size) < ctx.s2.geom.startLevel, `${g}/${bits}: ${size}`);
          assertThrows(map, RangeError, "is not a");
        }
      }
    }
  }
  // A 4K context of 32 bits starts at level 2: no 1G block.
  assertEquals(l1LeafSizes("4K", 32), [2 ** 21, 4096]);
  assertEquals(l1LeafSizes("4K", 39), [2 ** 30, 2 ** 21, 4096]);
});

Deno.test("domain: the backings of a host granule are those the host model parses, PUD only with 4K", () => {
  for (const g of GRANULE_NAMES) {
    const gr = granule(g);
    const names = backingsOf(g);
    for (const b of names) parseBacking(gr, b);
    const huge = names.filter((b) => b.startsWith("hugetlb:")).map((b) => parseBacking(gr, b).size);
    assertEquals(huge, g === "4K" ? [levelSize(gr, 2), levelSize(gr, 1)] : [levelSize(gr, 2)]);
    // The PUD size is no hugetlb size without 4K pages.
    if (g !== "4K") assertThrows(() => parseBacking(gr, `hugetlb:${levelSize(gr, 1)}`));
  }
  assertEquals(leafName("16K", 2 ** 25), "16K 32M block");
  assertEquals(leafName("64K", 2 ** 16), "64K page");
});
