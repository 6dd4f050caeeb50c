/**
 * `deno task plots [--csv FILE] [--budget FILE] [--timeline PREFIX] [--out DIR]`: the
 * notebooks' figures as SVG files, for readers without Jupyter. Reads the result CSVs
 * through the same loaders as the notebooks (lib/plots/results.ts): the sweep
 * (`deno task sweep`), the budget sweep (`deno task budget`) and the reproducer's timeline
 * (`deno task timeline`), and writes `results/plots/*.svg`.
 *
 * Exit status: 0 written, 1 a write failed, 2 bad input, missing results or an `--out`
 * that cannot be written (one line on stderr, checked before any figure is made).
 *
 * @module
 */

import { DEFAULT_PLOTS_DIR, writePlots } from "../lib/plots/mod.ts";
import { COMMITTED_BUDGET_CSV } from "../lib/plots/memory.ts";
import { REPRODUCER_TIMELINE } from "../lib/plots/reproducer.ts";
import { defaultSweepPath, ResultsFormatError, ResultsMissingError } from "../lib/plots/results.ts";
import { checkOutputDir, describeFsError, fail, parseCli, readTextInput } from "./cli.ts";

const USAGE =
  `usage: deno task plots [--csv FILE] [--budget FILE] [--timeline PREFIX] [--out DIR] [--quiet]
  --csv FILE          sweep CSV (default $S2LAB_SWEEP_CSV or results/sweep.csv)
  --budget FILE       budget sweep CSV (default results/budget.csv)
  --timeline PREFIX   timeline CSVs PREFIX.{strategies,findings,unmaps}.csv (default results/reproducer)
  --out DIR           output directory (default results/plots)
  --quiet             no progress lines
exit status: 0 written, 1 a write failed, 2 bad input, missing results or an --out
that cannot be written (one line; checked before any figure is made)`;

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    csv: { type: "string" },
    budget: { type: "string" },
    timeline: { type: "string" },
    out: { type: "string", default: DEFAULT_PLOTS_DIR },
    quiet: { type: "boolean", default: false },
  });
  const v = args.values;
  checkOutputDir("--out", v.out);
  // Inputs that are binary or not UTF-8 are named as such (missing ones by the loader).
  const timeline = v.timeline ?? REPRODUCER_TIMELINE;
  const inputs = [
    v.csv ?? defaultSweepPath(),
    v.budget ?? COMMITTED_BUDGET_CSV,
    ...["strategies", "findings", "unmaps"].map((s) => `${timeline}.${s}.csv`),
  ];
  for (const p of inputs) {
    let isFile = false;
    try {
      isFile = Deno.statSync(p).isFile;
    } catch { /* the loader says what is missing */ }
    if (isFile) await readTextInput(p, "CSV file");
  }
  try {
    await writePlots({
      csv: args.values.csv,
      budget: args.values.budget,
      timeline: args.values.timeline,
      out: args.values.out,
      log: args.values.quiet ? undefined : (line) => console.error(line),
    });
  } catch (e) {
    if (e instanceof ResultsMissingError || e instanceof ResultsFormatError) fail(e.message);
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) {
      fail(`--out: cannot write in ${v.out}: ${describeFsError(e)}`, 1);
    }
    if (e instanceof Error && /\(os error \d+\)/.test(e.message)) {
      fail(`--out: cannot write in ${v.out}: ${describeFsError(e)}`, 1);
    }
    throw e;
  }
}

await main();
