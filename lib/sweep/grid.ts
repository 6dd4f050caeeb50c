/**
 * The sweep's grid: its dimensions (each a comma-separated list on the command line or a
 * list in a JSON grid file), their defaults and units, validation to one-line errors, the
 * expansion into points in a fixed order, the grid id, and a memory estimate per point.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { expandGrid, parseGridValues } from "./grid.ts";
 * const g = parseGridValues({ vcpus: "1,8", "l1-mem": "4G", granule: "4K", alias: "0,0.5" });
 * assertEquals(expandGrid(g).points.length, 4);
 * ```
 * @module
 */

import { allDesigns, designNamed } from "../strategies/registry.ts";
import { parseBacking } from "../host/backing.ts";
import { granule, GRANULE_NAMES, type GranuleName, levelSize } from "../kvm/granule.ts";
import {
  autoPaBits,
  checkWorkload,
  contextCount,
  defaultWorkload,
  normalizeBacking,
  shareBytes,
  workingSetBytes,
  WORKLOAD_VERSION,
  workloadKey,
  type WorkloadParams,
} from "../trace/workload.ts";
import { fnv1a32 } from "../util/prng.ts";
import { formatSize, parseSize } from "../util/size.ts";
import type { SweepColumn } from "./columns.ts";
import { type CostModel, DEFAULT_NS_PER_FAULT } from "./costmodel.ts";

/** One grid point as the sweep schedules it. */
export interface PointSpec {
  /** The grid's id (schema column `grid_id`). */
  gridId: string;
  /** Index in the grid. */
  index: number;
  /** Points in the grid. */
  points: number;
  /** Sweep seed. */
  seed: number;
  /** Workload parameters. */
  params: WorkloadParams;
}

/** A bad grid value: one line naming the flag. */
export class GridError extends Error {
  /** `--flag: problem`. */
  constructor(message: string) {
    super(message);
    this.name = "GridError";
  }
}

type Kind =
  | "int"
  | "size"
  | "fraction"
  | "real"
  | "granule"
  | "l1granule"
  | "pabits"
  | "backing"
  | "workingset";

/** A working set given as a fraction of a context's share (`--working-set 0.5`). */
const FRACTION_PREFIX = "share:";

/** One grid dimension. */
export interface DimensionSpec {
  /** Flag name (without `--`) and grid-file key. */
  readonly flag: string;
  /** The parameter it sets. */
  readonly key: keyof WorkloadParams;
  /**
   * The sweep.csv column that records the point's value (resolved: `same`, `auto` and a
   * fraction of the share as they came out); none when the CSV records only what it made
   * (`contexts` for `contexts-per-vcpu`).
   */
  readonly column?: SweepColumn;
  /** How values parse. */
  readonly kind: Kind;
  /** Default list, as typed on the command line. */
  readonly def: string;
  /** Unit, for --help. */
  readonly unit: string;
  /** Inclusive range of numbers. */
  readonly range?: [number, number];
  /** What it is, for --help. */
  readonly help: string;
}

/** The grid dimensions, outermost first (the last one varies fastest in point order). */
export const DIMENSIONS: readonly DimensionSpec[] = [
  {
    flag: "granule",
    key: "granule",
    column: "granule",
    kind: "granule",
    def: "4K,16K,64K",
    unit: "4K|16K|64K",
    help: "host granule (PAGE_SIZE) = granule of every shadow stage-2",
  },
  {
    flag: "l1-granule",
    key: "l1Granule",
    column: "l1_granule",
    kind: "l1granule",
    def: "same",
    unit: "same|4K|16K|64K",
    help:
      "granule of L1's stage-2 tables; `same` = the host's; points where it is smaller than the host's are skipped",
  },
  {
    flag: "pa-bits",
    key: "paBits",
    column: "pa_bits",
    kind: "pabits",
    def: "auto",
    unit: "bits|auto",
    range: [32, 52],
    help: "kvm_get_pa_bits(): IPA size of every shadow MMU; auto = 48 (4K, 16K) or 52 (64K)",
  },
  {
    flag: "l2-ipa-bits",
    key: "l2IpaBits",
    column: "l2_ipa_bits",
    kind: "int",
    def: "44",
    unit: "bits",
    range: [32, 48],
    help: "input size of L1's stage-2 tables (L2 IPA space)",
  },
  {
    flag: "backing",
    key: "backing",
    column: "backing",
    kind: "backing",
    def: "thp",
    unit: "page|thp|hugetlb[:size]",
    help: "host backing of the memslots",
  },
  {
    flag: "memslots",
    key: "memslots",
    column: "memslots",
    kind: "int",
    def: "4",
    unit: "count",
    range: [1, 512],
    help: "memslots the L1 memory is split into (equal sizes)",
  },
  {
    flag: "l1-mem",
    key: "l1Mem",
    column: "l1_mem_bytes",
    kind: "size",
    def: "4G,64G,256G",
    unit: "bytes (K/M/G/T)",
    range: [2 ** 21, 2 ** 44],
    help: "L1 memory",
  },
  {
    flag: "vcpus",
    key: "vcpus",
    column: "vcpus",
    kind: "int",
    def: "1,8,64,192",
    unit: "count",
    range: [1, 4096],
    help: "L1 vCPUs (2 shadow MMUs each)",
  },
  {
    flag: "contexts-per-vcpu",
    key: "contextsPerVcpu",
    kind: "real",
    def: "1",
    unit: "ratio",
    range: [0.001, 64],
    help: "L2 contexts per vCPU (contexts = max(1, round(vcpus x this)))",
  },
  {
    flag: "pages-per-context",
    key: "pagesPerContext",
    column: "pages_per_context",
    kind: "int",
    def: "128",
    unit: "mappings",
    range: [1, 1 << 20],
    help: "touched working set: L1 mappings per context before aliases",
  },
  {
    flag: "l1-blocks",
    key: "l1BlockFraction",
    column: "l1_block_fraction",
    kind: "fraction",
    def: "0.25",
    unit: "fraction",
    range: [0, 1],
    help:
      "fraction of mappings L1 makes with its smallest block (2M/32M/512M), as the share allows",
  },
  {
    flag: "alias",
    key: "alias",
    column: "alias",
    kind: "fraction",
    def: "0,0.01,0.1,0.5",
    unit: "fraction",
    range: [0, 1],
    help: "alias density: fraction of L2 pages whose canonical page another L2 IPA also maps",
  },
  {
    flag: "numa-fraction",
    key: "numaFraction",
    column: "numa_fraction",
    kind: "fraction",
    def: "0.02",
    unit: "fraction",
    range: [0, 1],
    help: "fraction of L1 memory the NUMA-balancing scans cover",
  },
  {
    flag: "numa-window",
    key: "numaWindow",
    column: "numa_window_bytes",
    kind: "size",
    def: "256M",
    unit: "bytes",
    range: [4096, 2 ** 44],
    help: "bytes per NUMA scan window (numa_balancing_scan_size_mb); one notifier unmap each",
  },
  {
    flag: "migrations",
    key: "migrationsPerWindow",
    column: "migrations_per_window",
    kind: "int",
    def: "1",
    unit: "count",
    range: [0, 4096],
    help: "touched host pages migrated after each scan window (at most)",
  },
  {
    flag: "working-set",
    key: "workingSet",
    column: "working_set_bytes",
    kind: "workingset",
    def: "0",
    unit: "bytes (K/M/G/T) | fraction 0..1",
    range: [0, 2 ** 44],
    help:
      "L2 memory each context maps and touches page by page, as bytes (1G) or as a fraction of its share of L1 memory (0.5); 0 = none",
  },
  {
    flag: "retouch",
    key: "retouch",
    column: "retouch",
    kind: "fraction",
    def: "0.1",
    unit: "fraction",
    range: [0, 1],
    help:
      "fraction of its working set each context re-touches after each host unmap (the refault storm)",
  },
];

/** Values of each dimension as parsed (strings `same` / `auto` kept for per-point resolution). */
export type GridValues = Record<string, (number | string)[]>;

function parseOne(d: DimensionSpec, text: string): number | string {
  const t = text.trim();
  const bad = (why: string): never => {
    throw new GridError(`--${d.flag}: ${why}`);
  };
  const inRange = (v: number, shown: string) => {
    if (d.range && (v < d.range[0] || v > d.range[1])) {
      const fmt = d.kind === "size" ? (n: number) => formatSize(n) : String;
      bad(`${shown} is out of range (${fmt(d.range[0])}..${fmt(d.range[1])})`);
    }
    return v;
  };
  switch (d.kind) {
    case "int":
      if (!/^\d+$/.test(t)) bad(`"${t}" is not a whole number`);
      return inRange(Number(t), t);
    case "pabits":
      if (t === "auto") return t;
      if (!/^\d+$/.test(t)) bad(`"${t}" is not a whole number or auto`);
      return inRange(Number(t), t);
    case "fraction":
    case "real": {
      if (!/^(\d+\.?\d*|\.\d+)(e-?\d+)?$/i.test(t)) bad(`"${t}" is not a number`);
      return inRange(Number(t), t);
    }
    case "size": {
      let v = 0;
      try {
        v = parseSize(t);
      } catch (e) {
        bad((e as Error).message);
      }
      return inRange(v, t);
    }
    case "granule":
      if (!(GRANULE_NAMES as readonly string[]).includes(t)) {
        bad(`unknown granule "${t}" (expected one of ${GRANULE_NAMES.join(", ")})`);
      }
      return t;
    case "l1granule":
      if (t !== "same" && !(GRANULE_NAMES as readonly string[]).includes(t)) {
        bad(`unknown granule "${t}" (expected same or one of ${GRANULE_NAMES.join(", ")})`);
      }
      return t;
    case "workingset": {
      // A plain number up to 1 is a fraction of the share; a size (with a unit, or a whole
      // number of bytes above 1) is bytes.
      if (/^(0?\.\d+|0|1|1\.0*)$/.test(t)) {
        const f = Number(t);
        return f === 0 ? 0 : `${FRACTION_PREFIX}${f}`;
      }
      let v = 0;
      try {
        v = parseSize(t);
      } catch (e) {
        bad(`${(e as Error).message} (a size such as 64M, or a fraction 0..1 of the share)`);
      }
      return inRange(v, t);
    }
    case "backing":
      if (!/^(page|thp|hugetlb(:.+)?)$/.test(t)) {
        bad(`unknown backing "${t}" (expected page, thp, hugetlb or hugetlb:<size>)`);
      }
      if (t.startsWith("hugetlb:")) {
        try {
          parseSize(t.slice(8));
        } catch (e) {
          bad((e as Error).message);
        }
      }
      return t;
  }
}

/**
 * Parse dimension values given as flag text (`"1,8,64"`) or grid-file values (a list, a
 * number or a string); absent dimensions take their defaults. Throws {@linkcode GridError}.
 */
export function parseGridValues(given: Record<string, unknown>): GridValues {
  const out: GridValues = {};
  for (const d of DIMENSIONS) {
    const raw = given[d.flag];
    let items: string[];
    if (raw === undefined) items = d.def.split(",");
    else if (Array.isArray(raw)) items = raw.map((x) => String(x));
    else if (typeof raw === "number") items = [String(raw)];
    else if (typeof raw === "string") items = raw.split(",");
    else throw new GridError(`--${d.flag}: expected a list, got ${JSON.stringify(raw)}`);
    if (items.length === 0 || items.some((s) => s.trim() === "")) {
      throw new GridError(
        `--${d.flag}: empty value in "${Array.isArray(raw) ? raw.join(",") : raw}"`,
      );
    }
    const vals = items.map((s) => parseOne(d, s));
    out[d.flag] = vals.filter((v, i) => vals.indexOf(v) === i);
  }
  return out;
}

/** The expanded grid. */
export interface Grid {
  /** Points in grid order. */
  points: WorkloadParams[];
  /** Combinations skipped because the L1 granule is smaller than the host's. */
  skipped: number;
}

/**
 * Expand the values into points (cartesian product, the last dimension varying fastest),
 * resolving `same` and `auto`, dropping duplicates and combinations with an L1 granule
 * smaller than the host's. Throws {@linkcode GridError} naming the first point that cannot
 * be generated, or when nothing is left.
 */
export function expandGrid(values: GridValues): Grid {
  const points: WorkloadParams[] = [];
  const keys = new Set<string>();
  let skipped = 0;
  const cur: Record<string, number | string> = {};
  const rec = (di: number) => {
    if (di === DIMENSIONS.length) {
      const p = defaultWorkload();
      for (const d of DIMENSIONS) {
        (p as unknown as Record<string, number | string>)[d.key] = cur[d.flag];
      }
      if (p.l1Granule as string === "same") p.l1Granule = p.granule;
      if ((p.paBits as unknown) === "auto") p.paBits = autoPaBits(p.granule);
      const ws = p.workingSet as unknown;
      if (typeof ws === "string") {
        p.workingSetFraction = Number(ws.slice(FRACTION_PREFIX.length));
        p.workingSet = 0;
      }
      if (granule(p.l1Granule).pageSize < granule(p.granule).pageSize) {
        skipped++;
        return;
      }
      p.backing = normalizeBacking(p.granule, p.backing);
      const key = workloadKey(p);
      if (keys.has(key)) return;
      const problem = checkWorkload(p);
      if (problem) throw new GridError(`grid point ${describePoint(p)}: ${problem}`);
      keys.add(key);
      points.push(p);
      return;
    }
    const d = DIMENSIONS[di];
    for (const v of values[d.flag]) {
      cur[d.flag] = v;
      rec(di + 1);
    }
  };
  rec(0);
  if (points.length === 0) {
    throw new GridError("the grid is empty: every L1 granule is smaller than its host granule");
  }
  return { points, skipped };
}

/**
 * Expand several value sets (a grid file's `parts`) into one grid: each part's points in
 * turn, a point already listed by an earlier part dropped. Throws {@linkcode GridError}.
 */
export function expandGridParts(parts: readonly GridValues[]): Grid {
  const points: WorkloadParams[] = [];
  const keys = new Set<string>();
  let skipped = 0;
  for (const values of parts) {
    const g = expandGrid(values);
    skipped += g.skipped;
    for (const p of g.points) {
      const key = workloadKey(p);
      if (keys.has(key)) continue;
      keys.add(key);
      points.push(p);
    }
  }
  return { points, skipped };
}

/** A short description of a point for messages and progress. */
export function describePoint(p: WorkloadParams): string {
  const ws = workingSetBytes(p);
  return `vcpus=${p.vcpus} l1-mem=${formatSize(p.l1Mem)} granule=${p.granule}/${p.l1Granule} ` +
    `alias=${p.alias}` + (ws > 0 ? ` working-set=${formatSize(ws)}` : "");
}

/** The grid id: 8 hex digits over the generator version, seed, cost model and points. */
export function gridId(points: readonly WorkloadParams[], seed: number, cost: CostModel): string {
  const text = JSON.stringify([
    WORKLOAD_VERSION,
    seed,
    cost.nsPerIteration,
    cost.nsPerDescriptor,
    cost.softLockupNs,
    // The per-fault cost joined the model later: it enters the id only when changed, so a
    // default grid keeps the id it had.
    ...(cost.nsPerFault === DEFAULT_NS_PER_FAULT ? [] : [cost.nsPerFault]),
    points.map(workloadKey),
  ]);
  return fnv1a32(text).toString(16).padStart(8, "0");
}

/**
 * Bytes one typed-array table page of a granule costs the simulator: per descriptor a
 * 32-bit frame and an attribute byte, with meta a second frame and a design's kept number
 * (`KvmPgtable.shadowedAt`), per 32 a valid word, and the per-table arrays.
 */
function tableBytes(g: GranuleName, withMeta: boolean): number {
  const n = granule(g).ptrsPerTable;
  return n * (withMeta ? 13 : 5) + n / 8 + 600;
}

/**
 * Estimated peak bytes one worker needs for a point replayed with `strategy` (or with
 * the hungriest design when none is named): its trace, the shadow, L1, host and
 * canonical tables (every touched leaf in its own last-level table, capped by the address
 * span a table covers), a margin per mapping for a strategy's index, the working sets at
 * their design's `leafBytes` (lib/strategies/design.ts), and the runtime. Deliberately an
 * over-estimate.
 */
export function estimatePointBytes(p: WorkloadParams, strategy?: string): number {
  const C = contextCount(p);
  const hg = granule(p.granule);
  const g1 = granule(p.l1Granule);
  const share = shareBytes(p);
  const perCtx = p.pagesPerContext * (1 + p.alias);
  const mappings = C * perCtx;
  const cover = (g: GranuleName) => levelSize(granule(g), 2);
  const tablesFor = (entries: number, span: number, g: GranuleName) =>
    Math.min(entries, Math.ceil(span / cover(g)) + 1) + 3;
  // Shadow tables: one MMU per context (at most 2 x vcpus at a time; recycled ones reset).
  const live = Math.min(C, 2 * p.vcpus);
  const aliasSpan = p.pagesPerContext * p.alias * 5 * levelSize(g1, 2);
  const shadowTables = live *
    (tablesFor(p.pagesPerContext, share, p.granule) +
      tablesFor(p.pagesPerContext * p.alias, aliasSpan, p.granule));
  const l1Tables = C *
    (tablesFor(p.pagesPerContext, share, p.l1Granule) +
      tablesFor(p.pagesPerContext * p.alias, aliasSpan, p.l1Granule));
  const unit = parseBacking(hg, normalizeBacking(p.granule, p.backing)).size;
  const hostTables = tablesFor(C * p.pagesPerContext, p.l1Mem, p.granule) +
    Math.ceil(unit / cover(p.granule));
  const events = mappings * 3.5 + 1000;
  // The working sets: one shadow leaf per host page (at most), in dense tables, with the
  // strategies' index and the oracle's bookkeeping.
  const wsLeaves = C * workingSetBytes(p) / hg.pageSize;
  const perLeaf = strategy !== undefined
    ? designNamed(strategy).leafBytes
    : Math.max(...allDesigns().map((d) => d.leafBytes));
  return Math.ceil(
    wsLeaves * perLeaf +
      shadowTables * tableBytes(p.granule, true) +
      (l1Tables + hostTables) * tableBytes(p.l1Granule, false) +
      events * 400 +
      mappings * 2 * 256 +
      150 * 2 ** 20,
  );
}

/** Relative cost of a point, for scheduling (largest first) and the ETA. */
export function pointWeight(p: WorkloadParams): number {
  const C = contextCount(p);
  const scans = p.numaFraction * p.l1Mem / p.numaWindow;
  const wsPages = C * workingSetBytes(p) / granule(p.granule).pageSize;
  return 1 +
    C * p.pagesPerContext * (1 + p.alias) * (1 + 0.02 * scans) +
    wsPages * (2 + p.retouch * (1 + 2 * scans));
}
