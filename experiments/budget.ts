/**
 * `deno task budget [--out FILE] [--vcpus LIST] [--granule LIST] [--alias LIST]
 * [--budget LIST] [--seed N] [--cost-model FILE]`: the `rmap-bounded` budget sweep
 * (lib/sweep/budget.ts): one generated workload per (vCPU count, host granule, alias
 * density) (the sweep's defaults otherwise: 4 GiB, L1's granule the host's) replayed with `rmap-bounded` at each per-MMU budget, each unmap event's time
 * estimated by the sweep's cost model, written atomically to `results/budget.csv`, which
 * notebook 03 and `deno task plots` read.
 *
 * Exit status: 0 written, 1 the write failed, 2 bad input or an unwritable `--out` (one
 * line on stderr, checked before any work; nothing written).
 *
 * @module
 */

import {
  budgetCsv,
  budgetProblem,
  budgetSweep,
  DEFAULT_BUDGET_GRANULES,
  DEFAULT_BUDGET_VCPUS,
  DEFAULT_BUDGETS,
} from "../lib/sweep/budget.ts";
import { GRANULE_NAMES, type GranuleName } from "../lib/kvm/granule.ts";
import { DIMENSIONS } from "../lib/sweep/grid.ts";
import { parseSize } from "../lib/util/size.ts";
import { checkOutputFile, fail, parseCli, writeOutput } from "./cli.ts";
import { costModelFlag } from "./cost_model_flag.ts";

const VCPUS = DIMENSIONS.find((d) => d.flag === "vcpus")!.range!;

const USAGE = `usage: deno task budget [--out FILE] [--vcpus LIST] [--granule LIST] [--alias LIST]
  [--budget LIST] [--seed N] [--cost-model FILE]
  --out FILE         CSV to write (default results/budget.csv)
  --vcpus LIST       L1 vCPU counts, comma-separated, ${VCPUS[0]}..${VCPUS[1]} (default ${
  DEFAULT_BUDGET_VCPUS.join(",")
})
  --granule LIST     host granules, comma-separated, of ${GRANULE_NAMES.join(", ")} (default ${
  DEFAULT_BUDGET_GRANULES.join(",")
}); L1's is the same, the PA size 48 bits (52 for 64K)
  --alias LIST       alias densities, comma-separated (default 0,0.1,0.5)
  --budget LIST      per-MMU budgets, comma-separated sizes (default 1K..256K by powers of 2)
  --seed N           trace seed, 0..4294967295 (default 1)
  --cost-model FILE  cost model file (deno task calibrate --out) for the estimated times
                     (default: lib/sweep/costmodel.ts's); the CSV's cost_model column names it
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
    // The same value twice would be two rows of one (vCPUs, granule, alias, budget) in the CSV.
    if (seen.has(v)) fail(`--${flag}: "${seen.get(v)}" and "${t.trim()}" are the same value`);
    seen.set(v, t.trim());
    return v;
  });
}

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    out: { type: "string", default: "results/budget.csv" },
    vcpus: { type: "string", default: DEFAULT_BUDGET_VCPUS.join(",") },
    granule: { type: "string", default: DEFAULT_BUDGET_GRANULES.join(",") },
    alias: { type: "string", default: "0,0.1,0.5" },
    budget: { type: "string" },
    seed: { type: "string", default: "1" },
    "cost-model": { type: "string" },
  });
  const vcpus = numbers("vcpus", args.values.vcpus, (t) => {
    if (!/^\d+$/.test(t)) throw new RangeError(`"${t}" is not a whole number`);
    const v = Number(t);
    if (v < VCPUS[0] || v > VCPUS[1]) {
      throw new RangeError(`${t} is out of range (${VCPUS[0]}..${VCPUS[1]})`);
    }
    return v;
  });
  const granules: GranuleName[] = [];
  for (const t of args.values.granule.split(",").map((g) => g.trim())) {
    if (!(GRANULE_NAMES as readonly string[]).includes(t)) {
      fail(`--granule: unknown granule "${t}" (expected one of ${GRANULE_NAMES.join(", ")})`);
    }
    if (granules.includes(t as GranuleName)) fail(`--granule: "${t}" is listed twice`);
    granules.push(t as GranuleName);
  }
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
  const cost = await costModelFlag(args.values["cost-model"]);
  checkOutputFile("--out", args.values.out, { replace: true });
  const t0 = performance.now();
  let rows;
  try {
    rows = budgetSweep({ vcpus, granules, aliases, budgets, seed, cost });
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
