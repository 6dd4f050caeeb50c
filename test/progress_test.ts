/**
 * experiments/progress.ts, the progress every long task shows (sweep, fuzz, mutate):
 * without a terminal, one plain line on a timer even while no work is reported, so that
 * elapsed time moves; the ETA from work done; nothing with quiet.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { eta, formatDuration } from "../experiments/progress.ts";
import { ROOT } from "./cli.ts";

/** Run `code` (a module body) with stderr piped, i.e. not a terminal. */
async function runWithPipedStderr(code: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stderr).trim().split("\n").filter((l) => l);
}

Deno.test("progress: without a terminal, plain lines on a timer, the last one at stop", async () => {
  const lines = await runWithPipedStderr(`
    import { startProgress } from "./experiments/progress.ts";
    const p = startProgress({ label: "job", total: 40, unit: "runs", everySeconds: 0.2 });
    p.update(10, "a note");
    // No update for a while: the timer still prints.
    await new Promise((r) => setTimeout(r, 700));
    p.update(40);
    await p.stop();
  `);
  assert(lines.length >= 3, lines.join("\n"));
  for (const l of lines.slice(0, -1)) {
    assertMatch(l, /^job: 10\/40 runs \(25%\), \d+s elapsed, ETA \d+s; a note$/);
  }
  assertMatch(lines.at(-1)!, /^job: 40\/40 runs \(100%\), \d+s elapsed, ETA 0s; a note$/);
  assert(lines.every((l) => !l.includes("\x1b")), "no escape codes");
});

Deno.test("progress: work that runs synchronously (the timer starved) still gets its lines", async () => {
  const lines = await runWithPipedStderr(`
    import { startProgress } from "./experiments/progress.ts";
    const p = startProgress({ label: "job", total: 3, unit: "runs", everySeconds: 0.1 });
    for (let i = 1; i <= 3; i++) {
      const until = performance.now() + 250;
      while (performance.now() < until) { /* a replay that never yields */ }
      p.update(i, "run " + i);
    }
    await p.stop();
  `);
  // One line per update (each came after a due draw), and the last at stop.
  assertEquals(lines.map((l) => l.replace(/, \d+s elapsed, ETA \d+s/, "")), [
    "job: 1/3 runs (33%); run 1",
    "job: 2/3 runs (66%); run 2",
    "job: 3/3 runs (100%); run 3",
    "job: 3/3 runs (100%); run 3",
  ]);
});

Deno.test("progress: quiet prints nothing", async () => {
  const lines = await runWithPipedStderr(`
    import { startProgress } from "./experiments/progress.ts";
    const p = startProgress({ label: "job", total: 4, unit: "runs", quiet: true, everySeconds: 0.05 });
    p.update(2);
    await new Promise((r) => setTimeout(r, 200));
    await p.stop();
  `);
  assertEquals(lines, []);
});

Deno.test("progress: ETA from work done, durations as a person reads them", () => {
  assertEquals(eta(60, 25, 100), 180);
  assertEquals(eta(60, 0, 100), Infinity);
  assertEquals(formatDuration(Infinity), "?");
  assertEquals([formatDuration(42), formatDuration(185), formatDuration(3720)], [
    "42s",
    "3m05s",
    "1h02m",
  ]);
});
