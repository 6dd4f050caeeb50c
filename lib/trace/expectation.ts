/**
 * What a trace file expects of each design (`deno task cases` checks it): a top-level
 * `expect` object keyed by strategy name, with `"*"` as the fallback for strategies it
 * does not name, and a `broken` object of the same shape keyed by the names of the
 * deliberately broken test-only designs (what stale entry each leaves):
 *
 * ```json
 * "expect": {
 *   "maple-v2": { "violations": ">0", "kinds": ["stale-pa"], "shadowIpa": "0x100000000",
 *                 "canonicalIpa": "0x50000000", "why": "…" },
 *   "*": { "violations": 0, "removedNeeded": ">0" }
 * }
 * ```
 *
 * - `violations`, `iterations`, `removedNeeded`, `removedCollateral`, `memoryBytes`: a
 *   number (exact) or a comparison such as `">0"`, `">=2"`, `"<=1024"`, `"=0"`.
 * - `kinds`: every listed oracle violation kind must be reported.
 * - `shadowIpa` / `canonicalIpa`: some reported violation must be at that shadow IPA and
 *   that canonical IPA (and, when `kinds` is given, of one of those kinds).
 * - `why`: free text.
 *
 * Any other key is an error naming the nearest valid one.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { compare, parseComparison, parseExpectation } from "./expectation.ts";
 * assertEquals(parseComparison(">=2"), { op: ">=", value: 2 });
 * assertEquals([compare(3, parseComparison(">0")), compare(0, parseComparison(">0"))], [true, false]);
 * assertThrows(
 *   () => parseExpectation({ violatons: 0 }, "expect.*"),
 *   Error,
 *   'expect.*: unknown key "violatons" (did you mean "violations"?)',
 * );
 * ```
 * @module
 */

import type { ViolationKind } from "../oracle/oracle.ts";
import { nearestKey } from "../util/keys.ts";
import { parseAddr } from "../util/size.ts";
import { at, type Json, list, readObject, type Schema, str, TraceError } from "./fields.ts";

/** The numeric results an expectation may constrain. */
export const METRICS = [
  "violations",
  "iterations",
  "removedNeeded",
  "removedCollateral",
  "memoryBytes",
] as const;

/** One of {@linkcode METRICS}. */
export type Metric = typeof METRICS[number];

/** Every oracle violation kind (a Record, so that the compiler notices a new kind). */
const KIND_SET: Record<ViolationKind, true> = {
  "l1-unmapped": true,
  "too-large": true,
  "not-present": true,
  "stale-pa": true,
  "writable": true,
  "not-invalidated": true,
  "no-context": true,
  "canonical-stale": true,
  unflushed: true,
  "kvm-baseline": true,
};
const VIOLATION_KINDS = Object.keys(KIND_SET) as ViolationKind[];

/** A comparison: `op` applied to (result, value). */
export interface Comparison {
  /** The operator. */
  op: "=" | ">" | ">=" | "<" | "<=";
  /** The bound. */
  value: number;
}

/** What a scenario expects of one strategy. */
export interface Expectation {
  /** Bounds on numeric results. */
  metrics: Partial<Record<Metric, Comparison>>;
  /** Violation kinds that must each be reported. */
  kinds?: ViolationKind[];
  /** A reported violation must be at this shadow IPA. */
  shadowIpa?: number;
  /** … and at this canonical IPA. */
  canonicalIpa?: number;
  /** Why (free text from the file). */
  why?: string;
}

/** Parse a comparison: a number (exact) or `">0"`, `">= 2"`, `"<=1024"`, `"=0"`. */
export function parseComparison(v: unknown): Comparison {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new RangeError(`${v} is not a finite number`);
    return { op: "=", value: v };
  }
  if (typeof v === "string") {
    const m = /^\s*(>=|<=|==|=|>|<)?\s*(\d+(?:\.\d+)?)\s*$/.exec(v);
    if (m) {
      const op = (m[1] === "==" ? "=" : m[1] ?? "=") as Comparison["op"];
      return { op, value: Number(m[2]) };
    }
  }
  throw new RangeError(`expected a number or a comparison such as ">0", got ${JSON.stringify(v)}`);
}

/** Whether `x` satisfies `c`. */
export function compare(x: number, c: Comparison): boolean {
  switch (c.op) {
    case "=":
      return x === c.value;
    case ">":
      return x > c.value;
    case ">=":
      return x >= c.value;
    case "<":
      return x < c.value;
    case "<=":
      return x <= c.value;
  }
}

/** `c` as text: `>0`, `=3`. */
export function showComparison(c: Comparison): string {
  return `${c.op}${c.value}`;
}

/** A parsed or address value of an expectation, its error naming the field. */
function field<T>(o: Json, key: string, path: string, read: (v: unknown) => T): T | undefined {
  if (o[key] === undefined) return undefined;
  try {
    return read(o[key]);
  } catch (err) {
    throw new TraceError(at(path, key), (err as Error).message);
  }
}

/** An expectation as its JSON object holds it: the metrics' bounds beside the rest. */
type ExpectationJson = { [M in Metric]?: Comparison } & Omit<Expectation, "metrics">;

/** The keys of an expectation. */
export const EXPECT_FIELDS: Schema<ExpectationJson> = {
  ...Object.fromEntries(
    METRICS.map((m) => [m, (o: Json, k: string, p: string) => field(o, k, p, parseComparison)]),
  ) as unknown as Schema<{ [M in Metric]?: Comparison }>,
  kinds: (o, k, p) => {
    if (o[k] === undefined) return undefined;
    if (!Array.isArray(o[k])) {
      throw new TraceError(at(p, k), "expected an array of violation kinds");
    }
    return list(o, k, p, (v, q) => {
      if (!(VIOLATION_KINDS as readonly unknown[]).includes(v)) {
        const near = typeof v === "string" ? nearestKey(v, VIOLATION_KINDS) : undefined;
        throw new TraceError(
          q,
          `unknown violation kind ${JSON.stringify(v)} (${
            near ? `did you mean "${near}"?` : `expected one of ${VIOLATION_KINDS.join(", ")}`
          })`,
        );
      }
      return v as ViolationKind;
    });
  },
  shadowIpa: (o, k, p) => field(o, k, p, parseAddr),
  canonicalIpa: (o, k, p) => field(o, k, p, parseAddr),
  why: (o, k, p) => o[k] === undefined ? undefined : str(o, k, p),
};

/** Validate one expectation object; `path` names it in errors. */
export function parseExpectation(v: unknown, path: string): Expectation {
  const { kinds, shadowIpa, canonicalIpa, why, ...metrics } = readObject(
    v,
    path,
    EXPECT_FIELDS,
    undefined,
  );
  const e: Expectation = { metrics };
  if (kinds !== undefined) e.kinds = kinds;
  if (shadowIpa !== undefined) e.shadowIpa = shadowIpa;
  if (canonicalIpa !== undefined) e.canonicalIpa = canonicalIpa;
  if (why !== undefined) e.why = why;
  return e;
}

/**
 * The reader of an `expect` or `broken` field: expectations keyed by design name (`{}`
 * when absent).
 */
export function expectations(o: Json, key: string, path: string): Record<string, Expectation> {
  const out: Record<string, Expectation> = {};
  if (o[key] === undefined) return out;
  const raw = o[key];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new TraceError(at(path, key), "expected an object keyed by strategy name");
  }
  for (const [k, v] of Object.entries(raw)) out[k] = parseExpectation(v, `${at(path, key)}.${k}`);
  return out;
}
