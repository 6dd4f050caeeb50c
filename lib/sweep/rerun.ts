/**
 * A small sweep run inside a notebook cell: the flags of `deno task sweep` as an object
 * (`{ vcpus: "1,8", granule: "4K" }`: any grid dimension, `seed`, `strategy` and the cost
 * flags, resolved as the sweep resolves them), every point run in process, one after
 * another, with a progress bar that updates in place in Jupyter (one display, updated per
 * point; a line per point on stderr elsewhere). It returns the CSV text the sweep would
 * write for the same flags, for the plots to read (`parseSweep` in lib/plots/results.ts).
 * It runs the engine: the plots do not import it, a notebook that re-runs does.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { progressBar, rerunSweep } from "./rerun.ts";
 * assertEquals(progressBar(1, 4, 8), "██░░░░░░ 1/4 points");
 * const csv = await rerunSweep({ vcpus: "1", "l1-mem": "2G", granule: "4K", alias: "0",
 *   memslots: "2", "pages-per-context": "4", strategy: "full-walk" }, { quiet: true });
 * assertEquals(csv.split("\n").length, 3); // header, one row, final newline
 * ```
 * @module
 */

import { SWEEP_HEADER } from "./columns.ts";
import { describePoint } from "./grid.ts";
import { runPoint } from "./run.ts";
import { specGrid, sweepSpec } from "./spec.ts";
import { formatCsv } from "../util/csv.ts";
import { jupyterApi, jupyterFlush } from "../util/jupyter.ts";

/** A text progress bar: `done` of `total` points. */
export function progressBar(done: number, total: number, width = 30): string {
  const full = total > 0 ? Math.round((done / total) * width) : width;
  return `${"█".repeat(full)}${"░".repeat(width - full)} ${done}/${total} points`;
}

/** Options of {@linkcode rerunSweep}. */
export interface RerunOptions {
  /** No progress outside Jupyter (default false). */
  quiet?: boolean;
}

/**
 * Run the sweep `flags` describe with a progress bar and return its CSV text. Keep it
 * small: it runs in the notebook's kernel, one point after another. Throws the sweep's
 * one-line `GridError` for a bad flag.
 */
export async function rerunSweep(
  flags: Record<string, string>,
  opts: RerunOptions = {},
): Promise<string> {
  const spec = sweepSpec(flags);
  const { grid, id } = specGrid(spec);
  const jupyter = jupyterApi();
  const displayId = `s2lab-sweep-${id}-${crypto.randomUUID()}`;
  const say = async (text: string, first: boolean) => {
    if (jupyter) {
      await jupyter.broadcast(first ? "display_data" : "update_display_data", {
        data: { "text/plain": text },
        metadata: {},
        transient: { display_id: displayId },
      });
    } else if (!opts.quiet) console.error(text);
  };
  const n = grid.points.length;
  await say(progressBar(0, n), true);
  const rows = [];
  for (const [index, params] of grid.points.entries()) {
    const r = runPoint(
      { gridId: id, index, points: n, seed: spec.seed, params },
      spec.strategies,
      spec.cost,
    );
    rows.push(...r.rows);
    await say(`${progressBar(index + 1, n)} (last: ${describePoint(params)})`, false);
  }
  await jupyterFlush();
  return formatCsv(SWEEP_HEADER, rows);
}
