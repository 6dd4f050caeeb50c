/**
 * `deno task plots [--csv FILE] [--out DIR] [--reproducer FILE]`: the notebooks' figures
 * as SVG files, for readers without Jupyter. Reads the sweep CSV through the same loader
 * as the notebooks (lib/plots/results.ts), replays the budget sweep and the published
 * reproducer, and writes `results/plots/*.svg` plus the computed tables as CSV.
 *
 * Exit status: 0 written, 2 bad input or missing results (one line on stderr).
 *
 * @module
 */

import { DEFAULT_PLOTS_DIR, writePlots } from "../lib/plots/mod.ts";
import { ResultsFormatError, ResultsMissingError } from "../lib/plots/results.ts";
import { fail, parseCli } from "./cli.ts";

const USAGE = `usage: deno task plots [--csv FILE] [--out DIR] [--reproducer FILE] [--quiet]
  --csv FILE          sweep CSV (default $S2LAB_SWEEP_CSV or results/sweep.csv)
  --out DIR           output directory (default results/plots)
  --reproducer FILE   trace for figure 04 (default experiments/scenarios/reproducer.json)
  --quiet             no progress lines`;

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    csv: { type: "string" },
    out: { type: "string", default: DEFAULT_PLOTS_DIR },
    reproducer: { type: "string" },
    quiet: { type: "boolean", default: false },
  });
  const quiet = args.values.quiet;
  try {
    await writePlots({
      csv: args.values.csv,
      out: args.values.out,
      reproducer: args.values.reproducer,
      log: quiet ? undefined : (line) => console.error(line),
    });
  } catch (e) {
    if (e instanceof ResultsMissingError || e instanceof ResultsFormatError) fail(e.message);
    throw e;
  }
}

await main();
