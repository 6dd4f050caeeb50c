/**
 * Check (b) of a verification: the exhaustive small-scope search (lib/exhaust/) over each
 * built-in world, the time budget shared between them. Breadth first, a counterexample it
 * finds is a shortest one in its world; a design that throws in a reachable state is a
 * counterexample too.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { checkExhaust } from "./exhaust.ts";
 * const r = await checkExhaust("maple-v2", { depth: 5, seconds: 60, worlds: ["4k"], jobs: 1 });
 * assertEquals([r.status, r.counterexample?.trace.events.length], ["fail", 5]);
 * ```
 * @module
 */

import { exhaust } from "../exhaust/search.ts";
import { WORLD_NAMES } from "../exhaust/worlds.ts";
import { designFile } from "../strategies/registry.ts";
import type { CheckResult, CheckRow, ProgressFn } from "./check.ts";
import { type Counterexample, counterexampleOf } from "./counterexample.ts";

/** Options of {@linkcode checkExhaust}. */
export interface ExhaustCheckOptions {
  /** Deepest depth to complete in each world. */
  depth: number;
  /** Wall-time budget in seconds, shared equally between the worlds. */
  seconds: number;
  /** Worlds (default every built-in one). */
  worlds?: readonly string[];
  /** Workers (default: the cores). */
  jobs?: number;
  /** Progress in seconds of the budget. */
  onProgress?: ProgressFn;
}

/** Search every world for `design` (a registered name). */
export async function checkExhaust(
  design: string,
  opts: ExhaustCheckOptions,
): Promise<CheckResult> {
  const t0 = performance.now();
  const worlds = opts.worlds ?? WORLD_NAMES;
  const share = opts.seconds / worlds.length;
  const rows: CheckRow[] = [];
  const parts: string[] = [];
  let first: Counterexample | null = null;
  let distinct = 0;
  for (const [i, w] of worlds.entries()) {
    const r = await exhaust({
      design: { strategy: design, file: designFile(design) },
      world: w,
      depth: opts.depth,
      timeLimitS: share,
      jobs: opts.jobs ?? navigator.hardwareConcurrency,
      onProgress: (p) =>
        opts.onProgress?.(Math.min(share * (i + 1), share * i + p.elapsedS), opts.seconds),
    });
    distinct += r.distinct;
    for (const d of [...r.perDepth, ...(r.partial ? [r.partial] : [])]) {
      rows.push({
        world: w,
        depth: d.depth,
        complete: d !== r.partial,
        explored: d.explored,
        new_distinct: d.distinct,
        seconds: Math.round(d.seconds * 10) / 10,
        dedup: r.scheme,
      });
    }
    parts.push(
      `world ${w} (${r.alphabet} events): every sequence of up to ${r.depthCompleted} events, ` +
        `${r.distinct.toLocaleString("en-US")} distinct states` +
        (r.stopped === "exhausted" ? " (every reachable state)" : ""),
    );
    const c = r.counterexample;
    if (c && first === null) {
      if (c.failure) {
        // The design threw: the trace is the counterexample, the exception its finding.
        first = counterexampleOf(design, "exhaust", `exhaust world ${w}`, c.trace, true, c.failure);
      } else {
        first = counterexampleOf(
          design,
          "exhaust",
          `exhaust world ${w}, depth ${c.trace.events.length}`,
          c.trace,
          true,
        );
      }
    }
    opts.onProgress?.(share * (i + 1), opts.seconds);
    if (first) break;
  }
  return {
    check: "exhaust",
    status: first === null ? "pass" : "fail",
    summary: first === null
      ? `${distinct.toLocaleString("en-US")} distinct states: ${parts.join("; ")}`
      : `a shortest counterexample in ${first.source}, ${first.trace.events.length} events`,
    counterexample: first,
    rows,
    elapsedMs: performance.now() - t0,
  };
}
