/**
 * One trace replayed with every strategy, kept per event for a timeline (notebook 04,
 * `deno task timeline`): per strategy its totals, every stale entry (oracle finding) at
 * the event where it was first seen, and the host unmap events. Written as three CSV
 * files `<prefix>.strategies.csv`, `<prefix>.findings.csv`, `<prefix>.unmaps.csv` (their
 * columns: `./timeline_columns.ts`), which is all the plots read.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseTrace } from "../trace/trace.ts";
 * import { replayTimeline } from "./timeline.ts";
 * const trace = parseTrace({
 *   name: "alias", config: { hostGranule: "4K", paBits: 40, vcpus: 1,
 *     memslots: [{ id: 0, base: "1G", size: "1G", backing: "page" }],
 *     contexts: [{ id: 1, vmid: 1, granule: "4K", ipaBits: 40 }] },
 *   events: [{ op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
 *            { op: "l1-map", ctx: 1, l2ipa: "6G", l1ipa: "1G", size: "4K" },
 *            { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G" },
 *            { op: "access", vcpu: 0, ctx: 1, l2ipa: "6G" },
 *            { op: "migrate", l1ipa: "1G", size: "4K" }] });
 * const t = replayTimeline(trace, ["full-walk", "maple-v2"]);
 * assertEquals(t.unmapEvents, [4]);
 * assertEquals(t.runs.map((r) => [r.strategy, r.violations]), [["full-walk", 0], ["maple-v2", 1]]);
 * ```
 * @module
 */

import { makeStrategy } from "../strategies/mod.ts";
import { opClass } from "../trace/ops.ts";
import { replay } from "../trace/replay.ts";
import type { Trace } from "../trace/trace.ts";
import { columnsCsv } from "./columns.ts";
import {
  type StrategyRun,
  type Timeline,
  TIMELINE_FINDING_COLUMNS,
  TIMELINE_STRATEGY_COLUMNS,
  TIMELINE_UNMAP_COLUMNS,
} from "./timeline_columns.ts";

/** Replay `trace` under the oracle with each strategy. */
export function replayTimeline(trace: Trace, strategies: readonly string[]): Timeline {
  const runs: StrategyRun[] = [];
  for (const s of strategies) {
    let worst = 0, unmaps = 0, needed = 0;
    const r = replay(trace, makeStrategy(s), {
      keepEvents: false,
      onEvent: (e) => {
        if (opClass(e.op) !== "host-unmap") return;
        unmaps++;
        worst = Math.max(worst, e.iterations);
        needed += e.removedNeeded;
      },
    });
    runs.push({
      strategy: s,
      violations: r.violations,
      firstSeen: r.firstSeen.map((v) => ({ strategy: s, ...v })),
      unmapIterationsMax: worst,
      unmapEvents: unmaps,
      removedNeeded: needed,
      peakMemoryBytes: r.peakMemoryBytes,
      fallbacks: r.fallbacks,
    });
  }
  return {
    trace: trace.name,
    traceEvents: trace.events.length,
    unmapEvents: trace.events.flatMap((e, i) => (opClass(e.op) === "host-unmap" ? [i] : [])),
    runs,
  };
}

/** The three CSV texts of a timeline, by file suffix. */
export function timelineCsv(t: Timeline): Record<string, string> {
  return {
    "strategies.csv": columnsCsv(TIMELINE_STRATEGY_COLUMNS, t.runs.map((r) => ({ t, r }))),
    "findings.csv": columnsCsv(TIMELINE_FINDING_COLUMNS, t.runs.flatMap((r) => r.firstSeen)),
    "unmaps.csv": columnsCsv(TIMELINE_UNMAP_COLUMNS, t.unmapEvents),
  };
}
