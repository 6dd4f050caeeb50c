/**
 * The generated program's page-locating code, run here (test/selftest_harness.ts compiles
 * the program's own text with the host cc): a memfd mapped twice as the program maps it
 * (`canon`, and a slot's mapping through which L2's accesses fault the pages in), each
 * stage's pages touched through the slot's mapping only (the last page of each range not
 * at all), write_stage_gpas() run for every stage. Each stage's `stage-N.gpa` must name
 * exactly the pages of its ranges, where the slot's mapping sees them; a stage without
 * ranges must stop the program.
 *
 * Skipped without a cc on PATH, and when pagemap shows no PFNs (not CAP_SYS_ADMIN).
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { exportSelftest } from "../lib/selftest/mod.ts";
import { LOCATE_C, MEMFD_C } from "../lib/selftest/emit_c.ts";
import { parseTrace } from "../lib/trace/trace.ts";
import { buildHarness, has, run, stageTables } from "./selftest_harness.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const FIXTURES = `${ROOT}test/fixtures/selftest`;
const CC = has("cc");

/** Scenarios whose stages the harness locates: trace -> program name. */
const CASES: [string, string][] = [
  [`${ROOT}experiments/scenarios/alias-within-mmu.json`, "alias_within_mmu_test"],
  [`${FIXTURES}/reproducer-min.json`, "reproducer_test"],
  [`${ROOT}experiments/scenarios/alias-block-and-page.json`, "alias_block_and_page_test"],
];

/** The pages a stage-N.gpa file names, as "gpa" hex strings (each L1 page once). */
function pagesOf(text: string, page: number): string[] {
  const out: string[] = [];
  for (const line of text.trim().split("\n")) {
    const m = /^(0x[0-9a-f]+) (0x[0-9a-f]+)$/.exec(line);
    assert(m, `a stage file line is "gpa len": ${line}`);
    const [gpa, len] = [Number(m[1]), Number(m[2])];
    assertEquals(len % page, 0, `${line}: whole pages`);
    for (let a = gpa; a < gpa + len; a += page) out.push("0x" + a.toString(16));
  }
  return out;
}

for (const [path, name] of CASES) {
  Deno.test({
    name: `the program locates exactly each stage's pages: ${name}${
      CC ? "" : " (skipped: no cc on PATH)"
    }`,
    ignore: !CC,
    fn: async () => {
      const source = Deno.readTextFileSync(path);
      const out = await exportSelftest(parseTrace(JSON.parse(source)), {
        source,
        traceFile: path.split("/").at(-1)!,
        name,
      });
      // The harness compiles the program's own text.
      assertStringIncludes(out.c, MEMFD_C);
      assertStringIncludes(out.c, LOCATE_C);
      const hosts = out.expectation.plan.actions.flatMap((a) => a.kind === "host" ? [a] : []);
      assertEquals(stageTables(out.c).stages, hosts.map((a) => a.stage), "one table per stage");
      const page = out.expectation.plan.page;

      const dir = await Deno.makeTempDir({ prefix: "s2lab-stage-" });
      try {
        const h = await buildHarness(out, dir);
        const r = await run(h, [dir, "locate"]);
        if (r.code === 77) {
          console.log(`  skipped: /proc/self/pagemap shows no PFNs here (needs CAP_SYS_ADMIN)`);
          return;
        }
        assertEquals(r.code, 0, `the program's page-locating code failed:\n${r.stderr}`);
        const truth = new Map<number, string[]>();
        for (const line of r.stdout.trim().split("\n")) {
          const [k, , gpa] = line.split(" ");
          assert(gpa !== "0", `every page has a frame: ${line}`);
          truth.set(Number(k), [...(truth.get(Number(k)) ?? []), gpa]);
        }
        for (const a of hosts) {
          const expected = [...new Set(truth.get(a.stage))].sort();
          const named = pagesOf(Deno.readTextFileSync(`${dir}/stage-${a.stage}.gpa`), page);
          assertEquals(named.length, new Set(named).size, `stage ${a.stage}: each page once`);
          assertEquals(named.sort(), expected, `stage ${a.stage} names exactly its pages`);
          const want = a.ranges.reduce((n, [, len]) => n + Math.ceil(len / page), 0);
          assertEquals(named.length, want, `stage ${a.stage}: as many pages as its ranges`);
          console.log(`  stage ${a.stage} (${a.op}): ${named.length} L1 page(s), as traced`);
        }
        // A stage with no range stops the program instead of writing nothing.
        const empty = await run(h, [dir, "empty"]);
        assertEquals(empty.code, 1, empty.stderr);
        assertMatch(empty.stderr, /stage 99 names no memfd range/);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
