/**
 * What a notebook cell shows: figures, tables, Markdown and takeaways, each sent to Deno's Jupyter
 * kernel as its own `display_data` message (printed as text elsewhere).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { JUPYTER_DISPLAY } from "./svg.ts";
 * import { markdown } from "./show.ts";
 * const shown = markdown("**hello**")[JUPYTER_DISPLAY]();
 * assertEquals(shown["text/markdown"], "**hello**");
 * ```
 * @module
 */

import { jupyterApi, jupyterFlush } from "../util/jupyter.ts";
import { type Drawn, FIGURE_MIME } from "./drawn.ts";
import { type FigureRecord, JUPYTER_DISPLAY } from "./svg.ts";
import type { Stated } from "./takeaway.ts";

/** Markdown that shows itself in Deno's Jupyter kernel (and prints as text elsewhere). */
export function markdown(text: string): Showable & { toString(): string } {
  return {
    [JUPYTER_DISPLAY]: () => ({ "text/markdown": text, "text/plain": text }),
    toString: () => text,
  };
}

/** A Markdown table that records the rows it shows (as a figure does: ./drawn.ts). */
export interface Table extends Showable {
  /** What it states and shows. */
  readonly record: FigureRecord;
  /** The Markdown. */
  toString(): string;
}

/** A Markdown table named `name` that shows the rows of `drawn`, stating `stated`. */
export function table(
  name: string,
  text: string,
  drawn: Drawn[],
  stated: Stated = { facts: [], ratios: [], constants: [] },
): Table {
  const record: FigureRecord = { name, title: name, stated, drawn };
  return {
    record,
    [JUPYTER_DISPLAY]: () => ({
      "text/markdown": text,
      "text/plain": text,
      [FIGURE_MIME]: record,
    }),
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
  await jupyterFlush();
}
