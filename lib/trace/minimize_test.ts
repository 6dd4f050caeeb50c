import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { makeStrategy } from "../strategies/mod.ts";
import { minimizeTrace } from "./minimize.ts";
import { replay } from "./replay.ts";
import { parseTrace, traceToJson } from "./trace.ts";

const reproducer = () =>
  parseTrace(
    JSON.parse(
      Deno.readTextFileSync(
        new URL("../../experiments/scenarios/reproducer.json", import.meta.url),
      ),
    ),
  );

Deno.test("the published reproducer shrinks to a selftest-sized counterexample for maple-v2", () => {
  const t = reproducer();
  const small = minimizeTrace(t, () => makeStrategy("maple-v2"));
  assert(small.events.length <= 6, `${small.events.length} events`);
  const ops = small.events.map((e) => e.op);
  assertEquals(ops.filter((o) => o === "l1-map").length, 2, "two aliases");
  assertEquals(ops.at(-1), "migrate");
  // It still fails, and every single event is needed (1-minimal).
  assert(replay(small, makeStrategy("maple-v2")).violations > 0);
  for (let i = 0; i < small.events.length; i++) {
    const fewer = { ...small, events: small.events.filter((_, j) => j !== i) };
    let v = 0;
    try {
      v = replay(fewer, makeStrategy("maple-v2")).violations;
    } catch { /* an event that no longer applies */ }
    assertEquals(v, 0, `event ${i} is needed`);
  }
  // The correct designs pass the counterexample.
  for (const s of ["full-walk", "rmap", "span-unknown"]) {
    assertEquals(replay(small, makeStrategy(s)).violations, 0);
  }
  // It round-trips through its JSON form.
  assertEquals(parseTrace(JSON.parse(traceToJson(small))).events, small.events);
});

Deno.test("minimizing a trace without a violation is an error", () => {
  assertMatch(
    String(assertThrows(() => minimizeTrace(reproducer(), () => makeStrategy("rmap")))),
    /shows no violation/,
  );
});
