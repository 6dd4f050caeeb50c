/**
 * A sweep worker (a Deno Worker started by `experiments/sweep.ts`): receives one grid
 * point at a time, generates its trace, replays it with the strategies asked, and posts
 * the rows back.
 *
 * Messages in: {@linkcode WorkerTask}. Messages out: {@linkcode WorkerReply}.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import type { CostModel } from "../lib/sweep/costmodel.ts";
import type { PointSpec } from "../lib/sweep/grid.ts";
import { type PointResult, runPoint } from "../lib/sweep/run.ts";

/** One point to run. */
export interface WorkerTask {
  /** The point. */
  point: PointSpec;
  /** Strategies still to replay for it. */
  strategies: string[];
  /** The cost model. */
  cost: CostModel;
  /** The oracle checks every leaf after every event (`--full-check`). */
  fullCheck: boolean;
}

/** What the worker answers for a task. */
export type WorkerReply =
  | ({ type: "done"; index: number } & PointResult)
  | { type: "progress"; index: number; fraction: number }
  | { type: "error"; index: number; message: string };

self.onmessage = (e: MessageEvent<WorkerTask>) => {
  const t = e.data;
  let reply: WorkerReply;
  // Progress inside the point, at most every 250 ms.
  let last = 0;
  const onProgress = (fraction: number) => {
    const now = performance.now();
    if (now - last < 250) return;
    last = now;
    self.postMessage({ type: "progress", index: t.point.index, fraction } as WorkerReply);
  };
  try {
    reply = {
      type: "done",
      index: t.point.index,
      ...runPoint(t.point, t.strategies, t.cost, { fullCheck: t.fullCheck, onProgress }),
    };
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    reply = { type: "error", index: t.point.index, message };
  }
  self.postMessage(reply);
};
