/**
 * A whole verification of one design, the checks in order — (a) cases, (b) exhaustive
 * small-scope search, (c) fuzz, (d) cost — with progress per check. Every check runs
 * whatever an earlier one found (a broken design's costs are still worth seeing); the
 * verdict is the first counterexample in that order.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { runVerify } from "./run.ts";
 * import { verifyPlan } from "./plan.ts";
 * const plan = { ...verifyPlan("quick"), exhaustDepth: 2, exhaustSeconds: 5, fuzzTraces: 2,
 *   costGrid: { vcpus: "1", granule: "4K", "l1-mem": "4G", alias: "0" },
 *   populated: { vcpus: "1", granule: "4K", "l1-mem": "4G", alias: "0", "working-set": "64K" } };
 * const r = await runVerify("rmap", plan, { cases: ["flush"] });
 * assertEquals(r.checks.map((c) => [c.check, c.status]), [
 *   ["cases", "pass"], ["exhaust", "pass"], ["fuzz", "pass"], ["cost", "info"]]);
 * ```
 * @module
 */

import { type CheckResult, skipped } from "./check.ts";
import { checkCases } from "./cases.ts";
import { checkCost, type CostRows } from "./cost.ts";
import { checkExhaust } from "./exhaust.ts";
import type { CostBase } from "../sweep/spec.ts";
import { checkFuzz } from "./fuzz.ts";
import { VERIFY_CHECKS, type VerifyCheck, type VerifyPlan } from "./plan.ts";

/** What a verification produced. */
export interface VerifyRun {
  /** The design verified. */
  readonly design: string;
  /** How thorough. */
  readonly plan: VerifyPlan;
  /** The checks, in the order they ran. */
  readonly checks: readonly CheckResult[];
  /** The cost check's rows (null when it was not run). */
  readonly cost: CostRows | null;
}

/** Options of {@linkcode runVerify}. */
export interface VerifyOptions {
  /** Only these cases of the library (tests). */
  cases?: readonly string[];
  /** Only these checks (default all four); the others are reported skipped. */
  checks?: readonly VerifyCheck[];
  /** A check starts: its name and its position (0-based) among the four. */
  onCheck?: (check: VerifyCheck, index: number) => void;
  /** The cost check's cost model (default: the sweep's default). */
  cost?: CostBase;
  /** Progress inside the running check: units done of a total (the check's own units). */
  onProgress?: (check: VerifyCheck, done: number, total: number) => void;
}

/** Verify `design` (a registered name) under `plan`. */
export async function runVerify(
  design: string,
  plan: VerifyPlan,
  opts: VerifyOptions = {},
): Promise<VerifyRun> {
  const step = (c: VerifyCheck) => {
    opts.onCheck?.(c, VERIFY_CHECKS.indexOf(c));
    return (done: number, total: number) => opts.onProgress?.(c, done, total);
  };
  const run = (c: VerifyCheck) => opts.checks === undefined || opts.checks.includes(c);
  const checks: CheckResult[] = [];
  checks.push(
    run("cases")
      ? checkCases(design, { only: opts.cases, onProgress: step("cases") })
      : skipped("cases"),
  );
  checks.push(
    run("exhaust")
      ? await checkExhaust(design, {
        depth: plan.exhaustDepth,
        seconds: plan.exhaustSeconds,
        onProgress: step("exhaust"),
      })
      : skipped("exhaust"),
  );
  checks.push(
    run("fuzz")
      ? checkFuzz(design, {
        seed: plan.fuzzSeed,
        traces: plan.fuzzTraces,
        onProgress: step("fuzz"),
      })
      : skipped("fuzz"),
  );
  const cost = run("cost")
    ? checkCost(design, plan.references, {
      grid: plan.costGrid,
      populated: plan.populated,
      seed: plan.sweepSeed,
      cost: opts.cost,
      onProgress: step("cost"),
    })
    : null;
  checks.push(cost ?? skipped("cost"));
  return { design, plan, checks, cost: cost?.cost ?? null };
}
