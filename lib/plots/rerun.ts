/**
 * A small sweep run inside a notebook cell (issue #12): the grid flags of
 * `deno task sweep` (`{ vcpus: "1,8", granule: "4K" }`), every point run in process with
 * the default cost model, and a progress bar that updates in place in Jupyter (one
 * display, updated per point; a line per point elsewhere). The rows come back typed as
 * {@linkcode loadSweep} would read them from the CSV the same flags write.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { progressBar } from "./rerun.ts";
 * assertEquals(progressBar(1, 4, 8), "██░░░░░░ 1/4 points");
 * ```
 * @module
 */

import { STRATEGY_NAMES } from "../strategies/mod.ts";
import { SWEEP_HEADER } from "../sweep/columns.ts";
import { defaultCostModel } from "../sweep/costmodel.ts";
import { describePoint, expandGrid, gridId, parseGridValues } from "../sweep/grid.ts";
import { runPoint } from "../sweep/run.ts";
import { formatCsv } from "../util/csv.ts";
import { parseSweep, type SweepRecord } from "./results.ts";

/** A text progress bar: `done` of `total` points. */
export function progressBar(done: number, total: number, width = 30): string {
  const full = total > 0 ? Math.round((done / total) * width) : width;
  return `${"█".repeat(full)}${"░".repeat(width - full)} ${done}/${total} points`;
}

interface JupyterApi {
  broadcast(type: string, content: Record<string, unknown>): Promise<void>;
}

/**
 * Run the grid `flags` describe (any `deno task sweep` grid flag, plus `seed` and
 * `strategy`) with a progress bar, and return its rows. Keep it small: it runs in the
 * notebook's kernel, one point after another.
 */
export async function rerunSweep(flags: Record<string, string>): Promise<SweepRecord[]> {
  const { seed: seedText, strategy, ...grid } = flags;
  const seed = Number(seedText ?? 1);
  const strategies = strategy ? strategy.split(",") : [...STRATEGY_NAMES];
  const g = expandGrid(parseGridValues(grid));
  const cost = defaultCostModel();
  const id = gridId(g.points, seed, cost);
  const jupyter = jupyterApi();
  const displayId = `s2lab-sweep-${id}-${crypto.randomUUID()}`;
  const say = async (text: string, first: boolean) => {
    if (jupyter) {
      await jupyter.broadcast(first ? "display_data" : "update_display_data", {
        data: { "text/plain": text },
        metadata: {},
        transient: { display_id: displayId },
      });
    } else console.error(text);
  };
  await say(progressBar(0, g.points.length), true);
  const rows = [];
  for (const [index, params] of g.points.entries()) {
    const r = runPoint(
      { gridId: id, index, points: g.points.length, seed, params },
      strategies,
      cost,
    );
    rows.push(...r.rows);
    await say(
      `${progressBar(index + 1, g.points.length)} (last: ${describePoint(params)})`,
      false,
    );
  }
  if (jupyter) await new Promise((resolve) => setTimeout(resolve, 50));
  return parseSweep(formatCsv(SWEEP_HEADER, rows), `sweep of grid ${id}`);
}

/** Deno.jupyter in the Jupyter kernel, undefined elsewhere (where reading it throws). */
function jupyterApi(): JupyterApi | undefined {
  try {
    return (Deno as unknown as { jupyter?: JupyterApi }).jupyter;
  } catch {
    return undefined;
  }
}
