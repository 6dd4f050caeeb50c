/**
 * `deno task calibrate <recording> --trace <trace.json> [--out FILE] [--strategy NAME]`:
 * turn a recording of `kvm_nested_s2_unmap()` on a nested host (the generated host
 * script's `S2LAB_RECORD=FILE`, function_graph or bpftrace; lib/calibrate/recording.ts)
 * into a cost model file (lib/calibrate/model_file.ts): each recorded call is matched to
 * its stage's host event and the model's iterations and descriptors for it
 * (lib/calibrate/fit.ts), and the file holds ns per iteration and per descriptor with their
 * spread, the number of samples and the machine.
 *
 * Exit status 0 when the file is written (notes on stderr: calls that are not samples);
 * 2 for bad input, with one line on stderr naming the file (and the line of the
 * recording) and nothing written: an unreadable or malformed recording, a trace that is
 * not the one recorded (its SHA-256 differs), a stage the program does not have, a
 * recording without a single sample, an unknown strategy, an output path that cannot be
 * written (checked before any work).
 *
 * @module
 */

import {
  DEFAULT_RECORDED_STRATEGY,
  describeCostModel,
  fitCostModel,
  parseRecording,
  RecordingError,
  STAGE_FIELDS,
  stageModels,
} from "../lib/calibrate/mod.ts";
import { sha256Hex } from "../lib/selftest/mod.ts";
import { STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import { parseTrace, type Trace } from "../lib/trace/trace.ts";
import { TraceError } from "../lib/trace/fields.ts";
import {
  checkOutputFile,
  fail,
  fmtCount,
  parseCli,
  readTextInput,
  textTable,
  writeOutput,
} from "./cli.ts";

const USAGE =
  `usage: deno task calibrate <recording> --trace TRACE.json [--out FILE] [--strategy NAME]
  <recording>       what NAME.host.sh recorded with S2LAB_RECORD=FILE (function_graph
                    or bpftrace)
  --trace FILE      the trace the program was generated from (the recording names it
                    and its sha256)
  --out FILE        the cost model (default results/costmodel/<recording name>.json)
  --strategy NAME   the design the recorded kernel runs (default ${DEFAULT_RECORDED_STRATEGY}:
                    upstream kvm_nested_s2_unmap()); one of
                    ${STRATEGY_NAMES.join(", ")}
exit status: 0 written, 2 bad input (one line naming the file; nothing written)`;

const basename = (p: string) => p.split("/").at(-1)!;

async function main(): Promise<void> {
  const { values: args, positionals } = parseCli(USAGE, {
    trace: { type: "string" },
    out: { type: "string" },
    strategy: { type: "string", default: DEFAULT_RECORDED_STRATEGY },
  }, true);
  if (positionals.length !== 1) fail("expected one recording (see --help)");
  const path = positionals[0];
  if (!STRATEGY_NAMES.includes(args.strategy)) {
    fail(
      `--strategy: unknown strategy "${args.strategy}" (expected one of ${
        STRATEGY_NAMES.join(", ")
      })`,
    );
  }
  const out = args.out ??
    `results/costmodel/${
      basename(path).replace(/\.[^.]*$/, "").replace(/[^A-Za-z0-9_.-]+/g, "_")
    }.json`;
  checkOutputFile("--out", out, { replace: true });
  const text = await readTextInput(path, "recording");
  let rec;
  try {
    rec = parseRecording(text, path);
  } catch (e) {
    if (e instanceof RecordingError) fail(e.message);
    throw e;
  }
  const traceLine = `${path}:${rec.headerLine.trace}`;
  if (args.trace === undefined) {
    fail(
      `--trace: give the trace the program was generated from (${traceLine} names ${rec.trace})`,
    );
  }
  const source = await readTextInput(args.trace, "JSON trace");
  const sha = await sha256Hex(source);
  if (sha !== rec.traceSha256) {
    fail(
      `${traceLine}: recorded with ${rec.trace} sha256 ${rec.traceSha256.slice(0, 12)}..., ` +
        `but ${args.trace} has sha256 ${sha.slice(0, 12)}...`,
    );
  }
  let trace: Trace;
  try {
    trace = parseTrace(JSON.parse(source));
  } catch (e) {
    if (e instanceof SyntaxError) fail(`${args.trace}: not JSON: ${e.message}`);
    if (e instanceof TraceError) fail(`${args.trace}: ${e.message}`);
    throw e;
  }
  if (!STRATEGY_NAMES.includes(rec.shows)) {
    fail(`${traceLine}: unknown strategy "${rec.shows}" after "shows"`);
  }
  let fit;
  try {
    const models = stageModels(trace, rec.shows, args.strategy);
    fit = fitCostModel(rec, models, {
      recordingSha256: await sha256Hex(text),
      strategy: args.strategy,
    });
  } catch (e) {
    if (e instanceof RecordingError) fail(e.message);
    throw e;
  }
  const f = fit.file;
  await writeOutput("--out", out, JSON.stringify(f, null, 2) + "\n");
  for (const n of fit.notes) console.error(`note: ${n}`);
  // Every field of a stage but its timing, which the last two columns spread out.
  const columns = STAGE_FIELDS.filter((c): c is Exclude<typeof c, "ns"> => c !== "ns");
  console.error(textTable([
    [...columns, "ns mean", "ns sd"],
    ...f.stages.map((s) => [
      ...columns.map((
        c,
      ) => (c === "stage" ? String(s.stage) : c === "event" ? `#${s.event}` : s[c])),
      fmtCount(Math.round(s.ns.mean)),
      fmtCount(Math.round(s.ns.sd)),
    ]),
  ]));
  console.error(`wrote ${out}: ${describeCostModel(f)}`);
}

await main();
