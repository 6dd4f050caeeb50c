/**
 * `--design FILE[,FILE]`: the designs a task loads from files (docs/designs.md) before it
 * reads `--strategy`, so that their names join the built-in ones everywhere (tables,
 * figures, CSV rows). A file that does not load, lacks a field or holds an unknown one is
 * one line naming the file and the problem, exit 2, before any work. Workers load the same
 * files again from the absolute paths the task hands them.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { DesignError } from "../lib/strategies/design.ts";
import { loadDesignFile } from "../lib/strategies/load.ts";
import { fail } from "./cli.ts";

/** The usage line every task that takes `--strategy` shows. */
export const DESIGN_USAGE =
  "  --design FILES    design files (modules exporting a design record, docs/designs.md),\n" +
  "                    comma-separated: their names join --strategy's";

/** The designs of `--design`: their names (in the order given) and absolute file paths. */
export interface LoadedDesigns {
  /** Names, as `--strategy` takes them. */
  readonly names: string[];
  /** Absolute paths, for workers. */
  readonly files: string[];
}

/** Load the files of a `--design` value (absent: none); a problem is one line and exit 2. */
export async function designFlag(value: string | undefined): Promise<LoadedDesigns> {
  if (value === undefined) return { names: [], files: [] };
  const given = value.split(",").map((x) => x.trim()).filter((x) => x);
  if (given.length === 0) fail("--design names no file");
  const names: string[] = [];
  const files: string[] = [];
  for (const f of given) {
    try {
      const d = await loadDesignFile(f);
      if (names.includes(d.name)) fail(`--design: design "${d.name}" is given twice`);
      names.push(d.name);
      files.push(isAbsolute(f) ? f : resolve(Deno.cwd(), f));
    } catch (e) {
      if (e instanceof DesignError) fail(e.message);
      throw e;
    }
  }
  return { names, files };
}

const loaded = new Set<string>();

/** In a worker: load the design files a task names (each once per worker). */
export async function loadDesigns(files: readonly string[]): Promise<void> {
  for (const f of files) {
    if (loaded.has(f)) continue;
    await loadDesignFile(f);
    loaded.add(f);
  }
}
