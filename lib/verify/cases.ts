/**
 * Check (a) of a verification: every case of the library (experiments/scenarios/), judged
 * by its expectation for a correct design (the `*` entry: no violation, and the needed
 * shadow entries removed). The first case that fails gives the counterexample, its trace
 * minimized.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { checkCases } from "./cases.ts";
 * const r = checkCases("maple-v2", { only: ["alias-within-mmu"] });
 * assertEquals([r.status, r.counterexample?.source], ["fail", "case alias-within-mmu"]);
 * ```
 * @module
 */

import {
  crashed,
  expectationFor,
  listScenarios,
  loadScenario,
  runCase,
  type Scenario,
} from "../trace/scenario.ts";
import type { CheckResult, CheckRow, ProgressFn } from "./check.ts";
import { type Counterexample, counterexampleOf } from "./counterexample.ts";

/** Options of {@linkcode checkCases}. */
export interface CasesOptions {
  /** Case names to run (default every case). */
  only?: readonly string[];
  /** Progress: cases done of all. */
  onProgress?: ProgressFn;
}

/** Run the case library for `design`; every case is run, the first failure is minimized. */
export function checkCases(design: string, opts: CasesOptions = {}): CheckResult {
  const t0 = performance.now();
  const names = opts.only ? [...opts.only] : listScenarios();
  const rows: CheckRow[] = [];
  let first: Counterexample | null = null;
  let failed = 0;
  names.forEach((name, i) => {
    const s: Scenario = loadScenario(name);
    // A correct design is held to the expectation of a correct design, whatever the
    // case says of the design by name (a user design has none).
    const expect = {
      ...s.expect,
      [design]: expectationFor(s, "*")?.expectation ?? s.expect[design],
    };
    let r;
    try {
      r = runCase({ ...s, expect }, design);
    } catch (e) {
      if (e instanceof Error && e.name === "DesignError") throw e;
      r = crashed(s, design, e);
    }
    if (r.ok === false) {
      failed++;
      if (first === null && r.violations > 0) {
        first = counterexampleOf(design, "cases", `case ${name}`, s.trace);
      }
    }
    rows.push({
      case: name,
      events: s.trace.events.length,
      ok: r.ok === null ? "n/a" : r.ok,
      violations: r.violations,
      kinds: r.kinds.join(" "),
      unmap_events: r.unmapEvents,
      iterations_per_unmap: r.iterations ?? "",
      removed_needed: r.removedNeeded,
      removed_collateral: r.removedCollateral,
      memory_bytes: r.memoryBytes,
      failures: r.failures.join("; "),
    });
    opts.onProgress?.(i + 1, names.length);
  });
  const status = failed === 0 ? "pass" : "fail";
  return {
    check: "cases",
    status,
    summary: failed === 0
      ? `${names.length} cases: every expectation of a correct design holds`
      : `${failed} of ${names.length} cases fail the expectation of a correct design` +
        (first === null ? " (no stale entry: see cases.csv)" : ""),
    counterexample: first,
    rows,
    elapsedMs: performance.now() - t0,
  };
}
