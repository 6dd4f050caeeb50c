import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { readReportFolder } from "./folder.ts";
import { runVerifyTask, VerifyTaskError } from "./task.ts";

const FIXTURES = "test/fixtures/designs";

async function inTempDir(f: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-task-" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("runVerifyTask: a correct design file gives status 0 and its report folder", async () => {
  await inTempDir(async (dir) => {
    const run = await runVerifyTask(`${FIXTURES}/canonical_filter.ts`, {
      out: `${dir}/r`,
      quick: true,
      only: ["cases"],
    });
    assertEquals([run.status, run.dir], [0, `${dir}/r`]);
    const r = await readReportFolder(run.dir);
    assertEquals([r.design, r.correct], ["canonical-filter", true]);
  });
});

Deno.test("runVerifyTask: exhaustDepth completes that depth in every world", async () => {
  await inTempDir(async (dir) => {
    const run = await runVerifyTask(`${FIXTURES}/canonical_filter.ts`, {
      out: `${dir}/r`,
      quick: true,
      exhaustDepth: 2,
      only: ["exhaust"],
    });
    assertMatch(run.command, / --quick --exhaust-depth 2 --only exhaust --out /);
    const row = (await readReportFolder(run.dir)).checks.split("\n")
      .find((l) => l.startsWith("| exhaust |"));
    const depths = [...(row ?? "").matchAll(/every sequence of up to (\d+) events/g)].map((m) =>
      m[1]
    );
    assertEquals(depths, ["2", "2"], row);
  });
});

Deno.test("runVerifyTask: a broken design gives status 1, a bad file verify's one line", async () => {
  await inTempDir(async (dir) => {
    const run = await runVerifyTask(`${FIXTURES}/one_alias.ts`, {
      out: `${dir}/r`,
      quick: true,
      only: ["cases"],
    });
    assertEquals(run.status, 1);
    assert((await readReportFolder(run.dir)).counterexample !== null);
    const e = await assertRejects(
      () => runVerifyTask(`${FIXTURES}/misspelled.ts`, { out: `${dir}/bad` }),
      VerifyTaskError,
    );
    assertMatch(e.message, /misspelled\.ts: design: unknown key "insertlock"/);
    assert(!e.message.includes("\n"), e.message);
  });
});
