/**
 * The design registry: the built-in designs (one line each below; each record lives in its
 * design's own file) and the designs brought from files (`--design FILE`, registered by
 * {@linkcode registerDesign}). Every name lookup — factories, labels, styles, locks,
 * scheduler estimates — goes through it, so a registered design is known everywhere.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { designNamed, designNames, makeStrategy, UPSTREAM } from "./registry.ts";
 * assertEquals(designNames().slice(0, 2), ["full-walk", "maple-v2"]);
 * assertEquals(designNamed("maple-v2").knownBroken, true);
 * assertEquals(designNamed(UPSTREAM).role, "upstream");
 * assertEquals(makeStrategy("rmap-compact").name, "rmap-compact");
 * assertThrows(() => makeStrategy("rmapp"), RangeError, 'unknown strategy "rmapp" (did you mean "rmap"?');
 * ```
 * @module
 */

import type { ReverseMapStrategy } from "../kvm/strategy.ts";
import { nearestKey } from "../util/keys.ts";
import { checkDesign, type Design, DesignError } from "./design.ts";
import { fullWalkDesign } from "./full_walk.ts";
import { mapleV2Design } from "./maple_v2.ts";
import { mergedPivotDesign } from "./merged_pivot.ts";
import { rmapDesign } from "./rmap.ts";
import { rmapBoundedDesign } from "./rmap_bounded.ts";
import { rmapCompactDesign } from "./rmap_compact.ts";
import { spanUnknownDesign } from "./span_unknown.ts";

/** The built-in designs, in the order tables and legends list them: upstream, the others, ours. */
export const BUILT_IN_DESIGNS: readonly Design[] = [
  fullWalkDesign,
  mapleV2Design,
  mergedPivotDesign,
  spanUnknownDesign,
  rmapDesign,
  rmapBoundedDesign,
  rmapCompactDesign,
].map((d) => checkDesign(d, `built-in design ${d.name}`, true));

/** The names of the built-in designs, in order. */
export const STRATEGY_NAMES: readonly string[] = BUILT_IN_DESIGNS.map((d) => d.name);

/** The built-in designs known to leave stale shadow entries (the rejected patch). */
export const KNOWN_BROKEN: readonly string[] = BUILT_IN_DESIGNS.filter((d) => d.knownBroken)
  .map((d) => d.name);

/**
 * The design that stands for the kernel as it is (role `upstream`): the baseline every
 * other design is compared with, and the fixed kernel of an exported selftest.
 */
export const UPSTREAM: string = (() => {
  const up = BUILT_IN_DESIGNS.filter((d) => d.role === "upstream");
  if (up.length !== 1) throw new Error(`${up.length} built-in designs have role upstream`);
  return up[0].name;
})();

/** The reference designs `deno task verify` compares a design with, in registry order. */
export const REFERENCE_DESIGNS: readonly string[] = BUILT_IN_DESIGNS.filter((d) => d.reference)
  .map((d) => d.name);

/**
 * The built-in designs as a Markdown table (docs/model.md holds it between
 * `<!-- designs -->` markers, and a test keeps the two equal): name, role, what, source.
 */
export function designTableMarkdown(): string {
  const cell = (t: string) => t.replaceAll("|", "\\|");
  return [
    "| name | role | what | source |",
    "|---|---|---|---|",
    ...BUILT_IN_DESIGNS.map((d) =>
      `| \`${d.name}\` | ${d.role}${d.knownBroken ? " (known broken)" : ""} | ` +
      `${cell(d.summary)} | ${cell(d.source)} |`
    ),
  ].join("\n");
}

/** Designs registered from files, with the file each came from. */
const registered = new Map<string, { design: Design; file: string }>();

/**
 * Make `design` (brought from `file`) known to every lookup. Registering the same record
 * from the same file again is a no-op; another design under a taken name is a
 * {@linkcode DesignError}.
 */
export function registerDesign(design: Design, file: string): void {
  const builtIn = BUILT_IN_DESIGNS.find((d) => d.name === design.name);
  if (builtIn) {
    throw new DesignError(file, `design.name: "${design.name}" is a built-in design's name`);
  }
  const old = registered.get(design.name);
  if (old && old.file !== file) {
    throw new DesignError(file, `design.name: "${design.name}" is already taken by ${old.file}`);
  }
  registered.set(design.name, { design, file });
}

/** Forget every design registered from a file (tests). */
export function clearRegisteredDesigns(): void {
  registered.clear();
}

/** Every design: the built-ins, then those registered from files in registration order. */
export function allDesigns(): Design[] {
  return [...BUILT_IN_DESIGNS, ...[...registered.values()].map((r) => r.design)];
}

/** Every design's name, as {@linkcode allDesigns} orders them. */
export function designNames(): string[] {
  return allDesigns().map((d) => d.name);
}

/** The design `name`, or `undefined`. */
export function findDesign(name: string): Design | undefined {
  return BUILT_IN_DESIGNS.find((d) => d.name === name) ?? registered.get(name)?.design;
}

/** The file a registered design came from (`undefined` for a built-in). */
export function designFile(name: string): string | undefined {
  return registered.get(name)?.file;
}

/**
 * The design `name`; an unknown name is a one-line RangeError with the nearest known one and
 * what else the caller accepts (`orElse`, by default a design file given with --design).
 */
export function designNamed(
  name: string,
  orElse = "or a design file with --design",
): Design {
  const d = findDesign(name);
  if (d) return d;
  const names = designNames();
  const near = nearestKey(name, names);
  throw new RangeError(
    `unknown strategy "${name}" (${near ? `did you mean "${near}"? ` : ""}expected one of ${
      names.join(", ")
    }, ${orElse})`,
  );
}

/**
 * A fresh instance of design `name` with its options. The instance must carry the
 * record's name (a design file whose factory builds something else is a DesignError).
 */
export function makeStrategy(name: string, opts: Record<string, number> = {}): ReverseMapStrategy {
  const d = designNamed(name);
  const s = d.make(opts);
  if (s?.name !== d.name) {
    throw new DesignError(
      designFile(name) ?? `built-in design ${name}`,
      `design.make() built an instance named ${JSON.stringify(s?.name)}, not "${d.name}"`,
    );
  }
  return s;
}
