/**
 * `deno task plots [--csv FILE] [--budget FILE] [--timeline PREFIX] [--out DIR]`: the
 * notebooks' figures as SVG files, for readers without Jupyter. Reads the result CSVs
 * through the same loaders as the notebooks (lib/plots/results.ts): the sweep
 * (`deno task sweep`), the budget sweep (`deno task budget`) and the reproducer's timeline
 * (`deno task timeline`), and writes `results/plots/*.svg`.
 *
 * Exit status: 0 written, 2 bad input or missing results (one line on stderr).
 *
 * @module
 */

import { DEFAULT_PLOTS_DIR, writePlots } from "../lib/plots/mod.ts";
import { ResultsFormatError, ResultsMissingError } from "../lib/plots/results.ts";
import { fail, parseCli } from "./cli.ts";

const USAGE =
  `usage: deno task plots [--csv FILE] [--budget FILE] [--timeline PREFIX] [--out DIR] [--quiet]
  --csv FILE          sweep CSV (default $S2LAB_SWEEP_CSV or results/sweep.csv)
  --budget FILE       budget sweep CSV (default results/budget.csv)
  --timeline PREFIX   timeline CSVs PREFIX.{strategies,findings,unmaps}.csv (default results/reproducer)
  --out DIR           output directory (default results/plots)
  --quiet             no progress lines
exit status: 0 written, 2 bad input or missing results`;

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    csv: { type: "string" },
    budget: { type: "string" },
    timeline: { type: "string" },
    out: { type: "string", default: DEFAULT_PLOTS_DIR },
    quiet: { type: "boolean", default: false },
  });
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
    throw e;
  }
}

await main();
