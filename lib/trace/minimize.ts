/**
 * Counterexample minimization: shrink a trace that makes a strategy leave a stale shadow
 * entry to a smallest one that still does (delta debugging, ddmin, over the events), so
 * that it reads as a selftest: the few L1 mappings, accesses and host operations that
 * matter.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { minimizeTrace } from "./minimize.ts";
 * import { parseTrace } from "./trace.ts";
 * import { makeStrategy } from "../strategies/mod.ts";
 * const trace = parseTrace({
 *   name: "noise and an alias",
 *   config: { hostGranule: "4K", paBits: 40, vcpus: 1,
 *     memslots: [{ id: 0, base: "1G", size: "1G", backing: "page" }],
 *     contexts: [{ id: 1, vmid: 1, granule: "4K", ipaBits: 40 }] },
 *   events: [
 *     { op: "l1-map", ctx: 1, l2ipa: "8G", l1ipa: "1G", size: "4K" },
 *     { op: "l1-map", ctx: 1, l2ipa: "9G", l1ipa: "1G", size: "4K" },
 *     { op: "l1-map", ctx: 1, l2ipa: "10G", l1ipa: "0x40010000", size: "4K" },
 *     { op: "access", vcpu: 0, ctx: 1, l2ipa: "10G" },
 *     { op: "access", vcpu: 0, ctx: 1, l2ipa: "8G" },
 *     { op: "access", vcpu: 0, ctx: 1, l2ipa: "9G" },
 *     { op: "flush" },
 *     { op: "migrate", l1ipa: "1G", size: "4K" },
 *   ],
 * });
 * const small = minimizeTrace(trace, () => makeStrategy("maple-v2"));
 * assertEquals(small.events.map((e) => e.op), ["l1-map", "l1-map", "access", "access", "migrate"]);
 * ```
 * @module
 */

import type { ReverseMapStrategy } from "../kvm/strategy.ts";
import type { TraceEvent } from "./ops.ts";
import { replay } from "./replay.ts";
import type { Trace } from "./trace.ts";

/** Options of {@linkcode minimizeTrace}. */
export interface MinimizeOptions {
  /** Give up shrinking after this many replays (default 2000). */
  maxReplays?: number;
}

/**
 * ddmin over the events: the smallest subsequence found (1-minimal: removing any one
 * event loses the violation) that still makes `strategy` leave a violation. Throws when
 * the whole trace shows none. A candidate that does not replay (an event refers to what
 * a removed event created) counts as not failing.
 */
export function minimizeTrace(
  trace: Trace,
  strategy: () => ReverseMapStrategy,
  opts: MinimizeOptions = {},
): Trace {
  const budget = opts.maxReplays ?? 2000;
  let replays = 0;
  const fails = (events: TraceEvent[]): boolean => {
    if (replays >= budget) return false;
    replays++;
    try {
      return replay({ ...trace, events }, strategy(), { keepEvents: false }).violations > 0;
    } catch {
      return false;
    }
  };
  let events = trace.events;
  if (!fails(events)) throw new RangeError(`trace "${trace.name}" shows no violation to minimize`);
  let n = 2;
  while (events.length >= 2 && replays < budget) {
    const size = Math.ceil(events.length / n);
    let reduced = false;
    for (let i = 0; i < events.length; i += size) {
      const complement = [...events.slice(0, i), ...events.slice(i + size)];
      if (fails(complement)) {
        events = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (size === 1) break;
      n = Math.min(events.length, n * 2);
    }
  }
  return {
    ...trace,
    name: `${trace.name}-minimized`,
    description:
      `Minimized from "${trace.name}" (${trace.events.length} events -> ${events.length}).`,
    events,
  };
}
