/**
 * An exhaustive-checker worker (a Deno Worker started by `workers.ts`): the first message
 * builds its {@linkcode Expander}, each later one is a batch of states to expand.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { parseTrace } from "../trace/trace.ts";
import { loadDesign } from "./design.ts";
import { Expander } from "./expand.ts";
import type { WorkerInit, WorkerReply, WorkerTask } from "./workers.ts";

let expander: Promise<Expander> | null = null;

self.onmessage = async (e: MessageEvent<WorkerInit | WorkerTask>) => {
  const m = e.data;
  if ("world" in m) {
    expander = loadDesign(m.design).then((make) =>
      new Expander(parseTrace(JSON.parse(m.world)), make, m.scheme)
    );
    expander.catch(() => {}); // reported with the first batch
    return;
  }
  let reply: WorkerReply;
  try {
    const x = await expander!;
    reply = { expansion: x.expand(m.histories, m.depth, m.count) };
  } catch (err) {
    reply = { error: err instanceof Error ? err.message : String(err) };
  }
  const transfer = "expansion" in reply
    ? [
      reply.expansion.status.buffer as ArrayBuffer,
      reply.expansion.fingerprints.buffer as ArrayBuffer,
    ]
    : [];
  self.postMessage(reply, { transfer });
};
