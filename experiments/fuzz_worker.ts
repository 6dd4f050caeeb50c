/**
 * A fuzz worker (a Deno Worker started by `experiments/fuzz.ts`): runs one seed at a time
 * (lib/fuzz/run.ts) and posts back its summary, what its trace covered
 * (lib/fuzz/coverage.ts) and its findings, shrunk, as trace JSON.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { type Coverage, traceCoverage } from "../lib/fuzz/coverage.ts";
import { fuzzOne } from "../lib/fuzz/run.ts";
import { traceToJson } from "../lib/trace/trace.ts";
import { loadDesigns } from "./designs.ts";
import type { PoolReply } from "./pool.ts";

/** One seed to run. */
export interface FuzzTask {
  /** The trace seed. */
  seed: number;
  /** Designs to compare with full-walk. */
  strategies: string[];
  /** Design files to load first (`--design`, absolute paths). */
  designs: string[];
  /** Most events per trace. */
  maxEvents: number;
  /** The directory findings go to (for the replay command each one carries). */
  out: string;
}

/** What a worker answers for a seed. */
export interface FuzzTaskResult {
  /** The seed. */
  seed: number;
  /** Events in the trace. */
  events: number;
  /** What the trace covered. */
  coverage: Coverage;
  /** Per strategy (full-walk first): violations and kvm-baseline leaves. */
  runs: { strategy: string; violations: number; kvmBaseline: number }[];
  /** Findings: strategy, one line, its file name in `out`, the shrunk trace as JSON text. */
  findings: {
    strategy: string;
    what: string;
    summary: string;
    file: string;
    json: string;
    events: number;
  }[];
}

self.onmessage = async (e: MessageEvent<FuzzTask>) => {
  const t = e.data;
  let reply: PoolReply<FuzzTaskResult>;
  try {
    await loadDesigns(t.designs);
    const r = fuzzOne(t.seed, t.strategies, { maxEvents: t.maxEvents });
    reply = {
      type: "done",
      result: {
        seed: t.seed,
        events: r.events,
        coverage: traceCoverage(r.trace),
        runs: r.runs.map(({ strategy, violations, kvmBaseline }) => ({
          strategy,
          violations,
          kvmBaseline,
        })),
        findings: r.findings.map((f) => {
          const small = f.minimized ?? r.trace;
          const file = `fuzz-seed-${t.seed}-${f.strategy}.json`;
          const json = traceToJson({
            ...small,
            description: `${f.summary}. Found by deno task fuzz --seed ${t.seed} --runs 1 ` +
              `--strategy ${f.strategy}; shrunk from ${r.events} to ${small.events.length} ` +
              `events. Replay: deno task replay ${t.out}/${file} --strategy ${f.strategy}`,
          });
          return { ...f, file, json, events: small.events.length };
        }),
      },
    };
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    reply = { type: "error", message: `seed ${t.seed}: ${message}` };
  }
  self.postMessage(reply);
};
