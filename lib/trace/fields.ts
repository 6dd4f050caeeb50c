/**
 * Reading a trace's JSON: one {@linkcode TraceError} line naming the field for anything
 * malformed (`events[3].size: malformed size "64X" (expected e.g. 4K, 2M, 256G)`), the
 * readers of each field type, and the schemas of the trace's configuration
 * (`TraceConfig`, its memslots and L1 contexts). A schema maps each key an object may
 * hold to the reader of its value, so the keys are declared once: an unknown or
 * misspelled key is an error naming the object and the nearest valid key
 * (`config: unknown key "vcpu" (did you mean "vcpus"?)`). The events' schemas are the op
 * table in `ops.ts`.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { addr, CONFIG_FIELDS, readObject, TraceError } from "./fields.ts";
 * assertEquals(addr({ l1ipa: "0x40000000" }, "l1ipa", "events[0]"), 2 ** 30);
 * assertThrows(() => addr({ size: "64X" }, "size", "events[3]"), TraceError, "events[3].size");
 * const config = { hostGranule: "4K", paBits: 40, vcpu: 1, memslots: [] };
 * assertThrows(
 *   () => readObject(config, "config", CONFIG_FIELDS, undefined),
 *   TraceError,
 *   'config: unknown key "vcpu" (did you mean "vcpus"?)',
 * );
 * ```
 * @module
 */

import type { L1ContextSpec } from "../guest/l1.ts";
import { type MemslotSpec, parseBacking } from "../host/memory.ts";
import { granule } from "../kvm/granule.ts";
import { type UnknownKey, unknownKeys } from "../util/keys.ts";
import { parseAddr } from "../util/size.ts";

/** A trace that does not parse or does not hold together: `path: problem`. */
export class TraceError extends Error {
  /** The JSON path of the offending field or object ("" for the whole file). */
  readonly path: string;
  /** What is wrong with it. */
  readonly problem: string;
  /** `path: problem`, or `problem` alone at the top level. */
  constructor(path: string, problem: string) {
    super(path ? `${path}: ${problem}` : problem);
    this.path = path;
    this.problem = problem;
    this.name = "TraceError";
  }
}

/** An object holds a key its schema does not name: `path: unknown key "k" (did you mean …?)`. */
export class UnknownKeyError extends TraceError {
  /** The key as written. */
  readonly key: string;
  /** The object's path, and the key with the sentence that says so (`util/keys.ts`). */
  constructor(path: string, unknown: UnknownKey) {
    super(path, unknown.problem);
    this.key = unknown.key;
    this.name = "UnknownKeyError";
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

/** A JSON object. */
export type Json = Record<string, unknown>;

/** The JSON path of `key` inside the object at `path` ("" is the top level). */
export function at(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** `v` as an object, or a TraceError at `path`. */
export function obj(v: unknown, path: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new TraceError(path, v === undefined ? "missing" : "expected an object");
  }
  return v as Json;
}

/**
 * How one field of an object is read: from `o[key]`, errors naming `at(path, key)`, with
 * the reader's environment `env` and the fields of the object read before it (`done`, in
 * schema order).
 */
export type FieldReader<T, Env = unknown, Parent = unknown> = (
  o: Json,
  key: string,
  path: string,
  env: Env,
  done: Partial<Parent>,
) => T;

/**
 * An object's schema: every key it may hold, each with the reader of its value, in the
 * order they are read (a reader may use the fields read before it). A reader that returns
 * `undefined` leaves its key out of the result (an optional field that is absent).
 */
export type Schema<T, Env = undefined> = {
  readonly [K in keyof T]-?: FieldReader<T[K], Env, T>;
};

/** The keys a schema allows, in its order. */
export function schemaKeys<T, Env>(schema: Schema<T, Env>): string[] {
  return Object.keys(schema);
}

/**
 * Read the object `v` at `path` by `schema`: every field through its reader, in schema
 * order. A key the schema does not name (and `extra` does not either: keys the caller
 * reads itself) is an {@linkcode UnknownKeyError} naming the object and the nearest
 * valid key.
 */
export function readObject<T, Env>(
  v: unknown,
  path: string,
  schema: Schema<T, Env>,
  env: Env,
  extra: readonly string[] = [],
): T {
  const o = obj(v, path);
  const bad = unknownKeys(o, [...extra, ...schemaKeys(schema)]);
  if (bad.length > 0) throw new UnknownKeyError(path, bad[0]);
  const done: Partial<T> = {};
  for (const key of Object.keys(schema) as (keyof T & string)[]) {
    const value = (schema[key] as FieldReader<T[typeof key], Env, T>)(o, key, path, env, done);
    if (value !== undefined) done[key] = value;
  }
  return done as T;
}

/** An integer field in [min, max] (or `def` when absent and given). */
export function int(
  o: Json,
  key: string,
  path: string,
  min: number,
  max: number,
  def?: number,
): number {
  const v = o[key];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new TraceError(
      at(path, key),
      v === undefined ? "missing" : `expected an integer, got ${JSON.stringify(v)}`,
    );
  }
  if (v < min || v > max) {
    throw new TraceError(at(path, key), `${v} is out of range (${min}..${max})`);
  }
  return v;
}

/** A boolean field (`def` when absent). */
export function bool(o: Json, key: string, path: string, def: boolean): boolean {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== "boolean") {
    throw new TraceError(at(path, key), `expected true or false, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A string field (`def` when absent and given). */
export function str(o: Json, key: string, path: string, def?: string): string {
  const v = o[key];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== "string") {
    throw new TraceError(at(path, key), v === undefined ? "missing" : "expected a string");
  }
  return v;
}

/** An address field: a number, `0x…` hex, or a size such as `4G`. */
export function addr(o: Json, key: string, path: string): number {
  if (o[key] === undefined) throw new TraceError(at(path, key), "missing");
  try {
    return parseAddr(o[key]);
  } catch (e) {
    throw new TraceError(at(path, key), (e as Error).message);
  }
}

/** A positive size field. */
export function size(o: Json, key: string, path: string): number {
  const v = addr(o, key, path);
  if (v <= 0) throw new TraceError(at(path, key), "must be positive");
  return v;
}

/** An array field, each element read by `read` (its path `key[i]`); `[]` when absent and `optional`. */
export function list<T>(
  o: Json,
  key: string,
  path: string,
  read: (v: unknown, path: string) => T,
  optional = false,
): T[] {
  const v = o[key];
  if (v === undefined && optional) return [];
  if (!Array.isArray(v)) {
    throw new TraceError(at(path, key), v === undefined ? "missing" : "expected an array");
  }
  return v.map((x, i) => read(x, `${at(path, key)}[${i}]`));
}

/** A granule name field (`4K`, `16K`, `64K`). */
function granuleName(o: Json, key: string, path: string): string {
  const g = str(o, key, path);
  try {
    granule(g);
  } catch (e) {
    throw new TraceError(at(path, key), (e as Error).message);
  }
  return g;
}

/** The keys of a memslot (the environment is the host granule, for its backing). */
export const MEMSLOT_FIELDS: Schema<MemslotSpec, string> = {
  id: (o, k, p) => int(o, k, p, 0, 32767),
  base: addr,
  size: size,
  backing: (o, k, p, hostGranule) => {
    const backing = str(o, k, p);
    try {
      parseBacking(granule(hostGranule), backing);
    } catch (e) {
      throw new TraceError(at(p, k), (e as Error).message);
    }
    return backing;
  },
};

/** The keys of an L1 context. */
export const CONTEXT_FIELDS: Schema<L1ContextSpec> = {
  id: (o, k, p) => int(o, k, p, 0, 2 ** 31),
  vmid: (o, k, p) => int(o, k, p, 0, 65535),
  granule: granuleName,
  ipaBits: (o, k, p) => int(o, k, p, 32, 48),
  s2: (o, k, p) => bool(o, k, p, true),
  baddr: (o, k, p) => o[k] === undefined ? undefined : addr(o, k, p),
};

/** A memslot of the configuration or of a `memslot-add` event. */
export function memslot(v: unknown, path: string, hostGranule: string): MemslotSpec {
  return readObject(v, path, MEMSLOT_FIELDS, hostGranule);
}

/** An L1 context of the configuration or of a `ctx-create` event. */
export function context(v: unknown, path: string): L1ContextSpec {
  return readObject(v, path, CONTEXT_FIELDS, undefined);
}

/** The keys of a trace's `config`. */
export const CONFIG_FIELDS: Schema<TraceConfig> = {
  hostGranule: granuleName,
  paBits: (o, k, p) => int(o, k, p, 32, 52),
  vcpus: (o, k, p) => int(o, k, p, 1, 4096),
  memslots: (o, k, p, _, done) => list(o, k, p, (v, q) => memslot(v, q, done.hostGranule!)),
  contexts: (o, k, p) => list(o, k, p, context, true),
};
