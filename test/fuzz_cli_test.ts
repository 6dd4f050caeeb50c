/**
 * `deno task fuzz` does what it is asked or says why not: seeds that would run past the
 * last one and malformed durations are one line and exit 2 with nothing written; a
 * campaign cut short (by --minutes, or by the last seed) says so; a design named twice
 * runs once; --max-events bounds every trace; the coverage of the traces is printed.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { runScript } from "./cli.ts";

const fuzz = (args: string[]) => runScript("fuzz.ts", ["--allow-read", "--allow-write"], args);
/** Small, quick runs: one design, short traces, no progress. */
const QUICK = ["--strategy", "rmap", "--max-events", "10", "--quiet"];

/** One line on stderr, exit 2, matching `re`, and `out` not created. */
async function rejected(args: string[], re: RegExp) {
  const dir = await Deno.makeTempDir();
  const out = `${dir}/out`;
  const r = await fuzz([...args, "--out", out]);
  const what = args.join(" ");
  assertEquals(r.code, 2, `${what}: exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assertEquals(lines.length, 1, `${what}: ${r.stderr}`);
  assertMatch(lines[0], re, what);
  assertEquals(r.stdout, "", what);
  assertEquals([...Deno.readDirSync(dir)].length, 0, `${what}: something was written`);
  await Deno.remove(dir, { recursive: true });
}

/** A campaign's summary line, as numbers. */
function summary(stdout: string): { traces: number; events: number; line: string } {
  const line = stdout.split("\n").find((l) => / traces \(.* events\) from seed /.test(l));
  assert(line, stdout);
  const m = /^(\d+) traces \(([\d,]+) events\)/.exec(line)!;
  return { traces: Number(m[1]), events: Number(m[2].replaceAll(",", "")), line };
}

Deno.test("fuzz: seeds that would run past the last one are refused up front, with the largest first seed", async () => {
  await rejected(
    ["--seed", "4294967295", "--runs", "3"],
    /^error: --seed 4294967295 --runs 3: the seeds would run past 4294967295, .*--seed is at most 4294967293/,
  );
  await rejected(["--seed", "4294967294", "--runs", "1000"], /--seed is at most 4294966296\)$/);
  await rejected(["--seed", "4294967296"], /^error: --seed: 4294967296 is out of range/);
});

Deno.test("fuzz: the last seeds run when they fit", async () => {
  const dir = await Deno.makeTempDir();
  const r = await fuzz(["--seed", "4294967293", "--runs", "3", ...QUICK, "--out", dir]);
  assertEquals(r.code, 0, r.stderr);
  const s = summary(r.stdout);
  assertEquals(s.traces, 3);
  assertMatch(s.line, / from seed 4294967293 in .*; nothing found$/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("fuzz: --minutes takes a positive decimal number of minutes, nothing else", async () => {
  for (const m of ["0", "-1", "Infinity", "1e3", "0x10", "five", "NaN", "1.5.2"]) {
    await rejected(
      ["--minutes", m],
      new RegExp(`^error: --minutes: "${m.replace(".", "\\.")}" is not a positive number`),
    );
  }
  await rejected(["--runs", "0"], /^error: --runs 0 needs --minutes$/);
});

Deno.test("fuzz: a campaign cut short says so", async () => {
  const dir = await Deno.makeTempDir();
  // --minutes runs out before --runs: how many of those asked ran (one at least).
  let r = await fuzz([
    "--runs",
    "50",
    "--minutes",
    "0.00001",
    "--jobs",
    "1",
    ...QUICK,
    "--out",
    dir,
  ]);
  assertEquals(r.code, 0, r.stderr);
  let s = summary(r.stdout);
  assert(s.traces >= 1 && s.traces < 50, s.line);
  assertMatch(
    s.line,
    new RegExp(`stopped by --minutes 0\\.00001 after ${s.traces} of the 50 traces asked`),
  );
  // As many as fit in --minutes, but the seeds run out first.
  r = await fuzz(["--runs", "0", "--minutes", "5", "--seed", "4294967294", ...QUICK, "--out", dir]);
  assertEquals(r.code, 0, r.stderr);
  s = summary(r.stdout);
  assertEquals(s.traces, 2);
  assertMatch(s.line, /stopped at seed 4294967295, the last one, before --minutes 5/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("fuzz: a design named twice runs and counts once", async () => {
  // Seed 46 catches maple-v2 (the rejected patch): one trace, one finding, not two.
  const dir = await Deno.makeTempDir();
  const r = await fuzz([
    ...["--seed", "46", "--runs", "1", "--strategy", "maple-v2, maple-v2", "--quiet"],
    ...["--out", dir],
  ]);
  assertEquals(r.code, 1, r.stderr);
  const rows = r.stdout.split("\n").filter((l) => /^(full-walk|maple-v2) /.test(l));
  assertEquals(rows.map((l) => l.replace(/ \(known broken\)/, "").split(/\s+/)), [
    ["full-walk", "1", "0", "0", "0"],
    ["maple-v2", "1", "1", "0", "1"],
  ]);
  assertMatch(summary(r.stdout).line, /; 1 finding\(s\), 1 written to /);
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["fuzz-seed-46-maple-v2.json"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("fuzz: --max-events bounds every trace; the traces' coverage is printed", async () => {
  const dir = await Deno.makeTempDir();
  const r = await fuzz(["--runs", "4", ...QUICK, "--out", dir]);
  assertEquals(r.code, 0, r.stderr);
  const s = summary(r.stdout);
  assertEquals(s.traces, 4);
  assert(s.events > 0 && s.events <= 40, s.line);
  assertMatch(s.line, /traces\/s, [\d.]+ events\/s/);
  // Every value with its count, zeros included, and the gaps.
  assertMatch(r.stdout, new RegExp(`coverage of 4 traces \\(${s.events} events\\)`));
  assertMatch(r.stdout, /op \[events\] +l1-map \d+ · /);
  assertMatch(r.stdout, /PA bits \[traces\] +32 \d+ · 36 \d+ · /);
  assertMatch(r.stdout, /gaps \(never covered\): /);
  await Deno.remove(dir, { recursive: true });
});
