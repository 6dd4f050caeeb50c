/**
 * Cases: scenario files (a trace plus what each design is expected to do with it, the
 * format in `expectation.ts`) and their judgement. `deno task cases`
 * (experiments/cases.ts) runs them all; the tests run the same checks.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseScenario } from "./scenario.ts";
 * const s = parseScenario({
 *   name: "one page",
 *   config: { hostGranule: "4K", paBits: 40, vcpus: 1,
 *     memslots: [{ id: 0, base: "1G", size: "1G", backing: "page" }], contexts: [] },
 *   expect: { "*": { violations: 0 } },
 *   events: [],
 * }, "one-page");
 * assertEquals(s.expect["*"].metrics.violations, { op: "=", value: 0 });
 * ```
 * @module
 */

import type { ViolationKind } from "../oracle/oracle.ts";
import { makeStrategy } from "../strategies/mod.ts";
import { JsonSyntaxError, parseJson } from "../util/json.ts";
import { hex } from "../util/size.ts";
import { compare, type Expectation, type Metric, METRICS, showComparison } from "./expectation.ts";
import { TraceError } from "./fields.ts";
import { opClass } from "./ops.ts";
import { replay } from "./replay.ts";
import { parseTraceFile, type Trace } from "./trace.ts";

/** Where the scenario files live. */
export const SCENARIO_DIR: URL = new URL("../../experiments/scenarios/", import.meta.url);

/** A scenario file: its trace and its expectations by strategy name (`*` = default). */
export interface Scenario {
  /** The case name: the file name without `.json`. */
  name: string;
  /** The file path (for messages). */
  path: string;
  /** The trace. */
  trace: Trace;
  /** Expectations by strategy name. */
  expect: Record<string, Expectation>;
  /** Expectations of the test-only broken designs, by their name. */
  broken: Record<string, Expectation>;
}

/** One strategy on one case. */
export interface CaseResult {
  /** Strategy name. */
  strategy: string;
  /** Case name. */
  case: string;
  /** Distinct violations over the replay. */
  violations: number;
  /** Mean strategy iterations (chunks + index steps) per host unmap event; null if none. */
  iterations: number | null;
  /** Host unmap events in the trace. */
  unmapEvents: number;
  /** Shadow leaves removed that host operations required. */
  removedNeeded: number;
  /** Shadow leaves host operations removed without need. */
  removedCollateral: number;
  /** Peak strategy memory, modeled kernel bytes. */
  memoryBytes: number;
  /** Violation kinds reported, sorted. */
  kinds: string[];
  /** The first violation, for messages. */
  firstViolation: {
    event: number;
    kind: string;
    mmu: number;
    shadowIpa: string;
    canonicalIpa: string | null;
  } | null;
  /** Which expectation applied: the strategy's own, `*`, or null when none. */
  expectation: string | null;
  /** Whether the expectation held (null when there was none). */
  ok: boolean | null;
  /** What did not hold. */
  failures: string[];
}

/** Parse a scenario file's JSON: the trace, its `expect` and `broken` objects. */
export function parseScenario(json: unknown, name: string, path = name): Scenario {
  const { expect, broken, ...trace } = parseTraceFile(json);
  return { name, path, trace, expect, broken };
}

/** The scenario file names (without `.json`) in `dir`, sorted. */
export function listScenarios(dir: URL = SCENARIO_DIR): string[] {
  const names: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.isFile && e.name.endsWith(".json")) names.push(e.name.slice(0, -".json".length));
  }
  return names.sort();
}

/** Read and parse one scenario by name; errors name the file. */
export function loadScenario(name: string, dir: URL = SCENARIO_DIR): Scenario {
  const url = new URL(`${encodeURIComponent(name)}.json`, dir);
  const path = decodeURIComponent(url.pathname);
  let text: string;
  try {
    text = Deno.readTextFileSync(url);
  } catch (e) {
    throw new TraceError(path, `cannot read: ${(e as Error).message.split("\n")[0]}`);
  }
  try {
    return parseScenario(parseJson(text), name, path);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new TraceError(path, `not JSON: ${e.message}`);
    if (e instanceof TraceError) {
      throw new TraceError(e.path ? `${path}: ${e.path}` : path, e.problem);
    }
    throw e;
  }
}

/** The expectation that applies to `strategy`: its own, else `*`, else none. */
export function expectationFor(
  s: Scenario,
  strategy: string,
): { key: string; expectation: Expectation } | null {
  if (s.expect[strategy]) return { key: strategy, expectation: s.expect[strategy] };
  if (s.expect["*"]) return { key: "*", expectation: s.expect["*"] };
  return null;
}

/** What of `e` does not hold for `r` (empty when it all holds). */
export function checkExpectation(
  e: Expectation,
  r: Pick<CaseResult, Metric>,
  found: readonly { kind: string; shadowIpa: number; canonicalIpa: number | null }[],
): string[] {
  const out: string[] = [];
  for (const m of METRICS) {
    const c = e.metrics[m];
    if (!c) continue;
    const x = r[m];
    if (x === null || !compare(x, c)) out.push(`${m} ${x ?? "n/a"}, expected ${showComparison(c)}`);
  }
  const reported = new Set(found.map((v) => v.kind));
  for (const k of e.kinds ?? []) {
    if (!reported.has(k)) {
      out.push(`no ${k} violation reported (reported: ${[...reported].join(", ") || "none"})`);
    }
  }
  if (e.shadowIpa !== undefined || e.canonicalIpa !== undefined) {
    const hit = found.some((v) =>
      (e.shadowIpa === undefined || v.shadowIpa === e.shadowIpa) &&
      (e.canonicalIpa === undefined || v.canonicalIpa === e.canonicalIpa) &&
      (!e.kinds || e.kinds.includes(v.kind as ViolationKind))
    );
    if (!hit) {
      const where = [
        e.shadowIpa !== undefined ? `shadow IPA ${hex(e.shadowIpa)}` : "",
        e.canonicalIpa !== undefined ? `canonical IPA ${hex(e.canonicalIpa)}` : "",
      ].filter((x) => x).join(", ");
      out.push(`no violation at ${where}${e.kinds ? ` of kind ${e.kinds.join("/")}` : ""}`);
    }
  }
  return out;
}

/** Replay one scenario under one strategy and judge it. */
export function runCase(s: Scenario, strategy: string): CaseResult {
  const rep = replay(s.trace, makeStrategy(strategy));
  let unmapEvents = 0, unmapIterations = 0, removedNeeded = 0, removedCollateral = 0;
  for (const e of rep.events) {
    removedNeeded += e.removedNeeded;
    removedCollateral += e.removedCollateral;
    if (opClass(e.op) === "host-unmap") {
      unmapEvents++;
      unmapIterations += e.iterations;
    }
  }
  const first = rep.firstSeen[0];
  const r: CaseResult = {
    strategy,
    case: s.name,
    violations: rep.violations,
    iterations: unmapEvents ? unmapIterations / unmapEvents : null,
    unmapEvents,
    removedNeeded,
    removedCollateral,
    memoryBytes: rep.peakMemoryBytes,
    kinds: [...new Set(rep.firstSeen.map((v) => v.kind))].sort(),
    firstViolation: first
      ? {
        event: first.event,
        kind: first.kind,
        mmu: first.mmu,
        shadowIpa: hex(first.shadowIpa),
        canonicalIpa: first.canonicalIpa === null ? null : hex(first.canonicalIpa),
      }
      : null,
    expectation: null,
    ok: null,
    failures: [],
  };
  const x = expectationFor(s, strategy);
  if (x) {
    r.expectation = x.key;
    r.failures = checkExpectation(x.expectation, r, rep.firstSeen);
    r.ok = r.failures.length === 0;
  }
  return r;
}

/** The result of a replay that threw (a strategy bug): a failure whatever the expectation. */
export function crashed(s: Scenario, strategy: string, e: unknown): CaseResult {
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return {
    strategy,
    case: s.name,
    violations: NaN,
    iterations: null,
    unmapEvents: 0,
    removedNeeded: NaN,
    removedCollateral: NaN,
    memoryBytes: NaN,
    kinds: [],
    firstViolation: null,
    expectation: expectationFor(s, strategy)?.key ?? null,
    ok: false,
    failures: [`the replay threw ${msg.split("\n")[0]}`],
  };
}
