/**
 * `deno task replay <trace.json> [--strategy NAME] [--json]`: replay a trace under the
 * oracle and print, per event, the work the strategy spent and any stale shadow entry.
 * Exit status: 0 when the oracle found nothing, 1 when it found violations, 2 for bad
 * input (one line naming the field).
 *
 * @module
 */

import {
  DesignError,
  designNames,
  makeStrategy,
  STRATEGY_NAMES,
  UPSTREAM,
} from "../lib/strategies/mod.ts";
import { DESIGN_USAGE, designFlag } from "./designs.ts";
import { TraceError, UnknownKeyError } from "../lib/trace/fields.ts";
import { minimizeTrace } from "../lib/trace/minimize.ts";
import { replay } from "../lib/trace/replay.ts";
import { parseTrace, type Trace, traceToJson } from "../lib/trace/trace.ts";
import {
  checkOutputFile,
  EXIT_BAD_INPUT,
  fail,
  nameList,
  parseCli,
  parseJsonInput,
  readTextInput,
  textTable,
  writeOutput,
} from "./cli.ts";

const USAGE =
  `usage: deno task replay <trace.json> [--strategy NAME] [--design FILE] [--json] [--minimize OUT.json]
  --strategy NAME   one of: ${STRATEGY_NAMES.join(", ")}, or a --design's
                    (default ${UPSTREAM}; with one --design, that design)
${DESIGN_USAGE}
  --json            print one JSON report on stdout instead of the table
  --minimize OUT    when the strategy leaves a violation, shrink the trace to a smallest
                    one that still does (ddmin over the events) and write it to OUT
exit status: 0 no violation, 1 violations found, 2 bad input (one line naming the field)
             or an OUT that cannot be written (checked before replaying)`;

const hex = (n: number | null) => (n === null ? "-" : "0x" + n.toString(16));

/** The event an `events[i]` error names, as the trace file wrote it (its numbers as typed). */
function asWritten(json: unknown, message: string): string {
  const m = /^events\[(\d+)\]/.exec(message);
  const events = (json as { events?: unknown[] } | null)?.events;
  if (!m || !Array.isArray(events) || events[Number(m[1])] === undefined) return "";
  return ` (as written: ${JSON.stringify(events[Number(m[1])])})`;
}

/** Whether `a` and `b` name the same existing file. */
function sameFile(a: string, b: string): boolean {
  try {
    return Deno.realPathSync(a) === Deno.realPathSync(b);
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    strategy: { type: "string" },
    design: { type: "string" },
    json: { type: "boolean", default: false },
    minimize: { type: "string" },
  }, true);
  if (args.positionals.length !== 1) fail("expected one trace file (see --help)");
  const path = args.positionals[0];
  const designs = await designFlag(args.values.design);
  const asked = args.values.strategy ??
    (designs.names.length === 1 ? designs.names[0] : UPSTREAM);
  if (asked.includes(",")) fail("--strategy: one strategy (see --help)");
  const [strategy] = nameList("--strategy", asked, designNames(), "strategy");
  const text = await readTextInput(path, "JSON trace");
  const out = args.values.minimize;
  if (out !== undefined) {
    if (sameFile(out, path)) fail(`--minimize: ${out} is the trace itself; give another file`);
    checkOutputFile("--minimize", out, { replace: true });
  }
  const json = parseJsonInput(path, text);
  let report;
  let trace: Trace;
  try {
    trace = parseTrace(json);
    report = replay(trace, makeStrategy(strategy));
  } catch (e) {
    if (e instanceof DesignError) fail(e.message);
    if (e instanceof UnknownKeyError) fail(`${path}: ${e.message}`);
    if (e instanceof TraceError || e instanceof RangeError) {
      fail(`${path}: ${e.message}${asWritten(json, e.message)}`);
    }
    throw e;
  }
  if (out !== undefined && report.violations === 0) {
    console.error(
      `--minimize: nothing to minimize, ${strategy} leaves no violation on this trace; ${out} not written`,
    );
  }
  if (out !== undefined && report.violations > 0) {
    const small = minimizeTrace(trace, () => makeStrategy(strategy));
    await writeOutput("--minimize", out, traceToJson(small), EXIT_BAD_INPUT);
    console.error(
      `minimized: ${trace.events.length} -> ${small.events.length} events, written to ${out}`,
    );
    trace = small;
    report = replay(small, makeStrategy(strategy));
  }
  if (args.values.json) {
    console.log(JSON.stringify(report, null, 1));
  } else {
    const rows: (string | number)[][] = [[
      "#",
      "op",
      "operands",
      "iterations",
      "descriptors",
      "steps",
      "removed needed",
      "collateral",
      "other",
      "faults",
      "memory B",
      "violations",
    ]];
    for (const e of report.events) {
      rows.push([
        String(e.index),
        e.op + (e.result ? ` (${e.result})` : ""),
        e.detail,
        e.iterations,
        e.descriptors,
        e.steps,
        e.removedNeeded,
        e.removedCollateral,
        e.removedOther,
        e.faults,
        e.memoryBytes,
        e.violations.length,
      ]);
    }
    console.log(`trace ${report.trace}, strategy ${report.strategy}`);
    console.log(textTable(rows));
    for (const v of report.firstSeen) {
      console.log(
        `VIOLATION event ${v.event} (${v.op}): ${v.kind} in shadow MMU ${v.mmu} (context ${v.context}): ` +
          `shadow IPA ${hex(v.shadowIpa)} +${v.size} -> host PA ${hex(v.pa)} (canonical ${
            hex(v.canonicalIpa)
          }); ` +
          `expected ${v.expected}`,
      );
    }
    console.log(`${report.violations} violation(s)`);
  }
  Deno.exit(report.violations > 0 ? 1 : 0);
}

await main();
