/**
 * The trace format: a JSON scenario (the VM's configuration, L1's contexts, then a list
 * of events) and its validation. Every malformed or inconsistent field is reported as
 * one {@linkcode TraceError} line naming the field, e.g.
 * `events[3].size: malformed size "64X" (expected e.g. 4K, 2M, 256G)`.
 *
 * Addresses and sizes are numbers, hex strings ("0x40000000") or sizes ("1G").
 *
 * @example
 * ```ts
 * import { parseTrace } from "./trace.ts";
 * const t = parseTrace({
 *   name: "one page",
 *   config: { hostGranule: "4K", paBits: 40, vcpus: 1,
 *     memslots: [{ id: 0, base: "1G", size: "1G", backing: "page" }],
 *     contexts: [{ id: 1, vmid: 1, granule: "4K", ipaBits: 40 }] },
 *   events: [{ op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
 *            { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G", write: true },
 *            { op: "migrate", l1ipa: "1G", size: "4K" }],
 * });
 * console.log(t.events.length, t.events[0].op); // 3 l1-map
 * ```
 * @module
 */

import { granule, parseSize } from "./granule.ts";
import { parseBacking } from "./host.ts";
import type { MemslotSpec } from "./host.ts";
import type { L1ContextSpec } from "./l1.ts";

/** A trace that does not parse or does not hold together: `path: problem`. */
export class TraceError extends Error {
  /** The JSON path of the offending field. */
  readonly path: string;
  /** `path: problem`. */
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.path = path;
    this.name = "TraceError";
  }
}

/** The VM and L1 as a trace declares them. */
export interface TraceConfig {
  /** Host PAGE_SIZE granule. */
  hostGranule: string;
  /** kvm_get_pa_bits(): L1's PA range and every shadow MMU's IPA size. */
  paBits: number;
  /** Online vCPUs. */
  vcpus: number;
  /** Memslots at start. */
  memslots: MemslotSpec[];
  /** L1 contexts at start. */
  contexts: L1ContextSpec[];
}

/** One event of a trace. */
export type TraceEvent =
  | { op: "l1-map"; ctx: number; l2ipa: number; l1ipa: number; size: number; writable: boolean }
  | { op: "l1-unmap"; ctx: number; l2ipa: number; size: number }
  | { op: "access"; vcpu: number; ctx: number; l2ipa: number; write: boolean }
  | { op: "l1-access"; l1ipa: number; write: boolean }
  | { op: "tlbi-ipa"; vmid: number; l2ipa: number; ttl: number }
  | { op: "tlbi-range"; vmid: number; l2ipa: number; size: number }
  | { op: "tlbi-vmid"; vmid: number }
  | { op: "tlbi-all" }
  | { op: "ctx-create"; context: L1ContextSpec }
  | { op: "ctx-destroy"; ctx: number }
  | { op: "migrate" | "swap-out" | "numa-scan" | "thp-split"; l1ipa: number; size: number }
  | { op: "memslot-delete"; slot: number }
  | { op: "memslot-add"; memslot: MemslotSpec }
  | { op: "wp"; slot: number }
  | { op: "flush" }
  | { op: "l1-reboot" };

/** The operations a trace may use. */
export const TRACE_OPS: readonly TraceEvent["op"][] = [
  "l1-map",
  "l1-unmap",
  "access",
  "l1-access",
  "tlbi-ipa",
  "tlbi-range",
  "tlbi-vmid",
  "tlbi-all",
  "ctx-create",
  "ctx-destroy",
  "migrate",
  "swap-out",
  "numa-scan",
  "thp-split",
  "memslot-delete",
  "memslot-add",
  "wp",
  "flush",
  "l1-reboot",
];

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

type Json = Record<string, unknown>;

function obj(v: unknown, path: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new TraceError(path, "expected an object");
  }
  return v as Json;
}

function int(o: Json, key: string, path: string, min: number, max: number, def?: number): number {
  const v = o[key];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new TraceError(
      `${path}.${key}`,
      v === undefined ? "missing" : `expected an integer, got ${JSON.stringify(v)}`,
    );
  }
  if (v < min || v > max) {
    throw new TraceError(`${path}.${key}`, `${v} is out of range (${min}..${max})`);
  }
  return v;
}

function bool(o: Json, key: string, path: string, def: boolean): boolean {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== "boolean") {
    throw new TraceError(`${path}.${key}`, `expected true or false, got ${JSON.stringify(v)}`);
  }
  return v;
}

function str(o: Json, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== "string") {
    throw new TraceError(`${path}.${key}`, v === undefined ? "missing" : "expected a string");
  }
  return v;
}

/** Parse an address or size: a number, "0x…" hex, or a size such as "4G". */
export function parseAddr(v: unknown): number {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(`${v} is not a whole non-negative number`);
    }
    return v;
  }
  if (typeof v !== "string") {
    throw new RangeError(`expected a number or a string, got ${JSON.stringify(v)}`);
  }
  if (/^0x[0-9a-f]+$/i.test(v.trim())) {
    const n = Number(v.trim());
    if (!Number.isSafeInteger(n)) throw new RangeError(`"${v}" is too large`);
    return n;
  }
  return parseSize(v);
}

function addr(o: Json, key: string, path: string): number {
  if (o[key] === undefined) throw new TraceError(`${path}.${key}`, "missing");
  try {
    return parseAddr(o[key]);
  } catch (e) {
    throw new TraceError(`${path}.${key}`, (e as Error).message);
  }
}

function size(o: Json, key: string, path: string): number {
  const v = addr(o, key, path);
  if (v <= 0) throw new TraceError(`${path}.${key}`, "must be positive");
  return v;
}

function memslot(v: unknown, path: string, hostGranule: string): MemslotSpec {
  const o = obj(v, path);
  const spec = {
    id: int(o, "id", path, 0, 32767),
    base: addr(o, "base", path),
    size: size(o, "size", path),
    backing: str(o, "backing", path),
  };
  try {
    parseBacking(granule(hostGranule), spec.backing);
  } catch (e) {
    throw new TraceError(`${path}.backing`, (e as Error).message);
  }
  return spec;
}

function context(v: unknown, path: string): L1ContextSpec {
  const o = obj(v, path);
  const g = str(o, "granule", path);
  try {
    granule(g);
  } catch (e) {
    throw new TraceError(`${path}.granule`, (e as Error).message);
  }
  const spec: L1ContextSpec = {
    id: int(o, "id", path, 0, 2 ** 31),
    vmid: int(o, "vmid", path, 0, 65535),
    granule: g,
    ipaBits: int(o, "ipaBits", path, 32, 48),
    s2: bool(o, "s2", path, true),
  };
  if (o.baddr !== undefined) spec.baddr = addr(o, "baddr", path);
  return spec;
}

function event(v: unknown, path: string, cfg: TraceConfig): TraceEvent {
  const o = obj(v, path);
  const op = o.op;
  if (typeof op !== "string" || !(TRACE_OPS as readonly string[]).includes(op)) {
    throw new TraceError(
      `${path}.op`,
      `unknown operation ${JSON.stringify(op)} (expected one of ${TRACE_OPS.join(", ")})`,
    );
  }
  const ctx = () => int(o, "ctx", path, 0, 2 ** 31);
  const vmid = () => int(o, "vmid", path, 0, 65535);
  switch (op) {
    case "l1-map":
      return {
        op,
        ctx: ctx(),
        l2ipa: addr(o, "l2ipa", path),
        l1ipa: addr(o, "l1ipa", path),
        size: size(o, "size", path),
        writable: bool(o, "writable", path, true),
      };
    case "l1-unmap":
      return { op, ctx: ctx(), l2ipa: addr(o, "l2ipa", path), size: size(o, "size", path) };
    case "access":
      return {
        op,
        vcpu: int(o, "vcpu", path, 0, cfg.vcpus - 1),
        ctx: ctx(),
        l2ipa: addr(o, "l2ipa", path),
        write: bool(o, "write", path, false),
      };
    case "l1-access":
      return { op, l1ipa: addr(o, "l1ipa", path), write: bool(o, "write", path, false) };
    case "tlbi-ipa":
      return { op, vmid: vmid(), l2ipa: addr(o, "l2ipa", path), ttl: int(o, "ttl", path, 0, 3, 0) };
    case "tlbi-range":
      return { op, vmid: vmid(), l2ipa: addr(o, "l2ipa", path), size: size(o, "size", path) };
    case "tlbi-vmid":
      return { op, vmid: vmid() };
    case "ctx-create":
      return { op, context: context(o.context, `${path}.context`) };
    case "ctx-destroy":
      return { op, ctx: ctx() };
    case "migrate":
    case "swap-out":
    case "numa-scan":
    case "thp-split":
      return { op, l1ipa: addr(o, "l1ipa", path), size: size(o, "size", path) };
    case "memslot-delete":
    case "wp":
      return { op, slot: int(o, "slot", path, 0, 32767) };
    case "memslot-add":
      return { op, memslot: memslot(o.memslot, `${path}.memslot`, cfg.hostGranule) };
    default:
      return { op } as TraceEvent;
  }
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
  const events = o.events.map((e, i) => event(e, `events[${i}]`, cfg));
  return {
    name: typeof o.name === "string" ? o.name : "unnamed",
    description: typeof o.description === "string" ? o.description : "",
    config: cfg,
    events,
  };
}
