/**
 * What `deno task verify` runs, in order, and how much of it: (a) the case library, each
 * case judged by its expectation for a correct design; (b) the exhaustive small-scope check;
 * (c) a seeded fuzz campaign; (d) a cost sweep on a small grid plus one populated host-scale
 * point, beside the reference designs. `quick` gives a verdict in about a minute on two
 * cores; `full` fits in ten.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { verifyPlan } from "./plan.ts";
 * const q = verifyPlan("quick"), f = verifyPlan("full");
 * assertEquals([q.mode, q.fuzzTraces < f.fuzzTraces], ["quick", true]);
 * assertEquals(f.references, ["full-walk", "span-unknown", "rmap-compact"]);
 * ```
 * @module
 */

import { REFERENCE_DESIGNS } from "../strategies/registry.ts";

/** How thorough a verification is. */
export type VerifyMode = "quick" | "full";

/** The checks, in the order they run. */
export const VERIFY_CHECKS = ["cases", "exhaust", "fuzz", "cost"] as const;

/** One check's name. */
export type VerifyCheck = typeof VERIFY_CHECKS[number];

/** A verification's budgets. */
export interface VerifyPlan {
  /** `quick` or `full`. */
  readonly mode: VerifyMode;
  /** Exhaustive check: deepest depth to complete (it stops earlier at `exhaustSeconds`). */
  readonly exhaustDepth: number;
  /** Exhaustive check: wall-time budget in seconds (the depth in progress is abandoned). */
  readonly exhaustSeconds: number;
  /** Fuzz campaign: traces, seeds `fuzzSeed` .. `fuzzSeed + fuzzTraces - 1`. */
  readonly fuzzTraces: number;
  /** First fuzz seed. */
  readonly fuzzSeed: number;
  /** Cost sweep grid, as `deno task sweep` flags take it (values comma-separated). */
  readonly costGrid: Readonly<Record<string, string>>;
  /** The populated host-scale point: every L2 context writes a working set. */
  readonly populated: Readonly<Record<string, string>>;
  /** Sweep seed of both. */
  readonly sweepSeed: number;
  /** Designs drawn beside the one verified. */
  readonly references: readonly string[];
  /**
   * Each check's expected share of the wall time, in seconds on two idle cores (measured
   * for the built-in designs): the progress bar's weights, so that its ETA is honest.
   */
  readonly expectedSeconds: Readonly<Record<VerifyCheck, number>>;
}

/** The plan of a mode. */
export function verifyPlan(mode: VerifyMode): VerifyPlan {
  const quick = mode === "quick";
  return {
    mode,
    exhaustDepth: quick ? 6 : 12,
    exhaustSeconds: quick ? 20 : 240,
    fuzzTraces: quick ? 150 : 1500,
    fuzzSeed: 1,
    costGrid: {
      "vcpus": quick ? "1,16,192" : "1,8,32,96,192",
      "granule": quick ? "4K" : "4K,64K",
      "l1-mem": "256G",
      "alias": "0,0.1",
    },
    populated: {
      "vcpus": quick ? "64" : "192",
      "granule": "4K",
      "backing": "page",
      "l1-mem": "256G",
      "alias": "0.1",
      "working-set": quick ? "4M" : "16M",
      "retouch": "0.1",
    },
    sweepSeed: 1,
    references: REFERENCE_DESIGNS,
    expectedSeconds: quick
      ? { cases: 2, exhaust: 20, fuzz: 4, cost: 12 }
      : { cases: 2, exhaust: 240, fuzz: 40, cost: 150 },
  };
}
