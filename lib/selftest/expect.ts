/**
 * Expected outcome of an exported selftest, from the oracle: the trace *as the program
 * performs it* is replayed with the strategy under test (the unfixed kernel) and with
 * `full-walk` (upstream `kvm_nested_s2_unmap()`, the fixed kernel). A check fails on a
 * kernel when, just before its read, the replay has a stale shadow leaf over the address
 * (the host moved or dropped the page, or L1 unmapped it) and the read hits that leaf
 * without a fault: L2 then reads the old page, not L1's fresh marker.
 *
 * Planning is done twice: once without checks, to learn which touched addresses the
 * strategy leaves stale after each host event, then with checks that read those first.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseTrace } from "../trace/trace.ts";
 * import { expectSelftest } from "./expect.ts";
 * const trace = parseTrace({
 *   name: "alias", config: { hostGranule: "4K", paBits: 40, vcpus: 1,
 *     memslots: [{ id: 0, base: "1G", size: "1G", backing: "page" }],
 *     contexts: [{ id: 1, vmid: 1, granule: "4K", ipaBits: 40 }] },
 *   events: [{ op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
 *            { op: "l1-map", ctx: 1, l2ipa: "6G", l1ipa: "1G", size: "4K" },
 *            { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G", write: true },
 *            { op: "access", vcpu: 0, ctx: 1, l2ipa: "6G", write: true },
 *            { op: "migrate", l1ipa: "1G", size: "4K" }] });
 * const x = expectSelftest(trace);
 * assertEquals(x.strategy, "maple-v2");
 * assertEquals(x.unfixed.firstStale?.action.l2ipa, 2 ** 32);
 * assertEquals(x.fixed.firstStale, null);
 * ```
 * @module
 */

import { replay, type ReplayReport } from "../trace/replay.ts";
import { KNOWN_BROKEN, makeStrategy, STRATEGY_NAMES, UPSTREAM } from "../strategies/mod.ts";
import type { Trace } from "../trace/trace.ts";
import { TraceError } from "../trace/fields.ts";
import { type Action, exportedTrace, type Plan, planSelftest, SelftestError } from "./plan.ts";

/** The strategy that stands for the fixed kernel: upstream's full walk. */
export const FIXED_STRATEGY = UPSTREAM;

/** Strategy used when none shows a violation on the trace: the first known-broken design. */
export const FALLBACK_STRATEGY = KNOWN_BROKEN[0];

/** One oracle finding, as the replay reports it. */
export type Finding = ReplayReport["firstSeen"][number];

/** A check action of a plan. */
export type CheckAction = Extract<Action, { kind: "check" }>;

/** Findings under which a read sees another page than L1's current one. */
const STALE_KINDS: ReadonlySet<string> = new Set([
  "not-invalidated",
  "stale-pa",
  "not-present",
  "l1-unmapped",
  "no-context",
]);

/** What a kernel does with the program. */
export interface Outcome {
  /** Strategy replayed. */
  strategy: string;
  /** Distinct findings over the program's events. */
  violations: number;
  /** The checks that read a stale page, in program order. */
  staleChecks: CheckAction[];
  /** The first of them (where the program stops), or null when every check passes. */
  firstStale: { action: CheckAction; finding: Finding; position: number } | null;
  /** Trace writes that go through a stale leaf (to a page the host gave up), in order. */
  staleWrites: { event: number; position: number }[];
}

/** The expectation the header states. */
export interface Expectation {
  /** The strategy whose failure the program shows. */
  strategy: string;
  /** Its findings on the trace itself. */
  traceFindings: Finding[];
  /** The plan with checks. */
  plan: Plan;
  /** The strategy's outcome (unfixed kernel). */
  unfixed: Outcome;
  /** full-walk's outcome (fixed kernel). */
  fixed: Outcome;
}

/** A finding that makes a read of `l2ipa` in `ctx` see a stale page. */
function staleFinding(list: Finding[], ctx: number, l2ipa: number): Finding | undefined {
  return list.find((v) =>
    v.context === ctx && STALE_KINDS.has(v.kind) && l2ipa >= v.shadowIpa &&
    l2ipa < v.shadowIpa + v.size
  );
}

function replayOrFail(trace: Trace, strategy: string): ReplayReport {
  try {
    return replay(trace, makeStrategy(strategy));
  } catch (e) {
    if (e instanceof TraceError || e instanceof RangeError) {
      throw new SelftestError(`the program's sequence of events does not replay: ${e.message}`);
    }
    throw e;
  }
}

/** The first registered strategy that shows a violation on the trace, else maple-v2. */
export function defaultStrategy(trace: Trace): string {
  for (const name of STRATEGY_NAMES) {
    if (replay(trace, makeStrategy(name), { keepEvents: false }).violations > 0) return name;
  }
  return FALLBACK_STRATEGY;
}

function outcome(plan: Plan, strategy: string): Outcome {
  const r = replayOrFail(exportedTrace(plan), strategy);
  const staleChecks: CheckAction[] = [];
  const staleWrites: Outcome["staleWrites"] = [];
  let firstStale: Outcome["firstStale"] = null;
  plan.exported.forEach((x, j) => {
    const e = x.event;
    if (e.op !== "access" || j === 0 || r.events[j].result !== "hit") return;
    const f = staleFinding(r.events[j - 1].violations, e.ctx, e.l2ipa);
    if (!f) return;
    if (x.action?.kind === "check") {
      staleChecks.push(x.action);
      firstStale ??= { action: x.action, finding: f, position: j };
    } else if (e.write && x.origin !== null) staleWrites.push({ event: x.origin, position: j });
  });
  return { strategy, violations: r.violations, staleChecks, firstStale, staleWrites };
}

/**
 * Plan the selftest of `trace` and replay it with `strategy` (default
 * {@linkcode defaultStrategy}) and with full-walk. Throws {@linkcode SelftestError} for
 * a trace that cannot be exported, TraceError for one that does not replay.
 */
export function expectSelftest(trace: Trace, strategy?: string): Expectation {
  const name = strategy ?? defaultStrategy(trace);
  makeStrategy(name); // an unknown name throws its one-line RangeError here
  const traceFindings = replay(trace, makeStrategy(name)).firstSeen;
  // Pass 1: which touched addresses does the strategy leave stale after each host event?
  const bare = planSelftest(trace, { maxChecks: 0 });
  const r0 = replayOrFail(exportedTrace(bare), name);
  const after = new Map<number, Finding[]>();
  bare.exported.forEach((x, j) => {
    if (x.action?.kind === "host") after.set(x.action.event, r0.events[j].violations);
  });
  const plan = planSelftest(trace, {
    stale: (event, ctx, l2ipa) => staleFinding(after.get(event) ?? [], ctx, l2ipa) !== undefined,
  });
  return {
    strategy: name,
    traceFindings,
    plan,
    unfixed: outcome(plan, name),
    fixed: outcome(plan, FIXED_STRATEGY),
  };
}
