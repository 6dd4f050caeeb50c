/**
 * The trace format: a JSON scenario (the VM's configuration, L1's contexts, then a list
 * of events, whose operations are the table in `ops.ts`) and its validation. Every
 * malformed or inconsistent field is reported as one `TraceError` line naming the field,
 * e.g. `events[3].size: malformed size "64X" (expected e.g. 4K, 2M, 256G)`.
 *
 * Addresses and sizes are numbers, hex strings ("0x40000000") or sizes ("1G").
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseTrace, traceToJson } from "./trace.ts";
 * const t = parseTrace({
 *   name: "one page",
 *   config: { hostGranule: "4K", paBits: 40, vcpus: 1,
 *     memslots: [{ id: 0, base: "1G", size: "1G", backing: "page" }],
 *     contexts: [{ id: 1, vmid: 1, granule: "4K", ipaBits: 40 }] },
 *   events: [{ op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
 *            { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G", write: true },
 *            { op: "migrate", l1ipa: "1G", size: "4K" }],
 * });
 * assertEquals(t.events.map((e) => e.op), ["l1-map", "access", "migrate"]);
 * assertEquals(parseTrace(JSON.parse(traceToJson(t))), t);
 * ```
 * @module
 */

import { granule } from "../kvm/granule.ts";
import { context, int, memslot, obj, str, type TraceConfig, TraceError } from "./fields.ts";
import { parseEvent, type TraceEvent } from "./ops.ts";

/** A validated trace. */
export interface Trace {
  /** Scenario name. */
  name: string;
  /** What it shows. */
  description: string;
  /** Configuration. */
  config: TraceConfig;
  /** Events in order. */
  events: TraceEvent[];
}

const ADDRESS_KEYS: ReadonlySet<string> = new Set(["l2ipa", "l1ipa", "size", "base", "baddr"]);

/**
 * A trace as JSON text that {@linkcode parseTrace} reads back, addresses and sizes as
 * hex strings, one event per line.
 */
export function traceToJson(t: Trace): string {
  const hexify = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(hexify);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v).map((
          [k, x],
        ) => [k, ADDRESS_KEYS.has(k) && typeof x === "number" ? "0x" + x.toString(16) : hexify(x)]),
      );
    }
    return v;
  };
  const head = JSON.stringify(
    { name: t.name, description: t.description, config: hexify(t.config) },
    null,
    2,
  );
  const events = t.events.map((e) => "    " + JSON.stringify(hexify(e))).join(",\n");
  return `${head.slice(0, -2)},\n  "events": [\n${events}\n  ]\n}\n`;
}

/** Validate a parsed JSON value as a trace; throws {@linkcode TraceError}. */
export function parseTrace(json: unknown): Trace {
  const o = obj(json, "trace");
  const c = obj(o.config, "config");
  const hostGranule = str(c, "hostGranule", "config");
  try {
    granule(hostGranule);
  } catch (e) {
    throw new TraceError("config.hostGranule", (e as Error).message);
  }
  const cfg: TraceConfig = {
    hostGranule,
    paBits: int(c, "paBits", "config", 32, 52),
    vcpus: int(c, "vcpus", "config", 1, 4096),
    memslots: [],
    contexts: [],
  };
  if (!Array.isArray(c.memslots)) throw new TraceError("config.memslots", "expected an array");
  cfg.memslots = c.memslots.map((m, i) => memslot(m, `config.memslots[${i}]`, hostGranule));
  if (c.contexts !== undefined && !Array.isArray(c.contexts)) {
    throw new TraceError("config.contexts", "expected an array");
  }
  cfg.contexts = ((c.contexts as unknown[]) ?? []).map((x, i) =>
    context(x, `config.contexts[${i}]`)
  );
  if (!Array.isArray(o.events)) throw new TraceError("events", "expected an array");
  const events = o.events.map((e, i) => parseEvent(e, `events[${i}]`, cfg));
  return {
    name: typeof o.name === "string" ? o.name : "unnamed",
    description: typeof o.description === "string" ? o.description : "",
    config: cfg,
    events,
  };
}
