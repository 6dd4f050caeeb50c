/**
 * `deno task timeline [trace.json] [--out PREFIX] [--strategy a,b]`: replay a trace (by
 * default the published reproducer, experiments/scenarios/reproducer.json) with every
 * strategy under the oracle, keeping per strategy its totals and every stale entry at
 * the event where it was first seen (lib/sweep/timeline.ts), and write
 * `PREFIX.strategies.csv`, `PREFIX.findings.csv` and `PREFIX.unmaps.csv` (default
 * `results/reproducer`), which notebook 04 and `deno task plots` read.
 *
 * Exit status: 0 written, 1 a write failed, 2 bad input or an unwritable `--out` (one
 * line on stderr, checked before any work; nothing written).
 *
 * @module
 */

import { DesignError, designNames, STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import { DESIGN_USAGE, designFlag } from "./designs.ts";
import { replayTimeline, timelineCsv } from "../lib/sweep/timeline.ts";
import { TraceError } from "../lib/trace/fields.ts";
import { parseTrace } from "../lib/trace/trace.ts";
import {
  checkOutputPrefix,
  fail,
  nameList,
  parseCli,
  parseJsonInput,
  readTextInput,
  writeOutput,
} from "./cli.ts";

const USAGE =
  `usage: deno task timeline [trace.json] [--out PREFIX] [--strategy a,b] [--design FILES]
  trace.json        the trace (default experiments/scenarios/reproducer.json)
  --out PREFIX      write PREFIX.strategies.csv, PREFIX.findings.csv, PREFIX.unmaps.csv
                    (default results/reproducer)
  --strategy LIST   strategies, comma-separated (default every built-in one,
                    ${STRATEGY_NAMES.join(", ")}, and every --design)
${DESIGN_USAGE}
exit status: 0 written, 1 a write failed, 2 bad input or an unwritable --out (one line;
nothing written)`;

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    out: { type: "string", default: "results/reproducer" },
    strategy: { type: "string" },
    design: { type: "string" },
  }, true);
  if (args.positionals.length > 1) fail("expected at most one trace file (see --help)");
  const path = args.positionals[0] ?? "experiments/scenarios/reproducer.json";
  const designs = await designFlag(args.values.design);
  const strategies = args.values.strategy === undefined
    ? [...STRATEGY_NAMES, ...designs.names]
    : nameList("--strategy", args.values.strategy, designNames(), "strategy");
  const suffixes = ["strategies.csv", "findings.csv", "unmaps.csv"];
  checkOutputPrefix("--out", args.values.out, suffixes, "reproducer", { replace: true });
  const text = await readTextInput(path, "JSON trace");
  const json = parseJsonInput(path, text);
  let files: Record<string, string>;
  const t0 = performance.now();
  try {
    files = timelineCsv(replayTimeline(parseTrace(json), strategies));
  } catch (e) {
    if (e instanceof DesignError) fail(e.message);
    if (e instanceof TraceError || e instanceof RangeError) fail(`${path}: ${e.message}`);
    throw e;
  }
  for (const [suffix, text] of Object.entries(files)) {
    await writeOutput("--out", `${args.values.out}.${suffix}`, text);
  }
  console.error(
    `wrote ${args.values.out}.{${Object.keys(files).map((f) => f.split(".")[0]).join(",")}}.csv ` +
      `(${strategies.length} replays of ${path} in ${Math.round(performance.now() - t0)} ms)`,
  );
}

await main();
