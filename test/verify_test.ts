/**
 * `deno task verify` end to end on design files: a correct one (exit 0, its report), a
 * deliberately broken one (exit 1, a minimized counterexample that replays, a selftest), and
 * design files that do not hold together (one line, exit 2, nothing written).
 */

import { assert, assertEquals, assertMatch } from "@std/assert";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);
const FIXTURES = "test/fixtures/designs";

async function run(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-run=git", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const exists = (p: string) => {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
};

Deno.test("verify: a correct design file passes its checks and says what was checked", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-verify-" });
  try {
    const r = await run([
      "experiments/verify.ts",
      `${FIXTURES}/canonical_filter.ts`,
      ...["--quick", "--only", "cases,fuzz", "--out", `${dir}/r`, "--quiet"],
    ]);
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stdout, /^canonical-filter: correct on every check/);
    const report = await Deno.readTextFile(`${dir}/r/report.md`);
    assert(report.startsWith("# canonical-filter: correct on every check\n"), report);
    assertMatch(report, /not run: exhaust, cost/);
    assertMatch(
      report,
      /\| cases \| pass \| 14 cases: every expectation of a correct design holds \|/,
    );
    assert(!exists(`${dir}/r/counterexample.json`));
    assert(exists(`${dir}/r/cases.csv`) && exists(`${dir}/r/fuzz.csv`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verify: a broken design file gives exit 1, a minimized counterexample and its selftest", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-verify-" });
  try {
    const design = `${FIXTURES}/one_alias.ts`;
    const r = await run([
      "experiments/verify.ts",
      design,
      ...["--quick", "--only", "cases,exhaust", "--out", `${dir}/r`, "--quiet"],
    ]);
    assertEquals(r.code, 1, r.stderr);
    assertMatch(r.stdout, /^one-alias: COUNTEREXAMPLE/);
    const report = await Deno.readTextFile(`${dir}/r/report.md`);
    assert(report.startsWith("# one-alias: counterexample found\n"), report);
    // The shortest counterexample: one L1 page mapped at two L2 IPAs of one context, both
    // faulted by one touch, the page migrated: the design kept the last shadow leaf only.
    const cx = JSON.parse(await Deno.readTextFile(`${dir}/r/counterexample.json`));
    assertEquals(cx.events.map((e: { op: string }) => e.op), [
      "l1-map",
      "l1-map",
      "touch",
      "migrate",
    ]);
    // A selftest cannot run L2 with L1's stage 2 off: it is made from the shortest one it
    // can express, the cases check's (two aliases in one L2, minimized).
    const st = JSON.parse(await Deno.readTextFile(`${dir}/r/selftest_counterexample.json`));
    assertEquals(st.events.length, 5);
    for (const f of ["c", "host.sh", "sh", "patch"]) {
      assert(exists(`${dir}/r/counterexample_test.${f}`), f);
    }
    assertMatch(report, /selftest_counterexample\.json: the 5-event counterexample of the cases/);
    // It replays: the design leaves the stale entry, upstream's walk does not.
    const mine = await run([
      "experiments/replay.ts",
      `${dir}/r/counterexample.json`,
      ...["--design", design],
    ]);
    assertEquals(mine.code, 1, mine.stderr);
    const up = await run(["experiments/replay.ts", `${dir}/r/counterexample.json`]);
    assertEquals(up.code, 0, up.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verify: a design that does not hold together is one line, exit 2, nothing written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-verify-" });
  try {
    await Deno.writeTextFile(`${dir}/syntax.ts`, 'export default { name: "x", ;\n');
    const cases: [string[], RegExp][] = [
      [
        [`${FIXTURES}/misspelled.ts`],
        /misspelled\.ts: design: unknown key "insertlock" \(did you mean "insertLock"\?\)/,
      ],
      [[`${FIXTURES}/no_source.ts`], /no_source\.ts: design\.source: missing/],
      [[`${dir}/syntax.ts`], /syntax\.ts: does not load: /],
      [[`${dir}/absent.ts`], /absent\.ts: no such file/],
      [[`${FIXTURES}/throws.ts`], /throws\.ts: shadowMapped\(\) threw: TypeError/],
      [["rmapp"], /unknown strategy "rmapp" \(did you mean "rmap"\?/],
      [
        ["rmap", "--only", "cases,fuzzz"],
        /--only: unknown check "fuzzz" \(did you mean "fuzz"\?\)/,
      ],
      [[], /expected one DESIGN/],
    ];
    for (const [args, line] of cases) {
      const r = await run([
        "experiments/verify.ts",
        ...args,
        ...(args.includes("--only") ? [] : ["--only", "cases"]),
        ...["--quick", "--out", `${dir}/out`, "--quiet"],
      ]);
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assertEquals(lines.length, 1, r.stderr);
      assertMatch(lines[0], line);
      assert(!exists(`${dir}/out`), `${args.join(" ")} wrote ${dir}/out`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
