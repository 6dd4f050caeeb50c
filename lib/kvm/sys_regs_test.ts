import { assertEquals } from "@std/assert";
import type { Kvm } from "./kvm.ts";
import { l1Access, l2Access } from "./arm.ts";
import { kvmCreateVm } from "./kvm_main.ts";
import { computeTlbInvalRange } from "./nested.ts";
import { checkShadows, oracleWorld } from "../oracle/oracle.ts";
import { FullWalk } from "../strategies/full_walk.ts";
import { applyEvent } from "../trace/ops.ts";

const G = 2 ** 30, M = 2 ** 20, K = 2 ** 10;

function vm() {
  const kvm = kvmCreateVm(
    {
      hostGranule: "4K",
      paBits: 40,
      vcpus: 2,
      memslots: [{ id: 0, base: 4 * G, size: 4 * G, backing: "thp" }],
    },
    new FullWalk(),
  );
  kvm.l1.createContext({ id: 1, vmid: 7, granule: "4K", ipaBits: 40 });
  kvm.l1.createContext({ id: 2, vmid: 7, granule: "4K", ipaBits: 40 }); // same VMID, other BADDR
  kvm.l1.createContext({ id: 3, vmid: 8, granule: "4K", ipaBits: 40 });
  return kvm;
}
const world = (kvm: Kvm) => (oracleWorld(kvm));

Deno.test("compute_tlb_inval_range: TTL hint, else the L1 level in the SW bits, else 1G", () => {
  const kvm = vm();
  kvm.l1.map(1, 8 * G + 2 * M, 2 * M, 4 * G, true);
  kvm.l1.map(1, 8 * G + 4 * M + 8 * K, 4 * K, 4 * G + 8 * M, true);
  l2Access(kvm, 0, 1, 8 * G + 2 * M, false);
  l2Access(kvm, 0, 1, 8 * G + 4 * M + 8 * K, false);
  const mmu = kvm.vcpu(0).hwMmu!;
  assertEquals(computeTlbInvalRange(mmu, 8 * G + 2 * M + 5 * K, 0), 2 * M);
  assertEquals(computeTlbInvalRange(mmu, 8 * G + 4 * M + 8 * K, 0), 4 * K);
  assertEquals(computeTlbInvalRange(mmu, 8 * G + 4 * M + 8 * K, 2), 2 * M, "TTL level 2");
  assertEquals(computeTlbInvalRange(mmu, 9 * G, 0), G, "nothing mapped: L1's largest block");
});

Deno.test("compute_tlb_inval_range: a TTL ttl_to_size() cannot size goes to L1's largest block", () => {
  // A non-zero TTL skips the shadow's hint (FEAT_TTL is forced on for L1); 16K level 1 and
  // 64K level 1 have no size ("No 52bit IPA support"): 32M and 512M, aligned down.
  const kvm = vm();
  kvm.l1.createContext({ id: 4, vmid: 9, granule: "16K", ipaBits: 40 });
  kvm.l1.createContext({ id: 5, vmid: 10, granule: "64K", ipaBits: 40 });
  kvm.l1.map(4, 8 * G + 16 * K, 16 * K, 4 * G, true);
  kvm.l1.map(5, 8 * G + 64 * K, 64 * K, 5 * G, true);
  l2Access(kvm, 0, 4, 8 * G + 16 * K, false);
  l2Access(kvm, 1, 5, 8 * G + 64 * K, false);
  const m16 = kvm.vcpu(0).hwMmu!, m64 = kvm.vcpu(1).hwMmu!;
  assertEquals(computeTlbInvalRange(m16, 8 * G + 16 * K, 0), 16 * K, "no TTL: the SW bits");
  assertEquals(computeTlbInvalRange(m16, 8 * G + 16 * K, 1), 32 * M);
  assertEquals(computeTlbInvalRange(m16, 8 * G + 16 * K, 3), 16 * K);
  assertEquals(computeTlbInvalRange(m64, 8 * G + 64 * K, 1), 512 * M);
  assertEquals(computeTlbInvalRange(m64, 8 * G + 64 * K, 2), 512 * M);
  assertEquals(computeTlbInvalRange(m64, 8 * G + 64 * K, 0), 64 * K, "no TTL: the SW bits");
});

Deno.test("TLBI IPAS2E1IS reaches every MMU of the VMID, not others; unmaps the aligned range", () => {
  const kvm = vm();
  for (const ctx of [1, 2, 3]) {
    kvm.l1.map(ctx, 8 * G, 4 * K, 4 * G + ctx * 4 * K, true);
    kvm.l1.map(ctx, 8 * G + 4 * K, 4 * K, 4 * G + 64 * K + ctx * 4 * K, true);
    l2Access(kvm, 0, ctx, 8 * G, false);
    l2Access(kvm, 0, ctx, 8 * G + 4 * K, false);
  }
  const leaves = () =>
    kvm.nestedMmus.filter((m) => m.valid).map((m) => [m.contextId, m.pgt.leaves]);
  assertEquals(leaves(), [[1, 2], [2, 2], [3, 2]]);
  kvm.l1.unmap(1, 8 * G, 4 * K);
  applyEvent(kvm, { op: "tlbi-ipa", vmid: 7, l2ipa: 8 * G, ttl: 3 });
  assertEquals(leaves(), [[1, 1], [2, 1], [3, 2]]);
  // Without a TTL hint and no leaf at the address: L1's largest block, 1G, goes.
  applyEvent(kvm, { op: "tlbi-ipa", vmid: 7, l2ipa: 8 * G + 12 * K, ttl: 0 });
  assertEquals(leaves(), [[1, 0], [2, 0], [3, 2]]);
  assertEquals(checkShadows(world(kvm), { event: 0, op: "t" }), []);
});

Deno.test("L1 changes a mapping: the old shadow entry is allowed until L1's TLBI, stale after", () => {
  const kvm = vm();
  kvm.l1.map(1, 8 * G, 4 * K, 4 * G, true);
  l2Access(kvm, 0, 1, 8 * G, true);
  kvm.l1.unmap(1, 8 * G, 4 * K);
  kvm.l1.map(1, 8 * G, 4 * K, 5 * G, true);
  assertEquals(
    checkShadows(world(kvm), { event: 0, op: "l1-map" }),
    [],
    "not invalidated yet: allowed",
  );
  // An L1 TLBI whose handler did nothing would leave the old entry: simulate by
  // invalidating only L1's view.
  kvm.l1.tlbiRange(7, 8 * G, 8 * G + 4 * K);
  assertEquals(checkShadows(world(kvm), { event: 1, op: "tlbi" })[0].kind, "not-present");
  l1Access(kvm, 5 * G, false); // the new canonical page is now present on the host
  const v = checkShadows(world(kvm), { event: 1, op: "tlbi" });
  assertEquals(v.length, 1);
  assertEquals(v[0].kind, "stale-pa");
  assertEquals(v[0].shadowIpa, 8 * G);
  assertEquals(v[0].canonicalIpa, 5 * G);
  // The real handler removes it.
  applyEvent(kvm, { op: "tlbi-range", vmid: 7, l2ipa: 8 * G, size: (8 * G + 4 * K) - (8 * G) });
  assertEquals(checkShadows(world(kvm), { event: 2, op: "tlbi" }), []);
  assertEquals(l2Access(kvm, 0, 1, 8 * G, false), "mapped");
  const pgt = kvm.vcpu(0).hwMmu!.pgt;
  assertEquals(pgt.getLeaf(8 * G), 3);
  assertEquals(pgt.leafOa, kvm.host.hostPaOf(5 * G));
});

Deno.test("TLBI VMALLS12E1IS and ALLE1IS: full walks of the matching MMUs", () => {
  const kvm = vm();
  for (const ctx of [1, 3]) {
    kvm.l1.map(ctx, 8 * G, 4 * K, 4 * G, true);
    l2Access(kvm, ctx === 1 ? 0 : 1, ctx, 8 * G, false);
  }
  kvm.resetCost();
  applyEvent(kvm, { op: "tlbi-vmid", vmid: 8 });
  assertEquals(kvm.cost.engine.iterations, 1024);
  assertEquals(kvm.cost.removedOther, 1);
  kvm.resetCost();
  applyEvent(kvm, { op: "tlbi-all" });
  // ALLE1IS is kvm_nested_s2_unmap(): the strategy's code, here the upstream full walk.
  assertEquals(kvm.cost.strategy.iterations, 2 * 1024, "both valid MMUs walked");
  assertEquals(kvm.shadowLeaves(), 0);
});
