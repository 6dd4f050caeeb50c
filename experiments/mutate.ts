/**
 * `deno task mutate [--only a,b] [--jobs N] [--min PCT] [--list]`: a mutation check of the
 * tests. Each mutant of `experiments/mutants.ts` (a small realistic bug in lib/) is applied
 * alone to a temporary copy of the repository, the model's tests run there (unit tests
 * beside lib/'s modules, the cross-strategy property tests, the scenarios), and the mutant
 * is killed when they fail. The copy is checked to pass unmutated first.
 *
 * Per mutant the tests beside the mutated module (the `*_test.ts` of its directory) run
 * first, then, only if they pass, the whole set: a mutant costs one short run when its own
 * module's tests catch it, and a survivor is one that passes everything. A run that takes
 * longer than a few times the unmutated one (a mutant that makes a loop endless) is stopped
 * and counts as killed ("timed out"). A mutant whose code does not compile measures nothing:
 * it is reported as such and fails the run.
 *
 * The score is killed / (mutants - known equivalent ones): an equivalent mutant changes
 * nothing observable, so no test can kill it; each says why in `mutants.ts`. The results
 * are tabulated per mutant and per module (the mutated file).
 *
 * Exit status: 0 when the score is at least PCT% (default 95) and every survivor is a known
 * equivalent; 1 otherwise; 2 bad input.
 *
 * @module
 */

import { describeFsError, fail, parseCli, textTable } from "./cli.ts";
import { type Mutant, MUTANTS } from "./mutants.ts";
import { formatDuration, startProgress } from "./progress.ts";

/** The tests a mutant must survive: the model's, not the CLIs', figures' or Slurm's. */
export const MUTATE_TESTS: readonly string[] = [
  "lib/kvm",
  "lib/host",
  "lib/guest",
  "lib/oracle",
  "lib/trace",
  "lib/strategies",
  "lib/util",
  "lib/fuzz",
  "test/strategies_test.ts",
  "test/scenarios_test.ts",
  "test/cases_test.ts",
];

const USAGE = `usage: deno task mutate [--only a,b] [--jobs N] [--min PCT] [--list] [--quiet]
  --only LIST   run only these mutants (ids, comma-separated)
  --jobs N      mutants tested at once, each in its own copy of the repository (default 2)
  --min PCT     the kill rate required, 0..100 (default 95)
  --list        print the mutants and exit
  --quiet       no progress on stderr
exit status: 0 at least PCT% killed and every survivor a known equivalent, 1 otherwise,
2 bad input`;

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);
// bench/ too: registry_test.ts reads it (no module there keeps a list of design names).
const COPY = ["lib", "experiments", "test", "docs", "bench", "vendor", "deno.json", "deno.lock"];

interface Outcome {
  mutant: Mutant;
  killed: boolean;
  /** The mutated code does not compile: no test ran, so the mutant measures nothing. */
  invalid: string | null;
  by: string;
  seconds: number;
}

/** Run `cmd` in `cwd`; stopped (SIGKILL) after `timeoutMs`, which `timedOut` then says. */
async function run(cmd: string, args: string[], cwd: string, timeoutMs = Infinity) {
  const child = new Deno.Command(cmd, {
    args,
    cwd,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = Number.isFinite(timeoutMs)
    ? setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs)
    : undefined;
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: out.code, timedOut, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

/** The tests `paths`, as `deno task test` runs them, in `dir`. */
function runTests(dir: string, paths: readonly string[], timeoutMs = Infinity) {
  return run(
    Deno.execPath(),
    [
      "test",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-env",
      "--fail-fast",
      ...paths,
    ],
    dir,
    timeoutMs,
  );
}

/** The unit tests beside a mutated file: the `*_test.ts` files of its directory. */
function testsBeside(root: string, file: string): string[] {
  const dir = file.slice(0, file.lastIndexOf("/") + 1);
  const out: string[] = [];
  for (const e of Deno.readDirSync(`${root}${dir}`)) {
    if (e.isFile && e.name.endsWith("_test.ts")) out.push(`${dir}${e.name}`);
  }
  return out.sort();
}

/**
 * Per module (mutated file): mutants, killed, survived (unexplained, or not compiling) and
 * known equivalent, and the score.
 */
function moduleTable(outcomes: readonly Outcome[]): (string | number)[][] {
  const rows = new Map<string, number[]>();
  for (const o of outcomes) {
    const r = rows.get(o.mutant.file) ?? [0, 0, 0, 0];
    rows.set(o.mutant.file, r);
    r[0]++;
    if (o.killed) r[1]++;
    else if (o.mutant.equivalent && !o.invalid) r[3]++;
    else r[2]++;
  }
  const total = [0, 0, 0, 0];
  for (const r of rows.values()) r.forEach((n, i) => total[i] += n);
  const rate = (r: number[]) => `${((100 * r[1]) / Math.max(1, r[0] - r[3])).toFixed(1)}%`;
  return [
    ["module", "mutants", "killed", "survived", "equivalent", "score"],
    ...[...rows].map(([file, r]) => [file, ...r, rate(r)]),
    ["all", ...total, rate(total)],
  ];
}

/** Why the mutated code does not even load (a mutant must be a bug, not a syntax error). */
function compileError(text: string): string | null {
  const m =
    /^error: (SyntaxError.*|Type checking failed.*|The module's source code could not be parsed.*)$/m
      .exec(text);
  return m ? m[1] : null;
}

/** The first failing test's name in deno test's output. */
function firstFailure(text: string): string {
  const m = /^(.+?) => \.\/(\S+)/m.exec(text);
  return m ? `${m[1]} (${m[2]})` : text.trim().split("\n").pop() ?? "";
}

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    only: { type: "string" },
    jobs: { type: "string", default: "2" },
    min: { type: "string", default: "95" },
    list: { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
  });
  const v = args.values;
  if (v.list) {
    console.log(
      textTable([["id", "file", "what"], ...MUTANTS.map((m) => [m.id, m.file, m.what])]),
    );
    return;
  }
  if (!/^\d+$/.test(v.jobs) || Number(v.jobs) < 1 || Number(v.jobs) > 64) {
    fail(`--jobs: "${v.jobs}" is not a whole number in 1..64`);
  }
  const min = Number(v.min);
  if (!/^\d+(\.\d+)?$/.test(v.min) || min > 100) fail(`--min: "${v.min}" is not in 0..100`);
  let mutants = [...MUTANTS];
  if (v.only !== undefined) {
    const ids = v.only.split(",").map((s) => s.trim()).filter((s) => s);
    for (const id of ids) {
      if (!MUTANTS.some((m) => m.id === id)) fail(`--only: unknown mutant "${id}" (see --list)`);
    }
    mutants = MUTANTS.filter((m) => ids.includes(m.id));
  }
  for (const m of mutants) {
    const n = Deno.readTextFileSync(`${ROOT}${m.file}`).split(m.find).length - 1;
    if (n !== 1) fail(`mutant ${m.id}: its text occurs ${n} times in ${m.file} (must be once)`);
  }
  const jobs = Math.min(Number(v.jobs), mutants.length);
  const t0 = performance.now();
  // Progress from the start, in test runs: the unmutated run (a minute or two, alone)
  // weighs `jobs` runs, as long as `jobs` mutants tested side by side, so the ETA holds.
  const progress = startProgress({
    label: "mutate",
    total: mutants.length + jobs,
    unit: "test runs",
    quiet: v.quiet,
  });
  progress.update(0, "copying the repository, then the unmutated tests");

  // One copy of the repository per job, checked to pass unmutated.
  const dirs: string[] = [];
  try {
    for (let j = 0; j < jobs; j++) {
      const dir = await Deno.makeTempDir({ prefix: "s2lab-mutate-" });
      dirs.push(dir);
      const cp = await run("cp", ["-r", ...COPY.map((f) => `${ROOT}${f}`), dir], ROOT);
      if (cp.code !== 0) fail(`cannot copy the repository to ${dir}: ${cp.text.trim()}`, 1);
    }
  } catch (e) {
    fail(`cannot make a temporary copy: ${describeFsError(e)}`, 1);
  }
  const cleanup = () => {
    for (const d of dirs) Deno.removeSync(d, { recursive: true });
  };
  progress.update(0, "the unmutated tests");
  const tBase = performance.now();
  const base = await runTests(dirs[0], MUTATE_TESTS);
  if (base.code !== 0) {
    await progress.stop();
    cleanup();
    fail(`the tests fail without any mutant: ${firstFailure(base.text)}`, 1);
  }
  const baseSeconds = (performance.now() - t0) / 1000;
  // Side by side the runs share the cores: allow a mutated run several unmutated ones.
  const timeoutMs = Math.max(120_000, 3 * jobs * (performance.now() - tBase));
  progress.update(jobs, "0 killed");
  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async (dir: string) => {
    while (next < mutants.length) {
      const m = mutants[next++];
      const path = `${dir}/${m.file}`;
      const original = await Deno.readTextFile(path);
      await Deno.writeTextFile(path, original.replace(m.find, m.replace));
      const t = performance.now();
      const own = testsBeside(`${dir}/`, m.file);
      let r = own.length > 0 ? await runTests(dir, own, timeoutMs) : null;
      if (!r || (r.code === 0 && !r.timedOut)) r = await runTests(dir, MUTATE_TESTS, timeoutMs);
      await Deno.writeTextFile(path, original);
      const broken = r.code !== 0 ? compileError(r.text) : null;
      const dead = (r.code !== 0 && !broken) || r.timedOut;
      outcomes.push({
        mutant: m,
        killed: dead,
        invalid: broken,
        by: r.timedOut
          ? `timed out after ${formatDuration(timeoutMs / 1000)}`
          : dead
          ? firstFailure(r.text)
          : "",
        seconds: (performance.now() - t) / 1000,
      });
      const killed = outcomes.filter((o) => o.killed).length;
      progress.update(jobs + outcomes.length, `${killed} killed`);
    }
  };
  await Promise.all(dirs.map(worker));
  await progress.stop();
  cleanup();

  outcomes.sort((a, b) => mutants.indexOf(a.mutant) - mutants.indexOf(b.mutant));
  console.log(textTable([
    ["mutant", "result", "killed by (first failing test) / why it survives"],
    ...outcomes.map((o) => [
      o.mutant.id,
      o.killed
        ? "killed"
        : o.invalid
        ? "DOES NOT COMPILE"
        : o.mutant.equivalent
        ? "equivalent"
        : "SURVIVED",
      o.killed ? o.by.slice(0, 110) : (o.invalid ?? o.mutant.equivalent ?? o.mutant.what),
    ]),
  ]));
  console.log(textTable(moduleTable(outcomes)));
  const wronglyEquivalent = outcomes.filter((o) => o.killed && o.mutant.equivalent);
  for (const o of wronglyEquivalent) {
    console.log(`note: ${o.mutant.id} is marked equivalent but was killed: its argument is wrong`);
  }
  const killed = outcomes.filter((o) => o.killed).length;
  const unexplained = outcomes.filter((o) => !o.killed && (o.invalid || !o.mutant.equivalent));
  const equivalent = outcomes.length - killed - unexplained.length;
  // The mutation score: killed over the mutants a test could kill (equivalent ones cannot).
  const rate = (100 * killed) / Math.max(1, outcomes.length - equivalent);
  console.log(
    `${killed} of ${outcomes.length} mutants killed: score ${rate.toFixed(1)}% of the ` +
      `${outcomes.length - equivalent} that are not equivalent (${equivalent} known ` +
      `equivalent, ${unexplained.length} unexplained survivor(s) or mutant(s) that do not ` +
      `compile) in ` +
      `${formatDuration((performance.now() - t0) / 1000)} ` +
      `(the unmutated tests took ${formatDuration(baseSeconds)})`,
  );
  Deno.exit(rate >= min && unexplained.length === 0 ? 0 : 1);
}

await main();
