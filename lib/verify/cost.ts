/**
 * Check (d) of a verification: what the design costs beside the reference designs, on a
 * small grid of the sweep (iterations and estimated time of the worst host unmap against
 * vCPUs, index bytes per shadow entry) and on one populated host-scale point (every L2
 * context writes a working set and re-touches part of it after each unmap: leaves
 * destroyed, refaults, insert-lock contention). Rows are `sweep.csv` rows
 * (lib/sweep/columns.ts), so a figure or notebook that reads a sweep reads them too.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { checkCost } from "./cost.ts";
 * const r = checkCost("rmap", ["full-walk"], {
 *   grid: { vcpus: "1,2", granule: "4K", "l1-mem": "4G", alias: "0", "pages-per-context": "8" },
 *   populated: {
 *     vcpus: "1", granule: "4K", "l1-mem": "4G", alias: "0", "working-set": "64K",
 *     "pages-per-context": "8",
 *   },
 *   seed: 1,
 * });
 * assertEquals([r.status, r.rows.length, r.cost.costModel], ["info", 6, "default"]);
 * ```
 * @module
 */

import type { SweepRow } from "../sweep/columns.ts";
import { expandGrid, gridId, parseGridValues } from "../sweep/grid.ts";
import { runPoint } from "../sweep/run.ts";
import { type CostBase, defaultCostBase } from "../sweep/spec.ts";
import type { CheckResult, ProgressFn } from "./check.ts";

/** Options of {@linkcode checkCost}. */
export interface CostCheckOptions {
  /** The small grid, as sweep flags (`{ vcpus: "1,16,192" }`). */
  grid: Readonly<Record<string, string>>;
  /** The populated point, as sweep flags (with a `working-set`). */
  populated: Readonly<Record<string, string>>;
  /** Sweep seed. */
  seed: number;
  /** Cost model and its origin (default: the sweep's default; `--cost-model`). */
  cost?: CostBase;
  /** Progress: replays done of all. */
  onProgress?: ProgressFn;
}

/** What the cost check measured: the grid's rows, then the populated point's. */
export interface CostRows {
  /** Rows of the small grid (`working_set_bytes` 0). */
  readonly grid: readonly SweepRow[];
  /** Rows of the populated point. */
  readonly populated: readonly SweepRow[];
  /** Where the rows' cost model comes from (a {@linkcode CostBase}'s origin). */
  readonly costModel: string;
}

/** Run the cost sweep of `design` beside `references`. */
export function checkCost(
  design: string,
  references: readonly string[],
  opts: CostCheckOptions,
): CheckResult & { readonly cost: CostRows } {
  const t0 = performance.now();
  const base = opts.cost ?? defaultCostBase();
  const cost = base.model;
  const strategies = [...references.filter((r) => r !== design), design];
  const small = expandGrid(parseGridValues(opts.grid)).points;
  const big = expandGrid(parseGridValues(opts.populated)).points;
  if (big.length !== 1 || (big[0].workingSet === 0 && big[0].workingSetFraction === 0)) {
    throw new RangeError(
      `the populated point must be one point with a working set (it expands to ${big.length})`,
    );
  }
  const total = (small.length + big.length) * strategies.length;
  let done = 0;
  const run = (points: typeof small) => {
    const id = gridId(points, opts.seed, cost);
    return points.flatMap((params, index) => {
      const r = runPoint(
        { gridId: id, index, points: points.length, seed: opts.seed, params },
        strategies,
        cost,
        {
          onProgress: (f) => opts.onProgress?.(done + f * strategies.length, total),
        },
      );
      done += strategies.length;
      opts.onProgress?.(done, total);
      return r.rows;
    });
  };
  const grid = run(small);
  const populated = run(big);
  const rows = [...grid, ...populated];
  const worst = (name: string, rs: readonly SweepRow[]) =>
    Math.max(0, ...rs.filter((r) => r.strategy === name).map((r) => r.unmap_iterations_max));
  const mine = worst(design, grid);
  const up = references.length > 0 ? worst(references[0], grid) : 0;
  return {
    check: "cost",
    status: "info",
    summary:
      `${small.length} grid points and 1 populated point beside ${
        references.join(", ")
      }: worst unmap ${mine.toLocaleString("en-US")} iterations` +
      (up > 0 ? ` (${references[0]}: ${up.toLocaleString("en-US")})` : ""),
    counterexample: null,
    rows,
    elapsedMs: performance.now() - t0,
    cost: { grid, populated, costModel: base.origin },
  };
}
