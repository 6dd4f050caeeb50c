/**
 * `deno task fuzz [--runs N] [--seed S] [--strategy a,b] [--minutes M] [--out DIR]`:
 * differential fuzzing. Each run generates a broad random trace from its seed
 * (lib/fuzz/generate.ts: every op, granule pair, PA and IPA size, memslot layout and
 * backing, TLBI form, recycling, memslot changes), replays it under the oracle with
 * upstream KVM (`full-walk`) and with each design, and shrinks anything found to a minimal
 * trace, written to DIR with the command that replays it. Runs go to a pool of Deno
 * workers; progress on stderr; at the end a summary table and what the traces covered
 * (lib/fuzz/coverage.ts: every value of every dimension, zeros included, then the gaps).
 *
 * Found: a violation blamed on full-walk (an oracle false positive or a model bug), or a
 * violation of a design asked for. `kvm-baseline` findings (what KVM itself leaves) are
 * counted, not reported as found.
 *
 * Exit status: 0 nothing found, 1 something found, 2 bad input (one line, nothing run).
 *
 * @module
 */

import { addCoverage, emptyCoverage, formatCoverage } from "../lib/fuzz/coverage.ts";
import { FUZZ_MAX_EVENTS } from "../lib/fuzz/generate.ts";
import { KNOWN_BROKEN } from "../lib/fuzz/run.ts";
import { designNames, STRATEGY_NAMES, UPSTREAM } from "../lib/strategies/mod.ts";
import { DESIGN_USAGE, designFlag } from "./designs.ts";
import { checkOutputDir, describeFsError, fail, parseCli, textTable } from "./cli.ts";
import type { FuzzTask, FuzzTaskResult } from "./fuzz_worker.ts";
import { runPool } from "./pool.ts";
import { formatDuration, startProgress } from "./progress.ts";

const CORRECT = STRATEGY_NAMES.filter((s) => !KNOWN_BROKEN.includes(s));
/** The last seed: seeds are 32-bit (the generator's PRNG takes 32 bits). */
const MAX_SEED = 2 ** 32 - 1;

const USAGE =
  `usage: deno task fuzz [--runs N] [--seed S] [--strategy a,b] [--design FILES] [--minutes M] [--out DIR]
  --runs N         traces to run (default 1000; 0 with --minutes: as many as fit, up to
                   the last seed)
  --seed S         first seed, 0..4294967295 (default 1); run i uses seed S+i, so
                   --seed X --runs 1 runs seed X alone; S+N-1 may not pass 4294967295
  --strategy LIST  designs to compare with full-walk (default the correct ones:
                   ${CORRECT.join(", ")}, and every --design; ${KNOWN_BROKEN.join(", ")} is
                   known broken: name it to watch it caught)
${DESIGN_USAGE}
  --minutes M      stop handing out runs after M minutes (whichever of --runs and
                   --minutes comes first; one run at least); a decimal number
  --out DIR        where shrunk findings are written (default results/fuzz)
  --keep N         most findings written per design (default 20)
  --max-events N   most events per trace, 10..100000 (default ${FUZZ_MAX_EVENTS})
  --jobs N         workers (default: the cores)
  --quiet          no progress on stderr
exit status: 0 nothing found, 1 found (written to DIR), 2 bad input`;

/** `--minutes`: a positive decimal number of minutes (no exponent, hex or Infinity). */
function positiveMinutes(text: string): number {
  const t = text.trim();
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(t) || !(Number(t) > 0)) {
    fail(`--minutes: "${text}" is not a positive number of minutes (e.g. 5 or 0.5)`);
  }
  return Number(t);
}

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text.trim())) fail(`--${flag}: "${text}" is not a whole number`);
  const v = Number(text);
  if (v < min || v > max) fail(`--${flag}: ${text} is out of range (${min}..${max})`);
  return v;
}

/** Check a file can be written in `dir`, then make it; one line and exit 2 otherwise. */
async function checkOutDir(dir: string): Promise<void> {
  checkOutputDir("--out", dir);
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (e) {
    fail(`--out: cannot write in ${dir}: ${describeFsError(e)}`);
  }
}

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    runs: { type: "string", default: "1000" },
    seed: { type: "string", default: "1" },
    strategy: { type: "string" },
    design: { type: "string" },
    minutes: { type: "string" },
    out: { type: "string", default: "results/fuzz" },
    keep: { type: "string", default: "20" },
    "max-events": { type: "string", default: "120" },
    jobs: { type: "string" },
    quiet: { type: "boolean", default: false },
  });
  const v = args.values;
  const minutes = v.minutes === undefined ? Infinity : positiveMinutes(v.minutes);
  const runs = wholeNumber("runs", v.runs, 0, 1e9);
  if (runs === 0 && v.minutes === undefined) fail("--runs 0 needs --minutes");
  const seed = wholeNumber("seed", v.seed, 0, MAX_SEED);
  if (runs > 0 && seed + runs - 1 > MAX_SEED) {
    fail(
      `--seed ${seed} --runs ${runs}: the seeds would run past ${MAX_SEED}, the last one ` +
        `(with --runs ${runs}, --seed is at most ${MAX_SEED - runs + 1})`,
    );
  }
  const keep = wholeNumber("keep", v.keep, 0, 1e6);
  const maxEvents = wholeNumber("max-events", v["max-events"], 10, 100_000);
  const jobs = v.jobs === undefined
    ? navigator.hardwareConcurrency
    : wholeNumber("jobs", v.jobs, 1, 256);
  const designs = await designFlag(v.design);
  const named = v.strategy === undefined
    ? [...CORRECT, ...designs.names]
    : v.strategy.split(",").map((s) => s.trim()).filter((s) => s);
  for (const s of named) {
    if (!designNames().includes(s)) {
      fail(`--strategy: unknown strategy "${s}" (expected one of ${designNames().join(", ")})`);
    }
  }
  if (named.length === 0) fail("--strategy names no strategy");
  // Each design once (full-walk always runs first).
  const strategies = [...new Set(named)];
  await checkOutDir(v.out);

  const total = runs === 0 ? MAX_SEED - seed + 1 : runs;
  const limitMs = minutes * 60_000;
  const t0 = performance.now();
  // Tasks are made as they are handed out (a --minutes campaign may not know its count).
  const tasks = new Proxy([] as FuzzTask[], {
    get(target, p, r) {
      if (p === "length") return total;
      if (typeof p === "string" && /^\d+$/.test(p)) {
        return {
          seed: seed + Number(p),
          strategies,
          designs: designs.files,
          maxEvents,
          out: v.out,
        } satisfies FuzzTask;
      }
      return Reflect.get(target, p, r);
    },
  });
  const progress = startProgress({
    label: "fuzz",
    total: runs === 0 ? 0 : total,
    unit: "traces",
    quiet: v.quiet,
  });
  const names = [UPSTREAM, ...strategies.filter((s) => s !== UPSTREAM)];
  const stats = new Map(names.map((s) => [s, { violations: 0, baseline: 0, written: 0 }]));
  let done = 0, events = 0, found = 0, handedOut = 0;
  const coverage = emptyCoverage();
  const written: string[] = [];
  await runPool<FuzzTask, FuzzTaskResult>(
    new URL("./fuzz_worker.ts", import.meta.url).href,
    tasks,
    jobs,
    {
      // The first run is always handed out: a campaign runs one trace at least.
      more: () => handedOut++ === 0 || performance.now() - t0 < limitMs,
      done: (_t, r) => {
        done++;
        events += r.events;
        addCoverage(coverage, r.coverage);
        for (const x of r.runs) {
          const s = stats.get(x.strategy)!;
          if (x.violations > 0) s.violations++;
          if (x.kvmBaseline > 0) s.baseline++;
        }
        for (const f of r.findings) {
          found++;
          const s = stats.get(f.strategy)!;
          if (s.written >= keep) continue;
          s.written++;
          const path = `${v.out}/${f.file}`;
          const text = f.json;
          Deno.writeTextFileSync(`${path}.tmp`, text);
          Deno.renameSync(`${path}.tmp`, path);
          written.push(
            `${path}  (${f.summary}; replay: deno task replay ${path} --strategy ${f.strategy})`,
          );
        }
        progress.update(done, found > 0 ? `${found} found` : "");
      },
      error: (_t, message) => {
        progress.stop();
        fail(`a fuzz run failed: ${message}`, 1);
      },
    },
  );
  await progress.stop();
  const secs = (performance.now() - t0) / 1000;
  const rows: (string | number)[][] = [[
    "strategy",
    "traces",
    "with violations",
    "with kvm-baseline",
    "findings written",
  ]];
  for (const [s, x] of stats) {
    rows.push([
      s + (KNOWN_BROKEN.includes(s) ? " (known broken)" : ""),
      done,
      x.violations,
      x.baseline,
      x.written,
    ]);
  }
  console.log(textTable(rows));
  const rate = (n: number) => (n / Math.max(secs, 1e-9)).toFixed(1);
  // Why the campaign stopped short of what was asked, if it did.
  const short = done === total
    ? runs === 0 ? `; stopped at seed ${MAX_SEED}, the last one, before --minutes ${v.minutes}` : ""
    : runs === 0
    ? `; stopped by --minutes ${v.minutes}`
    : `; stopped by --minutes ${v.minutes} after ${done} of the ${runs} traces asked`;
  console.log(
    `${done} traces (${events.toLocaleString("en-US")} events) from seed ${seed} in ` +
      `${formatDuration(secs)}, ${rate(done)} traces/s, ${rate(events)} events/s${short}; ` +
      (found === 0
        ? "nothing found"
        : `${found} finding(s), ${written.length} written to ${v.out}:`),
  );
  for (const w of written) console.log(`  ${w}`);
  console.log(formatCoverage(coverage));
  Deno.exit(found > 0 ? 1 : 0);
}

await main();
