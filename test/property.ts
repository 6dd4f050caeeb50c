/**
 * Property-test settings shared by every property test: one seed, and one environment
 * variable for the run count. `S2LAB_PROPERTY_RUNS=N` runs each property N times instead of
 * its default (small, for CI); a campaign sets it large.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { propertyOptions } from "./property.ts";
 * assertEquals(propertyOptions(50).seed, 20261126);
 * ```
 * @module
 */

/** The seed every property test runs with (fast-check's `seed`). */
export const PROPERTY_SEED = 20261126;

/** The run count: `$S2LAB_PROPERTY_RUNS` when set, else `def`. */
export function propertyRuns(def: number): number {
  let env: string | undefined;
  try {
    env = Deno.env.get("S2LAB_PROPERTY_RUNS");
  } catch {
    env = undefined;
  }
  if (env === undefined || env === "") return def;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`S2LAB_PROPERTY_RUNS="${env}" is not a positive whole number`);
  }
  return n;
}

/** fast-check options: the shared seed and the run count (`def` unless the env says). */
export function propertyOptions(def: number): { numRuns: number; seed: number } {
  return { numRuns: propertyRuns(def), seed: PROPERTY_SEED };
}
