/**
 * The budget sweep's rows, from its rules: one row per (vCPUs, granule, alias, budget) in
 * grid order, each unmap event's estimated time the cost model's (iterations x ns per
 * iteration + descriptors x ns per descriptor, the sweep's estimateNs) and the row's
 * columns its worst and mean, the cost model recorded in every row, and the same seed the
 * same CSV.
 */
import { assert, assertEquals } from "@std/assert";
import { makeStrategy } from "../strategies/mod.ts";
import { opClass } from "../trace/ops.ts";
import { replay } from "../trace/replay.ts";
import { defaultWorkload, generateWorkload } from "../trace/workload.ts";
import { budgetCsv, budgetSweep } from "./budget.ts";
import { defaultCostModel } from "./costmodel.ts";

/** A small workload: a second of replays. */
const SMALL = { l1Mem: 2 ** 32, pagesPerContext: 16, aliases: [0, 0.5], budgets: [1024, 262144] };

/** A cost model that counts only one of the two kinds of work. */
const only = (nsPerIteration: number, nsPerDescriptor: number) => ({
  model: { ...defaultCostModel(), nsPerIteration, nsPerDescriptor },
  origin: `test: ${nsPerIteration}/${nsPerDescriptor}`,
});

Deno.test("budgetSweep: one row per (vCPUs, granule, alias, budget), in grid order, each named once", () => {
  const rows = budgetSweep({ ...SMALL, vcpus: [1, 2], granules: ["4K", "64K"] });
  assertEquals(rows.length, 2 * 2 * 2 * 2);
  const key = (r: (typeof rows)[0]) => [r.vcpus, r.granule, r.alias, r.budget];
  const want = [1, 2].flatMap((v) =>
    ["4K", "64K"].flatMap((g) => [0, 0.5].flatMap((a) => [1024, 262144].map((b) => [v, g, a, b])))
  );
  assertEquals(rows.map(key), want);
  assertEquals(rows.map((r) => r.point), rows.map((_, i) => i));
  assertEquals(new Set(rows.map((r) => r.gridId)).size, 1);
  // L1's granule is the host's, the PA size the granule's (52 bits for 64K), as the sweep's.
  for (const r of rows) {
    assertEquals([r.l1Granule, r.paBits], [r.granule, r.granule === "64K" ? 52 : 48]);
  }
  assert(rows.every((r) => r.strategy === "rmap-bounded" && r.violations === 0));
});

Deno.test("budgetSweep: the worst unmap's time is the cost model applied to the events' counts", () => {
  // Only iterations cost: the worst event's time is ns per iteration x its iterations.
  const it = budgetSweep({ ...SMALL, vcpus: [2], granules: ["4K"], cost: only(7, 0) });
  // Only descriptors cost: ns per descriptor x the most descriptors one event visited.
  const de = budgetSweep({ ...SMALL, vcpus: [2], granules: ["4K"], cost: only(0, 3) });
  assert(it.some((r) => r.fallbacks > 0) && it.some((r) => r.fallbacks === 0));
  for (const [i, r] of it.entries()) {
    assertEquals(r.unmapEstNsMax, 7 * r.unmapIterationsMax);
    assertEquals(de[i].unmapEstNsMax, 3 * de[i].unmapDescriptorsMax);
    assertEquals(r.unmapEstNsMean, Math.round(7 * r.unmapIterationsMean));
    assertEquals([r.nsPerIteration, r.nsPerDescriptor, r.costModel], [7, 0, "test: 7/0"]);
  }
  // Both: the most expensive event, each event costed on its own, from a replay of the same
  // trace here. In this trace the event with the most iterations is not the one with the
  // most descriptors, so iterations max x 20 + descriptors max x 2 would be more.
  const mix = { l1Mem: 2 ** 32, pagesPerContext: 16, numaFraction: 0.5, migrationsPerWindow: 4 };
  const [row] = budgetSweep({
    ...mix,
    vcpus: [2],
    granules: ["4K"],
    aliases: [0],
    budgets: [262144],
    seed: 2,
  });
  const m = defaultCostModel();
  const w = generateWorkload({ ...defaultWorkload(), ...mix, vcpus: 2, alias: 0 }, 2);
  const times: number[] = [];
  replay(w.trace, makeStrategy("rmap-bounded", { budget: 262144 }), {
    keepEvents: false,
    onEvent: (e) => {
      if (opClass(e.op) === "host-unmap") {
        times.push(e.iterations * m.nsPerIteration + e.descriptors * m.nsPerDescriptor);
      }
    },
  });
  assertEquals(row.unmapEvents, times.length);
  assertEquals(row.unmapEstNsMax, Math.max(...times));
  assert(
    row.unmapEstNsMax <
      row.unmapIterationsMax * m.nsPerIteration + row.unmapDescriptorsMax * m.nsPerDescriptor,
  );
  assertEquals([row.softLockupNs, row.costModel], [m.softLockupNs, "default"]);
});

Deno.test("budgetSweep: the same seed gives the same CSV, another seed another trace", () => {
  const a = budgetCsv(budgetSweep({ ...SMALL, vcpus: [1], granules: ["4K"], seed: 5 }));
  const b = budgetCsv(budgetSweep({ ...SMALL, vcpus: [1], granules: ["4K"], seed: 5 }));
  const c = budgetCsv(budgetSweep({ ...SMALL, vcpus: [1], granules: ["4K"], seed: 6 }));
  assertEquals(a, b);
  assert(a !== c);
  assertEquals(a.split("\n")[1].split(",")[2], "5", "the seed is recorded");
});
