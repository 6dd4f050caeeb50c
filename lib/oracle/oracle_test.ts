import { assertEquals } from "@std/assert";
import type { Kvm } from "../kvm/kvm.ts";
import type { Violation } from "./oracle.ts";
import { l1Access, l2Access } from "../kvm/arm.ts";
import { kvmCreateVm } from "../kvm/kvm_main.ts";
import { forEachLeaf, kvmPgtableStage2Map } from "../kvm/pgtable_stage2.ts";
import { newWalkStats } from "../kvm/pgtable_walk.ts";
import { PTE_R, PTE_W } from "../kvm/pte.ts";
import { checkShadows, oracleWorld } from "./oracle.ts";
import { FullWalk } from "../strategies/full_walk.ts";

const G = 2 ** 30, M = 2 ** 20, K = 2 ** 10;

/** A correct state: two contexts, aliases within and across MMUs, a block and pages. */
function world() {
  const kvm = kvmCreateVm(
    {
      hostGranule: "4K",
      paBits: 40,
      vcpus: 2,
      memslots: [{ id: 0, base: 4 * G, size: 4 * G, backing: "thp" }],
    },
    new FullWalk(),
  );
  kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
  kvm.l1.createContext({ id: 2, vmid: 2, granule: "4K", ipaBits: 40 });
  kvm.l1.map(1, 8 * G, 4 * K, 4 * G, true); // alias A
  kvm.l1.map(1, 9 * G, 4 * K, 4 * G, true); // alias B, same MMU
  kvm.l1.map(2, 8 * G, 4 * K, 4 * G, false); // alias C, other MMU, read-only
  kvm.l1.map(1, 10 * G, 2 * M, 4 * G + 2 * M, true); // a 2M block
  l2Access(kvm, 0, 1, 8 * G, true);
  l2Access(kvm, 0, 1, 9 * G, true);
  l2Access(kvm, 0, 1, 10 * G + 4 * K, true);
  l2Access(kvm, 1, 2, 8 * G, false);
  l1Access(kvm, 4 * G, true);
  return kvm;
}
const check = (kvm: Kvm, invalidated?: [number, number][]) =>
  checkShadows(oracleWorld(kvm), { event: 5, op: "x", invalidated });
const brief = (v: Violation) => [v.kind, v.mmu, v.shadowIpa, v.canonicalIpa];

Deno.test("oracle: a correct state with aliases and blocks has no violation", () => {
  const kvm = world();
  assertEquals(kvm.shadowLeaves(), 4);
  assertEquals(check(kvm), []);
});

Deno.test("oracle: host page migrated behind KVM's back -> stale-pa on every alias and the canonical S2", () => {
  const kvm = world();
  const old = kvm.host.hostPaOf(4 * G);
  kvm.host.migrateHostRange(4 * G, 4 * G + 2 * M);
  const v = check(kvm);
  assertEquals(v.map(brief), [
    ["stale-pa", 0, 8 * G, 4 * G],
    ["stale-pa", 0, 9 * G, 4 * G],
    ["stale-pa", 1, 8 * G, 4 * G],
    ["canonical-stale", -1, 4 * G, 4 * G],
  ]);
  assertEquals(v[0].pa, old);
  assertEquals(v[0].expected, `host PA 0x${kvm.host.hostPaOf(4 * G).toString(16)}`);
  assertEquals(v[0].event, 5);
});

Deno.test("oracle: host page freed -> not-present", () => {
  const kvm = world();
  kvm.host.dropHostRange(4 * G + 2 * M, 4 * G + 4 * M);
  assertEquals(check(kvm).map(brief), [["not-present", 0, 10 * G, 4 * G + 2 * M]]);
});

Deno.test("oracle: L1 unmapped and invalidated, shadow left -> l1-unmapped; before the TLBI it is allowed", () => {
  const kvm = world();
  kvm.l1.unmap(1, 9 * G, 4 * K);
  assertEquals(check(kvm), []);
  kvm.l1.tlbiRange(1, 9 * G, 9 * G + 4 * K);
  assertEquals(check(kvm).map(brief), [["l1-unmapped", 0, 9 * G, null]]);
});

Deno.test("oracle: writable where L1 maps read-only, and under dirty logging", () => {
  const kvm = world();
  const mmu1 = kvm.vcpu(1).hwMmu!;
  const pa = kvm.host.hostPaOf(4 * G);
  kvmPgtableStage2Map(mmu1.pgt, 8 * G, 4 * K, pa, PTE_R | PTE_W, 4 * G, newWalkStats());
  assertEquals(check(kvm).map(brief), [["writable", 1, 8 * G, 4 * G]]);
  const kvm2 = world();
  kvm2.host.memslot(0).logging = true; // dirty logging armed, but nothing write-protected
  const kinds = check(kvm2).map((v) => v.kind);
  assertEquals(kinds, ["writable", "writable", "writable", "canonical-stale"]);
});

Deno.test("oracle: a shadow leaf larger than L1's mapping -> too-large", () => {
  const kvm = world();
  const mmu0 = kvm.vcpu(0).hwMmu!;
  // L1 maps 8G as a 4K page; a 2M shadow block there is wrong.
  const pa = kvm.host.hostPaOf(4 * G);
  kvmPgtableStage2Map(mmu0.pgt, 8 * G, 2 * M, pa, PTE_R, 4 * G, newWalkStats());
  const v = check(kvm).filter((x) => x.mmu === 0);
  assertEquals(v.map(brief), [["too-large", 0, 8 * G, null]]);
});

Deno.test("oracle: an entry that maps into a range the host invalidated at this event", () => {
  const kvm = world();
  assertEquals(check(kvm, [[4 * G + 2 * M, 4 * G + 4 * M]]).map(brief), [
    ["not-invalidated", 0, 10 * G, 4 * G + 2 * M],
  ]);
});

Deno.test("oracle: L1 destroyed a context and invalidated its VMID -> no-context", () => {
  const kvm = world();
  kvm.l1.destroyContext(2);
  assertEquals(check(kvm), [], "until the TLBI the old context's entries are allowed");
  kvm.l1.tlbiVmid(2);
  assertEquals(check(kvm).map(brief), [["no-context", 1, 8 * G, null]]);
});

Deno.test("oracle: a flush that skipped a leaf over a memslot -> unflushed; a complete one -> none", () => {
  const kvm = world();
  const all = new Map<number, Set<number>>();
  for (const m of kvm.nestedMmus) {
    const set = new Set<number>();
    forEachLeaf(m.pgt, (s) => set.add(s));
    all.set(m.id, set);
  }
  const ranges: [number, number][] = [[4 * G, 8 * G]];
  const flushed = (leaves: Map<number, Set<number>>) =>
    checkShadows(oracleWorld(kvm), {
      event: 6,
      op: "flush",
      flushed: { ranges, leaves },
    });
  assertEquals(flushed(all), []);
  all.get(0)!.delete(9 * G);
  assertEquals(flushed(all).map(brief), [["unflushed", 0, 9 * G, 4 * G]]);
  // Outside the flushed ranges nothing is owed.
  assertEquals(
    checkShadows(oracleWorld(kvm), {
      event: 6,
      op: "flush",
      flushed: { ranges: [[12 * G, 13 * G]], leaves: new Map() },
    }),
    [],
  );
});

Deno.test("oracle: an old L1 leaf allows only shadow leaves inside it", () => {
  // L2 8G -> C and 8G+4K -> C+4K; L1 clears both, invalidates only 8G+4K (its view only: no
  // handler runs), so the shadow leaf at 8G+4K is stale. The old leaf at 8G, not yet
  // invalidated, would translate 8G+4K to C+4K if it reached that far: it does not.
  const kvm = world();
  kvm.l1.map(1, 12 * G, 4 * K, 4 * G + 8 * M, true);
  kvm.l1.map(1, 12 * G + 4 * K, 4 * K, 4 * G + 8 * M + 4 * K, true);
  l2Access(kvm, 0, 1, 12 * G + 4 * K, false);
  kvm.l1.unmap(1, 12 * G, 8 * K);
  kvm.l1.tlbiRange(1, 12 * G + 4 * K, 12 * G + 8 * K);
  assertEquals(check(kvm).map(brief), [["l1-unmapped", 0, 12 * G + 4 * K, null]]);
});

Deno.test("oracle: a leaf KVM left inside a range TLBI is a violation, outside it kvm-baseline", () => {
  // Page-backed host: L1's 2M block gives 4K shadow leaves. L1 clears the block; its
  // range TLBI covers the first 64K. A leaf inside the range that survives is KVM's
  // handler failing (a violation); one outside is what handle_ripas2e1is() leaves.
  const kvm = kvmCreateVm({
    hostGranule: "4K",
    paBits: 40,
    vcpus: 1,
    memslots: [{ id: 0, base: 4 * G, size: 4 * G, backing: "page" }],
  }, new FullWalk());
  kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
  kvm.l1.map(1, 8 * G, 2 * M, 4 * G, true);
  l2Access(kvm, 0, 1, 8 * G + 8 * K, false); // inside the TLBI's range
  l2Access(kvm, 0, 1, 8 * G + M, false); // outside it
  kvm.l1.unmap(1, 8 * G, 2 * M);
  const dropped = kvm.l1.tlbiRange(1, 8 * G, 8 * G + 64 * K);
  const found = checkShadows(oracleWorld(kvm), {
    event: 9,
    op: "tlbi-range",
    rangeTlbi: { start: 8 * G, end: 8 * G + 64 * K, dropped },
  });
  assertEquals(found.map((v) => [v.kind, v.rule ?? "", v.shadowIpa]), [
    ["l1-unmapped", "", 8 * G + 8 * K],
    ["kvm-baseline", "l1-unmapped", 8 * G + M],
  ]);
});
