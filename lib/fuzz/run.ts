/**
 * One differential fuzz run: generate the broad trace of a seed (`generate.ts`), read it
 * back through the trace parser (what is replayed is what a finding's file says, and a
 * generated trace the parser rejects is a generator bug, reported as such), replay it
 * under the oracle with upstream KVM (`full-walk`) and with each design asked, and report
 * what disagrees: a violation the oracle blames on full-walk (an oracle false positive or a
 * model bug: upstream is correct by construction), a violation of a design, or a design
 * whose verdict differs from full-walk's. Each finding is shrunk (ddmin over the events,
 * `../trace/minimize.ts`) to a smallest trace that still shows it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { fuzzOne } from "./run.ts";
 * const r = fuzzOne(3, ["rmap", "maple-v2"]);
 * assertEquals(r.runs.map((x) => x.strategy), ["full-walk", "rmap", "maple-v2"]);
 * assertEquals(r.runs[1].violations, 0);
 * ```
 * @module
 */

import { makeStrategy, UPSTREAM } from "../strategies/mod.ts";
import { minimizeTrace } from "../trace/minimize.ts";
import { replay } from "../trace/replay.ts";
import { parseTrace, type Trace, traceToJson } from "../trace/trace.ts";
import { type FuzzTraceOptions, generateFuzzTrace } from "./generate.ts";

/** Designs known to be broken (the rejected patch): their violations are expected. */
export { KNOWN_BROKEN } from "../strategies/mod.ts";

/** One replay of a fuzz trace. */
export interface FuzzReplay {
  /** Strategy name. */
  strategy: string;
  /** Stale leaves blamed on the design. */
  violations: number;
  /** Stale leaves KVM itself leaves (`kvm-baseline`). */
  kvmBaseline: number;
  /** The first violation's kind, or "" (for reports). */
  firstKind: string;
}

/** Something the fuzzer reports, with the smallest trace that shows it. */
export interface FuzzFinding {
  /** The design it concerns (`full-walk` for an oracle false positive or model bug). */
  strategy: string;
  /** What it is. */
  what: "full-walk-violation" | "design-violation";
  /** One line. */
  summary: string;
  /** The shrunk trace (null when shrinking was not asked for). */
  minimized: Trace | null;
}

/** A whole run. */
export interface FuzzResult {
  /** The trace seed. */
  seed: number;
  /** Events in the trace. */
  events: number;
  /** full-walk first, then the designs in the order asked. */
  runs: FuzzReplay[];
  /** What was found (empty when every design agrees with the oracle). */
  findings: FuzzFinding[];
  /** The trace itself (for a caller that writes it). */
  trace: Trace;
}

/** Options of {@linkcode fuzzOne}. */
export interface FuzzOneOptions extends FuzzTraceOptions {
  /** Shrink each finding to a minimal trace (default true). */
  minimize?: boolean;
}

function replayOne(trace: Trace, strategy: string): FuzzReplay {
  const r = replay(trace, makeStrategy(strategy), { keepEvents: false });
  const first = r.firstSeen.find((v) => v.kind !== "kvm-baseline");
  return {
    strategy,
    violations: r.violations,
    kvmBaseline: r.kvmBaseline,
    firstKind: first?.kind ?? "",
  };
}

/**
 * Generate seed `seed`'s trace, replay it with full-walk and `strategies`, and shrink each
 * finding. A design in {@linkcode KNOWN_BROKEN} is reported like any other when asked for:
 * that its violations are expected is the caller's to say.
 */
export function fuzzOne(
  seed: number,
  strategies: readonly string[],
  opts: FuzzOneOptions = {},
): FuzzResult {
  const trace = parseTrace(JSON.parse(traceToJson(generateFuzzTrace(seed, opts))));
  const runs = [replayOne(trace, UPSTREAM)];
  for (const s of strategies) if (s !== UPSTREAM) runs.push(replayOne(trace, s));
  const findings: FuzzFinding[] = [];
  const shrink = (s: string) =>
    opts.minimize === false ? null : minimizeTrace(trace, () => makeStrategy(s));
  for (const r of runs) {
    if (r.violations === 0) continue;
    const fw = r.strategy === UPSTREAM;
    findings.push({
      strategy: r.strategy,
      what: fw ? "full-walk-violation" : "design-violation",
      summary: `${r.strategy}: ${r.violations} stale leaf(s), first ${r.firstKind}` +
        (fw
          ? " (upstream is correct by construction: an oracle false positive or a model bug)"
          : ""),
      minimized: shrink(r.strategy),
    });
  }
  return { seed, events: trace.events.length, runs, findings, trace };
}
