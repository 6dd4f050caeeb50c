/**
 * Benchmarks of the sweep's hot paths: trace generation for one grid point, one grid
 * point's replay under the oracle with each registered strategy (what a sweep worker does
 * per row), and CSV formatting. `deno bench bench/sweep_bench.ts`.
 *
 * @module
 */

import { defaultCostModel } from "../lib/sweep/costmodel.ts";
import { SWEEP_HEADER, type SweepRow } from "../lib/sweep/columns.ts";
import type { PointSpec } from "../lib/sweep/grid.ts";
import { replayRow } from "../lib/sweep/run.ts";
import { STRATEGY_NAMES, UPSTREAM } from "../lib/strategies/mod.ts";
import { defaultWorkload, generateWorkload, type WorkloadParams } from "../lib/trace/workload.ts";
import { formatCsv } from "../lib/util/csv.ts";

const G = 2 ** 30;
const cost = defaultCostModel();

/** The published scale: 192 vCPUs, 256 GiB, 4K, 10% aliases. */
const big: WorkloadParams = { ...defaultWorkload(), vcpus: 192, l1Mem: 256 * G, alias: 0.1 };
/** A mid-size point whose replay takes a fraction of a second. */
const mid: WorkloadParams = { ...defaultWorkload(), vcpus: 16, l1Mem: 64 * G, alias: 0.1 };
const midSpec: PointSpec = { gridId: "bench", index: 0, points: 1, seed: 1, params: mid };
const midWorkload = generateWorkload(mid, 1);

Deno.bench({
  name: "workload: generate 192 vCPUs, 256G, 4K, alias 0.1",
  group: "generate",
  baseline: true,
  n: 10,
  warmup: 2,
  fn: () => {
    generateWorkload(big, 1);
  },
});

Deno.bench({
  name: "workload: generate 16 vCPUs, 64G, 4K, alias 0.1",
  group: "generate",
  n: 50,
  warmup: 5,
  fn: () => {
    generateWorkload(mid, 1);
  },
});

for (const s of STRATEGY_NAMES) {
  Deno.bench({
    name:
      `point replay under the oracle: ${s} (16 vCPUs, 64G, 4K, alias 0.1; ${midWorkload.trace.events.length} events)`,
    group: "replay",
    baseline: s === UPSTREAM,
    n: 5,
    warmup: 1,
    fn: () => {
      replayRow(midSpec, midWorkload, s, cost);
    },
  });
}

const row = replayRow(midSpec, midWorkload, UPSTREAM, cost);
const rows: SweepRow[] = Array.from({ length: 1000 }, (_, i) => ({ ...row, point: i }));

Deno.bench({
  name: "csv: format 1000 rows",
  group: "csv",
  fn: () => {
    formatCsv(SWEEP_HEADER, rows);
  },
});
