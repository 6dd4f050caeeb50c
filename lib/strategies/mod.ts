/**
 * The designs: the record every design is described by (`design.ts`), the registry of
 * built-in and file-brought designs (`registry.ts`), the loader of design files
 * (`load.ts`), and the built-in designs' implementations.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { designNamed, makeStrategy, STRATEGY_NAMES } from "./mod.ts";
 * assertEquals(STRATEGY_NAMES.includes("full-walk"), true);
 * assertEquals(makeStrategy("full-walk").name, "full-walk");
 * assertEquals(designNamed("rmap").insertLock, "vm");
 * ```
 * @module
 */

export * from "./design.ts";
export * from "./registry.ts";
export * from "./load.ts";
export { RMAP_BOUNDED_DEFAULT_BUDGET } from "./rmap_bounded.ts";
