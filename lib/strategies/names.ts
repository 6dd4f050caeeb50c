/**
 * The registry's names without the designs: what reading results needs to know about the
 * designs (the `--strategy` names in table order, `rmap-bounded`'s default budget), so
 * that the figures and the sweep's provenance do not load the implementations
 * (`./mod.ts` builds the registry from these names).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { RMAP_BOUNDED_DEFAULT_BUDGET, STRATEGY_NAMES } from "./names.ts";
 * assertEquals([STRATEGY_NAMES[0], RMAP_BOUNDED_DEFAULT_BUDGET], ["full-walk", 256 * 1024]);
 * ```
 * @module
 */

const NAMES = [
  "full-walk",
  "maple-v2",
  "merged-pivot",
  "span-unknown",
  "rmap",
  "rmap-bounded",
  "rmap-compact",
] as const;

/** A registered strategy's name. */
export type StrategyName = (typeof NAMES)[number];

/** Every strategy name, in the order tables list them. */
export const STRATEGY_NAMES: readonly string[] = NAMES;

/** Default per-MMU budget of `rmap-bounded`: 256 KiB. */
export const RMAP_BOUNDED_DEFAULT_BUDGET = 256 * 1024;
