/**
 * experiments/cases.ts: expectation parsing and checking, the verdict of one run, and the
 * command line (filters, bad names, exit status, JSON output).
 */
import { runScript } from "./cli.ts";
import { assert, assertEquals, assertMatch, assertNotMatch, assertThrows } from "@std/assert";
import { TraceError } from "../lib/trace/fields.ts";
import { compare, parseComparison, parseExpectation } from "../lib/trace/expectation.ts";
import {
  checkExpectation,
  crashed,
  expectationFor,
  parseScenario,
  runCase,
} from "../lib/trace/scenario.ts";
import { oneContextConfig } from "./fixtures/one_context.ts";

/** A small same-MMU alias: full-walk finds both, a lossy index would not. */
function aliasTrace(expect: unknown): Record<string, unknown> {
  return {
    name: "alias",
    description: "L2 0x100000000 and 0x180000000 -> L1 0x40200000 in one context",
    config: oneContextConfig(),
    expect,
    events: [
      { op: "l1-map", ctx: 1, l2ipa: "0x100000000", l1ipa: "0x40200000", size: "4K" },
      { op: "l1-map", ctx: 1, l2ipa: "0x180000000", l1ipa: "0x40200000", size: "4K" },
      { op: "access", vcpu: 0, ctx: 1, l2ipa: "0x100000000", write: true },
      { op: "access", vcpu: 0, ctx: 1, l2ipa: "0x180000000", write: true },
      { op: "migrate", l1ipa: "0x40200000", size: "4K" },
      { op: "access", vcpu: 0, ctx: 1, l2ipa: "0x100000000", write: true },
    ],
  };
}

const cli = (...args: string[]) => runScript("cases.ts", ["--allow-read"], args);

Deno.test("cases: comparisons parse and compare", () => {
  assertEquals(parseComparison(0), { op: "=", value: 0 });
  assertEquals(parseComparison(">0"), { op: ">", value: 0 });
  assertEquals(parseComparison(">= 2"), { op: ">=", value: 2 });
  assertEquals(parseComparison("<=1024"), { op: "<=", value: 1024 });
  assertEquals(parseComparison("==3"), { op: "=", value: 3 });
  assertEquals(parseComparison("7"), { op: "=", value: 7 });
  for (const bad of ["", ">", "many", "!=0", "> -1", null, true, [1]]) {
    assertThrows(() => parseComparison(bad), RangeError);
  }
  assert(compare(1, parseComparison(">0")));
  assert(!compare(0, parseComparison(">0")));
  assert(compare(0, parseComparison(0)));
  assert(!compare(3, parseComparison("<3")));
  assert(compare(3, parseComparison("<=3")));
});

Deno.test("cases: expectations are validated with the field named", () => {
  const e = parseExpectation(
    {
      violations: ">0",
      kinds: ["stale-pa"],
      shadowIpa: "0x100000000",
      canonicalIpa: "1G",
      why: "x",
    },
    "expect.a",
  );
  assertEquals(e.metrics.violations, { op: ">", value: 0 });
  assertEquals(e.shadowIpa, 0x1_0000_0000);
  assertEquals(e.canonicalIpa, 2 ** 30);
  const err = (v: unknown, path: string) =>
    assertEquals(assertThrows(() => parseExpectation(v, "expect.a"), TraceError).path, path);
  err({ violation: 0 }, "expect.a");
  err({ violations: "lots" }, "expect.a.violations");
  err({ kinds: ["stale"] }, "expect.a.kinds[0]");
  err({ kinds: "stale-pa" }, "expect.a.kinds");
  err({ shadowIpa: "0xZZ" }, "expect.a.shadowIpa");
  err({ why: 3 }, "expect.a.why");
  err([], "expect.a");
  assertEquals(assertThrows(() => parseScenario(aliasTrace([]), "t"), TraceError).path, "expect");
});

Deno.test("cases: a strategy without its own expectation falls back to *", () => {
  const s = parseScenario(
    aliasTrace({ "maple-v2": { violations: ">0" }, "*": { violations: 0 } }),
    "t",
  );
  assertEquals(expectationFor(s, "maple-v2")?.key, "maple-v2");
  assertEquals(expectationFor(s, "full-walk")?.key, "*");
  assertEquals(
    expectationFor(parseScenario(aliasTrace({ x: { violations: 0 } }), "t"), "full-walk"),
    null,
  );
});

Deno.test("cases: checkExpectation reports what does not hold", () => {
  const r = {
    violations: 2,
    iterations: 1024,
    removedNeeded: 1,
    removedCollateral: 0,
    memoryBytes: 64,
  };
  const found = [
    { kind: "not-invalidated", shadowIpa: 0x1000, canonicalIpa: 0x2000 },
    { kind: "stale-pa", shadowIpa: 0x1000, canonicalIpa: 0x2000 },
  ];
  const e = (o: unknown) => parseExpectation(o, "e");
  assertEquals(
    checkExpectation(e({ violations: ">0", kinds: ["stale-pa"], shadowIpa: 0x1000 }), r, found),
    [],
  );
  assertEquals(checkExpectation(e({ violations: 0 }), r, found), ["violations 2, expected =0"]);
  assertEquals(checkExpectation(e({ iterations: "<1024" }), r, found), [
    "iterations 1024, expected <1024",
  ]);
  assertEquals(checkExpectation(e({ kinds: ["writable"] }), r, found), [
    "no writable violation reported (reported: not-invalidated, stale-pa)",
  ]);
  assertEquals(checkExpectation(e({ shadowIpa: 0x3000 }), r, found), [
    "no violation at shadow IPA 0x3000",
  ]);
  assertEquals(checkExpectation(e({ shadowIpa: 0x1000, canonicalIpa: 0x4000 }), r, found), [
    "no violation at shadow IPA 0x1000, canonical IPA 0x4000",
  ]);
  // The place must be reported with one of the expected kinds.
  assertEquals(
    checkExpectation(e({ kinds: ["stale-pa"], shadowIpa: 0x1000 }), r, found.slice(0, 1)).length,
    2,
  );
  assertEquals(
    checkExpectation(e({ iterations: 0 }), { ...r, iterations: null as unknown as number }, []),
    [
      "iterations n/a, expected =0",
    ],
  );
});

Deno.test("cases: runCase judges a replay against the file's expectation", () => {
  const good = runCase(
    parseScenario(aliasTrace({ "*": { violations: 0, removedNeeded: 2 } }), "alias"),
    "full-walk",
  );
  assertEquals(good.strategy, "full-walk");
  assertEquals(good.case, "alias");
  assertEquals(good.violations, 0);
  assertEquals(good.unmapEvents, 1);
  assertEquals(good.iterations, 1024); // 40-bit shadow, 1G chunks, one valid MMU
  assertEquals(good.removedNeeded, 2);
  assertEquals(good.removedCollateral, 0);
  assertEquals(good.expectation, "*");
  assertEquals(good.ok, true);
  const bad = runCase(
    parseScenario(aliasTrace({ "full-walk": { violations: ">0" } }), "alias"),
    "full-walk",
  );
  assertEquals(bad.ok, false);
  assertEquals(bad.expectation, "full-walk");
  assertEquals(bad.failures, ["violations 0, expected >0"]);
  const none = runCase(parseScenario(aliasTrace(undefined), "alias"), "full-walk");
  assertEquals(none.ok, null);
  assertEquals(none.expectation, null);
});

Deno.test("cases: a replay that throws is a failed result, whatever the expectation", () => {
  const s = parseScenario(aliasTrace({ "*": { violations: 0 } }), "alias");
  const r = crashed(s, "full-walk", new TypeError("x is not a function\n  at y"));
  assertEquals(r.ok, false);
  assertEquals(r.expectation, "*");
  assertEquals(r.failures, ["the replay threw TypeError: x is not a function"]);
  assert(Number.isNaN(r.violations));
  assertEquals(JSON.parse(JSON.stringify(r)).violations, null);
});

Deno.test("cases: bad strategy or case names are one line and exit 2", async () => {
  for (
    const [args, want] of [
      [["--strategy", "full-walk,nope"], 'unknown strategy "nope"'],
      [["--case", "no-such-case"], 'unknown case "no-such-case"'],
      [["--bogus"], "--bogus"],
      [["--strategy", ","], "no strategy"],
      [["--dir", "/nonexistent/s2lab"], "cannot list"],
    ] as const
  ) {
    const r = await cli(...args);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assertEquals(r.stdout, "");
    const lines = r.stderr.trimEnd().split("\n");
    assertEquals(lines.length, 1, r.stderr);
    assert(lines[0].startsWith("error: ") && lines[0].includes(want), lines[0]);
  }
});

Deno.test("cases: filters, table, JSON and the exit status of broken expectations", async () => {
  const table = await cli("--case", "alias-within-mmu,flush", "--strategy", "full-walk");
  assertEquals(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split("\n");
  assertMatch(
    lines[0],
    /^case\s+strategy\s+violations\s+iterations\/unmap\s+removed needed\/collateral\s+memory B\s+expect$/,
  );
  assertEquals(lines.filter((l) => /full-walk/.test(l)).length, 2);
  assertMatch(
    lines.find((l) => l.startsWith("alias-within-mmu"))!,
    /full-walk\s+0\s+1,024\s+2 \/ 3\s+0\s+ok$/,
  );

  const json = await cli("--case", "alias-within-mmu", "--strategy", "full-walk", "--json");
  assertEquals(json.code, 0, json.stderr);
  const rows = JSON.parse(json.stdout);
  assertEquals(rows.length, 1);
  assertEquals([
    rows[0].strategy,
    rows[0].case,
    rows[0].violations,
    rows[0].removedNeeded,
    rows[0].removedCollateral,
  ], ["full-walk", "alias-within-mmu", 0, 2, 3]);

  // A directory with a case whose expectation full-walk breaks: exit 1, the failure named.
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/wrong.json`,
      JSON.stringify(aliasTrace({ "*": { violations: ">0" } })),
    );
    await Deno.writeTextFile(
      `${dir}/right.json`,
      JSON.stringify(aliasTrace({ "*": { violations: 0 } })),
    );
    const r = await cli("--dir", dir, "--strategy", "full-walk");
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assertMatch(r.stdout, /FAIL wrong \/ full-walk \(expect "\*"\): violations 0, expected >0/);
    assertNotMatch(r.stdout, /FAIL right/);
    const ok = await cli("--dir", dir, "--strategy", "full-walk", "--case", "right");
    assertEquals(ok.code, 0, ok.stdout + ok.stderr);
    const j = await cli("--dir", dir, "--strategy", "full-walk", "--json");
    assertEquals(j.code, 1);
    assertEquals(JSON.parse(j.stdout).length, 2);
    assertMatch(j.stderr, /FAIL wrong/);
    await Deno.writeTextFile(
      `${dir}/malformed.json`,
      JSON.stringify(aliasTrace({ "*": { violation: 0 } })),
    );
    const m = await cli("--dir", dir, "--strategy", "full-walk");
    assertEquals(m.code, 2);
    assertMatch(
      m.stderr,
      /^error: .*malformed\.json: expect\.\*: unknown key "violation" \(did you mean "violations"\?\)$/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
