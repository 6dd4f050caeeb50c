import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import type { CheckResult } from "./check.ts";
import { checkCases } from "./cases.ts";
import { readReportFolder, ReportFolderError } from "./folder.ts";
import { verifyPlan } from "./plan.ts";
import { renderReport } from "./report.ts";

const PROVENANCE = "s2lab 0.1.0, commit 0123456789ab";

/** A report folder as `deno task verify` writes it: report.md (./report.ts) and the SVGs. */
async function folder(checks: CheckResult[], figures: { name: string; title: string }[]) {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-folder-" });
  for (const f of figures) {
    await Deno.writeTextFile(`${dir}/${f.name}.svg`, `<svg><title>${f.name}</title></svg>`);
  }
  await Deno.writeTextFile(
    `${dir}/report.md`,
    renderReport({
      design: "maple-v2",
      plan: verifyPlan("quick"),
      checks,
      cost: { grid: [], populated: [], costModel: "default" },
      figures,
      command: "deno task verify maple-v2 --quick",
      replayCommand: "deno task replay out/counterexample.json --strategy maple-v2",
      counterexampleFiles: ["counterexample.json: the trace"],
      provenance: PROVENANCE,
    }),
  );
  return dir;
}

const pass = (check: "cases" | "fuzz", summary: string): CheckResult => ({
  check,
  status: "pass",
  summary,
  counterexample: null,
  rows: [],
  elapsedMs: 1234,
});

Deno.test("readReportFolder: the verdict, one table row per check, the figures in order", async () => {
  const figures = [{ name: "unmap-cost", title: "worst unmap" }, { name: "refaults", title: "R" }];
  const dir = await folder([pass("cases", "14 cases"), pass("fuzz", "150 traces")], figures);
  try {
    const r = await readReportFolder(dir);
    assertEquals([r.design, r.correct, r.counterexample], ["maple-v2", true, null]);
    assert(r.verdict.startsWith("**Verdict: correct.**"), r.verdict);
    assertEquals(r.checks.split("\n").slice(2), [
      "| cases | pass | 14 cases |",
      "| fuzz | pass | 150 traces |",
    ]);
    assertEquals(r.figures.map((f) => [f.name, f.title]), figures.map((f) => [f.name, f.title]));
    assertEquals(r.figures[1].svg, "<svg><title>refaults</title></svg>");
    assertEquals(r.command, "deno task verify maple-v2 --quick");
    // Nothing of the checkout or the clock: the commit line is not shown.
    assert(!JSON.stringify(r).includes("0123456789ab"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readReportFolder: a counterexample's trace and stale entry, not the checks", async () => {
  // maple-v2 keeps one of two aliases of an L1 page in one shadow MMU.
  const failed = checkCases("maple-v2", { only: ["alias-within-mmu"] });
  const cx = failed.counterexample!;
  const dir = await folder([failed], []);
  try {
    const r = await readReportFolder(dir);
    assertEquals(r.correct, false);
    assert(r.verdict.startsWith("**Verdict: not correct.**"), r.verdict);
    const section = r.counterexample ?? "";
    assert(section.startsWith("**Counterexample.**"), section);
    for (const [i, e] of cx.trace.events.entries()) {
      assertStringIncludes(section, `| ${i} | \`${e.op}\``);
    }
    assertStringIncludes(section, "not-invalidated");
    assertStringIncludes(section, "Replay it: `deno task replay out/counterexample.json");
    assert(!section.includes("## Checks"), section);
    assertEquals(r.checks.split("\n").slice(2), [`| cases | fail | ${failed.summary} |`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readReportFolder: a file that is not a verify report is one error naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-folder-" });
  try {
    await Deno.writeTextFile(`${dir}/report.md`, "# notes\n\nnothing here\n");
    const e = await assertRejects(() => readReportFolder(dir), ReportFolderError);
    assertEquals(e.message, `${dir}/report.md: no verdict title on its first line`);
    await Deno.writeTextFile(
      `${dir}/report.md`,
      "# x: correct on every check\n\n**Verdict: correct.**\n\n## Checks\n\n## Reproduce\n",
    );
    const t = await assertRejects(() => readReportFolder(dir), ReportFolderError);
    assertEquals(t.message, `${dir}/report.md: no checks table`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
