/**
 * Check (c) of a verification: a seeded fuzz campaign (lib/fuzz/generate.ts's broad
 * random traces), each trace replayed under the oracle with the design and with upstream's
 * full walk. The campaign stops at the first trace on which the design leaves a stale entry
 * that the full walk does not; that trace, minimized, is the counterexample. A trace on
 * which the full walk itself is flagged says nothing of the design: it is counted apart.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { checkFuzz } from "./fuzz.ts";
 * const r = checkFuzz("rmap", { seed: 1, traces: 3 });
 * assertEquals([r.status, r.rows.length], ["pass", 3]);
 * ```
 * @module
 */

import { fuzzOne } from "../fuzz/run.ts";
import type { CheckResult, CheckRow, ProgressFn } from "./check.ts";
import { type Counterexample, counterexampleOf } from "./counterexample.ts";

/** Options of {@linkcode checkFuzz}. */
export interface FuzzCheckOptions {
  /** First seed. */
  seed: number;
  /** Traces to run: seeds `seed` .. `seed + traces - 1`. */
  traces: number;
  /** Progress: traces done of all. */
  onProgress?: ProgressFn;
}

/** Run the fuzz campaign for `design`. */
export function checkFuzz(design: string, opts: FuzzCheckOptions): CheckResult {
  const t0 = performance.now();
  const rows: CheckRow[] = [];
  let first: Counterexample | null = null;
  let events = 0, upstreamFlagged = 0;
  for (let i = 0; i < opts.traces && first === null; i++) {
    const seed = opts.seed + i;
    const r = fuzzOne(seed, [design], { minimize: false });
    const mine = r.runs.find((x) => x.strategy === design) ?? r.runs[0];
    const up = r.runs[0];
    events += r.events;
    if (up.violations > 0) upstreamFlagged++;
    rows.push({
      seed,
      events: r.events,
      violations: mine.violations,
      first_kind: mine.firstKind,
      kvm_baseline: mine.kvmBaseline,
      upstream_violations: up.violations,
    });
    if (mine.violations > 0 && up.violations === 0) {
      first = counterexampleOf(design, "fuzz", `fuzz seed ${seed}`, r.trace);
    }
    opts.onProgress?.(i + 1, opts.traces);
  }
  const n = rows.length;
  const apart = upstreamFlagged > 0
    ? `; ${upstreamFlagged} trace${upstreamFlagged > 1 ? "s" : ""} on which upstream's full ` +
      "walk is flagged too (the model's, not the design's: see fuzz.csv)"
    : "";
  return {
    check: "fuzz",
    status: first === null ? "pass" : "fail",
    summary: first === null
      ? `${n.toLocaleString("en-US")} random traces (seeds ${opts.seed}..${opts.seed + n - 1}, ` +
        `${events.toLocaleString("en-US")} events): no stale entry${apart}`
      : `a stale entry on random trace seed ${opts.seed + n - 1}, after ${n} traces${apart}`,
    counterexample: first,
    rows,
    elapsedMs: performance.now() - t0,
  };
}
