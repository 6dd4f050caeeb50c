/**
 * Which design the exhaustive checker runs, in a form a worker can rebuild: a built-in
 * name, or a design file (docs/designs.md) that registers it. And the guard every design call
 * goes through, so that a design that throws is told apart from an event that cannot
 * happen in a state (which throws a RangeError before anything changes).
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { DesignFailure, guardDesign, loadDesign } from "./design.ts";
 * const make = await loadDesign({ strategy: "full-walk" });
 * const d = guardDesign(make());
 * assertEquals(d.name, "full-walk");
 * const broken = guardDesign({ ...make(), mmuReset: () => { throw new RangeError("oops"); } });
 * assertThrows(() => broken.mmuReset({} as never), DesignFailure, "mmuReset: oops");
 * ```
 * @module
 */

import type { ReverseMapStrategy } from "../kvm/strategy.ts";
import { loadDesignFile } from "../strategies/load.ts";
import { makeStrategy } from "../strategies/registry.ts";

/** A design as workers rebuild it. */
export interface DesignSpec {
  /** A design's name: a built-in one, or one the design file `file` registers. */
  strategy: string;
  /** The design's options (`rmap-bounded`'s budget, `maple-v2`'s switches). */
  opts?: Record<string, number>;
  /** A design file (docs/designs.md), for a design not built in: workers load it again. */
  file?: string;
}

/** A fresh design instance. */
export type DesignFactory = () => ReverseMapStrategy;

/**
 * The factory of `spec`, from the design registry (lib/strategies/registry.ts), after
 * loading its design file when it names one; an unknown name is a one-line RangeError,
 * a design file that does not hold together a DesignError.
 */
export async function loadDesign(spec: DesignSpec): Promise<DesignFactory> {
  const opts = spec.opts ?? {};
  if (spec.file) await loadDesignFile(spec.file);
  makeStrategy(spec.strategy, opts); // a one-line error for an unknown name
  return () => makeStrategy(spec.strategy, opts);
}

/** A design method threw: a finding (the design fails on a state the world reaches). */
export class DesignFailure extends Error {
  /** `method: message`. */
  constructor(method: string, cause: unknown) {
    super(`${method}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "DesignFailure";
  }
}

/**
 * `d` with every hook the engine calls wrapped: whatever it throws (its own errors, or the
 * engine's when it hands a shadow operation bad arguments) becomes a
 * {@linkcode DesignFailure}. The design stays reachable as `inner` (for snapshots).
 */
export function guardDesign(d: ReverseMapStrategy): ReverseMapStrategy & {
  inner: ReverseMapStrategy;
} {
  const guard = (h: string, f: () => void) => {
    try {
      f();
    } catch (e) {
      throw e instanceof DesignFailure ? e : new DesignFailure(h, e);
    }
  };
  const g: ReverseMapStrategy & { inner: ReverseMapStrategy } = {
    inner: d,
    name: d.name,
    attach: (ops) => guard("attach", () => d.attach(ops)),
    shadowMapped: (m, s, c, z, pa, r) =>
      guard("shadowMapped", () => d.shadowMapped(m, s, c, z, pa, r)),
    shadowRemoved: (m, s, z, pa, c) =>
      guard("shadowRemoved", () => d.shadowRemoved(m, s, z, pa, c)),
    mmuReset: (m) => guard("mmuReset", () => d.mmuReset(m)),
    unmapCanonical: (s, e, k) => guard("unmapCanonical", () => d.unmapCanonical(s, e, k)),
    wpCanonical: (s, e) => guard("wpCanonical", () => d.wpCanonical(s, e)),
    flushCanonical: (s, e) => guard("flushCanonical", () => d.flushCanonical(s, e)),
    memoryBytes: () => d.memoryBytes(),
    fallbacks: () => d.fallbacks(),
  };
  if (d.encodeState) g.encodeState = (pa) => d.encodeState!(pa);
  return g;
}
