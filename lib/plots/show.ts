/**
 * What a notebook cell shows: figures, Markdown and takeaways, each sent to Deno's Jupyter
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
import { JUPYTER_DISPLAY } from "./svg.ts";

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
