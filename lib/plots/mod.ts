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
 * plus `03-budget.csv`, `04-reproducer-summary.csv` and `04-reproducer-stale.csv`, the
 * data computed here rather than read from the sweep.
 *
 * @example
 * ```ts
 * import { JUPYTER_DISPLAY, markdown } from "./mod.ts";
 * const shown = markdown("**hello**")[JUPYTER_DISPLAY]();
 * console.log(shown["text/markdown"]); // **hello**
 * ```
 * @module
 */

import { formatCsv } from "../sweep/csv.ts";
import { costFigure } from "./cost.ts";
import { tradeoffFigure, violationsFigure } from "./correctness.ts";
import {
  budgetFigure,
  type BudgetRow,
  budgetSweep,
  type BudgetSweepOptions,
  collateralFigure,
  memoryFigure,
} from "./memory.ts";
import {
  loadTrace,
  replayReproducer,
  REPRODUCER_PATH,
  reproducerTimeline,
  staleEntries,
  staleSummary,
} from "./reproducer.ts";
import { loadSweep, type SweepRecord } from "./results.ts";
import { type Figure, JUPYTER_DISPLAY, parseSvg } from "./svg.ts";

export * from "./results.ts";
export * from "./style.ts";
export * from "./svg.ts";
export * from "./cost.ts";
export * from "./correctness.ts";
export * from "./memory.ts";
export * from "./reproducer.ts";

/** Markdown that shows itself in Deno's Jupyter kernel (and prints as text elsewhere). */
export function markdown(text: string): Showable & { toString(): string } {
  return {
    [JUPYTER_DISPLAY]: () => ({ "text/markdown": text, "text/plain": text }),
    toString: () => text,
  };
}

/** Something that shows itself in Jupyter: a {@linkcode Figure} or {@linkcode markdown}. */
export interface Showable {
  /** The MIME bundle. */
  [JUPYTER_DISPLAY](): Record<string, string>;
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
  const jupyter = (Deno as unknown as { jupyter?: JupyterApi }).jupyter;
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
  /** Reproducer trace (default experiments/scenarios/reproducer.json); false: skip figure 04. */
  reproducer?: string | false;
  /** Budget sweep parameters (default {@linkcode budgetSweep}'s); false: skip 03-budget. */
  budget?: BudgetSweepOptions | false;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What {@linkcode writePlots} wrote. */
export interface WritePlotsResult {
  /** Paths of the files written, in order. */
  files: string[];
  /** The figures, in order. */
  figures: Figure[];
  /** The budget sweep's rows (empty when skipped). */
  budget: BudgetRow[];
}

/** The default output directory, results/plots at the repository root. */
export const DEFAULT_PLOTS_DIR: string = decodeURIComponent(
  new URL("../../results/plots", import.meta.url).pathname,
);

/**
 * Build every figure and write it as `<out>/<name>.svg` (each checked to parse as SVG
 * first), with the computed tables as CSV. The function behind `deno task plots`.
 */
export async function writePlots(opts: WritePlotsOptions = {}): Promise<WritePlotsResult> {
  const out = opts.out ?? DEFAULT_PLOTS_DIR;
  const log = opts.log ?? (() => {});
  const rows = await loadSweep(opts.csv);
  log(`read ${rows.length} rows from ${opts.csv ?? "the default sweep CSV"}`);
  const figures = sweepFigures(rows);
  let budget: BudgetRow[] = [];
  const tables: [string, string][] = [];
  if (opts.budget !== false) {
    const t0 = performance.now();
    budget = budgetSweep(opts.budget ?? {});
    log(`budget sweep: ${budget.length} replays in ${Math.round(performance.now() - t0)} ms`);
    figures.push(budgetFigure(budget));
    tables.push([
      "03-budget.csv",
      formatCsv(
        Object.keys(budget[0]),
        budget.map((b) => ({ ...b }) as unknown as Record<string, string | number>),
      ),
    ]);
  }
  if (opts.reproducer !== false) {
    const t0 = performance.now();
    const trace = await loadTrace(opts.reproducer ?? REPRODUCER_PATH);
    const run = replayReproducer(trace);
    log(`reproducer: ${run.runs.length} replays in ${Math.round(performance.now() - t0)} ms`);
    figures.push(reproducerTimeline(run));
    const summary = staleSummary(run);
    tables.push(["04-reproducer-summary.csv", formatCsv(Object.keys(summary[0]), summary)]);
    const stale = staleEntries(run);
    const header = [
      "strategy",
      "event",
      "op",
      "kind",
      "mmu",
      "context",
      "shadow_ipa",
      "size_bytes",
      "canonical_ipa",
      "pa",
      "expected",
    ];
    tables.push(["04-reproducer-stale.csv", formatCsv(header, stale)]);
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
  for (const [name, text] of tables) {
    const path = `${out}/${name}`;
    await Deno.writeTextFile(path, text);
    files.push(path);
  }
  for (const p of files) log(`wrote ${p}`);
  return { files, figures, budget };
}
