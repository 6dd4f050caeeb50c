/**
 * `deno task verify DESIGN [--quick] [--out DIR] [--cost-model FILE] [--quiet]`: is a
 * shadow-unmap design correct, and what does it cost? DESIGN is a built-in design's name or
 * a design file (a module exporting a design record: docs/designs.md). It runs, in order,
 * (a) the case library, (b) the exhaustive small-scope search, (c) a seeded fuzz campaign,
 * (d) a cost sweep beside the reference designs (under `--cost-model`'s model, a file of
 * `deno task calibrate`, or the default), and writes a report folder:
 *
 * - `report.md`: the verdict first (correct on every check, or the first counterexample
 *   with its minimized trace), the checks, the figures with a sentence each, the design;
 * - `counterexample.json` (the trace, `deno task replay` reads it) and
 *   `counterexample_test.c` + `counterexample_test.host.sh` (the selftest), when found;
 * - `unmap-cost.svg`, `index-memory.svg`, `refaults.svg`, `insert-lock.svg`;
 * - `cases.csv`, `exhaust.csv`, `fuzz.csv`, `cost.csv` (the rows behind every figure,
 *   sweep.csv's columns), `timing.csv` (wall time per check).
 *
 * The folder is written whole or not at all: it is built beside `--out` and renamed into
 * place at the end. Exit status: 0 every check holds, 1 a counterexample, 2 bad input.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import { exportSelftest } from "../lib/selftest/mod.ts";
import { codeCommit } from "../lib/sweep/commit.ts";
import { DesignError } from "../lib/strategies/design.ts";
import { loadDesignFile } from "../lib/strategies/load.ts";
import { designNamed, designNames } from "../lib/strategies/registry.ts";
import { traceToJson } from "../lib/trace/trace.ts";
import { rowsCsv } from "../lib/verify/check.ts";
import { verifyFigures } from "../lib/verify/figures.ts";
import {
  VERIFY_CHECKS,
  type VerifyCheck,
  type VerifyMode,
  verifyPlan,
} from "../lib/verify/plan.ts";
import { renderReport, verdictOf } from "../lib/verify/report.ts";
import { runVerify } from "../lib/verify/run.ts";
import { checkOutputDir, describeFsError, fail, nameList, parseCli } from "./cli.ts";
import { costModelFlag } from "./cost_model_flag.ts";
import { startProgress } from "./progress.ts";

const USAGE = `usage: deno task verify DESIGN [--quick] [--exhaust-depth N] [--out DIR]
                        [--only LIST] [--cost-model FILE] [--quiet]
  DESIGN       a built-in design (${designNames().join(", ")})
               or a design file (a .ts module exporting a design record: docs/designs.md)
  --quick      a verdict in about a minute: fewer states, traces and grid points
  --exhaust-depth N
               the exhaustive search completes depth N in every world, however long
               that takes, instead of the mode's time budget: the same states on any
               machine (the notebook 06-try-a-design uses it)
  --out DIR    the report folder (default results/verify/NAME; replaced whole)
  --only LIST  run only these checks (of ${VERIFY_CHECKS.join(", ")}); the others are
               reported as not run
  --cost-model FILE
               the cost check's cost model: a file of deno task calibrate --out (default:
               lib/sweep/costmodel.ts's); report.md and the time figure name it
  --quiet      no progress on stderr
Runs (a) the case library, (b) the exhaustive small-scope search, (c) a fuzz campaign,
(d) a cost sweep beside ${verifyPlan("full").references.join(", ")}, and writes
DIR/report.md with the verdict first, the figures as SVG and the CSV behind them.
Exit status: 0 correct on every check, 1 a counterexample, 2 bad input.`;

/** Does the argument name a file rather than a built-in design? */
const isFile = (s: string) => s.includes("/") || /\.(m?ts|m?js)$/.test(s);

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    quick: { type: "boolean" },
    "exhaust-depth": { type: "string" },
    out: { type: "string" },
    only: { type: "string" },
    "cost-model": { type: "string" },
    quiet: { type: "boolean" },
  }, true);
  if (args.positionals.length !== 1) {
    fail(`expected one DESIGN (a built-in name or a design file), got ${args.positionals.length}`);
  }
  const given = args.positionals[0];
  let name: string;
  try {
    name = isFile(given)
      ? (await loadDesignFile(given)).name
      : designNamed(given, "or a design file: a path ending in .ts").name;
  } catch (e) {
    if (e instanceof RangeError) fail(`DESIGN: ${e.message}`);
    if (e instanceof DesignError) fail(e.message);
    throw e;
  }
  const mode: VerifyMode = args.values.quick ? "quick" : "full";
  const out = (args.values.out ?? `results/verify/${name}`).replace(/\/+$/, "");
  checkOutputDir("--out", dirname(out));
  try {
    if (!Deno.statSync(out).isDirectory) fail(`--out: ${out} exists and is not a directory`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) fail(`--out: ${out}: ${describeFsError(e)}`);
  }
  const checks = args.values.only === undefined
    ? [...VERIFY_CHECKS]
    : nameList("--only", args.values.only, VERIFY_CHECKS, "check") as VerifyCheck[];
  const modelFile = args.values["cost-model"];
  const cost = await costModelFlag(modelFile);
  const depth = args.values["exhaust-depth"];
  if (depth !== undefined && !/^[1-9]\d?$/.test(depth.trim())) {
    fail(`--exhaust-depth: "${depth}" is not a whole number from 1 to 99`);
  }
  const plan = depth === undefined
    ? verifyPlan(mode)
    : { ...verifyPlan(mode), exhaustDepth: Number(depth), exhaustSeconds: Infinity };
  const command = `deno task verify ${given}${args.values.quick ? " --quick" : ""}` +
    (depth === undefined ? "" : ` --exhaust-depth ${Number(depth)}`) +
    (args.values.only === undefined ? "" : ` --only ${checks.join(",")}`) +
    (modelFile === undefined ? "" : ` --cost-model ${modelFile}`);

  // Progress in expected seconds: each check weighs what it takes on two idle cores.
  const weight = (c: VerifyCheck) => checks.includes(c) ? plan.expectedSeconds[c] : 0;
  const before = (c: VerifyCheck) =>
    VERIFY_CHECKS.slice(0, VERIFY_CHECKS.indexOf(c)).reduce((a, x) => a + weight(x), 0);
  const total = VERIFY_CHECKS.reduce((a, c) => a + weight(c), 0);
  const progress = startProgress({
    label: `verify ${name}`,
    total,
    unit: "%",
    quiet: args.values.quiet,
  });
  let result;
  try {
    result = await runVerify(name, plan, {
      checks,
      cost,
      onCheck: (c) => progress.update(before(c), c),
      // No finite total: a search bounded by depth alone (--exhaust-depth), no fraction.
      onProgress: (c, done, total) =>
        Number.isFinite(total)
          ? progress.update(
            before(c) + (total > 0 ? weight(c) * Math.min(1, done / total) : 0),
            `${c} ${Math.round(done)}/${Math.round(total)}`,
          )
          : progress.update(before(c), c),
    });
  } catch (e) {
    await progress.stop();
    if (e instanceof DesignError) fail(e.message);
    throw e;
  }
  progress.update(total, "report");
  await progress.stop();

  // Build the folder beside its destination, then rename it into place.
  const tmp = `${dirname(out)}/.${basename(out)}.partial-${Deno.pid}`;
  try {
    await Deno.mkdir(tmp, { recursive: true });
    const verdict = verdictOf(result.checks);
    const cxFiles: string[] = [];
    const cx = verdict.counterexample;
    if (cx) {
      await Deno.writeTextFile(`${tmp}/counterexample.json`, traceToJson(cx.trace));
      cxFiles.push("counterexample.json: the trace (deno task replay reads it)");
      // The selftest: from the shortest counterexample a selftest can express (an event
      // L1 userspace or an L0 shell cannot produce rules a trace out: docs/hardware.md).
      const candidates = result.checks.map((c) => c.counterexample).filter((c) => c !== null)
        .sort((a, b) => a.trace.events.length - b.trace.events.length);
      const refused: string[] = [];
      for (const c of candidates) {
        const file = c === cx ? "counterexample.json" : "selftest_counterexample.json";
        const json = traceToJson(c.trace);
        try {
          const st = await exportSelftest(c.trace, {
            source: json,
            traceFile: file,
            name: "counterexample_test",
            strategy: name,
          });
          if (c !== cx) {
            await Deno.writeTextFile(`${tmp}/${file}`, json);
            cxFiles.push(
              `${file}: the ${c.trace.events.length}-event counterexample of the ${c.check} ` +
                `check (${c.source}), which the selftest is made from`,
            );
          }
          await Deno.writeTextFile(`${tmp}/counterexample_test.c`, st.c);
          await Deno.writeTextFile(`${tmp}/counterexample_test.host.sh`, st.host);
          await Deno.writeTextFile(`${tmp}/counterexample_test.sh`, st.wrapper);
          await Deno.writeTextFile(`${tmp}/counterexample_test.patch`, st.patch);
          cxFiles.push(
            "counterexample_test.c, counterexample_test.sh, counterexample_test.host.sh: the " +
              "selftest (the program in L1, its wrapper, the host's side; docs/hardware.md)",
            "counterexample_test.patch: the same for tools/testing/selftests/kvm (git am)",
          );
          break;
        } catch (e) {
          refused.push(`${c.source}: ${(e as Error).message.split("\n")[0]}`);
        }
      }
      if (refused.length === candidates.length) {
        cxFiles.push(`no selftest: no counterexample can be one (${refused.join("; ")})`);
      } else if (refused.length > 0) {
        cxFiles.push(`(shorter counterexamples a selftest cannot express: ${refused.join("; ")})`);
      }
    }
    const figures = result.cost ? verifyFigures(name, result.cost) : [];
    for (const f of figures) await Deno.writeTextFile(`${tmp}/${f.name}.svg`, f.svg);
    for (const c of result.checks) {
      if (c.status !== "skipped") {
        await Deno.writeTextFile(`${tmp}/${c.check}.csv`, rowsCsv(c.rows));
      }
    }
    await Deno.writeTextFile(
      `${tmp}/timing.csv`,
      rowsCsv(
        result.checks.filter((c) => c.status !== "skipped")
          .map((c) => ({ check: c.check, wall_s: Math.round(c.elapsedMs) / 1000 })),
      ),
    );
    const replayCmd = `deno task replay ${out}/counterexample.json --strategy ${name}` +
      (isFile(given) ? ` --design ${given}` : "");
    await Deno.writeTextFile(
      `${tmp}/report.md`,
      renderReport({
        design: name,
        plan,
        checks: result.checks,
        cost: result.cost,
        figures: figures.map((f) => ({ name: f.name, title: f.title })),
        command,
        replayCommand: replayCmd,
        counterexampleFiles: cxFiles,
        provenance: await provenance(),
      }),
    );
    await Deno.remove(out, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, out);
    console.log(
      `${name}: ${verdict.correct ? "correct on every check" : "COUNTEREXAMPLE"} ` +
        `(${
          VERIFY_CHECKS.map((c) => `${c} ${result.checks.find((x) => x.check === c)?.status}`).join(
            ", ",
          )
        }); ` +
        `report: ${out}/report.md`,
    );
    Deno.exit(verdict.correct ? 0 : 1);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    fail(`--out: cannot write ${out}: ${describeFsError(e)}`, 1);
  }
}

/** s2lab's version and the commit of the code that ran (lib/sweep/commit.ts). */
async function provenance(): Promise<string> {
  const cfg = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  return `s2lab ${cfg.version}, commit ${codeCommit()}`;
}

if (import.meta.main) await main();
