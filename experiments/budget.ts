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

import { budgetCsv, budgetSweep, DEFAULT_BUDGETS } from "../lib/sweep/budget.ts";
import { parseSize } from "../lib/util/size.ts";
import { checkOutputFile, fail, parseCli, writeOutput } from "./cli.ts";

const USAGE = `usage: deno task budget [--out FILE] [--alias LIST] [--budget LIST] [--seed N]
  --out FILE      CSV to write (default results/budget.csv)
  --alias LIST    alias densities, comma-separated (default 0,0.1,0.5)
  --budget LIST   per-MMU budgets, comma-separated sizes (default 1K..256K by powers of 2)
  --seed N        trace seed (default 1)
exit status: 0 written, 1 the write failed, 2 bad input or an unwritable --out (one line;
nothing written)`;

function numbers(flag: string, text: string, parse: (t: string) => number): number[] {
  return text.split(",").map((t) => {
    try {
      const v = parse(t.trim());
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`"${t.trim()}" is not a number >= 0`);
      return v;
    } catch (e) {
      fail(`--${flag}: ${(e as Error).message}`);
    }
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
    : numbers("budget", args.values.budget, parseSize);
  if (!/^\d+$/.test(args.values.seed)) fail(`--seed: "${args.values.seed}" is not a whole number`);
  checkOutputFile("--out", args.values.out, { replace: true });
  const t0 = performance.now();
  const rows = budgetSweep({ aliases, budgets, seed: Number(args.values.seed) });
  await writeOutput("--out", args.values.out, budgetCsv(rows));
  console.error(
    `wrote ${args.values.out}: ${rows.length} replays in ${Math.round(performance.now() - t0)} ms`,
  );
}

await main();
