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

import { parseSize } from "../lib/util/size.ts";
import {
  type CostModel,
  DEFAULT_WATCHDOG_THRESH_S,
  defaultCostModel,
} from "../lib/sweep/costmodel.ts";
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
  expandGridParts,
  GridError,
  gridId,
  parseGridValues,
  pointWeight,
} from "../lib/sweep/grid.ts";
import type { PointSpec } from "../lib/sweep/grid.ts";
import {
  schemaMarkdown,
  SWEEP_HEADER,
  TIMING_COLUMNS,
  TIMING_HEADER,
} from "../lib/sweep/columns.ts";
import { KNOWN_BROKEN, STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import { generateWorkload } from "../lib/trace/workload.ts";
import {
  checkOutputFile,
  type CliOptions,
  decodeTextInput,
  describeFsError,
  fail,
  parseCli,
} from "./cli.ts";
import { formatDuration, startProgress } from "./progress.ts";
import type { WorkerReply, WorkerTask } from "./sweep_worker.ts";

const DEFAULT_OUT = "results/sweep.csv";

/** Flags that are not grid dimensions: name, value, default, unit/help. */
const OTHER_FLAGS: [string, string, string][] = [
  ["strategy", "all registered", `strategies, comma-separated (${STRATEGY_NAMES.join(", ")})`],
  [
    "seed",
    "1",
    "sweep seed, 0..4294967295; a point's trace depends on it and the point's parameters",
  ],
  [
    "grid",
    "-",
    'JSON file {flag: value | [values]} for any dimension, strategy, seed or cost flag, and optionally "parts": [{dimension: values}, ...] (the grid is then the union of each part\'s product with the common values); flags override it',
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
  ["ns-per-iteration", "20", "cost model: ns per strategy iteration (chunk or index step)"],
  ["ns-per-descriptor", "2", "cost model: ns per descriptor visited"],
  [
    "ns-per-fault",
    "10000",
    "cost model: ns per shadow fault of a refault storm (an estimate; lib/sweep/costmodel.ts)",
  ],
  [
    "watchdog-thresh",
    String(DEFAULT_WATCHDOG_THRESH_S),
    "seconds; soft lockup when an unmap's estimate exceeds 2 x this",
  ],
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
    "exit status: 0 done, 1 a point failed (rerun with --resume), 2 bad input (nothing written)",
  );
  return lines.join("\n");
}

const BOOLEAN_FLAGS = ["resume", "dry-run", "quiet", "schema", "full-check"];
const STRING_FLAGS = [
  ...DIMENSIONS.map((d) => d.flag),
  ...OTHER_FLAGS.filter(([f]) => !BOOLEAN_FLAGS.includes(f)).map(([f]) => f),
];
const GRID_FILE_KEYS = new Set([
  ...DIMENSIONS.map((d) => d.flag),
  "strategy",
  "seed",
  "ns-per-iteration",
  "ns-per-descriptor",
  "ns-per-fault",
  "watchdog-thresh",
]);

/** Where `--grid NAME` (no `/`, no `.json`) finds a named grid file. */
const GRIDS_DIR = new URL("./grids/", import.meta.url);

function parseNumber(flag: string, text: string, lo: number, hi: number, integer: boolean): number {
  const t = text.trim();
  const ok = integer ? /^\d+$/.test(t) : /^(\d+\.?\d*|\.\d+)$/.test(t);
  if (!ok) fail(`--${flag}: "${t}" is not a ${integer ? "whole number" : "number"}`);
  const v = Number(t);
  if (v < lo || v > hi) fail(`--${flag}: ${t} is out of range (${lo}..${hi})`);
  return v;
}

interface Options {
  /** Dimension values, one set per part of the grid (one without `parts`). */
  parts: Record<string, unknown>[];
  strategies: string[];
  seed: number;
  cost: CostModel;
  out: string;
  timing: string;
  jobs: number;
  shard: [number, number];
  shardGiven: boolean;
  resume: boolean;
  quiet: boolean;
  fullCheck: boolean;
  maxMemory: number;
}

async function options(): Promise<Options & { args: ReturnType<typeof parse> }> {
  const args = parse();
  const v = args.values as Record<string, string | boolean | undefined>;
  // Grid file first, flags override.
  const merged: Record<string, unknown> = {};
  let fileParts: Record<string, unknown>[] = [{}];
  if (typeof v.grid === "string") {
    let text: string;
    const named = /^[\w-]+$/.test(v.grid);
    const path = named ? new URL(`${v.grid}.json`, GRIDS_DIR) : v.grid;
    try {
      text = decodeTextInput(`--grid: ${v.grid}`, await Deno.readFile(path), "JSON grid");
    } catch (e) {
      if (named && e instanceof Deno.errors.NotFound) {
        const names = [...Deno.readDirSync(GRIDS_DIR)].map((f) => f.name)
          .filter((n) => n.endsWith(".json")).map((n) => n.slice(0, -5)).sort();
        fail(`--grid: no grid named "${v.grid}" (experiments/grids/ has ${names.join(", ")})`);
      }
      fail(`--grid: cannot read ${v.grid}: ${describeFsError(e)}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      fail(`--grid: ${v.grid} is not JSON: ${(e as Error).message}`);
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      fail(`--grid: ${v.grid} must hold a JSON object`);
    }
    for (const [k, val] of Object.entries(json as Record<string, unknown>)) {
      if (k === "parts") {
        fileParts = gridParts(v.grid, val);
        continue;
      }
      if (!GRID_FILE_KEYS.has(k)) fail(`--grid: unknown key "${k}" in ${v.grid}`);
      merged[k] = Array.isArray(val) ? val.join(",") : val;
    }
  }
  for (const f of GRID_FILE_KEYS) if (typeof v[f] === "string") merged[f] = v[f];
  const flags: Record<string, unknown> = {};
  for (const d of DIMENSIONS) if (typeof v[d.flag] === "string") flags[d.flag] = v[d.flag];
  const parts = fileParts.map((p) => ({ ...merged, ...p, ...flags }));
  const str = (k: string) => (merged[k] === undefined ? undefined : String(merged[k]));

  const strategies = (str("strategy") ?? STRATEGY_NAMES.join(",")).split(",").map((s) => s.trim());
  for (const s of strategies) {
    if (!STRATEGY_NAMES.includes(s)) {
      fail(`--strategy: unknown strategy "${s}" (expected one of ${STRATEGY_NAMES.join(", ")})`);
    }
  }
  if (new Set(strategies).size !== strategies.length) {
    fail("--strategy: a strategy is listed twice");
  }
  const seed = parseNumber("seed", str("seed") ?? "1", 0, 2 ** 32 - 1, true);
  const thresh = parseNumber(
    "watchdog-thresh",
    str("watchdog-thresh") ?? String(DEFAULT_WATCHDOG_THRESH_S),
    1,
    3600,
    false,
  );
  const def = defaultCostModel();
  const cost: CostModel = {
    nsPerIteration: parseNumber(
      "ns-per-iteration",
      str("ns-per-iteration") ?? String(def.nsPerIteration),
      0,
      1e6,
      false,
    ),
    nsPerDescriptor: parseNumber(
      "ns-per-descriptor",
      str("ns-per-descriptor") ?? String(def.nsPerDescriptor),
      0,
      1e6,
      false,
    ),
    softLockupNs: Math.round(2 * thresh * 1e9),
    nsPerFault: parseNumber(
      "ns-per-fault",
      str("ns-per-fault") ?? String(def.nsPerFault),
      0,
      1e9,
      false,
    ),
  };
  let shard: [number, number] = [1, 1];
  if (typeof v.shard === "string") {
    const m = /^(\d+)\/(\d+)$/.exec(v.shard.trim());
    if (!m) fail(`--shard: "${v.shard}" is not i/n (e.g. 1/4)`);
    const i = Number(m[1]), n = Number(m[2]);
    if (n < 1 || i < 1 || i > n) fail(`--shard: ${v.shard} is out of range (1 <= i <= n)`);
    shard = [i, n];
  }
  const hw = navigator.hardwareConcurrency || 1;
  const jobs = typeof v.jobs === "string" ? parseNumber("jobs", v.jobs, 1, 256, true) : hw;
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
    parts,
    strategies,
    seed,
    cost,
    out,
    timing,
    jobs,
    shard,
    shardGiven: typeof v.shard === "string",
    resume: v.resume === true,
    quiet: v.quiet === true,
    fullCheck: v["full-check"] === true,
    maxMemory,
  };
}

/** A grid file's `parts`: a non-empty list of objects holding dimension keys only. */
function gridParts(file: string, val: unknown): Record<string, unknown>[] {
  if (!Array.isArray(val) || val.length === 0) {
    fail(`--grid: "parts" in ${file} must be a non-empty list of objects`);
  }
  const dims = new Set(DIMENSIONS.map((d) => d.flag));
  return val.map((part, i) => {
    if (typeof part !== "object" || part === null || Array.isArray(part)) {
      fail(`--grid: parts[${i}] in ${file} must be an object`);
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(part as Record<string, unknown>)) {
      if (!dims.has(k)) {
        fail(`--grid: parts[${i}] in ${file} has "${k}", which is not a grid dimension`);
      }
      out[k] = Array.isArray(x) ? x.join(",") : x;
    }
    return out;
  });
}

function parse() {
  const opts: CliOptions = {};
  for (const f of STRING_FLAGS) opts[f] = { type: "string" };
  for (const f of BOOLEAN_FLAGS) opts[f] = { type: "boolean" };
  return parseCli(usage(), opts);
}

interface Task {
  /** Index in the task list (progress bookkeeping). */
  id: number;
  /** Estimated peak bytes of its worker (its hungriest strategy). */
  bytes: number;
  point: PointSpec;
  strategies: string[];
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
  let grid;
  try {
    grid = expandGridParts(o.parts.map(parseGridValues));
  } catch (e) {
    if (e instanceof GridError || e instanceof RangeError) fail(e.message);
    throw e;
  }
  const id = gridId(grid.points, o.seed, o.cost);
  const n = grid.points.length;
  const specs: PointSpec[] = grid.points.map((params, index) => ({
    gridId: id,
    index,
    points: n,
    seed: o.seed,
    params,
  }));

  if (typeof v["emit-trace"] === "string") {
    let idx = 0;
    if (typeof v.point === "string") idx = parseNumber("point", v.point, 0, n - 1, true);
    else if (n !== 1) {
      fail(
        `--emit-trace: the grid has ${n} points; narrow it to one or give --point (0..${n - 1})`,
      );
    }
    checkOutputFile("--emit-trace", v["emit-trace"], { replace: true });
    const w = generateWorkload(specs[idx].params, o.seed);
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
  const est = mine.flatMap((s) => o.strategies.map((st) => estimatePointBytes(s.params, st)))
    .sort((a, b) => b - a);
  const jobs = Math.max(1, Math.min(o.jobs, est.length));
  const need = Math.min(est.slice(0, jobs).reduce((a, b) => a + b, 0), o.maxMemory);
  if (est.length > 0 && est[0] > o.maxMemory) {
    const big = mine.find((s) =>
      o.strategies.some((st) => estimatePointBytes(s.params, st) === est[0])
    )!;
    fail(
      `grid too large: point ${big.index} (${describePoint(big.params)}) needs ~${
        gib(est[0])
      } GiB, more than --max-memory ${gib(o.maxMemory)} GiB`,
    );
  }
  if (v["dry-run"]) {
    console.log(
      `grid ${id}: ${n} points (${grid.skipped} skipped), this shard ${mine.length}, ${o.strategies.length} strategies, ` +
        `${jobs} jobs, largest replay ~${gib(est[0] ?? 0)} GiB, at most ~${gib(need)} GiB at once`,
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
  const wanted = new Set(mine.flatMap((s) => o.strategies.map((st) => key(s.index, st))));
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
    mine.map((s) => [s, o.strategies.filter((st) => !done.has(key(s.index, st)))]),
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
      tasks.push({ id: 0, bytes, point: s, strategies: g, weight: w * g.length });
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
  await runPool(
    tasks,
    Math.min(o.jobs, Math.max(1, tasks.length)),
    o.cost,
    o.fullCheck,
    o.maxMemory,
    (
      t,
      r,
    ) => {
      for (const row of r.rows) results.set(key(row.point, row.strategy), row);
      for (const row of r.timing) timings.set(key(row.point, row.strategy), row);
      Deno.writeTextFileSync(partial, formatCsvLines(SWEEP_HEADER, r.rows), { append: true });
      Deno.writeTextFileSync(
        partialTiming,
        formatCsvLines(TIMING_HEADER, r.timing),
        { append: true },
      );
      running.delete(t.id);
      doneWeight += t.weight;
      const left = tasksLeft.get(t.point.index)! - 1;
      tasksLeft.set(t.point.index, left);
      if (left === 0) pointsDone++;
      show();
    },
    (t, message) => {
      progress.stop();
      fail(
        `point ${t.point.index} (${
          describePoint(t.point.params)
        }) failed: ${message}; rerun with --resume`,
        1,
      );
    },
    (t, fraction) => {
      running.set(t.id, [t, fraction]);
      show();
    },
  );
  await progress.stop();

  // Final files, in grid order and strategy order.
  const rows: CsvRecord[] = [];
  const trows: CsvRecord[] = [];
  for (const s of mine) {
    for (const st of o.strategies) {
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
      `wrote ${o.out}: ${rows.length} rows (${mine.length} points x ${o.strategies.length} strategies, ` +
        `${done.size} resumed) in ${
          formatDuration((performance.now() - t0) / 1000)
        }; timing in ${o.timing}`,
    );
    console.error(verdictLine(rows));
  }
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

function gib(b: number): string {
  return (b / 2 ** 30).toFixed(1);
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

function runPool(
  tasks: Task[],
  jobs: number,
  cost: CostModel,
  fullCheck: boolean,
  maxMemory: number,
  onDone: (t: Task, r: Extract<WorkerReply, { type: "done" }>) => void,
  onError: (t: Task, message: string) => void,
  onProgress: (t: Task, fraction: number) => void,
): Promise<void> {
  if (tasks.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    let finished = 0, runningBytes = 0, running = 0;
    const pending = [...tasks];
    const url = new URL("./sweep_worker.ts", import.meta.url).href;
    const workers: Worker[] = [];
    const idle: [Worker, { task?: Task }][] = [];
    // The first pending task that fits beside the running ones (any task when none runs).
    const take = (): Task | undefined => {
      const i = pending.findIndex((t) => running === 0 || runningBytes + t.bytes <= maxMemory);
      return i < 0 ? undefined : pending.splice(i, 1)[0];
    };
    const feed = (w: Worker, slot: { task?: Task }): boolean => {
      const t = take();
      if (!t) {
        slot.task = undefined;
        return false;
      }
      slot.task = t;
      running++;
      runningBytes += t.bytes;
      const msg: WorkerTask = { point: t.point, strategies: t.strategies, cost, fullCheck };
      w.postMessage(msg);
      return true;
    };
    const feedIdle = () => {
      while (idle.length > 0 && pending.length > 0) {
        const [w, slot] = idle[0];
        if (!feed(w, slot)) break;
        idle.shift();
      }
    };
    for (let j = 0; j < jobs; j++) {
      const w = new Worker(url, { type: "module" });
      const slot: { task?: Task } = {};
      w.onmessage = (e: MessageEvent<WorkerReply>) => {
        const t = slot.task!;
        if (e.data.type === "error") {
          for (const x of workers) x.terminate();
          onError(t, e.data.message);
          return;
        }
        if (e.data.type === "progress") {
          onProgress(t, e.data.fraction);
          return;
        }
        running--;
        runningBytes -= t.bytes;
        onDone(t, e.data);
        finished++;
        if (finished === tasks.length) {
          for (const x of workers) x.terminate();
          resolve();
          return;
        }
        if (!feed(w, slot)) idle.push([w, slot]);
        feedIdle();
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        for (const x of workers) x.terminate();
        onError(slot.task ?? tasks[0], e.message);
      };
      workers.push(w);
      if (!feed(w, slot)) idle.push([w, slot]);
    }
  });
}

await main();
