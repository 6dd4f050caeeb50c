/**
 * `deno task exhaust --strategy NAME [--design FILES] [--world 4k|64k|FILE] [--depth N]
 * [--minutes M] [--jobs N] [--out FILE]`: exhaustive small-scope checking (lib/exhaust/): every event
 * sequence over a small world's alphabet up to a depth, breadth first, states merged by a
 * canonical fingerprint, each checked by the oracle. Prints the states explored and
 * distinct per depth, the depth completed and the rate; for a design that fails, the
 * shortest counterexample, written as a trace `deno task replay` reads. Progress on stderr.
 *
 * Exit status: 0 no counterexample, 1 a counterexample (written to --out), 2 bad input.
 *
 * @module
 */

import { type DedupScheme, exhaust, type ExhaustResult, WORLD_NAMES } from "../lib/exhaust/mod.ts";
import { world as builtinWorld } from "../lib/exhaust/worlds.ts";
import { describeEvent } from "../lib/trace/ops.ts";
import { parseTrace, type Trace, traceToJson } from "../lib/trace/trace.ts";
import { TraceError } from "../lib/trace/fields.ts";
import { makeStrategy, STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import { designFile } from "../lib/strategies/registry.ts";
import {
  checkOutputFile,
  EXIT_BAD_INPUT,
  fail,
  parseCli,
  readTextInput,
  textTable,
  writeOutput,
} from "./cli.ts";
import { DESIGN_USAGE, designFlag } from "./designs.ts";
import { formatDuration, type Progress, startProgress } from "./progress.ts";

const USAGE =
  `usage: deno task exhaust --strategy NAME [--design FILES] [--world W] [--depth N] [--minutes M]
  --strategy NAME  the design: ${STRATEGY_NAMES.join(", ")}, or a --design's
                   (with one --design, that design by default)
${DESIGN_USAGE}
  --opt K=N,...    the design's options (e.g. budget=200 for rmap-bounded)
  --world W        ${WORLD_NAMES.join(" or ")} (built in, see docs/exhaust.md; default 4k),
                   or a trace file whose config is the initial VM and whose events are
                   the alphabet
  --depth N        most events in a sequence (default 6)
  --minutes M      start no batch after M minutes; the depth then running is partial
  --cpu-minutes M  the same, counting the CPU time of the process and its workers (what
                   a time limit on idle cores would be, on a shared machine)
  --jobs N         workers (default: the cores; 1 runs in this thread)
  --batch N        states per batch (default: 16 batches per depth, of 16..2048 states)
  --dedup D        auto (default), design (the design's encodeState()) or history (no
                   two event histories merged)
  --out FILE       where the counterexample goes (default
                   results/exhaust/<strategy>-<world>.json)
  --json           print the result as one JSON object instead of the tables
  --quiet          no progress on stderr
exit status: 0 no counterexample, 1 a counterexample (written to FILE), 2 bad input`;

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text.trim())) fail(`--${flag}: "${text}" is not a whole number`);
  const v = Number(text);
  if (v < min || v > max) fail(`--${flag}: ${text} is out of range (${min}..${max})`);
  return v;
}

/** `K=N,...` as options; one line and exit 2 for anything else. */
function parseOpts(text: string | undefined): Record<string, number> {
  const opts: Record<string, number> = {};
  for (const part of (text ?? "").split(",").filter((p) => p !== "")) {
    const m = /^([A-Za-z][A-Za-z0-9]*)=(-?\d+(\.\d+)?)$/.exec(part.trim());
    if (!m) fail(`--opt: "${part}" is not KEY=NUMBER`);
    opts[m[1]] = Number(m[2]);
  }
  return opts;
}

async function loadWorld(w: string): Promise<Trace> {
  if (WORLD_NAMES.includes(w)) return builtinWorld(w);
  if (!w.endsWith(".json")) {
    fail(
      `--world: "${w}" is neither a built-in world (${WORLD_NAMES.join(", ")}) nor a .json file`,
    );
  }
  const text = await readTextInput(w, "JSON trace");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`${w}: not JSON: ${(e as Error).message}`);
  }
  try {
    return parseTrace(json);
  } catch (e) {
    if (e instanceof TraceError || e instanceof RangeError) fail(`${w}: ${e.message}`);
    throw e;
  }
}

function report(r: ExhaustResult, out: string | null): void {
  const how = r.scheme === "design"
    ? "states merged by the world's and the design's canonical encoding"
    : "no two event histories merged (the design has no encodeState())";
  console.log(`exhaust: ${r.design} over world ${r.world} (${r.alphabet} events); ${how}`);
  const rows: (string | number)[][] = [["depth", "explored", "new distinct", "seconds"]];
  for (const d of r.perDepth) {
    rows.push([String(d.depth), d.explored, d.distinct, d.seconds.toFixed(1)]);
  }
  if (r.partial) {
    rows.push([
      `${r.partial.depth} (${
        r.stopped === "counterexample" ? "to the counterexample" : "partial"
      })`,
      r.partial.explored,
      r.partial.distinct,
      r.partial.seconds.toFixed(1),
    ]);
  }
  console.log(textTable(rows));
  const why = {
    depth: "the depth asked",
    time: "the time limit",
    counterexample: `a counterexample at depth ${r.depthCompleted + 1}`,
    exhausted: "no new state: every reachable state was checked",
  }[r.stopped];
  console.log(
    `explored ${r.explored.toLocaleString("en-US")} states, ${
      r.distinct.toLocaleString("en-US")
    } ` +
      `distinct; depth ${r.depthCompleted} completed (stopped by ${why}); ` +
      `${formatDuration(r.elapsedS)} (${r.elapsedS.toFixed(1)} s wall, ${
        r.cpuS.toFixed(1)
      } s CPU), ` +
      `${Math.round(r.statesPerS).toLocaleString("en-US")} states/s`,
  );
  const c = r.counterexample;
  if (!c) return;
  const what = c.failure
    ? `the design throws: ${c.failure}`
    : c.violations.map((v) =>
      `${v.kind}: shadow MMU ${v.mmu}, shadow IPA 0x${v.shadowIpa.toString(16)} +0x${
        v.size.toString(16)
      } -> host PA 0x${v.pa.toString(16)}; expected ${v.expected}`
    ).join("\n  ");
  console.log(
    `COUNTEREXAMPLE, ${c.trace.events.length} events (breadth first: none shorter exists in ` +
      `this world):\n  ${what}`,
  );
  c.trace.events.forEach((e, i) => console.log(`  ${i} ${e.op} ${describeEvent(e)}`));
  console.log(`written to ${out}; replay: deno task replay ${out} --strategy ${r.design}`);
}

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    strategy: { type: "string" },
    design: { type: "string" },
    opt: { type: "string" },
    world: { type: "string", default: "4k" },
    depth: { type: "string", default: "6" },
    minutes: { type: "string" },
    "cpu-minutes": { type: "string" },
    jobs: { type: "string" },
    batch: { type: "string" },
    dedup: { type: "string", default: "auto" },
    out: { type: "string" },
    json: { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
  });
  const v = args.values;
  const designs = await designFlag(v.design);
  const strategy = v.strategy ?? (designs.names.length === 1 ? designs.names[0] : undefined);
  if (strategy === undefined) fail("--strategy is required (see --help)");
  const opts = parseOpts(v.opt);
  try {
    makeStrategy(strategy, opts);
  } catch (e) {
    fail(`--strategy: ${(e as Error).message}`);
  }
  const depth = wholeNumber("depth", v.depth, 1, 64);
  const minutes = v.minutes === undefined ? Infinity : Number(v.minutes);
  if (v.minutes !== undefined && !(minutes > 0)) {
    fail(`--minutes: "${v.minutes}" is not a positive number`);
  }
  const cpuMinutes = v["cpu-minutes"] === undefined ? Infinity : Number(v["cpu-minutes"]);
  if (v["cpu-minutes"] !== undefined && !(cpuMinutes > 0)) {
    fail(`--cpu-minutes: "${v["cpu-minutes"]}" is not a positive number`);
  }
  const jobs = v.jobs === undefined
    ? navigator.hardwareConcurrency
    : wholeNumber("jobs", v.jobs, 1, 256);
  const batch = v.batch === undefined ? undefined : wholeNumber("batch", v.batch, 1, 1 << 20);
  if (!["auto", "design", "history"].includes(v.dedup)) {
    fail(`--dedup: "${v.dedup}" is not one of auto, design, history`);
  }
  const w = await loadWorld(v.world);
  if (w.events.length === 0) fail(`--world: ${v.world} has no events (its alphabet is empty)`);
  const worldName = WORLD_NAMES.includes(v.world)
    ? v.world
    : v.world.replace(/^.*\//, "").replace(/\.json$/, "");
  const out = v.out ?? `results/exhaust/${strategy}-${worldName}.json`;
  checkOutputFile("--out", out, { replace: true });
  let progress: Progress | null = null;
  let shown = 0;
  const r = await exhaust({
    // Workers load the design file again (lib/exhaust/worker.ts).
    design: { strategy, opts, file: designFile(strategy) },
    world: { ...w, name: worldName },
    depth,
    timeLimitS: minutes * 60,
    cpuLimitS: cpuMinutes * 60,
    jobs,
    batch,
    dedup: v.dedup as "auto" | DedupScheme,
    onProgress: (p) => {
      if (p.depth !== shown) {
        progress?.stop();
        shown = p.depth;
        progress = startProgress({
          label: `exhaust depth ${p.depth}`,
          total: p.frontier,
          unit: "states expanded",
          quiet: v.quiet,
        });
      }
      progress!.update(
        p.done,
        `${p.explored.toLocaleString("en-US")} explored, ${p.distinct.toLocaleString("en-US")} ` +
          `distinct, ${
            Math.round(p.explored / Math.max(p.elapsedS, 1e-9)).toLocaleString("en-US")
          }/s`,
      );
    },
  }).catch((e) => {
    if (e instanceof RangeError || e instanceof TraceError) fail(e.message);
    throw e;
  });
  await (progress as Progress | null)?.stop();
  if (r.counterexample) {
    await writeOutput("--out", out, traceToJson(r.counterexample.trace), EXIT_BAD_INPUT);
  }
  if (v.json) console.log(JSON.stringify(r, null, 1));
  else report(r, out);
  Deno.exit(r.counterexample ? 1 : 0);
}

await main();
