/**
 * A counterexample: the smallest trace found on which a design leaves a stale shadow entry,
 * the entry the oracle names, and whether upstream's full walk is clean on the same trace
 * (when it is not, the finding is the model's or the oracle's, not the design's).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseTrace } from "../trace/trace.ts";
 * import { counterexampleOf } from "./counterexample.ts";
 * const trace = parseTrace({
 *   name: "alias",
 *   config: { hostGranule: "4K", paBits: 40, vcpus: 1,
 *     memslots: [{ id: 0, base: "1G", size: "1G", backing: "page" }],
 *     contexts: [{ id: 1, vmid: 1, granule: "4K", ipaBits: 40 }] },
 *   events: [
 *     { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
 *     { op: "l1-map", ctx: 1, l2ipa: "6G", l1ipa: "1G", size: "4K" },
 *     { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G" },
 *     { op: "access", vcpu: 0, ctx: 1, l2ipa: "6G" },
 *     { op: "flush" },
 *     { op: "migrate", l1ipa: "1G", size: "4K" },
 *   ],
 * });
 * const cx = counterexampleOf("maple-v2", "cases", "case alias", trace);
 * assertEquals([cx.trace.events.length, cx.violation?.kind, cx.upstreamClean], [5, "not-invalidated", true]);
 * ```
 * @module
 */

import type { Violation } from "../oracle/oracle.ts";
import { makeStrategy, UPSTREAM } from "../strategies/registry.ts";
import { minimizeTrace } from "../trace/minimize.ts";
import { replay } from "../trace/replay.ts";
import type { Trace } from "../trace/trace.ts";
import type { VerifyCheck } from "./plan.ts";

/** A stale shadow entry a design leaves, on the smallest trace found. */
export interface Counterexample {
  /** The check that found it. */
  readonly check: VerifyCheck;
  /** Where in the check: `case alias-within-mmu`, `fuzz seed 17`, `exhaust depth 4`. */
  readonly source: string;
  /** The minimized trace (1-minimal: no event can be dropped). */
  readonly trace: Trace;
  /** The first violation the design shows on it (null when the design threw instead). */
  readonly violation: Violation | null;
  /** What the design threw on the trace's last event, when it threw. */
  readonly failure: string | null;
  /** Every violation kind the design shows on it, sorted. */
  readonly kinds: readonly string[];
  /** Upstream's full walk leaves no stale entry on the same trace. */
  readonly upstreamClean: boolean;
}

/**
 * The counterexample of `design` on `trace` (which must show a violation), found by
 * `check` at `source`: the trace minimized (ddmin, unless `minimal`: breadth-first
 * exploration already found the shortest), then replayed for its violation. `failure`: the
 * design threw on the trace's last event (what it threw), which is the finding.
 */
export function counterexampleOf(
  design: string,
  check: VerifyCheck,
  source: string,
  trace: Trace,
  minimal = false,
  failure?: string,
): Counterexample {
  const small = minimal ? trace : minimizeTrace(trace, () => makeStrategy(design));
  const named = { ...small, name: `${design}: ${source}, minimized` };
  const up = () => replay(named, makeStrategy(UPSTREAM), { keepEvents: false }).violations === 0;
  if (failure !== undefined) {
    return {
      check,
      source,
      trace: named,
      violation: null,
      failure,
      kinds: [],
      upstreamClean: up(),
    };
  }
  const r = replay(named, makeStrategy(design), { keepEvents: false });
  const found = r.firstSeen.filter((v) => v.kind !== "kvm-baseline");
  if (found.length === 0) throw new RangeError(`${source}: ${design} shows no violation`);
  return {
    check,
    source,
    trace: named,
    violation: found[0],
    failure: null,
    kinds: [...new Set(found.map((v) => v.kind))].sort(),
    upstreamClean: up(),
  };
}
