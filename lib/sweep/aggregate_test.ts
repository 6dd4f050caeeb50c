import { assertEquals } from "@std/assert";
import { makeStrategy } from "../strategies/mod.ts";
import { replay } from "../trace/replay.ts";
import { parseTrace } from "../trace/trace.ts";
import { EventAggregate } from "./aggregate.ts";
import { oneContextConfig } from "../../test/fixtures/one_context.ts";

/** Two pages 2M apart in one context; the host migrates the first, L2 touches both again. */
const trace = parseTrace({
  name: "storm",
  config: oneContextConfig(2),
  events: [
    { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
    { op: "l1-map", ctx: 1, l2ipa: "0x100200000", l1ipa: "0x40200000", size: "4K" },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G" },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: "0x100200000" },
    { op: "migrate", l1ipa: "1G", size: "4K" },
    // The storm: both pages again, on two vCPUs.
    { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G" },
    { op: "access", vcpu: 1, ctx: 1, l2ipa: "0x100200000", write: true },
    // Another event ends it: faults after it are not the migration's.
    { op: "l1-map", ctx: 1, l2ipa: "0x100400000", l1ipa: "0x40400000", size: "4K" },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: "0x100400000" },
  ],
});

const aggregate = (strategy: string) => {
  const agg = new EventAggregate();
  const r = replay(trace, makeStrategy(strategy), { onEvent: (e) => agg.add(e) });
  assertEquals(r.violations, 0);
  return agg;
};

Deno.test("aggregate: the storm after an unmap, the leaves it destroyed and the tables it freed", () => {
  const fw = aggregate("full-walk");
  // The full walk destroys both leaves (one collateral) and both last-level tables.
  assertEquals(fw.unmapDestroyed, [2]);
  assertEquals(fw.stormFaults, [2]);
  assertEquals(fw.stormRefaults, [1]);
  assertEquals(fw.stormVcpuFaults, [1]);
  const rm = aggregate("rmap");
  assertEquals(rm.unmapDestroyed, [1]);
  assertEquals(rm.stormFaults, [1]);
  assertEquals(rm.stormRefaults, [0]);
  // The full walk empties both last-level tables and the level-2 table above them; rmap
  // only the migrated page's last-level table.
  assertEquals([fw.unmapTablesFreed, rm.unmapTablesFreed], [[3], [1]]);
  assertEquals(fw.faults, 5);
  assertEquals(rm.faults, 4);
});
