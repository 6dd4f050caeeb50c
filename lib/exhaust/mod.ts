/**
 * Exhaustive small-scope checking: every event sequence over a small world up to a depth,
 * breadth first, states merged by a canonical fingerprint of the world and the design's
 * state, the shortest counterexample as a trace (`docs/exhaust.md`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { exhaust } from "./mod.ts";
 * const r = await exhaust({ design: { strategy: "rmap" }, depth: 1 });
 * assertEquals([r.depthCompleted, r.counterexample], [1, null]);
 * ```
 * @module
 */

export * from "./audit.ts";
export * from "./design.ts";
export * from "./expand.ts";
export * from "./fingerprint.ts";
export * from "./search.ts";
export * from "./snapshot.ts";
export * from "./world_key.ts";
export * from "./workers.ts";
export * from "./worlds.ts";
