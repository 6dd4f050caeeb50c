/**
 * A pool of Deno workers for the long tasks (sweep, fuzz): tasks are handed out one at a
 * time, in the order given (largest first when the caller sorts them so), each to the next
 * free worker; a worker answers a task with any number of `progress` messages and one
 * `done` or `error`. The first error stops the pool. A caller may hold a task back until
 * it fits beside the running ones (`admit`, e.g. their memory), and stop handing tasks out
 * (`more`, e.g. a time limit).
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
  /**
   * Whether `task` may start beside the tasks running now; the first pending task
   * admitted starts, and any task may start when none runs. Default: every task.
   */
  admit?(task: T, running: readonly T[]): boolean;
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
    // Tasks not handed out yet: those held back (in order), then tasks[next..]. `tasks`
    // may be a lazy list (a fuzz campaign's), so it is read by index, never copied.
    const held: T[] = [];
    let next = 0;
    const left = () => held.length + tasks.length - next;
    const running: Slot<T>[] = [];
    const idle: Slot<T>[] = [];
    let stopped = false;
    const workers: Worker[] = [];
    const stopAll = () => {
      stopped = true;
      for (const w of workers) w.terminate();
      resolve();
    };
    // No more tasks are handed out once `more` said so (asked once per task to hand out).
    let ended = false;
    const wanted = () => {
      if (!ended && (stopped || left() === 0 || (h.more !== undefined && !h.more()))) ended = true;
      return !ended;
    };
    // The first task not handed out that fits beside the running ones, or undefined.
    const take = (): T | undefined => {
      const now = running.map((s) => s.task!);
      const fits = (t: T) => now.length === 0 || !h.admit || h.admit(t, now);
      const i = held.findIndex(fits);
      if (i >= 0) return held.splice(i, 1)[0];
      while (next < tasks.length) {
        const t = tasks[next++];
        if (fits(t)) return t;
        held.push(t);
      }
      return undefined;
    };
    const start = (slot: Slot<T>, t: T) => {
      slot.task = t;
      running.push(slot);
      slot.worker.postMessage(t);
    };
    // Give free workers what can start; once nothing more will, free workers end.
    const feed = () => {
      while (idle.length > 0 && wanted()) {
        const t = take();
        if (t === undefined) break; // none fits beside the running ones: wait for one to end
        start(idle.shift()!, t);
      }
      if (ended) {
        for (const s of idle.splice(0)) s.worker.terminate();
        if (running.length === 0) stopAll();
      }
    };
    for (let j = 0; j < Math.max(1, Math.min(jobs, tasks.length)); j++) {
      const slot: Slot<T> = { worker: new Worker(workerUrl, { type: "module" }) };
      slot.worker.onmessage = (e: MessageEvent<PoolReply<R>>) => {
        const t = slot.task!;
        const m = e.data;
        if (m.type === "progress") {
          h.progress?.(t, m.work);
          return;
        }
        running.splice(running.indexOf(slot), 1);
        slot.task = undefined;
        if (m.type === "error") {
          h.error(t, m.message);
          stopAll();
          return;
        }
        h.done(t, m.result);
        idle.push(slot);
        feed();
      };
      slot.worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        h.error(slot.task ?? tasks[0], e.message);
        stopAll();
      };
      workers.push(slot.worker);
      idle.push(slot);
    }
    feed();
  });
}

/** A worker and the task it runs (none while idle). */
interface Slot<T> {
  readonly worker: Worker;
  task?: T;
}
