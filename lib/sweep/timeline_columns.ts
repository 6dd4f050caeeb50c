/**
 * What a timeline holds (`deno task timeline`, lib/sweep/timeline.ts) and the columns of
 * its three CSV files, `<prefix>.strategies.csv`, `<prefix>.findings.csv` and
 * `<prefix>.unmaps.csv`: the schema the plots read them by, without the replay that
 * makes them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { TIMELINE_FINDING_COLUMNS, TIMELINE_UNMAP_COLUMNS } from "./timeline_columns.ts";
 * assertEquals(TIMELINE_UNMAP_COLUMNS.map((c) => c.name), ["event"]);
 * assertEquals(TIMELINE_FINDING_COLUMNS.find((c) => c.name === "shadow_ipa")?.type, "text");
 * ```
 * @module
 */

import type { Violation } from "../oracle/oracle.ts";
import { hex } from "../util/size.ts";
import type { ColumnSpec } from "./columns.ts";

/** One stale entry as the oracle first saw it, with the strategy that left it. */
export interface Finding extends Violation {
  /** Strategy that left it. */
  strategy: string;
}

/** One strategy's replay of the trace. */
export interface StrategyRun {
  /** Strategy name. */
  strategy: string;
  /** Distinct violations. */
  violations: number;
  /** Each distinct violation where it was first seen. */
  firstSeen: Finding[];
  /** Worst host unmap event, iterations. */
  unmapIterationsMax: number;
  /** Host unmap events. */
  unmapEvents: number;
  /** Shadow entries the host unmaps removed that their range required. */
  removedNeeded: number;
  /** Peak index bytes. */
  peakMemoryBytes: number;
  /** Fallbacks to the full walk (rmap-bounded over its budget; 0 for the others). */
  fallbacks: number;
}

/** All strategies' replays of one trace. */
export interface Timeline {
  /** The trace's name. */
  trace: string;
  /** Its event count. */
  traceEvents: number;
  /** Event indexes of the host unmap events. */
  unmapEvents: number[];
  /** One per strategy, in the order asked. */
  runs: StrategyRun[];
}

/** One `<prefix>.strategies.csv` row's input: the timeline and one strategy's run. */
export type StrategyRow = { t: Timeline; r: StrategyRun };

/** Columns of `<prefix>.strategies.csv`: one row per strategy. */
export const TIMELINE_STRATEGY_COLUMNS = [
  { name: "trace", type: "text", description: "trace name", get: (x) => x.t.trace },
  {
    name: "trace_events",
    type: "int",
    description: "events in the trace",
    get: (x) => x.t.traceEvents,
  },
  { name: "strategy", type: "text", description: "strategy", get: (x) => x.r.strategy },
  {
    name: "violations",
    type: "int",
    description: "distinct stale entries",
    get: (x) => x.r.violations,
  },
  {
    name: "unmap_events",
    type: "int",
    description: "host unmap events",
    get: (x) => x.r.unmapEvents,
  },
  {
    name: "unmap_iterations_max",
    type: "int",
    description: "iterations of the worst host unmap event",
    get: (x) => x.r.unmapIterationsMax,
  },
  {
    name: "removed_needed",
    type: "int",
    description: "shadow entries the host unmaps removed that their range required",
    get: (x) => x.r.removedNeeded,
  },
  {
    name: "peak_memory_bytes",
    type: "int",
    description: "peak index memory, modeled kernel bytes",
    get: (x) => x.r.peakMemoryBytes,
  },
  {
    name: "fallbacks",
    type: "int",
    description: "fallbacks to the full walk (budgeted strategies)",
    get: (x) => x.r.fallbacks,
  },
] as const satisfies readonly ColumnSpec<StrategyRow>[];

/** Columns of `<prefix>.findings.csv`: one row per stale entry, at its first event. */
export const TIMELINE_FINDING_COLUMNS = [
  { name: "strategy", type: "text", description: "strategy", get: (v) => v.strategy },
  { name: "event", type: "int", description: "event index first seen at", get: (v) => v.event },
  { name: "op", type: "text", description: "that event's operation", get: (v) => v.op },
  { name: "kind", type: "text", description: "oracle violation kind", get: (v) => v.kind },
  { name: "mmu", type: "int", description: "shadow MMU (-1: canonical)", get: (v) => v.mmu },
  { name: "context", type: "int", description: "L1 context of the MMU", get: (v) => v.context },
  {
    name: "shadow_ipa",
    type: "text",
    description: "shadow IPA (hex)",
    get: (v) => hex(v.shadowIpa),
  },
  { name: "size_bytes", type: "int", description: "leaf size", get: (v) => v.size },
  {
    name: "canonical_ipa",
    type: "text",
    description: "canonical IPA by L1's tables (hex; - when none)",
    get: (v) => (v.canonicalIpa === null ? "-" : hex(v.canonicalIpa)),
  },
  { name: "pa", type: "text", description: "host PA the leaf holds (hex)", get: (v) => hex(v.pa) },
  {
    name: "expected",
    type: "text",
    description: "what it should have been",
    get: (v) => v.expected,
  },
] as const satisfies readonly ColumnSpec<Finding>[];

/** Columns of `<prefix>.unmaps.csv`: the host unmap events. */
export const TIMELINE_UNMAP_COLUMNS = [
  { name: "event", type: "int", description: "event index", get: (e) => e },
] as const satisfies readonly ColumnSpec<number>[];
