/**
 * `deno task budget [--out FILE] [--alias LIST] [--budget LIST] [--seed N]`: the
 * `rmap-bounded` budget sweep (lib/sweep/budget.ts): one generated workload per alias
 * density (the sweep's defaults otherwise: 8 vCPUs, 4K, 4 GiB) replayed with
 * `rmap-bounded` at each per-MMU budget, written atomically to `results/budget.csv`, which
 * notebook 03 and `deno task plots` read.
 *
 * Exit status: 0 written, 1 the write failed, 2 bad input or an unwritable `--out` (one
 * line on stderr, checked before any work; nothing written).
 *
 * @module
 */

import { budgetCsv, budgetProblem, budgetSweep, DEFAULT_BUDGETS } from "../lib/sweep/budget.ts";
import { parseSize } from "../lib/util/size.ts";
import { checkOutputFile, fail, parseCli, writeOutput } from "./cli.ts";

const USAGE = `usage: deno task budget [--out FILE] [--alias LIST] [--budget LIST] [--seed N]
  --out FILE      CSV to write (default results/budget.csv)
  --alias LIST    alias densities, comma-separated (default 0,0.1,0.5)
  --budget LIST   per-MMU budgets, comma-separated sizes (default 1K..256K by powers of 2)
  --seed N        trace seed, 0..4294967295 (default 1)
exit status: 0 written, 1 the write failed, 2 bad input or an unwritable --out (one line;
nothing written)`;

function numbers(flag: string, text: string, parse: (t: string) => number): number[] {
  const seen = new Map<number, string>();
  return text.split(",").map((t) => {
    let v: number;
    try {
      v = parse(t.trim());
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`"${t.trim()}" is not a number >= 0`);
    } catch (e) {
      fail(`--${flag}: ${(e as Error).message}`);
    }
    // The same value twice would be two rows of one (alias, budget) in the CSV.
    if (seen.has(v)) fail(`--${flag}: "${seen.get(v)}" and "${t.trim()}" are the same value`);
    seen.set(v, t.trim());
    return v;
  });
}

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    out: { type: "string", default: "results/budget.csv" },
    alias: { type: "string", default: "0,0.1,0.5" },
    budget: { type: "string" },
    seed: { type: "string", default: "1" },
  });
  const aliases = numbers("alias", args.values.alias, (t) => {
    if (!/^(\d+\.?\d*|\.\d+)$/.test(t)) throw new RangeError(`"${t}" is not a number`);
    const v = Number(t);
    if (v > 1) throw new RangeError(`${t} is out of range (0..1)`);
    return v;
  });
  const budgets = args.values.budget === undefined
    ? [...DEFAULT_BUDGETS]
    : numbers("budget", args.values.budget, (t) => {
      const v = parseSize(t);
      const problem = budgetProblem(v);
      if (problem) throw new RangeError(problem);
      return v;
    });
  const seed = Number(args.values.seed);
  if (!/^\d+$/.test(args.values.seed) || seed > 2 ** 32 - 1) {
    fail(`--seed: "${args.values.seed}" is not a whole number in 0..4294967295`);
  }
  checkOutputFile("--out", args.values.out, { replace: true });
  const t0 = performance.now();
  let rows;
  try {
    rows = budgetSweep({ aliases, budgets, seed });
  } catch (e) {
    if (e instanceof RangeError) fail(e.message);
    throw e;
  }
  await writeOutput("--out", args.values.out, budgetCsv(rows));
  console.error(
    `wrote ${args.values.out}: ${rows.length} replays in ${Math.round(performance.now() - t0)} ms`,
  );
}

await main();
