import assert from "assert";
import { NestedKvm } from "../lib/kvm.ts";
import { FullWalk } from "../lib/strategies/full_walk.ts";
import { S2_MMU_PER_VCPU } from "../lib/shadow.ts";

const G = 2 ** 30, K = 2 ** 10;

function vm(vcpus: number) {
  const kvm = new NestedKvm(
    {
      hostGranule: "4K",
      paBits: 40,
      vcpus,
      memslots: [{ id: 0, base: 4 * G, size: G, backing: "page" }],
    },
    new FullWalk(),
  );
  for (let id = 1; id <= 5; id++) {
    kvm.l1.createContext({ id, vmid: id, granule: "4K", ipaBits: 40 });
    kvm.l1.map(id, 8 * G, 4 * K, 4 * G + id * 4 * K, true);
  }
  return kvm;
}

Deno.test("S2_MMU_PER_VCPU shadow MMUs per vCPU, all invalid at start", () => {
  const kvm = vm(3);
  assert.equal(kvm.mmus.length, 3 * S2_MMU_PER_VCPU);
  assert.equal(kvm.mmus.filter((m) => m.valid).length, 0);
});

Deno.test("lookup_s2_mmu: the same context finds the same MMU", () => {
  const kvm = vm(2);
  kvm.access(0, 1, 8 * G, false);
  const m = kvm.hwMmu(0)!;
  kvm.access(1, 1, 8 * G, false);
  assert.equal(kvm.hwMmu(1), m);
  assert.equal(m.refcnt, 2);
});

Deno.test("recycling: more contexts than MMUs, round robin over refcnt 0, the whole table goes", () => {
  const kvm = vm(1); // 2 shadow MMUs
  kvm.access(0, 1, 8 * G, false); // MMU 0 <- ctx 1
  kvm.access(0, 2, 8 * G, false); // MMU 1 <- ctx 2 (MMU 0 released)
  assert.deepEqual(kvm.mmus.map((m) => [m.contextId, m.pgt.leaves, m.refcnt]), [[1, 1, 0], [
    2,
    1,
    1,
  ]]);
  kvm.resetCost();
  kvm.access(0, 3, 8 * G, false); // next = 0: MMU 0 is recycled for ctx 3
  assert.equal(kvm.cost.recycles, 1);
  assert.equal(kvm.cost.removedOther, 1, "ctx 1's shadow leaf went with the recycle");
  // The recycle's pending unmap is a full walk of the MMU: 2^40 / 1G chunks.
  assert.equal(kvm.cost.engine.iterations, 1024);
  assert.deepEqual(kvm.mmus.map((m) => [m.contextId, m.pgt.leaves]), [[3, 1], [2, 1]]);
  // MMU 1 is held by nobody now, MMU 0 by vCPU 0: ctx 4 takes MMU 1.
  kvm.access(0, 4, 8 * G, false);
  assert.deepEqual(kvm.mmus.map((m) => m.contextId), [3, 4]);
  // Back to ctx 1: recycled again, its leaf faults back in.
  assert.equal(kvm.access(0, 1, 8 * G, false), "mapped");
});
