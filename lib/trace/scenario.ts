/**
 * Cases: scenario files (a trace plus what each design is expected to do with it) and
 * their judgement. A scenario is a trace (see `trace.ts`) plus a top-level `expect` object
 * keyed by strategy name, with `"*"` as the fallback for strategies it does not name:
 *
 * ```json
 * "expect": {
 *   "maple-v2": { "violations": ">0", "kinds": ["stale-pa"], "shadowIpa": "0x100000000",
 *                 "canonicalIpa": "0x50000000", "why": "…" },
 *   "*": { "violations": 0, "removedNeeded": ">0" }
 * }
 * ```
 *
 * - `violations`, `iterations`, `removedNeeded`, `removedCollateral`, `memoryBytes`: a
 *   number (exact) or a comparison such as `">0"`, `">=2"`, `"<=1024"`, `"=0"`.
 * - `kinds`: every listed oracle violation kind must be reported.
 * - `shadowIpa` / `canonicalIpa`: some reported violation must be at that shadow IPA and
 *   that canonical IPA (and, when `kinds` is given, of one of those kinds).
 * - `why`: free text.
 *
 * A scenario may also carry a top-level `broken` object of the same shape, keyed by the
 * names of deliberately broken test-only designs: what stale entry each leaves.
 * `deno task cases` (experiments/cases.ts) runs them all; the tests run the same checks.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { compare, parseComparison } from "./scenario.ts";
 * assertEquals(parseComparison(">=2"), { op: ">=", value: 2 });
 * assertEquals([compare(3, parseComparison(">0")), compare(0, parseComparison(">0"))], [true, false]);
 * ```
 * @module
 */

import type { ViolationKind } from "../oracle/oracle.ts";
import { makeStrategy } from "../strategies/mod.ts";
import { hex, parseAddr } from "../util/size.ts";
import { TraceError } from "./fields.ts";
import { opClass } from "./ops.ts";
import { replay } from "./replay.ts";
import { parseTrace, type Trace } from "./trace.ts";

/** Where the scenario files live. */
export const SCENARIO_DIR: URL = new URL("../../experiments/scenarios/", import.meta.url);

/** The numeric results an expectation may constrain. */
export const METRICS = [
  "violations",
  "iterations",
  "removedNeeded",
  "removedCollateral",
  "memoryBytes",
] as const;

/** One of {@linkcode METRICS}. */
export type Metric = typeof METRICS[number];

/** Every oracle violation kind (a Record, so that the compiler notices a new kind). */
const KIND_SET: Record<ViolationKind, true> = {
  "l1-unmapped": true,
  "too-large": true,
  "not-present": true,
  "stale-pa": true,
  "writable": true,
  "not-invalidated": true,
  "no-context": true,
  "canonical-stale": true,
  unflushed: true,
  "kvm-baseline": true,
};
const VIOLATION_KINDS = Object.keys(KIND_SET) as ViolationKind[];

/** A comparison: `op` applied to (result, value). */
export interface Comparison {
  /** The operator. */
  op: "=" | ">" | ">=" | "<" | "<=";
  /** The bound. */
  value: number;
}

/** What a scenario expects of one strategy. */
export interface Expectation {
  /** Bounds on numeric results. */
  metrics: Partial<Record<Metric, Comparison>>;
  /** Violation kinds that must each be reported. */
  kinds?: ViolationKind[];
  /** A reported violation must be at this shadow IPA. */
  shadowIpa?: number;
  /** … and at this canonical IPA. */
  canonicalIpa?: number;
  /** Why (free text from the file). */
  why?: string;
}

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

/** Parse a comparison: a number (exact) or `">0"`, `">= 2"`, `"<=1024"`, `"=0"`. */
export function parseComparison(v: unknown): Comparison {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new RangeError(`${v} is not a finite number`);
    return { op: "=", value: v };
  }
  if (typeof v === "string") {
    const m = /^\s*(>=|<=|==|=|>|<)?\s*(\d+(?:\.\d+)?)\s*$/.exec(v);
    if (m) {
      const op = (m[1] === "==" ? "=" : m[1] ?? "=") as Comparison["op"];
      return { op, value: Number(m[2]) };
    }
  }
  throw new RangeError(`expected a number or a comparison such as ">0", got ${JSON.stringify(v)}`);
}

/** Whether `x` satisfies `c`. */
export function compare(x: number, c: Comparison): boolean {
  switch (c.op) {
    case "=":
      return x === c.value;
    case ">":
      return x > c.value;
    case ">=":
      return x >= c.value;
    case "<":
      return x < c.value;
    case "<=":
      return x <= c.value;
  }
}

/** `c` as text: `>0`, `=3`. */
export function showComparison(c: Comparison): string {
  return `${c.op}${c.value}`;
}

const EXPECT_KEYS = new Set<string>([...METRICS, "kinds", "shadowIpa", "canonicalIpa", "why"]);

/** Validate one expectation object; `path` names it in errors. */
export function parseExpectation(v: unknown, path: string): Expectation {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new TraceError(path, "expected an object");
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!EXPECT_KEYS.has(k)) {
      throw new TraceError(
        `${path}.${k}`,
        `unknown key (expected one of ${[...EXPECT_KEYS].join(", ")})`,
      );
    }
  }
  const e: Expectation = { metrics: {} };
  for (const m of METRICS) {
    if (o[m] === undefined) continue;
    try {
      e.metrics[m] = parseComparison(o[m]);
    } catch (err) {
      throw new TraceError(`${path}.${m}`, (err as Error).message);
    }
  }
  if (o.kinds !== undefined) {
    if (!Array.isArray(o.kinds)) {
      throw new TraceError(`${path}.kinds`, "expected an array of violation kinds");
    }
    e.kinds = o.kinds.map((k, i) => {
      if (!(VIOLATION_KINDS as readonly unknown[]).includes(k)) {
        throw new TraceError(
          `${path}.kinds[${i}]`,
          `unknown violation kind ${JSON.stringify(k)} (expected one of ${
            VIOLATION_KINDS.join(", ")
          })`,
        );
      }
      return k as ViolationKind;
    });
  }
  for (const key of ["shadowIpa", "canonicalIpa"] as const) {
    if (o[key] === undefined) continue;
    try {
      e[key] = parseAddr(o[key]);
    } catch (err) {
      throw new TraceError(`${path}.${key}`, (err as Error).message);
    }
  }
  if (o.why !== undefined) {
    if (typeof o.why !== "string") throw new TraceError(`${path}.why`, "expected a string");
    e.why = o.why;
  }
  return e;
}

function expectations(raw: unknown, key: string): Record<string, Expectation> {
  const out: Record<string, Expectation> = {};
  if (raw === undefined) return out;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new TraceError(key, "expected an object keyed by strategy name");
  }
  for (const [k, v] of Object.entries(raw)) out[k] = parseExpectation(v, `${key}.${k}`);
  return out;
}

/** Parse a scenario file's JSON: the trace, its `expect` and `broken` objects. */
export function parseScenario(json: unknown, name: string, path = name): Scenario {
  const trace = parseTrace(json);
  const o = json as Record<string, unknown>;
  return {
    name,
    path,
    trace,
    expect: expectations(o.expect, "expect"),
    broken: expectations(o.broken, "broken"),
  };
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
  let json: unknown;
  try {
    json = JSON.parse(Deno.readTextFileSync(url));
  } catch (e) {
    throw new TraceError(path, `cannot read as JSON: ${(e as Error).message}`);
  }
  try {
    return parseScenario(json, name, path);
  } catch (e) {
    if (e instanceof TraceError) {
      throw new TraceError(`${path}: ${e.path}`, e.message.slice(e.path.length + 2));
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
