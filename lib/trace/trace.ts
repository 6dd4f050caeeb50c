/**
 * The trace format: a JSON scenario (the VM's configuration, L1's contexts, then a list
 * of events, whose operations are the table in `ops.ts`) and its validation. Every
 * malformed or inconsistent field is reported as one `TraceError` line naming the field,
 * e.g. `events[3].size: malformed size "64X" (expected e.g. 4K, 2M, 256G)`. Every object
 * holds only the keys its schema names (the trace's below, the configuration's in
 * `fields.ts`, each event's in the op table): an unknown or misspelled key is one line
 * naming the object and the nearest valid key,
 * `events[3]: unknown key "writeable" (did you mean "writable"?)`.
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

import {
  at,
  CONFIG_FIELDS,
  list,
  readObject,
  type Schema,
  str,
  type TraceConfig,
} from "./fields.ts";
import { type Expectation, expectations } from "./expectation.ts";
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

/** The keys of a trace file: what each holds and how it is read (`events` by the op table). */
export const TRACE_FIELDS: Schema<Trace> = {
  name: (o, k, p) => str(o, k, p, "unnamed"),
  description: (o, k, p) => str(o, k, p, ""),
  config: (o, k, p) => readObject(o[k], at(p, k), CONFIG_FIELDS, undefined),
  events: (o, k, p, _, done) => list(o, k, p, (v, q) => parseEvent(v, q, done.config!)),
};
/** A trace file: the trace, and what it expects of each design (read by the cases). */
export interface TraceFile extends Trace {
  /** Expectations by strategy name (`*`: the others). */
  expect: Record<string, Expectation>;
  /** Expectations of the test-only broken designs, by their name. */
  broken: Record<string, Expectation>;
}

/** The keys of a trace file: the trace's, then the expectations (`expectation.ts`). */
export const TRACE_FILE_FIELDS: Schema<TraceFile> = {
  ...TRACE_FIELDS,
  expect: expectations,
  broken: expectations,
};

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

/**
 * Validate a parsed JSON value as a trace file (the trace and its expectations); throws
 * {@linkcode TraceError}, for an unknown key too (with the nearest valid one).
 */
export function parseTraceFile(json: unknown): TraceFile {
  return readObject(json, "", TRACE_FILE_FIELDS, undefined);
}

/**
 * Validate a parsed JSON value as a trace: {@linkcode parseTraceFile} without the
 * expectations (which are checked all the same).
 */
export function parseTrace(json: unknown): Trace {
  const { name, description, config, events } = parseTraceFile(json);
  return { name, description, config, events };
}
