import { assert, assertEquals } from "@std/assert";
import { parseTrace, traceToJson } from "../trace/trace.ts";
import { addCoverage, coverageGaps, emptyCoverage, traceCoverage } from "./coverage.ts";
import { generateFuzzTrace } from "./generate.ts";

Deno.test("fuzz traces read back through the trace parser unchanged", () => {
  // What a finding's file says is what was replayed: every key is one the parser knows,
  // in the form it produces (and a trace it rejects throws here).
  for (let seed = 0; seed < 300; seed++) {
    const t = generateFuzzTrace(seed);
    assertEquals(parseTrace(JSON.parse(traceToJson(t))), t, `seed ${seed}`);
  }
});

Deno.test("fuzz traces never pass maxEvents, L1's first mappings included", () => {
  for (const max of [10, 11, 17, 40]) {
    let longest = 0;
    for (let seed = 0; seed < 200; seed++) {
      const n = generateFuzzTrace(seed, { maxEvents: max }).events.length;
      assert(n <= max, `seed ${seed}: ${n} events, at most ${max} asked`);
      longest = Math.max(longest, n);
    }
    assertEquals(longest, max, `no trace reached ${max}: the cap was never tested`);
  }
});

Deno.test("the default campaign's traces (seeds 1..1000) leave no coverage gap", () => {
  const c = emptyCoverage();
  for (let seed = 1; seed <= 1000; seed++) addCoverage(c, traceCoverage(generateFuzzTrace(seed)));
  assertEquals(coverageGaps(c), []);
});

Deno.test("fuzz traces use only the host granules asked for, and the same seed gives the same trace", () => {
  for (let seed = 0; seed < 50; seed++) {
    const t = generateFuzzTrace(seed, { hostGranules: ["16K"] });
    assertEquals(t.config.hostGranule, "16K");
    assertEquals(generateFuzzTrace(seed, { hostGranules: ["16K"] }), t);
  }
});
