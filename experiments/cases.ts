/**
 * `deno task cases [--strategy a,b] [--case name,…] [--dir DIR] [--json]`: replay every
 * scenario in `experiments/scenarios/` (or DIR) under every registered strategy (or the
 * ones named) and print strategy × case: violations, iterations per host unmap event,
 * shadow entries removed (needed / collateral) and peak strategy memory, then check each
 * result against the scenario's `expect` object (the format is in lib/trace/expectation.ts).
 *
 * Exit status: 0 when every checked expectation holds, 1 when one does not (each failure
 * is printed), 2 for bad input (an unknown strategy or case, a malformed scenario).
 * Expectations for strategies that are not registered are listed as pending.
 *
 * @module
 */

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DesignError, designNames, STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import { DESIGN_USAGE, designFlag } from "./designs.ts";
import { TraceError } from "../lib/trace/fields.ts";
import {
  type CaseResult,
  crashed,
  listScenarios,
  loadScenario,
  runCase,
  type Scenario,
  SCENARIO_DIR,
} from "../lib/trace/scenario.ts";
import { describeFsError, fail, nameList, parseCli, readTextInputSync, textTable } from "./cli.ts";

const USAGE =
  `usage: deno task cases [--strategy a,b] [--design FILES] [--case name,…] [--dir DIR] [--json]
  --strategy LIST   strategies to run (default: every built-in one, ${STRATEGY_NAMES.join(", ")},
                    and every --design; a design without its own expectation in a case is
                    held to the case's "*", that of a correct design)
${DESIGN_USAGE}
  --case LIST       scenario names (files in the directory without .json; default: all)
  --dir DIR         scenario directory (default experiments/scenarios/)
  --json            print a JSON array of results on stdout instead of the table
Exit status: 0 every expectation holds, 1 some does not, 2 bad input.`;

function fmtIterations(x: number | null): string {
  if (x === null) return "-";
  return Number.isInteger(x)
    ? x.toLocaleString("en-US")
    : x.toLocaleString("en-US", { maximumFractionDigits: 1 });
}

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    strategy: { type: "string" },
    design: { type: "string" },
    case: { type: "string" },
    dir: { type: "string" },
    json: { type: "boolean", default: false },
  });
  const designs = await designFlag(args.values.design);
  const strategies = args.values.strategy === undefined
    ? [...STRATEGY_NAMES, ...designs.names]
    : nameList("--strategy", args.values.strategy, designNames(), "strategy");
  const dir = args.values.dir === undefined
    ? SCENARIO_DIR
    : pathToFileURL(resolve(args.values.dir) + "/");
  let all: string[];
  try {
    all = listScenarios(dir);
  } catch (e) {
    fail(`--dir: cannot list ${decodeURIComponent(dir.pathname)}: ${describeFsError(e)}`);
  }
  const cases = args.values.case === undefined
    ? all
    : nameList("--case", args.values.case, all, "case");
  const scenarios: Scenario[] = [];
  for (const c of cases) {
    // A binary or non-UTF-8 file is named as such, not echoed by the JSON parser.
    readTextInputSync(
      decodeURIComponent(new URL(`${encodeURIComponent(c)}.json`, dir).pathname),
      "JSON scenario",
    );
    try {
      scenarios.push(loadScenario(c, dir));
    } catch (e) {
      if (e instanceof TraceError || e instanceof RangeError) fail(e.message);
      throw e;
    }
  }
  const results: CaseResult[] = [];
  for (const s of scenarios) {
    for (const st of strategies) {
      try {
        results.push(runCase(s, st));
      } catch (e) {
        if (e instanceof DesignError) fail(e.message);
        if (e instanceof TraceError || e instanceof RangeError) fail(`${s.path}: ${e.message}`);
        // A strategy that crashes fails its case; the others still run.
        results.push(crashed(s, st, e));
      }
    }
  }
  const failed = results.filter((r) => r.ok === false);
  const pendingCases = new Map<string, string[]>();
  for (const s of scenarios) {
    for (const k of Object.keys(s.expect)) {
      if (k === "*" || STRATEGY_NAMES.includes(k)) continue;
      pendingCases.set(k, [...(pendingCases.get(k) ?? []), s.name]);
    }
  }
  const pending = [...pendingCases].map(([k, cs]) =>
    `${k} (${cs.length} case${cs.length > 1 ? "s" : ""})`
  );
  const report = (line: string) => (args.values.json ? console.error(line) : console.log(line));
  if (args.values.json) {
    console.log(JSON.stringify(results, null, 1));
  } else {
    const rows: (string | number)[][] = [[
      "case",
      "strategy",
      "violations",
      "iterations/unmap",
      "removed needed/collateral",
      "memory B",
      "expect",
    ]];
    for (const r of results) {
      const threw = Number.isNaN(r.violations);
      rows.push([
        r.case,
        r.strategy,
        threw ? "threw" : r.violations,
        fmtIterations(r.iterations),
        threw
          ? "-"
          : `${r.removedNeeded.toLocaleString("en-US")} / ${
            r.removedCollateral.toLocaleString("en-US")
          }`,
        threw ? "-" : r.memoryBytes,
        r.ok === null ? "-" : r.ok ? "ok" : "FAIL",
      ]);
    }
    console.log(textTable(rows));
  }
  if (pending.length) {
    report(`pending: expectations for strategies not registered: ${pending.join(", ")}`);
  }
  for (const r of failed) {
    report(`FAIL ${r.case} / ${r.strategy} (expect "${r.expectation}"): ${r.failures.join("; ")}`);
  }
  if (!args.values.json) {
    console.log(
      failed.length
        ? `${failed.length} of ${results.length} results break their expectation`
        : `all ${results.filter((r) => r.ok !== null).length} checked expectations hold`,
    );
  }
  Deno.exit(failed.length ? 1 : 0);
}

if (import.meta.main) await main();
