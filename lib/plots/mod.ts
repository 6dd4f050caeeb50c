/**
 * The figures of issue #5, for the notebooks (notebooks/*.ipynb) and for
 * `deno task plots`, from one loader ({@linkcode loadSweep}) and one set of builders:
 *
 * | file | notebook | shows |
 * |---|---|---|
 * | `01-cost-vcpus.svg`, `01-cost-memory.svg` | 01-cost | worst unmap iterations against vCPUs / L1 memory, soft-lockup line |
 * | `02-violations.svg`, `02-tradeoff.svg` | 02-correctness | violations against alias density; iterations against violations |
 * | `03-memory.svg`, `03-collateral.svg`, `03-budget.svg` | 03-memory | index bytes per entry, collateral unmaps, rmap-bounded fallbacks against budget |
 * | `04-reproducer-timeline.svg` | 04-reproducer | stale entries of the published reproducer, event by event |
 *
 * Every figure is built from CSV files alone: `results/sweep.csv` (`deno task sweep`),
 * `results/budget.csv` (`deno task budget`) and `results/reproducer.*.csv`
 * (`deno task timeline`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { JUPYTER_DISPLAY, markdown } from "./mod.ts";
 * const shown = markdown("**hello**")[JUPYTER_DISPLAY]();
 * assertEquals(shown["text/markdown"], "**hello**");
 * ```
 * @module
 */

import { costFigure } from "./cost.ts";
import { tradeoffFigure, violationsFigure } from "./correctness.ts";
import {
  budgetFigure,
  collateralFigure,
  COMMITTED_BUDGET_CSV,
  loadBudget,
  memoryFigure,
} from "./memory.ts";
import { loadTimeline, REPRODUCER_TIMELINE, reproducerTimeline } from "./reproducer.ts";
import { loadSweep, type SweepRecord } from "./results.ts";
import { type Figure, JUPYTER_DISPLAY, parseSvg } from "./svg.ts";

export * from "./results.ts";
export * from "./style.ts";
export * from "./svg.ts";
export * from "./cost.ts";
export * from "./correctness.ts";
export * from "./memory.ts";
export * from "./reproducer.ts";
export * from "./params.ts";
export * from "./provenance.ts";
export * from "./takeaway.ts";
export * from "./latency.ts";
export * from "./hostscale.ts";

/** Markdown that shows itself in Deno's Jupyter kernel (and prints as text elsewhere). */
export function markdown(text: string): Showable & { toString(): string } {
  return {
    [JUPYTER_DISPLAY]: () => ({ "text/markdown": text, "text/plain": text }),
    toString: () => text,
  };
}

/**
 * Something that shows itself in Jupyter: a {@linkcode Figure}, {@linkcode markdown} or a
 * takeaway (lib/plots/takeaway.ts, whose bundle also holds JSON).
 */
export interface Showable {
  /** The MIME bundle. */
  [JUPYTER_DISPLAY](): Record<string, unknown>;
}

interface JupyterApi {
  broadcast(type: string, content: Record<string, unknown>): Promise<void>;
}

/**
 * Show figures and Markdown in a notebook cell: each goes out as its own `display_data`
 * message, awaited inside the cell, then a short pause. Deno 2.9's kernel can report the
 * cell idle before a queued output message (a cell's return value or a display) has gone
 * out, and a headless client (`jupyter nbconvert --execute`) stops listening at idle, so
 * about one notebook run in ten lost an output; .ci/notebooks.sh still retries a run
 * that lost one. Outside Jupyter, prints the text form.
 */
export async function show(...items: Showable[]): Promise<void> {
  const jupyter = jupyterApi();
  for (const it of items) {
    const bundle = it[JUPYTER_DISPLAY]();
    if (jupyter) {
      await jupyter.broadcast("display_data", { data: bundle, metadata: {}, transient: {} });
    } else console.log(bundle["text/plain"] ?? "");
  }
  // The kernel queues the message; give its IOPub sender time to send it before the cell
  // ends and the kernel reports idle (a client stops listening at idle).
  if (jupyter) await new Promise((resolve) => setTimeout(resolve, SHOW_FLUSH_MS));
}

/** ms {@linkcode show} waits after its messages (see there). */
export const SHOW_FLUSH_MS = 50;

/** The figures built from the sweep CSV alone, in file order. */
export function sweepFigures(rows: readonly SweepRecord[]): Figure[] {
  return [
    costFigure(rows, { by: "vcpus" }),
    costFigure(rows, { by: "l1_mem_bytes" }),
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
    const budget = await loadBudget(opts.budget ?? COMMITTED_BUDGET_CSV);
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

/** Deno.jupyter in the Jupyter kernel, undefined elsewhere (where reading it throws). */
function jupyterApi(): JupyterApi | undefined {
  try {
    return (Deno as unknown as { jupyter?: JupyterApi }).jupyter;
  } catch {
    return undefined;
  }
}
