import { assertEquals, assertMatch, assertThrows } from "@std/assert";
import { makeStrategy } from "../strategies/mod.ts";
import { TraceError } from "./fields.ts";
import { replay } from "./replay.ts";
import { parseTrace } from "./trace.ts";

const fixture = new URL("../../test/fixtures/alias_two_contexts.json", import.meta.url);
const load = async () => JSON.parse(await Deno.readTextFile(fixture));

Deno.test("alias across two contexts, host migrates: full-walk leaves nothing, spends the full walk", async () => {
  const r = replay(parseTrace(await load()), makeStrategy("full-walk"));
  assertEquals(r.violations, 0);
  const migrate = r.events[4];
  assertEquals(migrate.op, "migrate");
  // Two valid shadow MMUs, each walked over 2^48 in 1G chunks.
  assertEquals(migrate.iterations, 2 * 2 ** 48 / 2 ** 30);
  assertEquals(migrate.removedNeeded, 2);
  assertEquals(migrate.removedCollateral, 0);
  assertEquals(r.events.slice(5).map((e) => e.result), ["mapped", "mapped"]);
});

Deno.test("trace errors name the field", async () => {
  const bad = (mutate: (t: Record<string, unknown>) => void, re: RegExp) => {
    return load().then((t) => {
      mutate(t);
      assertMatch(assertThrows(() => parseTrace(t), TraceError).message, re);
    });
  };
  await bad(
    (t) => ((t.config as Record<string, unknown>).hostGranule = "8K"),
    /^config.hostGranule: unknown granule "8K"/,
  );
  await bad(
    (t) => ((t.config as Record<string, unknown>).paBits = 60),
    /^config.paBits: 60 is out of range \(32..52\)/,
  );
  await bad(
    (t) => ((t.events as Record<string, unknown>[])[0].size = "64X"),
    /^events\[0\].size: malformed size "64X"/,
  );
  await bad(
    (t) => ((t.events as Record<string, unknown>[])[2].op = "jump"),
    /^events\[2\].op: unknown operation "jump"/,
  );
  await bad(
    (t) => ((t.events as Record<string, unknown>[])[2].vcpu = 9),
    /^events\[2\].vcpu: 9 is out of range \(0..1\)/,
  );
  await bad(
    (t) => delete (t.events as Record<string, unknown>[])[0].l1ipa,
    /^events\[0\].l1ipa: missing/,
  );
});

Deno.test("inconsistent events are reported with their index", async () => {
  const t = await load();
  t.events[0].ctx = 3;
  assertMatch(
    String(assertThrows(() => replay(parseTrace(t), makeStrategy("full-walk")))),
    /TraceError: events\[0\]: no L1 context 3$/,
  );
  const u = await load();
  u.events[0].l2ipa = "0x1000800";
  assertMatch(
    String(assertThrows(() => replay(parseTrace(u), makeStrategy("full-walk")))),
    /TraceError: events\[0\]: .*not aligned/,
  );
});

async function cli(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      new URL("../../experiments/replay.ts", import.meta.url).pathname,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("replay CLI: exit 0 and a per-event table; --json; exit 2 on bad input", async () => {
  const ok = await cli(fixture.pathname);
  assertEquals(ok.code, 0, ok.stderr);
  assertMatch(ok.stdout, /migrate\s+L1 0x40000000 \+0x1000\s+524,288/);
  assertMatch(ok.stdout, /0 violation\(s\)/);
  const js = await cli(fixture.pathname, "--json");
  assertEquals(JSON.parse(js.stdout).events[4].iterations, 524_288);
  const dir = await Deno.makeTempDir();
  const t = await load();
  t.events[1].size = "64X";
  await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify(t));
  const bad = await cli(`${dir}/bad.json`);
  assertEquals(bad.code, 2);
  assertEquals(bad.stderr.trim().split("\n").length, 1);
  assertMatch(bad.stderr, /events\[1\]\.size: malformed size "64X"/);
  const strat = await cli(fixture.pathname, "--strategy", "nope");
  assertEquals(strat.code, 2);
  assertMatch(strat.stderr, /unknown strategy "nope"/);
  await Deno.writeTextFile(`${dir}/notjson.json`, "{");
  assertEquals((await cli(`${dir}/notjson.json`)).code, 2);
});
