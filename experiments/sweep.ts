/**
 * `deno task sweep [flags]`: parameter sweeps over vCPUs, memory sizes, granules, alias
 * densities (and the other workload dimensions) into one CSV row per (grid point,
 * strategy). Every point's trace is generated from the seed and the point's parameters,
 * replayed under the oracle with each strategy on a pool of Deno workers, and the rows are
 * written atomically; wall times go to a separate timing file so that the main CSV is
 * byte-identical for a seed. `--help` lists every flag.
 *
 * Exit status: 0 done, 1 a point failed (the partial file is kept for `--resume`),
 * 2 bad input (one line on stderr, nothing written).
 *
 * @module
 */

import { formatBytes, parseSize } from "../lib/util/size.ts";
import { defaultCostModel } from "../lib/sweep/costmodel.ts";
import { COST_MODEL_FILE_FIELDS } from "../lib/calibrate/model_file.ts";
import {
  type CsvRecord,
  formatCsv,
  formatCsvLines,
  headerOf,
  parseCsv,
  partialPath,
  readIfExists,
  writeAtomic,
} from "../lib/util/csv.ts";
import {
  describePoint,
  DIMENSIONS,
  estimatePointBytes,
  GridError,
  pointWeight,
} from "../lib/sweep/grid.ts";
import type { PointSpec } from "../lib/sweep/grid.ts";
import {
  COST_FLAGS,
  DEFAULT_SEED,
  GRID_FILE_KEYS,
  type GridFile,
  gridFilePath,
  gridNames,
  parseGridFile,
  specGrid,
  type SweepSpec,
  sweepSpec,
} from "../lib/sweep/spec.ts";
import { codeCommit } from "../lib/sweep/commit.ts";
import type { PointResult } from "../lib/sweep/run.ts";
import {
  schemaMarkdown,
  SWEEP_HEADER,
  TIMING_COLUMNS,
  TIMING_HEADER,
} from "../lib/sweep/columns.ts";
import { KNOWN_BROKEN, STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import { designFlag } from "./designs.ts";
import { generateWorkload } from "../lib/trace/workload.ts";
import {
  checkOutputFile,
  type CliOptions,
  decodeTextInput,
  describeFsError,
  fail,
  parseCli,
} from "./cli.ts";
import { costModelFlag } from "./cost_model_flag.ts";
import { runPool } from "./pool.ts";
import { formatDuration, startProgress } from "./progress.ts";
import type { WorkerTask } from "./sweep_worker.ts";

const DEFAULT_OUT = "results/sweep.csv";

/** Flags that are not grid dimensions: name, default, help. */
const OTHER_FLAGS: [string, string, string][] = [
  [
    "strategy",
    "every design",
    `strategies, comma-separated (${STRATEGY_NAMES.join(", ")}, and every --design)`,
  ],
  [
    "design",
    "-",
    "design files (modules exporting a design record, docs/designs.md), comma-separated: their names join --strategy's and their rows the CSV",
  ],
  [
    "seed",
    String(DEFAULT_SEED),
    "sweep seed, 0..4294967295; a point's trace depends on it and the point's parameters",
  ],
  [
    "grid",
    "-",
    'JSON file (or a name in experiments/grids/) {flag: value | [values]} for any dimension, strategy, seed or cost flag, and optionally "parts": [{dimension: values}, ...] (the grid is then the union of each part\'s product with the common values); flags override it',
  ],
  [
    "out",
    DEFAULT_OUT,
    "CSV to (re)write atomically; with --shard i/n: results/sweep.shard-i-of-n.csv",
  ],
  ["timing", "<out>.timing.csv", "wall-time CSV (not deterministic, kept apart)"],
  ["jobs", "navigator.hardwareConcurrency", "points run in parallel, one Deno worker each"],
  [
    "shard",
    "1/1",
    "run only points with index % n == i - 1 (1 <= i <= n); join with deno task merge",
  ],
  [
    "resume",
    "off",
    "keep rows of this grid already in <out>.partial.tmp (an interrupted run) or <out>",
  ],
  [
    "cost-model",
    "-",
    "cost model file (deno task calibrate --out): its ns per iteration, ns per descriptor and soft-lockup threshold replace the defaults; each cost flag below (or a grid file's) overrides its field; the timing file's cost_model column says which model ran",
  ],
  ...COST_FLAGS.map((f): [string, string, string] => [
    f.flag,
    String(f.toFlag(defaultCostModel()[f.field])) +
    (COST_MODEL_FILE_FIELDS.some((m) => m.field === f.field) ? ", or --cost-model's" : ""),
    f.help,
  ]),
  [
    "max-memory",
    "75% of RAM",
    "bytes the running replays may need together (estimated per design; a replay waits for room)",
  ],
  [
    "emit-trace",
    "-",
    "write the trace JSON of one point (the grid's only point, or --point) and exit",
  ],
  ["point", "-", "with --emit-trace: the point index in the grid"],
  ["dry-run", "off", "print the grid size and memory estimate, run nothing"],
  [
    "full-check",
    "off",
    "the oracle checks every leaf after every event (as the tests do), not only those it can affect",
  ],
  [
    "quiet",
    "off",
    "no progress bar or summary on stderr (no bar either when stderr is not a terminal)",
  ],
  ["schema", "off", "print the CSV columns (Markdown) and exit"],
];

function usage(): string {
  const lines = [
    "usage: deno task sweep [flags]",
    "Runs every grid point (cartesian product of the dimension lists) with every strategy,",
    "one CSV row per (point, strategy). Lists are comma-separated. Sizes take K/M/G/T.",
    "",
    "grid dimensions (default; unit):",
  ];
  const w = 20;
  for (const d of DIMENSIONS) {
    lines.push(`  --${d.flag.padEnd(w)} ${d.help}`);
    lines.push(
      `    ${"".padEnd(w)} default ${d.def}; unit ${d.unit}` +
        (d.range && d.kind !== "size" ? `; ${d.range[0]}..${d.range[1]}` : ""),
    );
  }
  lines.push("", "other flags (default):");
  for (const [f, def, help] of OTHER_FLAGS) {
    lines.push(`  --${f.padEnd(w)} ${help}`);
    lines.push(`    ${"".padEnd(w)} default ${def}`);
  }
  lines.push("  --help, -h              this text");
  lines.push(
    "",
    "exit status: 0 done, 1 a point failed (rerun with --resume), 2 bad input (nothing written),",
    "130 interrupted (rerun with --resume)",
  );
  return lines.join("\n");
}

const BOOLEAN_FLAGS = ["resume", "dry-run", "quiet", "schema", "full-check"];
const STRING_FLAGS = [
  ...DIMENSIONS.map((d) => d.flag),
  ...OTHER_FLAGS.filter(([f]) => !BOOLEAN_FLAGS.includes(f)).map(([f]) => f),
];

function parseWhole(flag: string, text: string, lo: number, hi: number): number {
  const t = text.trim();
  if (!/^\d+$/.test(t)) fail(`--${flag}: "${t}" is not a whole number`);
  const v = Number(t);
  if (v < lo || v > hi) fail(`--${flag}: ${t} is out of range (${lo}..${hi})`);
  return v;
}

interface Options {
  /** Grid parts, strategies, seed and cost model. */
  spec: SweepSpec;
  /** Design files of `--design` (absolute paths), for the workers. */
  designs: string[];
  out: string;
  timing: string;
  jobs: number;
  shard: [number, number];
  resume: boolean;
  quiet: boolean;
  fullCheck: boolean;
  maxMemory: number;
}

/** `--grid`'s file, read and parsed (one line and exit 2 when it cannot be). */
async function gridFile(ref: string): Promise<GridFile> {
  const { path, named } = gridFilePath(ref);
  let text: string;
  try {
    text = decodeTextInput(`--grid: ${ref}`, await Deno.readFile(path), "JSON grid");
  } catch (e) {
    if (named && e instanceof Deno.errors.NotFound) {
      fail(`--grid: no grid named "${ref}" (experiments/grids/ has ${gridNames().join(", ")})`);
    }
    fail(`--grid: cannot read ${ref}: ${describeFsError(e)}`);
  }
  return parseGridFile(ref, text);
}

async function options(): Promise<Options & { args: ReturnType<typeof parse> }> {
  const args = parse();
  const v = args.values as Record<string, string | boolean | undefined>;
  const flags: Record<string, string> = {};
  for (const k of GRID_FILE_KEYS) if (typeof v[k] === "string") flags[k] = v[k] as string;
  const designs = await designFlag(typeof v.design === "string" ? v.design : undefined);
  const base = await costModelFlag(
    typeof v["cost-model"] === "string" ? v["cost-model"] : undefined,
  );
  let spec: SweepSpec;
  try {
    spec = sweepSpec(flags, typeof v.grid === "string" ? await gridFile(v.grid) : undefined, base);
  } catch (e) {
    if (e instanceof GridError || e instanceof RangeError) fail(e.message);
    throw e;
  }
  let shard: [number, number] = [1, 1];
  if (typeof v.shard === "string") {
    const m = /^(\d+)\/(\d+)$/.exec(v.shard.trim());
    if (!m) fail(`--shard: "${v.shard}" is not i/n (e.g. 1/4)`);
    const i = Number(m[1]), n = Number(m[2]);
    if (n < 1 || i < 1 || i > n) fail(`--shard: ${v.shard} is out of range (1 <= i <= n)`);
    shard = [i, n];
  }
  const hw = navigator.hardwareConcurrency || 1;
  const jobs = typeof v.jobs === "string" ? parseWhole("jobs", v.jobs, 1, 256) : hw;
  const out = typeof v.out === "string"
    ? v.out
    : typeof v.shard === "string"
    ? `results/sweep.shard-${shard[0]}-of-${shard[1]}.csv`
    : DEFAULT_OUT;
  if (out.trim() === "" || out.endsWith("/")) fail(`--out: "${out}" is not a file name`);
  const timing = typeof v.timing === "string"
    ? v.timing
    : out.endsWith(".csv")
    ? `${out.slice(0, -4)}.timing.csv`
    : `${out}.timing.csv`;
  if (timing === out) fail("--timing: must differ from --out");
  let maxMemory = Math.floor(Deno.systemMemoryInfo().total * 0.75);
  if (typeof v["max-memory"] === "string") {
    try {
      maxMemory = parseSize(v["max-memory"]);
    } catch (e) {
      fail(`--max-memory: ${(e as Error).message}`);
    }
  }
  return {
    args,
    spec,
    designs: designs.files,
    out,
    timing,
    jobs,
    shard,
    resume: v.resume === true,
    quiet: v.quiet === true,
    fullCheck: v["full-check"] === true,
    maxMemory,
  };
}

function parse() {
  const opts: CliOptions = {};
  for (const f of STRING_FLAGS) opts[f] = { type: "string" };
  for (const f of BOOLEAN_FLAGS) opts[f] = { type: "boolean" };
  return parseCli(usage(), opts);
}

/** One task of the pool: a point and the strategies to replay for it. */
interface Task extends WorkerTask {
  /** Index in the task list (progress bookkeeping). */
  id: number;
  /** Estimated peak bytes of its worker (its hungriest strategy). */
  bytes: number;
  /** Its share of the sweep's work. */
  weight: number;
}

async function main(): Promise<void> {
  const o = await options();
  const v = o.args.values as Record<string, string | boolean | undefined>;
  if (v.help) {
    console.log(usage());
    return;
  }
  if (v.schema) {
    console.log(schemaMarkdown());
    console.log("\nTiming file:\n" + schemaMarkdown(TIMING_COLUMNS));
    return;
  }
  const { strategies, seed, cost } = o.spec;
  let grid, id: string;
  try {
    ({ grid, id } = specGrid(o.spec));
  } catch (e) {
    if (e instanceof GridError || e instanceof RangeError) fail(e.message);
    throw e;
  }
  const n = grid.points.length;
  const specs: PointSpec[] = grid.points.map((params, index) => ({
    gridId: id,
    index,
    points: n,
    seed,
    params,
  }));

  if (typeof v["emit-trace"] === "string") {
    let idx = 0;
    if (typeof v.point === "string") idx = parseWhole("point", v.point, 0, n - 1);
    else if (n !== 1) {
      fail(
        `--emit-trace: the grid has ${n} points; narrow it to one or give --point (0..${n - 1})`,
      );
    }
    checkOutputFile("--emit-trace", v["emit-trace"], { replace: true });
    const w = generateWorkload(specs[idx].params, seed);
    await writeAtomic(v["emit-trace"], JSON.stringify(w.trace) + "\n").catch((e) =>
      fail(`--emit-trace: ${(e as Error).message}`)
    );
    if (!o.quiet) {
      console.error(
        `wrote ${v["emit-trace"]}: point ${idx} (${
          describePoint(specs[idx].params)
        }), ${w.trace.events.length} events`,
      );
    }
    return;
  }

  // Points of this shard; memory check before anything is written.
  const mine = specs.filter((s) => s.index % o.shard[1] === o.shard[0] - 1);
  // Each replay's estimate (a heavy point's strategies may run on several workers at
  // once); the pool starts a task only while the running ones' estimates leave room.
  const est = mine.flatMap((s) => strategies.map((st) => estimatePointBytes(s.params, st)))
    .sort((a, b) => b - a);
  const jobs = Math.max(1, Math.min(o.jobs, est.length));
  const need = Math.min(est.slice(0, jobs).reduce((a, b) => a + b, 0), o.maxMemory);
  checkMemory(mine, strategies, est, o.maxMemory, v["max-memory"] !== undefined);
  if (v["dry-run"]) {
    console.log(
      `grid ${id}: ${n} points (${grid.skipped} skipped), this shard ${mine.length}, ${strategies.length} strategies, ` +
        `${jobs} jobs, largest replay ~${formatBytes(est[0] ?? 0)}, at most ~${
          formatBytes(need)
        } at once`,
    );
    return;
  }

  // Where the results go: checked before any point runs.
  checkOutputFile("--out", o.out, { replace: true });
  checkOutputFile("--timing", o.timing, { replace: true });

  // Rows already done (--resume): the partial file, then the output itself.
  const done = new Map<string, CsvRecord>();
  const doneTiming = new Map<string, CsvRecord>();
  const key = (p: number | string, s: string) => `${p}\t${s}`;
  const wanted = new Set(mine.flatMap((s) => strategies.map((st) => key(s.index, st))));
  const partial = partialPath(o.out);
  const partialTiming = partialPath(o.timing);
  if (o.resume) {
    for (const path of [o.out, partial]) {
      const text = await readIfExists(path);
      if (text === null || text.length === 0) continue;
      // Another version's file (or anything else) holds nothing to resume; it is replaced.
      if (headerOf(text).join(",") !== SWEEP_HEADER.join(",")) continue;
      for (const r of parseCsv(text, true).rows) {
        if (r.grid_id === id && wanted.has(key(r.point, r.strategy))) {
          done.set(key(r.point, r.strategy), r);
        }
      }
    }
    for (const path of [o.timing, partialTiming]) {
      const text = await readIfExists(path);
      if (text === null || headerOf(text).join(",") !== TIMING_HEADER.join(",")) continue;
      for (const r of parseCsv(text, true).rows) {
        if (r.grid_id === id) doneTiming.set(key(r.point, r.strategy), r);
      }
    }
  }

  // One task per point, or per (point, strategy) for a point heavier than half a job's
  // share of the grid: its replays then spread over the workers (each regenerates the
  // trace, which costs little beside replaying it).
  const todoOf = new Map(
    mine.map((s) => [s, strategies.filter((st) => !done.has(key(s.index, st)))]),
  );
  const gridWeight = mine.reduce((a, s) => a + pointWeight(s.params) * todoOf.get(s)!.length, 0);
  const tasks: Task[] = [];
  const tasksLeft = new Map<number, number>();
  for (const s of mine) {
    const todo = todoOf.get(s)!;
    if (todo.length === 0) continue;
    const w = pointWeight(s.params);
    const split = todo.length > 1 && w * todo.length > gridWeight / (2 * Math.max(1, o.jobs));
    const groups = split ? todo.map((st) => [st]) : [todo];
    for (const g of groups) {
      const bytes = Math.max(...g.map((st) => estimatePointBytes(s.params, st)));
      tasks.push({
        id: 0,
        bytes,
        point: s,
        strategies: g,
        designs: o.designs,
        weight: w * g.length,
        cost,
        fullCheck: o.fullCheck,
      });
    }
    tasksLeft.set(s.index, groups.length);
  }
  tasks.sort((a, b) => b.weight - a.weight || a.point.index - b.point.index);
  tasks.forEach((t, i) => t.id = i);

  await mkdirFor(o.out);
  await mkdirFor(o.timing);
  // Partial files: keep what is already done (resume), then append as points finish.
  const doneRows = [...done.values()];
  await Deno.writeTextFile(partial, formatCsv(SWEEP_HEADER, doneRows));
  await Deno.writeTextFile(
    partialTiming,
    formatCsv(TIMING_HEADER, [...doneTiming.values()]),
  );
  const commit = codeCommit();

  // Progress by work done, points weighted by their expected events, advanced from inside
  // each running point as its replays go (the workers report the fraction done).
  const totalWeight = tasks.reduce((a, t) => a + t.weight, 0);
  const scale = totalWeight > 0 ? 1e6 / totalWeight : 0;
  const progress = startProgress({
    label: "sweep",
    total: tasks.length > 0 ? 1e6 : 0,
    unit: "%",
    quiet: o.quiet,
  });
  let doneWeight = 0, pointsDone = 0;
  const running = new Map<number, [Task, number]>();
  const show = () => {
    let w = doneWeight;
    for (const [t, f] of running.values()) w += t.weight * f;
    progress.update(Math.round(w * scale), `${pointsDone}/${tasksLeft.size} points`);
  };
  const t0 = performance.now();
  const results = new Map<string, CsvRecord>(done);
  const timings = new Map<string, CsvRecord>(doneTiming);
  // Ctrl-C: the partial files keep every row finished; say so, and how to go on.
  const interrupted = () => {
    progress.stop();
    console.error(
      `interrupted: ${results.size} of ${wanted.size} rows kept in ${partial}; ` +
        `resume with: ${resumeCommand(Deno.args)}`,
    );
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  await runPool<Task, PointResult>(
    new URL("./sweep_worker.ts", import.meta.url).href,
    tasks,
    Math.min(o.jobs, Math.max(1, tasks.length)),
    {
      admit: (t, now) => now.reduce((a, r) => a + r.bytes, 0) + t.bytes <= o.maxMemory,
      done: (t, r) => {
        const trows = r.timing.map((row) => ({ ...row, commit, cost_model: o.spec.costOrigin }));
        for (const row of r.rows) results.set(key(row.point, row.strategy), row);
        for (const row of trows) timings.set(key(row.point, row.strategy), row);
        Deno.writeTextFileSync(partial, formatCsvLines(SWEEP_HEADER, r.rows), { append: true });
        Deno.writeTextFileSync(partialTiming, formatCsvLines(TIMING_HEADER, trows), {
          append: true,
        });
        running.delete(t.id);
        doneWeight += t.weight;
        const left = tasksLeft.get(t.point.index)! - 1;
        tasksLeft.set(t.point.index, left);
        if (left === 0) pointsDone++;
        show();
      },
      error: (t, message) => {
        progress.stop();
        fail(
          `point ${t.point.index} (${
            describePoint(t.point.params)
          }) failed: ${message}; rerun with --resume`,
          1,
        );
      },
      progress: (t, work) => {
        running.set(t.id, [t, (running.get(t.id)?.[1] ?? 0) + work]);
        show();
      },
    },
  );
  Deno.removeSignalListener("SIGINT", interrupted);
  await progress.stop();

  // Final files, in grid order and strategy order.
  const rows: CsvRecord[] = [];
  const trows: CsvRecord[] = [];
  for (const s of mine) {
    for (const st of strategies) {
      rows.push(results.get(key(s.index, st))!);
      const tr = timings.get(key(s.index, st));
      if (tr) trows.push(tr);
    }
  }
  await writeAtomic(o.out, formatCsv(SWEEP_HEADER, rows));
  await writeAtomic(o.timing, formatCsv(TIMING_HEADER, trows));
  await Deno.remove(partial).catch(() => {});
  await Deno.remove(partialTiming).catch(() => {});
  if (!o.quiet) {
    console.error(
      `wrote ${o.out}: ${rows.length} rows (${mine.length} points x ${strategies.length} strategies, ` +
        `${done.size} resumed) in ${
          formatDuration((performance.now() - t0) / 1000)
        }; timing in ${o.timing}`,
    );
    console.error(verdictLine(rows));
  }
}

/**
 * Refuse a memory budget that cannot run the grid (one line, exit 2): one too small for
 * any replay, or one a point's replay needs more than.
 */
function checkMemory(
  mine: readonly PointSpec[],
  strategies: readonly string[],
  est: readonly number[],
  maxMemory: number,
  given: boolean,
): void {
  if (est.length === 0 || est[0] <= maxMemory) return;
  const budget = `--max-memory ${formatBytes(maxMemory)}${given ? "" : " (75% of RAM)"}`;
  const least = est[est.length - 1];
  if (least > maxMemory && mine.length > 1) {
    fail(
      `${budget} is too small to run any point of the grid: the smallest replay needs ~${
        formatBytes(least)
      }`,
    );
  }
  const big = mine.find((s) =>
    strategies.some((st) => estimatePointBytes(s.params, st) === est[0])
  )!;
  fail(
    `grid too large: point ${big.index} (${describePoint(big.params)}) needs ~${
      formatBytes(est[0])
    }, more than ${budget}`,
  );
}

/** The command that resumes this run: its arguments, shell-quoted, and `--resume`. */
function resumeCommand(args: readonly string[]): string {
  const quote = (a: string) => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
  const rest = args.includes("--resume") ? args : [...args, "--resume"];
  return ["deno task sweep", ...rest.map(quote)].join(" ");
}

/**
 * The oracle's verdict in one line: stale shadow entries per design, those of designs known
 * to be broken marked as expected; a design believed correct with any is called out.
 */
function verdictLine(rows: CsvRecord[]): string {
  const per = new Map<string, number>();
  for (const r of rows) {
    const s = String(r.strategy);
    per.set(s, (per.get(s) ?? 0) + Number(r.violations));
  }
  const broken = [...per].filter(([s, n]) => KNOWN_BROKEN.includes(s) && n > 0);
  const surprising = [...per].filter(([s, n]) => !KNOWN_BROKEN.includes(s) && n > 0);
  const fmt = ([s, n]: [string, number]) => `${s} ${n.toLocaleString("en-US")}`;
  const correct = [...per.keys()].filter((s) => !KNOWN_BROKEN.includes(s));
  const expected = broken.length > 0
    ? `stale shadow entries found as expected in the known-broken ${broken.map(fmt).join(", ")}`
    : "";
  if (surprising.length > 0) {
    return `${expected ? expected + "; " : ""}UNEXPECTED: stale shadow entries in ${
      surprising.map(fmt).join(", ")
    }, believed correct: replay such a point (--emit-trace FILE --point N, then deno task replay --minimize)`;
  }
  return `oracle: ${expected ? expected + "; " : ""}0 stale entries in ${
    correct.length === 1 ? correct[0] : `every other design (${correct.join(", ")})`
  }`;
}

async function mkdirFor(path: string): Promise<void> {
  const i = path.lastIndexOf("/");
  if (i > 0) {
    try {
      await Deno.mkdir(path.slice(0, i), { recursive: true });
    } catch (e) {
      fail(`cannot create the directory of ${path}: ${(e as Error).message}`, 1);
    }
  }
}

await main();
