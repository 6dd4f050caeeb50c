/**
 * Reading a trace's JSON: one {@linkcode TraceError} line naming the field for anything
 * malformed (`events[3].size: malformed size "64X" (expected e.g. 4K, 2M, 256G)`), the
 * readers of each field type, and the trace's configuration (`TraceConfig`, its memslots
 * and L1 contexts). The events themselves are read by the op table in `ops.ts`.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { addr, TraceError } from "./fields.ts";
 * assertEquals(addr({ l1ipa: "0x40000000" }, "l1ipa", "events[0]"), 2 ** 30);
 * assertThrows(() => addr({ size: "64X" }, "size", "events[3]"), TraceError, "events[3].size");
 * ```
 * @module
 */

import type { L1ContextSpec } from "../guest/l1.ts";
import { type MemslotSpec, parseBacking } from "../host/memory.ts";
import { granule } from "../kvm/granule.ts";
import { parseAddr } from "../util/size.ts";

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

/** A JSON object. */
export type Json = Record<string, unknown>;

/** `v` as an object, or a TraceError at `path`. */
export function obj(v: unknown, path: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new TraceError(path, "expected an object");
  }
  return v as Json;
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
      `${path}.${key}`,
      v === undefined ? "missing" : `expected an integer, got ${JSON.stringify(v)}`,
    );
  }
  if (v < min || v > max) {
    throw new TraceError(`${path}.${key}`, `${v} is out of range (${min}..${max})`);
  }
  return v;
}

/** A boolean field (`def` when absent). */
export function bool(o: Json, key: string, path: string, def: boolean): boolean {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== "boolean") {
    throw new TraceError(`${path}.${key}`, `expected true or false, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A string field. */
export function str(o: Json, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== "string") {
    throw new TraceError(`${path}.${key}`, v === undefined ? "missing" : "expected a string");
  }
  return v;
}

/** An address field: a number, `0x…` hex, or a size such as `4G`. */
export function addr(o: Json, key: string, path: string): number {
  if (o[key] === undefined) throw new TraceError(`${path}.${key}`, "missing");
  try {
    return parseAddr(o[key]);
  } catch (e) {
    throw new TraceError(`${path}.${key}`, (e as Error).message);
  }
}

/** A positive size field. */
export function size(o: Json, key: string, path: string): number {
  const v = addr(o, key, path);
  if (v <= 0) throw new TraceError(`${path}.${key}`, "must be positive");
  return v;
}

/** A memslot of the configuration or of a `memslot-add` event. */
export function memslot(v: unknown, path: string, hostGranule: string): MemslotSpec {
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

/** An L1 context of the configuration or of a `ctx-create` event. */
export function context(v: unknown, path: string): L1ContextSpec {
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
