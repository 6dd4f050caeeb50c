/**
 * The reproducibility header every sweep notebook prints first: the file read with its
 * row and point counts, its grid id and seed, the commit that swept it (as the sweep
 * recorded it in the CSV's timing file), and the sweep command that makes it again. It
 * names nothing of the checkout the notebook runs in, so re-executing a notebook at a
 * later commit prints the same header unless the data changed.
 *
 * The sweep does not record its command line, so {@linkcode sweepCommand} derives one from
 * the rows: a grid file of experiments/grids/ whose grid (its `parts` included) is the
 * CSV's, or else each grid dimension's distinct values; then the seed, the strategies and
 * the cost-model flags where they differ from what that grid gives. It resolves the
 * command as the sweep does (lib/sweep/spec.ts) and computes its grid id: when the id is
 * the CSV's `grid_id`, the command is verified to make the same points with the same seed
 * and cost model.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { sweepCommand } from "./provenance.ts";
 * import { specGrid, sweepSpec } from "../sweep/spec.ts";
 * const { grid, id } = specGrid(
 *   sweepSpec({ vcpus: "1,8", "l1-mem": "4G", granule: "4K", alias: "0", seed: "3" }),
 * );
 * const rows = grid.points.map((p) => ({
 *   grid_id: id, seed: 3, strategy: "rmap", vcpus: p.vcpus, contexts: p.vcpus,
 *   l1_mem_bytes: p.l1Mem, granule: "4K", l1_granule: "4K", pa_bits: 48, l2_ipa_bits: 44,
 *   backing: "thp", memslots: 4, pages_per_context: 128, l1_block_fraction: 0.25, alias: 0,
 *   numa_fraction: 0.02, numa_window_bytes: 2 ** 28, migrations_per_window: 1,
 *   working_set_bytes: 0, retouch: 0.1, ns_per_iteration: 20, ns_per_descriptor: 2,
 *   soft_lockup_threshold_ns: 2e10, ns_per_fault: 10000 }));
 * const c = sweepCommand(rows, "mine.csv");
 * assertEquals(c.verified, true);
 * assertEquals(c.command, "deno task sweep --granule 4K --l1-mem 4G --vcpus 1,8 --alias 0 --seed 3 --strategy rmap --out mine.csv");
 * ```
 * @module
 */

import type { GranuleName } from "../kvm/granule.ts";
import type { SweepColumn } from "../sweep/columns.ts";
import { type CostModel, defaultCostModel } from "../sweep/costmodel.ts";
import { DIMENSIONS } from "../sweep/grid.ts";
import {
  COST_FLAGS,
  costModelName,
  type GridFile,
  gridFilePath,
  gridNames,
  parseGridFile,
  specGrid,
  type SweepSpec,
  sweepSpec,
} from "../sweep/spec.ts";
import { autoPaBits, normalizeBacking } from "../trace/workload.ts";
import { parseCsv } from "../util/csv.ts";
import { formatSize } from "../util/size.ts";
import { displayPath } from "./results.ts";

type Row = Record<string, string | number>;

/** A sweep command derived from a CSV's rows. */
export interface SweepCommand {
  /** `deno task sweep …` with the non-default flags. */
  command: string;
  /** Its flags (before `--out`), as the command line splits them. */
  args: string[];
  /** Its grid id equals the CSV's (same points, seed and cost model). */
  verified: boolean;
  /** The CSV's grid id(s). */
  gridIds: string[];
  /** The grid id the derived command gives. */
  derivedId: string;
  /** Seeds in the CSV. */
  seeds: number[];
}

/** The rows' file has column `c` (own property: a sweep record's absent column throws). */
const has = (rows: readonly Row[], c: SweepColumn) => rows.length > 0 && Object.hasOwn(rows[0], c);

function distinctValues(rows: readonly Row[], col: string): (string | number)[] {
  const seen = [...new Set(rows.map((r) => r[col]))];
  return seen.every((v) => typeof v === "number") ? (seen as number[]).sort((a, b) => a - b) : seen;
}

/**
 * Dimension flags (as typed) for the product grid of `rows`; defaults left out. A
 * dimension that does not apply to a row (retouch without a working set) is read from the
 * rows where it applies.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { productFlags } from "./provenance.ts";
 * const row = (ws: number, retouch: number) =>
 *   ({ granule: "4K", working_set_bytes: ws, retouch, vcpus: 8, contexts: 8 });
 * assertEquals(productFlags([row(0, 0), row(2 ** 20, 0.5)])["retouch"], "0.5");
 * ```
 */
export function productFlags(rows: readonly Row[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (const d of DIMENSIONS) {
    if (!d.column || !has(rows, d.column)) continue;
    const size = d.kind === "size" || d.kind === "workingset";
    let text: string;
    if (d.flag === "l1-granule" && rows.every((r) => r.l1_granule === r.granule)) text = "same";
    else if (
      d.flag === "pa-bits" &&
      rows.every((r) => Number(r.pa_bits) === autoPaBits(String(r.granule) as GranuleName))
    ) text = "auto";
    else if (
      d.flag === "backing" &&
      rows.every((r) => r.backing === normalizeBacking(String(r.granule) as GranuleName, "thp"))
    ) text = "thp";
    else {
      // Retouch is a fraction of a working set: a row without one records 0, not applicable.
      const applies = d.flag === "retouch"
        ? rows.filter((r) => Number(r.working_set_bytes) > 0)
        : rows;
      if (applies.length === 0) continue;
      text = distinctValues(applies, d.column).map((v) => size ? formatSize(Number(v)) : String(v))
        .join(",");
    }
    if (text !== d.def) flags[d.flag] = text;
  }
  if (has(rows, "contexts") && rows.some((r) => Number(r.contexts) !== Number(r.vcpus))) {
    const big = rows.reduce((a, b) => (Number(b.vcpus) > Number(a.vcpus) ? b : a));
    flags["contexts-per-vcpu"] = String(Number(big.contexts) / Number(big.vcpus));
  }
  return flags;
}

/** The seed, strategies and cost model the rows record. */
function recorded(rows: readonly Row[]): { seed: number; strategies: string[]; cost: CostModel } {
  const cost = defaultCostModel();
  for (const f of COST_FLAGS) if (has(rows, f.column)) cost[f.field] = Number(rows[0][f.column]);
  return {
    seed: Number(rows[0].seed),
    strategies: [...new Set(rows.map((r) => String(r.strategy)))],
    cost,
  };
}

/** Flags that turn what `base` runs into the seed, strategies and cost model `rows` record. */
function overrides(rows: readonly Row[], base: SweepSpec): Record<string, string> {
  const want = recorded(rows);
  const flags: Record<string, string> = {};
  if (want.seed !== base.seed) flags.seed = String(want.seed);
  if (want.strategies.join(",") !== base.strategies.join(",")) {
    flags.strategy = want.strategies.join(",");
  }
  for (const f of COST_FLAGS) {
    if (want.cost[f.field] !== base.cost[f.field]) {
      flags[f.flag] = String(f.toFlag(want.cost[f.field]));
    }
  }
  return flags;
}

/** A candidate command: its flags, its grid file, and the grid id it gives ("" if none). */
interface Candidate {
  flags: Record<string, string>;
  grid?: string;
  id: string;
}

function candidate(rows: readonly Row[], dims: Record<string, string>, file?: GridFile): Candidate {
  const grid = file?.name;
  try {
    const flags = { ...dims, ...overrides(rows, sweepSpec(dims, file)) };
    return { flags, grid, id: specGrid(sweepSpec(flags, file)).id };
  } catch {
    return { flags: dims, grid, id: "" }; // not a grid the sweep accepts
  }
}

/** The named grid files that parse (a file this code cannot read is skipped). */
function namedGrids(): GridFile[] {
  const out: GridFile[] = [];
  for (const name of gridNames()) {
    try {
      out.push(parseGridFile(name, Deno.readTextFileSync(gridFilePath(name).path)));
    } catch {
      // not a grid file this code reads: skip it
    }
  }
  return out;
}

/**
 * The sweep command that makes `rows` (written to `out`), derived from the rows and
 * verified against their grid id (see the module doc).
 */
export function sweepCommand(rows: readonly Row[], out: string): SweepCommand {
  const gridIds = [...new Set(rows.map((r) => String(r.grid_id)))];
  const seeds = [...new Set(rows.map((r) => Number(r.seed)))];
  const product = candidate(rows, productFlags(rows));
  const named = gridIds.length === 1
    ? namedGrids().map((f) => candidate(rows, {}, f)).find((c) => c.id === gridIds[0])
    : undefined;
  const c = named ?? product;
  const args = [
    ...(c.grid ? ["--grid", c.grid] : []),
    ...Object.entries(c.flags).flatMap(([k, v]) => [`--${k}`, v]),
  ];
  return {
    command: ["deno task sweep", ...args, "--out", out].join(" "),
    args,
    verified: gridIds.length === 1 && c.id === gridIds[0],
    gridIds,
    derivedId: c.id || "(not a grid the sweep accepts)",
    seeds,
  };
}

/** The timing file the sweep writes beside `csv` by default. */
export function timingPathOf(csv: string): string {
  return csv.endsWith(".csv") ? `${csv.slice(0, -4)}.timing.csv` : `${csv}.timing.csv`;
}

/** The commit(s) that swept a CSV, as its timing file records them. */
export interface SweptAt {
  /** The timing file read. */
  timing: string;
  /** Distinct commits of its rows of the CSV's grid(s), in first-seen order; [] if none. */
  commits: string[];
  /** Why none is known, when `commits` is empty. */
  missing?: string;
  /**
   * The cost models its rows were swept with (the timing file's `cost_model` column:
   * `default` or where a model came from, e.g. a `--cost-model` file); [] if not recorded.
   */
  costModels: string[];
}

/** The commits that swept `csv`'s grids (`gridIds`), from its timing file. */
export function sweptAt(csv: string, gridIds: readonly string[]): SweptAt {
  const timing = timingPathOf(csv);
  let text: string;
  try {
    text = Deno.readTextFileSync(timing);
  } catch {
    return { timing, commits: [], missing: "no timing file", costModels: [] };
  }
  let parsed;
  try {
    parsed = parseCsv(text, true);
  } catch {
    return { timing, commits: [], missing: "not a CSV", costModels: [] };
  }
  const ids = new Set(gridIds);
  const mine = parsed.rows.filter((r) => ids.has(r.grid_id));
  const costModels = parsed.header.includes("cost_model")
    ? [...new Set(mine.map((r) => r.cost_model))]
    : [];
  if (!parsed.header.includes("commit")) {
    return { timing, commits: [], missing: "no commit column", costModels };
  }
  const commits = [...new Set(mine.map((r) => r.commit))];
  return commits.length > 0
    ? { timing, commits, costModels }
    : { timing, commits, missing: "no row of this grid", costModels };
}

/** " with the default cost model (…)" / " with the cost model of FILE: …", as recorded. */
function costModelClause(models: readonly string[]): string {
  return models.length === 0 ? "" : ` with ${models.map(costModelName).join(" and ")}`;
}

/** The reproducibility header of a notebook that reads a sweep CSV. */
export function sweepHeader(rows: readonly Row[], path: string, kept?: number): string {
  const shown = displayPath(path);
  const c = sweepCommand(rows, shown);
  const at = sweptAt(path, c.gridIds);
  const points = new Set(rows.map((r) => `${r.grid_id}/${r.point}`)).size;
  const strategies = new Set(rows.map((r) => r.strategy)).size;
  const timing = `\`${displayPath(at.timing)}\``;
  const lines = [
    `Read \`${shown}\`: ${rows.length} rows = ${points} grid points × ${strategies} strategies` +
    `${kept === undefined ? "" : `; the parameters keep ${kept}`}; grid id ${
      c.gridIds.join(", ")
    }, seed ${c.seeds.join(", ")}.`,
    at.commits.length > 0
      ? `Swept at commit ${at.commits.map((x) => `\`${x}\``).join(", ")}${
        costModelClause(at.costModels)
      } (as ${timing} records).`
      : `The commit that swept it is not recorded (${timing}: ${at.missing}).`,
    c.verified
      ? `Made by \`${c.command}\` (derived from the rows; its grid id is the CSV's, ` +
        `${c.gridIds[0]}: the same points, seed and cost model).`
      : `The sweep command is not recorded and the one derived from the rows, \`${c.command}\`, ` +
        `gives grid id ${c.derivedId}, not ${c.gridIds.join(", ")}: the CSV is not one ` +
        `product grid (merged, or a flag this notebook cannot see).`,
  ];
  return lines.map((l) => `- ${l}`).join("\n");
}
