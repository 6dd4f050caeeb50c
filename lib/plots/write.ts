/**
 * `deno task plots`: every figure built from the result CSVs alone and written as an SVG
 * file, for readers without Jupyter.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { loadSweep } from "./results.ts";
 * import { sweepFigures } from "./write.ts";
 * const names = sweepFigures(await loadSweep()).map((f) => f.name);
 * assertEquals(names[0], "01-cost-vcpus");
 * ```
 * @module
 */

import { costFigure } from "./cost.ts";
import { coverFigure } from "./cover.ts";
import { tradeoffFigure, violationsFigure } from "./correctness.ts";
import {
  budgetFigure,
  collateralFigure,
  COMMITTED_BUDGET_CSV,
  loadBudgetCsv,
  memoryFigure,
} from "./memory.ts";
import { loadTimeline, REPRODUCER_TIMELINE, reproducerTimeline } from "./reproducer.ts";
import { loadSweep, type SweepRecord } from "./results.ts";
import { type Figure, parseSvg } from "./svg.ts";

/** The figures built from the sweep CSV alone, in file order. */
export function sweepFigures(rows: readonly SweepRecord[]): Figure[] {
  return [
    costFigure(rows, { by: "vcpus" }),
    costFigure(rows, { by: "l1_mem_bytes" }),
    coverFigure(rows),
    violationsFigure(rows),
    tradeoffFigure(rows),
    memoryFigure(rows),
    collateralFigure(rows),
  ];
}

/** Options of {@linkcode writePlots}. */
export interface WritePlotsOptions {
  /** Sweep CSV (default: `$S2LAB_SWEEP_CSV` or results/sweep.csv). */
  csv?: string;
  /** Output directory (default results/plots). */
  out?: string;
  /** Budget sweep CSV (default results/budget.csv); false: skip 03-budget. */
  budget?: string | false;
  /** Timeline CSV prefix (default results/reproducer); false: skip figure 04. */
  timeline?: string | false;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What {@linkcode writePlots} wrote. */
export interface WritePlotsResult {
  /** Paths of the files written, in order. */
  files: string[];
  /** The figures, in order. */
  figures: Figure[];
}

/** The default output directory, results/plots at the repository root. */
export const DEFAULT_PLOTS_DIR: string = decodeURIComponent(
  new URL("../../results/plots", import.meta.url).pathname,
);

/**
 * Build every figure from the result CSVs and write it as `<out>/<name>.svg` (each
 * checked to parse as SVG first). The function behind `deno task plots`.
 */
export async function writePlots(opts: WritePlotsOptions = {}): Promise<WritePlotsResult> {
  const out = opts.out ?? DEFAULT_PLOTS_DIR;
  const log = opts.log ?? (() => {});
  const rows = await loadSweep(opts.csv);
  log(`read ${rows.length} rows from ${opts.csv ?? "the default sweep CSV"}`);
  const figures = sweepFigures(rows);
  if (opts.budget !== false) {
    const budget = await loadBudgetCsv(opts.budget ?? COMMITTED_BUDGET_CSV);
    log(`read ${budget.length} budget sweep rows`);
    figures.push(budgetFigure(budget));
  }
  if (opts.timeline !== false) {
    const run = await loadTimeline(opts.timeline ?? REPRODUCER_TIMELINE);
    log(`read the timeline of ${run.trace} (${run.runs.length} strategies)`);
    figures.push(reproducerTimeline(run));
  }
  await Deno.mkdir(out, { recursive: true });
  const files: string[] = [];
  for (const f of figures) {
    try {
      parseSvg(f.svg);
    } catch (e) {
      throw new Error(`figure ${f.name}: ${(e as Error).message}`);
    }
    const path = `${out}/${f.name}.svg`;
    await Deno.writeTextFile(path, f.svg);
    files.push(path);
  }
  for (const p of files) log(`wrote ${p}`);
  return { files, figures };
}
