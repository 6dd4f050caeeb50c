/**
 * Workers for the exhaustive checker: each keeps its own VM and {@linkcode Expander} for
 * the whole run (built once from the world's trace text and the design's spec), and
 * expands the batches it is handed; a batch goes to the first idle worker. The histories
 * and the answers travel as transferred buffers.
 *
 * @module
 */

import type { Trace } from "../trace/trace.ts";
import { traceToJson } from "../trace/trace.ts";
import type { DesignSpec } from "./design.ts";
import type { DedupScheme, Expansion } from "./expand.ts";

/** What a worker is told first. */
export interface WorkerInit {
  /** The world, as trace JSON text. */
  world: string;
  /** The design. */
  design: DesignSpec;
  /** How states are merged. */
  scheme: DedupScheme;
}

/** A batch for a worker. */
export interface WorkerTask {
  /** Histories, `depth` bytes each. */
  histories: Uint8Array;
  /** Events per history. */
  depth: number;
  /** Histories in the batch. */
  count: number;
}

/** A worker's answer: the batch's successors, or what went wrong. */
export type WorkerReply = { expansion: Expansion } | { error: string };

/** A fixed set of workers expanding batches. */
export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly waiting: ((w: Worker) => void)[] = [];
  private readonly all: Worker[] = [];

  /** Start `jobs` workers for `world` and `design`. */
  constructor(jobs: number, world: Trace, design: DesignSpec, scheme: DedupScheme) {
    const init: WorkerInit = { world: traceToJson(world), design, scheme };
    for (let i = 0; i < jobs; i++) {
      const w = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
      w.postMessage(init);
      this.all.push(w);
      this.idle.push(w);
    }
  }

  private take(): Promise<Worker> {
    const w = this.idle.pop();
    return w ? Promise.resolve(w) : new Promise((resolve) => this.waiting.push(resolve));
  }

  private give(w: Worker): void {
    const next = this.waiting.shift();
    if (next) next(w);
    else this.idle.push(w);
  }

  /** Expand a batch on the first idle worker. */
  async expand(histories: Uint8Array, depth: number, count: number): Promise<Expansion> {
    const w = await this.take();
    try {
      const reply = await new Promise<WorkerReply>((resolve, reject) => {
        w.onmessage = (e: MessageEvent<WorkerReply>) => resolve(e.data);
        w.onerror = (e: ErrorEvent) => {
          e.preventDefault();
          reject(new Error(`exhaust worker: ${e.message}`));
        };
        const task: WorkerTask = { histories, depth, count };
        w.postMessage(task, [histories.buffer as ArrayBuffer]);
      });
      if ("error" in reply) throw new Error(reply.error);
      return reply.expansion;
    } finally {
      this.give(w);
    }
  }

  /** Stop every worker. */
  close(): void {
    for (const w of this.all) w.terminate();
  }
}
