import { assertEquals } from "@std/assert";
import { l2Access } from "./arm.ts";
import { kvmCreateVm } from "./kvm_main.ts";
import { S2_MMU_PER_VCPU } from "./nested.ts";
import { FullWalk } from "../strategies/full_walk.ts";
import { replay } from "../trace/replay.ts";
import { parseTrace } from "../trace/trace.ts";
import { oneContextConfig } from "../../test/fixtures/one_context.ts";

const G = 2 ** 30, K = 2 ** 10;

function vm(vcpus: number) {
  const kvm = kvmCreateVm(
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
  assertEquals(kvm.nestedMmus.length, 3 * S2_MMU_PER_VCPU);
  assertEquals(kvm.nestedMmus.filter((m) => m.valid).length, 0);
});

Deno.test("lookup_s2_mmu: the same context finds the same MMU", () => {
  const kvm = vm(2);
  l2Access(kvm, 0, 1, 8 * G, false);
  const m = kvm.vcpu(0).hwMmu!;
  l2Access(kvm, 1, 1, 8 * G, false);
  assertEquals(kvm.vcpu(1).hwMmu, m);
  assertEquals(m.refcnt, 2);
});

Deno.test("recycling: more contexts than MMUs, round robin over refcnt 0, the whole table goes", () => {
  const kvm = vm(1); // 2 shadow MMUs
  l2Access(kvm, 0, 1, 8 * G, false); // MMU 0 <- ctx 1
  l2Access(kvm, 0, 2, 8 * G, false); // MMU 1 <- ctx 2 (MMU 0 released)
  assertEquals(kvm.nestedMmus.map((m) => [m.contextId, m.pgt.leaves, m.refcnt]), [[1, 1, 0], [
    2,
    1,
    1,
  ]]);
  kvm.resetCost();
  l2Access(kvm, 0, 3, 8 * G, false); // next = 0: MMU 0 is recycled for ctx 3
  assertEquals(kvm.cost.recycles, 1);
  assertEquals(kvm.cost.removedOther, 1, "ctx 1's shadow leaf went with the recycle");
  // The recycle's pending unmap is a full walk of the MMU: 2^40 / 1G chunks.
  assertEquals(kvm.cost.engine.iterations, 1024);
  assertEquals(kvm.nestedMmus.map((m) => [m.contextId, m.pgt.leaves]), [[3, 1], [2, 1]]);
  // MMU 1 is held by nobody now, MMU 0 by vCPU 0: ctx 4 takes MMU 1.
  l2Access(kvm, 0, 4, 8 * G, false);
  assertEquals(kvm.nestedMmus.map((m) => m.contextId), [3, 4]);
  // Back to ctx 1: recycled again, its leaf faults back in.
  assertEquals(l2Access(kvm, 0, 1, 8 * G, false), "mapped");
});

Deno.test("kvm_vcpu_load_hw_mmu(): a context re-created under its id with another VTTBR or VTCR gets its own MMU", () => {
  for (const spec of [{ vmid: 2, granule: "4K" }, { vmid: 1, granule: "64K" }]) {
    const trace = parseTrace({
      name: "re-created context",
      config: oneContextConfig(),
      events: [
        { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
        { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G" },
        { op: "ctx-destroy", ctx: 1 },
        { op: "ctx-create", context: { id: 1, ...spec, ipaBits: 40 } },
        { op: "tlbi-vmid", vmid: 1 },
        { op: "l1-map", ctx: 1, l2ipa: "8G", l1ipa: "1G", size: spec.granule },
        { op: "access", vcpu: 0, ctx: 1, l2ipa: "8G" },
      ],
    });
    const r = replay(trace, new FullWalk());
    // The second access runs in the new context's MMU, not in the destroyed one's.
    assertEquals(r.violations, 0, JSON.stringify(r.firstSeen[0] ?? spec));
  }
});
