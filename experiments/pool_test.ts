import { assert, assertEquals } from "@std/assert";
import { runPool } from "./pool.ts";

/** A task of the test worker: answer `n` after `ms`, or fail when `fail`. */
interface Job {
  n: number;
  ms: number;
  bytes: number;
  fail?: boolean;
}

/** A worker that sleeps `ms`, reports half its work, then answers `n` (or an error). */
const WORKER = URL.createObjectURL(
  new Blob([
    `self.onmessage = async (e) => {
      const t = e.data;
      self.postMessage({ type: "progress", work: 0.5 });
      await new Promise((r) => setTimeout(r, t.ms));
      self.postMessage(t.fail ? { type: "error", message: "boom " + t.n } : { type: "done", result: t.n });
    };`,
  ], { type: "application/javascript" }),
);

Deno.test("pool: a task starts only while it fits beside the running ones; any task runs alone", async () => {
  const jobs: Job[] = [
    { n: 0, ms: 60, bytes: 6 },
    { n: 1, ms: 10, bytes: 5 },
    { n: 2, ms: 10, bytes: 2 },
    { n: 3, ms: 10, bytes: 12 },
    { n: 4, ms: 10, bytes: 1 },
  ];
  const started: number[] = [], done: number[] = [], admitted: number[] = [];
  let progress = 0, most = 0;
  await runPool<Job, number>(WORKER, jobs, 3, {
    admit: (t, now) => {
      assert(now.length > 0, "asked with nothing running");
      const bytes = now.reduce((a, r) => a + r.bytes, 0) + t.bytes;
      if (bytes > 8) return false;
      admitted.push(t.n);
      most = Math.max(most, bytes);
      return true;
    },
    progress: (t, w) => {
      started.push(t.n);
      progress += w;
    },
    done: (t, r) => {
      assertEquals(r, t.n);
      done.push(r);
    },
    error: (_t, m) => {
      throw new Error(m);
    },
  });
  assertEquals(done.toSorted(), [0, 1, 2, 3, 4]);
  assertEquals(progress, 2.5);
  // 0 starts without asking (nothing runs); 1 (5 bytes) waits while 0 (6) runs, and 2 (2)
  // starts beside it; 3 (12) fits beside nothing and runs alone. (Which of 0 and 2 reports
  // progress first is the workers' race, so the order is read from the admissions.)
  assert(!admitted.includes(0), admitted.join());
  assertEquals(admitted[0], 2);
  assert(started.indexOf(2) < started.indexOf(1), started.join());
  assert(!admitted.includes(3), admitted.join());
  assert(most <= 8, `${most} bytes ran at once`);
});

Deno.test("pool: a lazy task list is read by index, and `more` stops handing tasks out", async () => {
  let read = 0;
  const lazy = new Proxy([] as Job[], {
    get(target, p, r) {
      if (p === "length") return 1e6;
      if (typeof p === "string" && /^\d+$/.test(p)) {
        read++;
        return { n: Number(p), ms: 1, bytes: 1 };
      }
      return Reflect.get(target, p, r);
    },
  });
  let done = 0;
  await runPool<Job, number>(WORKER, lazy, 2, {
    more: () => done < 5,
    done: () => done++,
    error: (_t, m) => {
      throw new Error(m);
    },
  });
  assert(done >= 5 && done <= 6, `${done} done`);
  assertEquals(read, done);
});

Deno.test("pool: the first error stops the pool", async () => {
  const jobs: Job[] = Array.from({ length: 20 }, (_, n) => ({ n, ms: 5, bytes: 1, fail: n === 2 }));
  const errors: string[] = [];
  let done = 0;
  await runPool<Job, number>(WORKER, jobs, 1, {
    done: () => done++,
    error: (_t, m) => errors.push(m),
  });
  assertEquals(errors, ["boom 2"]);
  assertEquals(done, 2);
});
