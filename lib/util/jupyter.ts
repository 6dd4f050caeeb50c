/**
 * Deno's Jupyter kernel, for code that shows output in a notebook cell: `Deno.jupyter`
 * when running in the kernel (undefined elsewhere, where reading it throws), and the pause
 * a cell takes after its last message. Deno 2.9's kernel can report a cell idle before a
 * queued output message has gone out, and a headless client (`jupyter nbconvert
 * --execute`) stops listening at idle: a short wait gives its IOPub sender time.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { jupyterApi, jupyterFlush } from "./jupyter.ts";
 * assertEquals(jupyterApi(), undefined); // not in a kernel
 * await jupyterFlush(); // returns at once outside a kernel
 * ```
 * @module
 */

/** What of `Deno.jupyter` the lab uses. */
export interface JupyterApi {
  /** Send a message on the kernel's IOPub channel (`display_data`, `update_display_data`). */
  broadcast(type: string, content: Record<string, unknown>): Promise<void>;
}

/** ms a cell waits after its last output message (see the module doc). */
export const JUPYTER_FLUSH_MS = 50;

/** Deno.jupyter in the Jupyter kernel, undefined elsewhere. */
export function jupyterApi(): JupyterApi | undefined {
  try {
    return (Deno as unknown as { jupyter?: JupyterApi }).jupyter;
  } catch {
    return undefined;
  }
}

/** In the kernel, wait {@linkcode JUPYTER_FLUSH_MS} for queued output to go out. */
export async function jupyterFlush(): Promise<void> {
  if (jupyterApi()) await new Promise((resolve) => setTimeout(resolve, JUPYTER_FLUSH_MS));
}
