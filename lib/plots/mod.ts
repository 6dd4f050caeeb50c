/**
 * The lab's figures, for the notebooks (notebooks/*.ipynb) and for `deno task plots`
 * (./write.ts), from one loader ({@linkcode loadSweep}) and one set of builders:
 *
 * | file | notebook | shows |
 * |---|---|---|
 * | `01-cover.svg` | 01-cost (first) | the cover-letter figure: worst unmap time against vCPUs for upstream, the series and our best design, and their ratio |
 * | `01-cost-vcpus.svg`, `01-cost-memory.svg` | 01-cost | worst unmap iterations against vCPUs / L1 memory, soft-lockup line |
 * | `02-violations.svg`, `02-tradeoff.svg` | 02-correctness | violations per design, granule and alias density; iterations against violations |
 * | `03-memory.svg`, `03-collateral.svg`, `03-budget.svg` | 03-memory | index bytes per entry, collateral unmaps, rmap-bounded fallbacks and worst unmap time against budget per vCPU count and granule |
 * | `04-reproducer-timeline.svg` | 04-reproducer | stale entries of the published reproducer, event by event |
 *
 * Every figure is built from CSV files alone: `results/sweep.csv` (`deno task sweep`),
 * `results/budget.csv` (`deno task budget`) and `results/reproducer.*.csv`
 * (`deno task timeline`). No module here loads the engine (./imports_test.ts): a notebook
 * that re-runs a sweep imports lib/sweep/rerun.ts itself. A cell shows its output with
 * ./show.ts.
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

export * from "./results.ts";
export * from "./style.ts";
export * from "./svg.ts";
export * from "./cost.ts";
export * from "./cover.ts";
export * from "./correctness.ts";
export * from "./memory.ts";
export * from "./reproducer.ts";
export * from "./params.ts";
export * from "./provenance.ts";
export * from "./takeaway.ts";
export * from "./latency.ts";
export * from "./hostscale.ts";
export * from "./hostcost.ts";
export * from "./show.ts";
export * from "./write.ts";
