/**
 * What a sweep is asked to run, from its flags and its grid file: the grid (one set of
 * dimension values, or a grid file's `parts`), the strategies, the seed and the cost model,
 * and from them the grid id. `deno task sweep` resolves its command line here, and the
 * notebooks' provenance resolves the command it derives from a CSV here too, so both
 * compute the same grid id from the same text.
 *
 * A grid file is a JSON object holding any grid dimension, `strategy`, `seed`, the cost
 * flags, and optionally `parts`: a list of objects of dimension values, the grid being the
 * union of each part's product with the common values (a point an earlier part listed is
 * not repeated). Flags override the file. An unknown key is one line naming the file and
 * the key, with the nearest valid one.
 *
 * The cost model starts from a {@linkcode CostBase} (the default, or the file of
 * `--cost-model`) and each cost flag replaces one of its fields; the spec says where the
 * model comes from in `costOrigin`, which the timing file's `cost_model` column records.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { GridError } from "./grid.ts";
 * import { parseGridFile, specGrid, sweepSpec } from "./spec.ts";
 * const file = parseGridFile("mine.json", '{"granule": "4K", "parts": [{"vcpus": 1}, {"vcpus": [1, 8]}]}');
 * const spec = sweepSpec({ "l1-mem": "4G", alias: "0", "watchdog-thresh": "5" }, file);
 * assertEquals(specGrid(spec).grid.points.map((p) => p.vcpus), [1, 8]);
 * assertEquals(spec.cost.softLockupNs, 10e9);
 * const base = { model: { ...spec.cost, nsPerIteration: 25 }, origin: "m.json" };
 * assertEquals(sweepSpec({ "ns-per-descriptor": "3" }, undefined, base).costOrigin,
 *   "m.json; over it: --ns-per-descriptor 3");
 * assertThrows(() => parseGridFile("mine.json", '{"vcpu": 8}'), GridError, 'did you mean "vcpus"');
 * ```
 * @module
 */

import { designNames } from "../strategies/registry.ts";
import { unknownKeys } from "../util/keys.ts";
import type { SweepColumn } from "./columns.ts";
import { type CostModel, defaultCostModel } from "./costmodel.ts";
import {
  DIMENSIONS,
  expandGridParts,
  type Grid,
  GridError,
  gridId,
  type GridValues,
  parseGridValues,
} from "./grid.ts";

/** A cost-model flag: its name, range, and the model field it sets (which a CSV column records). */
export interface CostFlag {
  /** Flag name (without `--`) and grid-file key. */
  readonly flag: string;
  /** Inclusive range of the flag's value. */
  readonly range: readonly [number, number];
  /** What it sets, for --help. */
  readonly help: string;
  /** The cost-model field it sets. */
  readonly field: keyof CostModel;
  /** The sweep.csv column that records the field. */
  readonly column: SweepColumn;
  /** The field's value for a flag value. */
  readonly toModel: (flag: number) => number;
  /** The flag's value for a field value. */
  readonly toFlag: (field: number) => number;
}

const same = (v: number) => v;

/** The cost-model flags; their defaults are {@linkcode defaultCostModel}'s. */
export const COST_FLAGS: readonly CostFlag[] = [
  {
    flag: "ns-per-iteration",
    range: [0, 1e6],
    help: "cost model: ns per strategy iteration (chunk or index step)",
    field: "nsPerIteration",
    column: "ns_per_iteration",
    toModel: same,
    toFlag: same,
  },
  {
    flag: "ns-per-descriptor",
    range: [0, 1e6],
    help: "cost model: ns per descriptor visited",
    field: "nsPerDescriptor",
    column: "ns_per_descriptor",
    toModel: same,
    toFlag: same,
  },
  {
    flag: "ns-per-fault",
    range: [0, 1e9],
    help:
      "cost model: ns per shadow fault of a refault storm (an estimate; lib/sweep/costmodel.ts)",
    field: "nsPerFault",
    column: "ns_per_fault",
    toModel: same,
    toFlag: same,
  },
  {
    flag: "watchdog-thresh",
    range: [1, 3600],
    help: "seconds; soft lockup when an unmap's estimate exceeds 2 x this",
    field: "softLockupNs",
    column: "soft_lockup_threshold_ns",
    toModel: (s) => Math.round(2 * s * 1e9),
    toFlag: (ns) => ns / 2e9,
  },
];

/** The default seed. */
export const DEFAULT_SEED = 1;

/** Keys a grid file may hold. */
export const GRID_FILE_KEYS: readonly string[] = [
  ...DIMENSIONS.map((d) => d.flag),
  "strategy",
  "seed",
  ...COST_FLAGS.map((f) => f.flag),
  "parts",
];

/** A grid file, parsed: values as flag text (lists joined with commas), and its parts. */
export interface GridFile {
  /** Where it came from, for messages. */
  readonly name: string;
  /** Every key but `parts`, as flag text. */
  readonly values: Readonly<Record<string, string>>;
  /** Each part's dimension values as flag text (one empty part without `parts`). */
  readonly parts: readonly Readonly<Record<string, string>>[];
}

/**
 * The cost model a sweep starts from, before its cost flags: {@linkcode defaultCostBase},
 * or a cost model file's (`--cost-model`, lib/calibrate/model_file.ts).
 */
export interface CostBase {
  /** The model. */
  readonly model: CostModel;
  /** Where it comes from, one line: `default`, or the file and what it says it is. */
  readonly origin: string;
}

/** {@linkcode defaultCostModel}, origin `default`. */
export function defaultCostBase(): CostBase {
  return { model: defaultCostModel(), origin: "default" };
}

/**
 * A cost model as reports, figures and notebook headers name it, from its origin: the
 * default one, or a file's origin (its path and what it says it is).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { costModelName, defaultCostBase } from "./spec.ts";
 * assertEquals(
 *   costModelName(defaultCostBase().origin),
 *   "the default cost model (lib/sweep/costmodel.ts)",
 * );
 * assertEquals(costModelName("m.json: Altra"), "the cost model of m.json: Altra");
 * ```
 */
export function costModelName(origin: string): string {
  return origin === defaultCostBase().origin
    ? "the default cost model (lib/sweep/costmodel.ts)"
    : `the cost model of ${origin}`;
}

/** What a sweep runs: grid parts, strategies, seed and cost model. */
export interface SweepSpec {
  /** Each part's parsed dimension values (one part without a grid file's `parts`). */
  readonly parts: readonly GridValues[];
  /** Strategies in the order asked. */
  readonly strategies: readonly string[];
  /** Sweep seed. */
  readonly seed: number;
  /** Cost model. */
  readonly cost: CostModel;
  /**
   * Where the cost model comes from: its base's origin, then the cost flags set over it
   * (`default; over it: --ns-per-iteration 30`).
   */
  readonly costOrigin: string;
}

/** Flag values as typed on the command line (flag name without `--`, text). */
export type SweepFlags = Readonly<Record<string, string | undefined>>;

/** Where `--grid NAME` (no `/`, no `.json`) finds a named grid file. */
export const GRIDS_DIR: URL = new URL("../../experiments/grids/", import.meta.url);

/** The file of `--grid ref`: a named grid of {@linkcode GRIDS_DIR}, or a path. */
export function gridFilePath(ref: string): { path: string; named: boolean } {
  const named = /^[\w-]+$/.test(ref);
  const path = named ? decodeURIComponent(new URL(`${ref}.json`, GRIDS_DIR).pathname) : ref;
  return { path, named };
}

/** The named grids of {@linkcode GRIDS_DIR}, sorted. */
export function gridNames(): string[] {
  return [...Deno.readDirSync(GRIDS_DIR)].map((f) => f.name)
    .filter((n) => n.endsWith(".json")).map((n) => n.slice(0, -5)).sort();
}

/** A grid-file value as flag text: a number, a string, or a list of them joined by commas. */
function flagText(v: unknown): string | undefined {
  const scalar = (x: unknown) => typeof x === "number" || typeof x === "string";
  if (scalar(v)) return String(v);
  if (Array.isArray(v) && v.every(scalar)) return v.join(",");
  return undefined;
}

/**
 * Parse a grid file's text (`name` names it in errors): a JSON object of
 * {@linkcode GRID_FILE_KEYS}, `parts` a non-empty list of objects of dimension values.
 * Throws {@linkcode GridError}: `--grid: <name>: <problem>`.
 */
export function parseGridFile(name: string, text: string): GridFile {
  const bad = (why: string): never => {
    throw new GridError(`--grid: ${name}: ${why}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    bad(`not JSON: ${(e as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    bad("must hold a JSON object");
  }
  const o = json as Record<string, unknown>;
  const unknown = unknownKeys(o, GRID_FILE_KEYS);
  if (unknown.length > 0) bad(unknown[0].problem);
  const valueText = (where: string, k: string, v: unknown): string =>
    flagText(v) ?? bad(`${where}"${k}" must be a number, a string or a list of them`);
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) if (k !== "parts") values[k] = valueText("", k, v);
  let parts: Record<string, string>[] = [{}];
  if ("parts" in o) {
    const list = o.parts;
    if (!Array.isArray(list) || list.length === 0) {
      bad('"parts" must be a non-empty list of objects');
    }
    const dims = DIMENSIONS.map((d) => d.flag);
    parts = (list as unknown[]).map((part, i) => {
      if (typeof part !== "object" || part === null || Array.isArray(part)) {
        bad(`parts[${i}] must be an object`);
      }
      const p = part as Record<string, unknown>;
      const u = unknownKeys(p, dims);
      if (u.length > 0) {
        bad(
          GRID_FILE_KEYS.includes(u[0].key)
            ? `parts[${i}]: "${u[0].key}" is not a grid dimension (give it beside "parts")`
            : `parts[${i}]: ${u[0].problem}`,
        );
      }
      return Object.fromEntries(
        Object.entries(p).map(([k, v]) => [k, valueText(`parts[${i}]: `, k, v)]),
      );
    });
  }
  return { name, values, parts };
}

function parseNumber(
  flag: string,
  text: string,
  range: readonly [number, number],
  integer = false,
) {
  const t = text.trim();
  const ok = integer ? /^\d+$/.test(t) : /^(\d+\.?\d*|\.\d+)$/.test(t);
  if (!ok) throw new GridError(`--${flag}: "${t}" is not a ${integer ? "whole number" : "number"}`);
  const v = Number(t);
  if (v < range[0] || v > range[1]) {
    throw new GridError(`--${flag}: ${t} is out of range (${range[0]}..${range[1]})`);
  }
  return v;
}

/**
 * Resolve what a sweep runs from its flags and (optionally) its grid file: the file's
 * values, then the flags over them (a dimension flag also overrides every part). The cost
 * model is `base`'s, each cost flag of the file or the command line replacing its field.
 * Checks every value (strategies against the registry); throws {@linkcode GridError}
 * naming the flag.
 */
export function sweepSpec(
  flags: SweepFlags,
  file?: GridFile,
  base: CostBase = defaultCostBase(),
): SweepSpec {
  const common: Record<string, string> = { ...file?.values };
  for (const k of GRID_FILE_KEYS) {
    if (k !== "parts" && flags[k] !== undefined) common[k] = flags[k]!;
  }
  const dimFlags: Record<string, string> = {};
  for (const d of DIMENSIONS) if (flags[d.flag] !== undefined) dimFlags[d.flag] = flags[d.flag]!;
  const parts = (file?.parts ?? [{}]).map((p) => parseGridValues({ ...common, ...p, ...dimFlags }));

  // Every design known now: the built-in ones and those a --design registered.
  const known = designNames();
  const strategies = (common.strategy ?? known.join(",")).split(",").map((s) => s.trim());
  for (const s of strategies) {
    if (!known.includes(s)) {
      throw new GridError(
        `--strategy: unknown strategy "${s}" (expected one of ${known.join(", ")})`,
      );
    }
  }
  if (new Set(strategies).size !== strategies.length) {
    throw new GridError("--strategy: a strategy is listed twice");
  }
  const seed = common.seed === undefined
    ? DEFAULT_SEED
    : parseNumber("seed", common.seed, [0, 2 ** 32 - 1], true);
  const cost = { ...base.model };
  const over: string[] = [];
  for (const f of COST_FLAGS) {
    const text = common[f.flag];
    if (text === undefined) continue;
    const v = parseNumber(f.flag, text, f.range);
    cost[f.field] = f.toModel(v);
    over.push(`--${f.flag} ${v}`);
  }
  const costOrigin = base.origin + (over.length > 0 ? `; over it: ${over.join(" ")}` : "");
  return { parts, strategies, seed, cost, costOrigin };
}

/** The grid of a spec (its parts expanded) and its grid id. Throws {@linkcode GridError}. */
export function specGrid(spec: SweepSpec): { grid: Grid; id: string } {
  const grid = expandGridParts(spec.parts);
  return { grid, id: gridId(grid.points, spec.seed, spec.cost) };
}
