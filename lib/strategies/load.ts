/**
 * Designs brought from a file (`--design PATH.ts`): a module outside `lib/` whose default
 * export (or export named `design`) is a {@linkcode Design} record. The record is checked
 * field by field, registered under its name, and every instance its factory makes is
 * guarded, so that an exception inside one of its callbacks becomes one
 * {@linkcode DesignError} line naming the file and the callback instead of a stack trace
 * from the middle of the engine.
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "@std/assert";
 * import { DesignError } from "./design.ts";
 * import { loadDesignFile } from "./load.ts";
 * await assertRejects(() => loadDesignFile("no/such/design.ts"), DesignError,
 *   "no/such/design.ts: no such file");
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/empty.ts`, "export const x = 1;\n");
 * await assertRejects(() => loadDesignFile(`${dir}/empty.ts`), DesignError,
 *   "exports no design record");
 * await Deno.remove(dir, { recursive: true });
 * assertEquals(typeof loadDesignFile, "function");
 * ```
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type {
  HostUnmapKind,
  RemovalCause,
  ReverseMapStrategy,
  ShadowOps,
} from "../kvm/strategy.ts";
import type { ShadowMmu } from "../kvm/s2_mmu.ts";
import { checkDesign, type Design, DesignError } from "./design.ts";
import { registerDesign } from "./registry.ts";

/** The callbacks every design instance must have, as the engine calls them. */
export const DESIGN_CALLBACKS = [
  "attach",
  "shadowMapped",
  "shadowRemoved",
  "mmuReset",
  "unmapCanonical",
  "wpCanonical",
  "flushCanonical",
  "memoryBytes",
  "fallbacks",
] as const satisfies readonly (keyof ReverseMapStrategy)[];

/**
 * Load, check and register the design of `file`; returns its record (whose factory makes
 * guarded instances). Every problem is a {@linkcode DesignError} naming `file`.
 */
export async function loadDesignFile(file: string): Promise<Design> {
  const abs = isAbsolute(file) ? file : resolve(Deno.cwd(), file);
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(abs);
  } catch {
    throw new DesignError(file, "no such file");
  }
  if (!stat.isFile) throw new DesignError(file, "not a file (a design is one .ts or .js module)");
  if (!/\.(m?ts|m?js)$/.test(abs)) {
    throw new DesignError(file, "not a TypeScript or JavaScript module (.ts, .mts, .js, .mjs)");
  }
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(abs).href);
  } catch (e) {
    throw new DesignError(file, `does not load: ${firstLine(e)}`);
  }
  const rec = mod.default ?? mod.design;
  if (rec === undefined) {
    throw new DesignError(
      file,
      "exports no design record (export default { name, label, ... } or export const design)",
    );
  }
  const checked = checkDesign(rec, file);
  const guarded: Design = {
    ...checked,
    make: (opts) => new GuardedDesign(makeChecked(checked, file, opts), file),
  };
  registerDesign(guarded, file);
  return guarded;
}

/** The first line of an error's message, without Deno's file-position noise. */
function firstLine(e: unknown): string {
  const msg = e instanceof Error
    ? `${e.name === "Error" ? "" : e.name + ": "}${e.message}`
    : String(e);
  return msg.split("\n")[0].trim();
}

function makeChecked(d: Design, file: string, opts: Record<string, number>): ReverseMapStrategy {
  let s: ReverseMapStrategy;
  try {
    s = d.make(opts);
  } catch (e) {
    throw new DesignError(file, `design.make() threw: ${firstLine(e)}`);
  }
  if (typeof s !== "object" || s === null) {
    throw new DesignError(file, "design.make() returned no object");
  }
  for (const cb of DESIGN_CALLBACKS) {
    if (typeof (s as unknown as Record<string, unknown>)[cb] !== "function") {
      throw new DesignError(file, `design.make(): the instance has no ${cb}() method`);
    }
  }
  return s;
}

/**
 * A design instance with each callback's exception turned into a DesignError naming the
 * file. The instance is a field (`inner`), not a closure variable, so that whatever walks
 * the object graph (the exhaustive search's snapshots) reaches the design's state.
 */
class GuardedDesign implements ReverseMapStrategy {
  readonly name: string;
  encodeState?: (pa: (pa: number) => number) => string;
  constructor(readonly inner: ReverseMapStrategy, readonly file: string) {
    this.name = inner.name;
    if (inner.encodeState) {
      this.encodeState = (pa) => {
        try {
          return this.inner.encodeState!(pa);
        } catch (e) {
          return this.fail("encodeState", e);
        }
      };
    }
  }
  private fail(cb: string, e: unknown): never {
    if (e instanceof DesignError) throw e;
    throw new DesignError(this.file, `${cb}() threw: ${firstLine(e)}`);
  }
  attach(ops: ShadowOps): void {
    try {
      this.inner.attach(ops);
    } catch (e) {
      this.fail("attach", e);
    }
  }
  shadowMapped(mmu: ShadowMmu, s: number, c: number, z: number, pa: number, relaxed: boolean) {
    try {
      this.inner.shadowMapped(mmu, s, c, z, pa, relaxed);
    } catch (e) {
      this.fail("shadowMapped", e);
    }
  }
  shadowRemoved(mmu: ShadowMmu, s: number, z: number, pa: number, cause: RemovalCause) {
    try {
      this.inner.shadowRemoved(mmu, s, z, pa, cause);
    } catch (e) {
      this.fail("shadowRemoved", e);
    }
  }
  mmuReset(mmu: ShadowMmu): void {
    try {
      this.inner.mmuReset(mmu);
    } catch (e) {
      this.fail("mmuReset", e);
    }
  }
  unmapCanonical(start: number, end: number, kind: HostUnmapKind): void {
    try {
      this.inner.unmapCanonical(start, end, kind);
    } catch (e) {
      this.fail("unmapCanonical", e);
    }
  }
  wpCanonical(start: number, end: number): void {
    try {
      this.inner.wpCanonical(start, end);
    } catch (e) {
      this.fail("wpCanonical", e);
    }
  }
  flushCanonical(start: number, end: number): void {
    try {
      this.inner.flushCanonical(start, end);
    } catch (e) {
      this.fail("flushCanonical", e);
    }
  }
  memoryBytes(): number {
    try {
      return checkCount(this.inner.memoryBytes());
    } catch (e) {
      return this.fail("memoryBytes", e);
    }
  }
  fallbacks(): number {
    try {
      return checkCount(this.inner.fallbacks());
    } catch (e) {
      return this.fail("fallbacks", e);
    }
  }
}

function checkCount(n: number): number {
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
    throw new Error(`returned ${JSON.stringify(n)}, not a count (a finite number >= 0)`);
  }
  return n;
}
