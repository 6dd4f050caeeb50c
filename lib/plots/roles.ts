/**
 * Which design a figure or a sentence speaks for, read from the design records
 * (lib/strategies/registry.ts), never from a list of names: the upstream walk (role
 * `upstream`), the rejected patch (known broken), the public series (role `series`), ours
 * (role `ours`), and a design brought from a file (role `user`, or a name no record has).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { designsOf, knownBroken, upstreamIn } from "./roles.ts";
 * const names = ["rmap", "maple-v2", "full-walk"];
 * assertEquals(upstreamIn(names), "full-walk");
 * assertEquals(designsOf(names, "ours"), ["rmap"]);
 * assertEquals(knownBroken("maple-v2"), true);
 * ```
 * @module
 */

import type { DesignRole } from "../strategies/design.ts";
import { findDesign, UPSTREAM } from "../strategies/registry.ts";
import { strategyOrder } from "./style.ts";

/** A design's role (`user` for a name no record has). */
export function roleOf(name: string): DesignRole {
  return findDesign(name)?.role ?? "user";
}

/** The upstream walk when `names` has it. */
export function upstreamIn(names: Iterable<string>): string | undefined {
  return [...names].includes(UPSTREAM) ? UPSTREAM : undefined;
}

/** Known to leave stale shadow entries (its record says so). */
export function knownBroken(name: string): boolean {
  return findDesign(name)?.knownBroken ?? false;
}

/** The designs of `names` with one of `roles`, in legend order. */
export function designsOf(names: Iterable<string>, ...roles: DesignRole[]): string[] {
  return strategyOrder(names).filter((n) => roles.includes(roleOf(n)));
}

/**
 * The design of `names` with `roles` (default ours) whose `cost` is lowest (ties: legend
 * order), among those not known broken; undefined when none has a finite cost.
 */
export function cheapest(
  names: Iterable<string>,
  cost: (name: string) => number,
  ...roles: DesignRole[]
): string | undefined {
  const pool = designsOf(names, ...(roles.length > 0 ? roles : ["ours" as const]))
    .filter((n) => !knownBroken(n))
    .map((n) => ({ n, c: cost(n) }))
    .filter((x) => Number.isFinite(x.c));
  let best: { n: string; c: number } | undefined;
  for (const x of pool) if (best === undefined || x.c < best.c) best = x;
  return best?.n;
}
