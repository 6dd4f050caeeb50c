/**
 * A sweep worker (a Deno Worker of `experiments/pool.ts`, started by
 * `experiments/sweep.ts`): receives one grid point at a time, generates its trace, replays
 * it with the strategies asked, and posts the rows back.
 *
 * Messages in: {@linkcode WorkerTask}. Messages out: `PoolReply<PointResult>`, whose
 * progress is the fraction of the point done since the last report.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import type { CostModel } from "../lib/sweep/costmodel.ts";
import type { PointSpec } from "../lib/sweep/grid.ts";
import { type PointResult, runPoint } from "../lib/sweep/run.ts";
import { loadDesigns } from "./designs.ts";
import type { PoolReply } from "./pool.ts";

/** One point to run. */
export interface WorkerTask {
  /** The point. */
  point: PointSpec;
  /** Strategies still to replay for it. */
  strategies: string[];
  /** Design files to load first (`--design`, absolute paths). */
  designs: string[];
  /** The cost model. */
  cost: CostModel;
  /** The oracle checks every leaf after every event (`--full-check`). */
  fullCheck: boolean;
}

self.onmessage = async (e: MessageEvent<WorkerTask>) => {
  const t = e.data;
  let reply: PoolReply<PointResult>;
  // Progress inside the point, at most every 250 ms.
  let last = 0, reported = 0;
  const onProgress = (fraction: number) => {
    const now = performance.now();
    if (now - last < 250) return;
    last = now;
    self.postMessage({ type: "progress", work: fraction - reported } as PoolReply<PointResult>);
    reported = fraction;
  };
  try {
    await loadDesigns(t.designs);
    const result = runPoint(t.point, t.strategies, t.cost, { fullCheck: t.fullCheck, onProgress });
    reply = { type: "done", result };
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    reply = { type: "error", message };
  }
  self.postMessage(reply);
};
