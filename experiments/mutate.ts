/**
 * `deno task mutate [--only a,b] [--jobs N] [--min PCT] [--list]`: a mutation check of the
 * tests. Each mutant of `experiments/mutants.ts` (a small realistic bug in lib/) is applied
 * alone to a temporary copy of the repository, the model's tests run there (unit tests
 * beside lib/'s modules, the cross-strategy property tests, the scenarios), and the mutant
 * is killed when they fail. The copy is checked to pass unmutated first.
 *
 * The score is killed / (mutants - known equivalent ones): an equivalent mutant changes
 * nothing observable, so no test can kill it; each says why in `mutants.ts`.
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
const COPY = ["lib", "experiments", "test", "vendor", "deno.json", "deno.lock"];

interface Outcome {
  mutant: Mutant;
  killed: boolean;
  by: string;
  seconds: number;
}

async function run(cmd: string, args: string[], cwd: string) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

/** The tests, as `deno task test` runs them, in `dir`. */
function runTests(dir: string) {
  return run(Deno.execPath(), [
    "test",
    "--allow-read",
    "--allow-write",
    "--allow-run",
    "--allow-env",
    "--fail-fast",
    ...MUTATE_TESTS,
  ], dir);
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
  const base = await runTests(dirs[0]);
  if (base.code !== 0) {
    await progress.stop();
    cleanup();
    fail(`the tests fail without any mutant: ${firstFailure(base.text)}`, 1);
  }
  const baseSeconds = (performance.now() - t0) / 1000;
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
      const r = await runTests(dir);
      await Deno.writeTextFile(path, original);
      outcomes.push({
        mutant: m,
        killed: r.code !== 0,
        by: r.code !== 0 ? firstFailure(r.text) : "",
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
      o.killed ? "killed" : o.mutant.equivalent ? "equivalent" : "SURVIVED",
      o.killed ? o.by.slice(0, 110) : (o.mutant.equivalent ?? o.mutant.what),
    ]),
  ]));
  const killed = outcomes.filter((o) => o.killed).length;
  const unexplained = outcomes.filter((o) => !o.killed && !o.mutant.equivalent);
  const equivalent = outcomes.length - killed - unexplained.length;
  // The mutation score: killed over the mutants a test could kill (equivalent ones cannot).
  const rate = (100 * killed) / Math.max(1, outcomes.length - equivalent);
  console.log(
    `${killed} of ${outcomes.length} mutants killed: score ${rate.toFixed(1)}% of the ` +
      `${outcomes.length - equivalent} that are not equivalent (${equivalent} known ` +
      `equivalent, ${unexplained.length} unexplained survivor(s)) in ` +
      `${formatDuration((performance.now() - t0) / 1000)} ` +
      `(the unmutated tests took ${formatDuration(baseSeconds)})`,
  );
  Deno.exit(rate >= min && unexplained.length === 0 ? 0 : 1);
}

await main();
