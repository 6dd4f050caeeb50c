/**
 * The strategy registry: every reverse-lookup design by the name `--strategy` takes.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { makeStrategy, STRATEGY_NAMES } from "./mod.ts";
 * assertEquals(STRATEGY_NAMES.includes("full-walk"), true);
 * assertEquals(makeStrategy("full-walk").name, "full-walk");
 * ```
 * @module
 */

import type { ReverseMapStrategy, StrategyFactory } from "../kvm/strategy.ts";
import { FullWalk } from "./full_walk.ts";
import { MapleV2 } from "./maple_v2.ts";
import { MergedPivot } from "./merged_pivot.ts";
import { SpanUnknown } from "./span_unknown.ts";
import { Rmap } from "./rmap.ts";
import { RmapCompact } from "./rmap_compact.ts";
import { RMAP_BOUNDED_DEFAULT_BUDGET, STRATEGY_NAMES, type StrategyName } from "./names.ts";

export { RMAP_BOUNDED_DEFAULT_BUDGET, STRATEGY_NAMES, type StrategyName } from "./names.ts";

/** Factories by name: one for each of {@linkcode STRATEGY_NAMES} (the type checks it). */
export const STRATEGIES: Readonly<Record<StrategyName, StrategyFactory>> = {
  "full-walk": () => new FullWalk(),
  "maple-v2": (opts) => new MapleV2(opts),
  "merged-pivot": () => new MergedPivot(),
  "span-unknown": () => new SpanUnknown(),
  "rmap": () => new Rmap(),
  "rmap-bounded": (opts) => new Rmap({ budget: opts.budget ?? RMAP_BOUNDED_DEFAULT_BUDGET }),
  "rmap-compact": () => new RmapCompact(),
};

/**
 * Designs known to leave stale shadow entries (the rejected patch): their violations are
 * the expected result of a sweep or a fuzz run, anyone else's a finding.
 */
export const KNOWN_BROKEN: readonly string[] = ["maple-v2"];

/** A fresh strategy by name; throws a one-line error naming the known ones. */
export function makeStrategy(name: string, opts: Record<string, number> = {}): ReverseMapStrategy {
  const f = STRATEGIES[name as StrategyName];
  if (!f) {
    throw new RangeError(
      `unknown strategy "${name}" (expected one of ${STRATEGY_NAMES.join(", ")})`,
    );
  }
  return f(opts);
}
