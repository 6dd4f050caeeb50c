import assert from "assert";
import { minimizeTrace } from "../lib/minimize.ts";
import { replay } from "../lib/replay.ts";
import { makeStrategy } from "../lib/strategies/mod.ts";
import { parseTrace, traceToJson } from "../lib/trace.ts";

const reproducer = () =>
  parseTrace(
    JSON.parse(
      Deno.readTextFileSync(new URL("../experiments/scenarios/reproducer.json", import.meta.url)),
    ),
  );

Deno.test("the published reproducer shrinks to a selftest-sized counterexample for maple-v2", () => {
  const t = reproducer();
  const small = minimizeTrace(t, () => makeStrategy("maple-v2"));
  assert.ok(small.events.length <= 6, `${small.events.length} events`);
  const ops = small.events.map((e) => e.op);
  assert.equal(ops.filter((o) => o === "l1-map").length, 2, "two aliases");
  assert.equal(ops.at(-1), "migrate");
  // It still fails, and every single event is needed (1-minimal).
  assert.ok(replay(small, makeStrategy("maple-v2")).violations > 0);
  for (let i = 0; i < small.events.length; i++) {
    const fewer = { ...small, events: small.events.filter((_, j) => j !== i) };
    let v = 0;
    try {
      v = replay(fewer, makeStrategy("maple-v2")).violations;
    } catch { /* an event that no longer applies */ }
    assert.equal(v, 0, `event ${i} is needed`);
  }
  // The correct designs pass the counterexample.
  for (const s of ["full-walk", "rmap", "span-unknown"]) {
    assert.equal(replay(small, makeStrategy(s)).violations, 0);
  }
  // It round-trips through its JSON form.
  assert.deepEqual(parseTrace(JSON.parse(traceToJson(small))).events, small.events);
});

Deno.test("minimizing a trace without a violation is an error", () => {
  assert.throws(
    () => minimizeTrace(reproducer(), () => makeStrategy("rmap")),
    /shows no violation/,
  );
});
