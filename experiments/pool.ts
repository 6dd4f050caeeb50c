/**
 * A pool of Deno workers for the long tasks (sweep, fuzz): tasks are handed out one at a
 * time, largest first when the caller sorts them so; a worker answers a task with any
 * number of `progress` messages and one `done` or `error`. The first error stops the pool.
 *
 * @module
 */

/** What a worker posts back for a task. */
export type PoolReply<R> =
  | { type: "done"; result: R }
  | { type: "progress"; work: number }
  | { type: "error"; message: string };

/** Callbacks of {@linkcode runPool}. */
export interface PoolHandlers<T, R> {
  /** A task finished. */
  done(task: T, result: R): void;
  /** A task reported `work` more units of progress. */
  progress?(task: T, work: number): void;
  /** A task failed; the pool stops. */
  error(task: T, message: string): void;
  /** Whether to hand out more tasks (e.g. a time limit); default always. */
  more?(): boolean;
}

/**
 * Run `tasks` on `jobs` workers of `workerUrl`; resolves when every task handed out has
 * finished (or one failed).
 */
export function runPool<T, R>(
  workerUrl: string,
  tasks: readonly T[],
  jobs: number,
  h: PoolHandlers<T, R>,
): Promise<void> {
  if (tasks.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    let next = 0, running = 0, stopped = false;
    const workers: Worker[] = [];
    const stopAll = () => {
      stopped = true;
      for (const w of workers) w.terminate();
      resolve();
    };
    const feed = (w: Worker, slot: { task?: T }) => {
      if (stopped || next >= tasks.length || (h.more && !h.more())) {
        w.terminate();
        if (running === 0) stopAll();
        return;
      }
      const t = tasks[next++];
      slot.task = t;
      running++;
      w.postMessage(t);
    };
    for (let j = 0; j < Math.max(1, Math.min(jobs, tasks.length)); j++) {
      const w = new Worker(workerUrl, { type: "module" });
      const slot: { task?: T } = {};
      w.onmessage = (e: MessageEvent<PoolReply<R>>) => {
        const t = slot.task!;
        const m = e.data;
        if (m.type === "progress") {
          h.progress?.(t, m.work);
          return;
        }
        running--;
        if (m.type === "error") {
          h.error(t, m.message);
          stopAll();
          return;
        }
        h.done(t, m.result);
        feed(w, slot);
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        h.error(slot.task ?? tasks[0], e.message);
        stopAll();
      };
      workers.push(w);
      feed(w, slot);
    }
  });
}
