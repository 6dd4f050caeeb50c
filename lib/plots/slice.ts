/**
 * One configuration per line: a figure draws a line through points that differ in its x
 * axis only. A sweep CSV may vary more dimensions than a figure shows (x, the panels, the
 * designs as series): {@linkcode sliceRows} pins every other dimension that varies to one
 * value, per panel, and says which ({@linkcode Slice.pins}), so that the subtitle can name
 * the point and the takeaway can read the same rows.
 *
 * The configuration of a row is every grid dimension of the sweep (lib/sweep/grid.ts
 * `DIMENSIONS`, by the column that records it), the contexts per vCPU (`contexts` ÷
 * `vcpus`), the seed and the cost model (lib/sweep/spec.ts `COST_FLAGS`). A dimension that
 * does not apply to a row has no value there: `retouch` at working set 0.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { sliceRows } from "./slice.ts";
 * const row = (vcpus: number, memslots: number) => ({ strategy: "rmap", vcpus, memslots });
 * const rows = [row(1, 4), row(8, 4), row(8, 2)];
 * const s = sliceRows(rows, { x: "vcpus" });
 * assertEquals(s.rows.map((r) => [r.vcpus, r.memslots]), [[1, 4], [8, 4]]);
 * assertEquals(s.pins.map((p) => [p.key, p.value]), [["memslots", 4]]);
 * ```
 * @module
 */

import { DIMENSIONS } from "../sweep/grid.ts";
import { COST_FLAGS } from "../sweep/spec.ts";
import { formatSize } from "../util/size.ts";

type Row = Record<string, string | number>;

/** One dimension of a row's configuration. */
export interface ConfigKey {
  /** Key: the CSV column, or `contexts_per_vcpu` (derived). */
  readonly key: string;
  /** The CSV column facts filter on. */
  readonly column: string;
  /** The sweep flag that sets it (how subtitles name it). */
  readonly flag: string;
  /** The value as the flag takes it ("256G", "0.5", "2" for a 4 s threshold). */
  readonly format: (v: number | string) => string;
  /** The row's value, or null where the dimension does not apply. */
  value(r: Row): string | number | null;
}

const has = (r: Row, c: string) => Object.hasOwn(r, c);

/** The dimensions of a configuration, in the sweep's order (grid, then seed and cost model). */
export const CONFIG_KEYS: readonly ConfigKey[] = [
  ...DIMENSIONS.map((d): ConfigKey => {
    const size = d.kind === "size" || d.kind === "workingset";
    const format = (v: number | string) => size ? formatSize(Number(v)) : String(v);
    if (!d.column) {
      // contexts-per-vcpu: the CSV records the contexts it made.
      return {
        key: "contexts_per_vcpu",
        column: "contexts",
        flag: d.flag,
        format: (v) => String(v),
        value: (r) =>
          has(r, "contexts") && has(r, "vcpus")
            ? Number((Number(r.contexts) / Number(r.vcpus)).toPrecision(6))
            : null,
      };
    }
    const column = d.column;
    if (column === "retouch") {
      return {
        key: column,
        column,
        flag: d.flag,
        format,
        value: (r) =>
          has(r, column) && has(r, "working_set_bytes") && Number(r.working_set_bytes) > 0
            ? r[column]
            : null,
      };
    }
    return {
      key: column,
      column,
      flag: d.flag,
      format,
      value: (r) => has(r, column) ? r[column] : null,
    };
  }),
  {
    key: "seed",
    column: "seed",
    flag: "seed",
    format: (v) => String(v),
    value: (r) => has(r, "seed") ? r.seed : null,
  },
  ...COST_FLAGS.map((f): ConfigKey => ({
    key: f.column,
    column: f.column,
    flag: f.flag,
    format: (v) => String(f.toFlag(Number(v))),
    value: (r) => has(r, f.column) ? r[f.column] : null,
  })),
];

/** The configuration key of `key` (a column or `contexts_per_vcpu`). */
export function configKey(key: string): ConfigKey {
  const k = CONFIG_KEYS.find((c) => c.key === key);
  if (!k) throw new Error(`slice: ${key} is not a configuration key`);
  return k;
}

/**
 * How to choose a pinned value among those a panel's rows have: a value (used when the
 * rows have it), `max`, `min`, or a function of the values (ascending numbers, or text in
 * first-seen order). Without one, the value most rows have (the first of equals).
 */
export type Pick =
  | string
  | number
  | "max"
  | "min"
  | ((values: readonly (string | number)[]) => string | number);

/** What a figure shows, and how to pin the rest. */
export interface SliceSpec {
  /** The x axis (varies along a line). */
  x?: string;
  /** The panels' keys (each panel is pinned on its own). */
  facets?: readonly string[];
  /** How to choose the value of a dimension that is pinned. */
  prefer?: Readonly<Record<string, Pick>>;
  /** Dimensions left free besides x and the facets (e.g. a scatter of every point). */
  free?: readonly string[];
}

/** One dimension pinned in one panel. */
export interface Pin {
  /** Configuration key. */
  readonly key: string;
  /** The value kept. */
  readonly value: string | number;
  /** The values the panel's rows had. */
  readonly among: readonly (string | number)[];
  /** The panel (its facet values; {} without facets). */
  readonly panel: Readonly<Record<string, string | number>>;
}

/** The rows a figure draws and what was pinned to keep them. */
export interface Slice<R extends Row> {
  /** Rows kept: in each panel, every dimension but x, the facets and `free` at one value. */
  readonly rows: R[];
  /** Every pin, panel by panel. */
  readonly pins: readonly Pin[];
  /**
   * A fact filter that selects the rows kept (column -> the values kept), for takeaways
   * and subtitles: exact when a pin's value is the same in every panel.
   */
  readonly where: Record<string, (string | number)[]>;
}

function sortValues(vs: (string | number)[]): (string | number)[] {
  return vs.every((v) => typeof v === "number") ? (vs as number[]).sort((a, b) => a - b) : vs;
}

function choose(values: (string | number)[], counts: Map<string | number, number>, p?: Pick) {
  if (typeof p === "function") return p(values);
  if (p === "max") return values[values.length - 1];
  if (p === "min") return values[0];
  if (p !== undefined) {
    const hit = values.find((v) => v === p || Number(v) === Number(p));
    if (hit !== undefined) return hit;
  }
  let best = values[0];
  for (const v of values) if ((counts.get(v) ?? 0) > (counts.get(best) ?? 0)) best = v;
  return best;
}

/**
 * The rows of `rows` a figure showing `spec` draws: in each panel (distinct values of the
 * facets), each configuration key other than x, the facets and `free` that has more than
 * one value is pinned to one ({@linkcode Pick}; keys in the sweep's order, each choice
 * among the rows the earlier ones kept). A row where a key does not apply stays.
 */
export function sliceRows<R extends Row>(rows: readonly R[], spec: SliceSpec = {}): Slice<R> {
  const facets = spec.facets ?? [];
  const shown = new Set([spec.x, ...facets, ...(spec.free ?? [])].filter((k) => k !== undefined));
  const keys = CONFIG_KEYS.filter((k) => !shown.has(k.key) && !shown.has(k.column));
  const panels = new Map<string, R[]>();
  for (const r of rows) {
    const id = JSON.stringify(facets.map((f) => r[f]));
    panels.set(id, [...(panels.get(id) ?? []), r]);
  }
  const kept: R[] = [];
  const pins: Pin[] = [];
  for (const group of panels.values()) {
    let g = group;
    const panel = Object.fromEntries(facets.map((f) => [f, g[0][f]]));
    for (const k of keys) {
      const counts = new Map<string | number, number>();
      for (const r of g) {
        const v = k.value(r);
        if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      if (counts.size < 2) continue;
      const among = sortValues([...counts.keys()]);
      const value = choose(among, counts, spec.prefer?.[k.key]);
      g = g.filter((r) => {
        const v = k.value(r);
        return v === null || v === value;
      });
      pins.push({ key: k.key, value, among, panel });
    }
    kept.push(...g);
  }
  const where: Record<string, (string | number)[]> = {};
  for (const p of pins) {
    const k = configKey(p.key);
    const vals = k.key === "contexts_per_vcpu"
      ? [...new Set(kept.map((r) => r.contexts))]
      : [p.value];
    if (k.key === "retouch" && kept.some((r) => k.value(r) === null)) {
      vals.push(...new Set(kept.filter((r) => k.value(r) === null).map((r) => r.retouch)));
    }
    where[k.column] = sortValues([...new Set([...(where[k.column] ?? []), ...vals])]);
  }
  return { rows: kept, pins, where };
}

/** The value of each pinned key, when it is the same in every panel (else undefined). */
export function pinnedValue(s: Slice<Row>, key: string): string | number | undefined {
  const vs = new Set(s.pins.filter((p) => p.key === key).map((p) => p.value));
  return vs.size === 1 ? [...vs][0] : undefined;
}

/**
 * The pins as flags, one entry per key: `--l1-mem 256G` when every panel kept the same
 * value, else the value of each panel (`--alias 0 (16M) / 0.1 (1G)` with `panelText`).
 */
export function pinFlags(
  s: Slice<Row>,
  panelText: (panel: Readonly<Record<string, string | number>>) => string = (p) =>
    Object.values(p).join(" "),
): { key: string; text: string; values: (string | number)[] }[] {
  const out: { key: string; text: string; values: (string | number)[] }[] = [];
  for (const key of [...new Set(s.pins.map((p) => p.key))]) {
    const k = configKey(key);
    const ps = s.pins.filter((p) => p.key === key);
    const values = [...new Set(ps.map((p) => p.value))];
    const text = values.length === 1
      ? `--${k.flag} ${k.format(values[0])}`
      : `--${k.flag} ${ps.map((p) => `${k.format(p.value)} (${panelText(p.panel)})`).join(" / ")}`;
    out.push({ key, text, values });
  }
  return out;
}
