/**
 * The reproducibility header every notebook prints first (issue #12): the s2lab version
 * (deno.json) and the commit of the code the notebook ran (git, when there is one), the
 * Deno version, the file read with its row and point counts, its grid id and seed, and
 * the sweep command that makes it again.
 *
 * The sweep does not record its command line, so {@linkcode sweepCommand} derives one from
 * the rows: each grid dimension's distinct values, the seed, the strategies and the cost
 * model (every row carries them), with the defaults left out, or `--grid NAME` when a grid
 * file of experiments/grids/ gives the same grid. It then expands that grid and computes
 * its grid id as the sweep does (lib/sweep/grid.ts): when the id is the CSV's `grid_id`,
 * the command is verified to make the same points with the same seed and cost model.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { sweepCommand } from "./provenance.ts";
 * import { expandGrid, gridId, parseGridValues } from "../sweep/grid.ts";
 * import { defaultCostModel } from "../sweep/costmodel.ts";
 * const g = expandGrid(parseGridValues({ vcpus: "1,8", "l1-mem": "4G", granule: "4K", alias: "0" }));
 * const id = gridId(g.points, 3, defaultCostModel());
 * const rows = g.points.map((p) => ({
 *   grid_id: id, seed: 3, strategy: "rmap", vcpus: p.vcpus, contexts: p.vcpus,
 *   l1_mem_bytes: p.l1Mem, granule: "4K", l1_granule: "4K", pa_bits: 48, l2_ipa_bits: 44,
 *   backing: "thp", memslots: 4, pages_per_context: 128, l1_block_fraction: 0.25, alias: 0,
 *   numa_fraction: 0.02, numa_window_bytes: 2 ** 28, migrations_per_window: 1,
 *   working_set_bytes: 0, retouch: 0.1, ns_per_iteration: 20, ns_per_descriptor: 2,
 *   soft_lockup_threshold_ns: 2e10, ns_per_fault: 10000 }));
 * const c = sweepCommand(rows, "mine.csv");
 * assertEquals(c.verified, true);
 * assertEquals(c.command, "deno task sweep --granule 4K --l1-mem 4G --vcpus 1,8 --alias 0 --strategy rmap --seed 3 --out mine.csv");
 * ```
 * @module
 */

import { STRATEGY_NAMES } from "../strategies/mod.ts";
import { DEFAULT_NS_PER_FAULT, defaultCostModel } from "../sweep/costmodel.ts";
import { DIMENSIONS, expandGrid, gridId, parseGridValues } from "../sweep/grid.ts";
import { autoPaBits, normalizeBacking } from "../trace/workload.ts";
import type { GranuleName } from "../kvm/granule.ts";
import { formatSize } from "../util/size.ts";
import { displayPath, REPO_ROOT } from "./results.ts";

type Row = Record<string, string | number>;

/** The grid dimensions as CSV columns: flag -> column (and how values print). */
const COLUMN_OF: Record<string, { col: string; size?: boolean }> = {
  "granule": { col: "granule" },
  "l1-granule": { col: "l1_granule" },
  "pa-bits": { col: "pa_bits" },
  "l2-ipa-bits": { col: "l2_ipa_bits" },
  "backing": { col: "backing" },
  "memslots": { col: "memslots" },
  "l1-mem": { col: "l1_mem_bytes", size: true },
  "vcpus": { col: "vcpus" },
  "pages-per-context": { col: "pages_per_context" },
  "l1-blocks": { col: "l1_block_fraction" },
  "alias": { col: "alias" },
  "numa-fraction": { col: "numa_fraction" },
  "numa-window": { col: "numa_window_bytes", size: true },
  "migrations": { col: "migrations_per_window" },
  "working-set": { col: "working_set_bytes", size: true },
  "retouch": { col: "retouch" },
};

/** A sweep command derived from a CSV's rows. */
export interface SweepCommand {
  /** `deno task sweep …` with the non-default flags. */
  command: string;
  /** Its grid id equals the CSV's (same points, seed and cost model). */
  verified: boolean;
  /** The CSV's grid id(s). */
  gridIds: string[];
  /** The grid id the derived command gives. */
  derivedId: string;
  /** Seeds in the CSV. */
  seeds: number[];
}

function distinctValues(rows: readonly Row[], col: string): (string | number)[] {
  const seen = [...new Set(rows.map((r) => r[col]))];
  return seen.every((v) => typeof v === "number") ? (seen as number[]).sort((a, b) => a - b) : seen;
}

/** Flag values (as typed) for the grid in `rows`; defaults left out. */
function gridFlags(rows: readonly Row[]): Record<string, string> {
  const flags: Record<string, string> = {};
  const has = (c: string) => rows.length > 0 && c in rows[0];
  for (const d of DIMENSIONS) {
    const spec = COLUMN_OF[d.flag];
    if (!spec || !has(spec.col)) continue;
    const vals = distinctValues(rows, spec.col);
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
    else text = vals.map((v) => spec.size ? formatSize(Number(v)) : String(v)).join(",");
    if (d.flag === "retouch" && rows.every((r) => Number(r.working_set_bytes) === 0)) continue;
    if (text !== d.def) flags[d.flag] = text;
  }
  if (has("contexts") && rows.some((r) => Number(r.contexts) !== Number(r.vcpus))) {
    const big = rows.reduce((a, b) => (Number(b.vcpus) > Number(a.vcpus) ? b : a));
    flags["contexts-per-vcpu"] = String(Number(big.contexts) / Number(big.vcpus));
  }
  return flags;
}

/** The seed, strategy and cost-model flags of `rows`; defaults left out. */
function otherFlags(rows: readonly Row[]): Record<string, string> {
  const flags: Record<string, string> = {};
  const strategies = [...new Set(rows.map((r) => String(r.strategy)))];
  const all = new Set(STRATEGY_NAMES);
  if (strategies.length !== all.size || strategies.some((s) => !all.has(s))) {
    flags.strategy = strategies.join(",");
  }
  const r0 = rows[0];
  const def = defaultCostModel();
  if (Number(r0.seed) !== 1) flags.seed = String(r0.seed);
  if (Number(r0.ns_per_iteration) !== def.nsPerIteration) {
    flags["ns-per-iteration"] = String(r0.ns_per_iteration);
  }
  if (Number(r0.ns_per_descriptor) !== def.nsPerDescriptor) {
    flags["ns-per-descriptor"] = String(r0.ns_per_descriptor);
  }
  if (Number(r0.soft_lockup_threshold_ns) !== def.softLockupNs) {
    flags["watchdog-thresh"] = String(Number(r0.soft_lockup_threshold_ns) / 2e9);
  }
  if ("ns_per_fault" in r0 && Number(r0.ns_per_fault) !== DEFAULT_NS_PER_FAULT) {
    flags["ns-per-fault"] = String(r0.ns_per_fault);
  }
  return flags;
}

/** The grid id a set of flags gives (as `deno task sweep` computes it). */
function idOf(flags: Record<string, string>): string {
  const def = defaultCostModel();
  const g = expandGrid(parseGridValues(flags));
  return gridId(g.points, Number(flags.seed ?? 1), {
    nsPerIteration: Number(flags["ns-per-iteration"] ?? def.nsPerIteration),
    nsPerDescriptor: Number(flags["ns-per-descriptor"] ?? def.nsPerDescriptor),
    softLockupNs: Math.round(2 * Number(flags["watchdog-thresh"] ?? 10) * 1e9),
    nsPerFault: Number(flags["ns-per-fault"] ?? DEFAULT_NS_PER_FAULT),
  });
}

/** Named grids in experiments/grids/ whose file gives `flags`' grid id. */
function namedGrid(id: string, strategies: string | undefined): string | null {
  const dir = `${REPO_ROOT}experiments/grids/`;
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".json"))
      .sort();
  } catch {
    return null;
  }
  for (const name of names) {
    try {
      const json = JSON.parse(Deno.readTextFileSync(dir + name)) as Record<string, unknown>;
      const flags: Record<string, string> = {};
      for (const [k, v] of Object.entries(json)) {
        flags[k] = Array.isArray(v) ? v.join(",") : String(v);
      }
      if (idOf(flags) === id && (flags.strategy ?? undefined) === strategies) {
        return name.slice(0, -5);
      }
    } catch {
      // not a grid file this code reads: skip it
    }
  }
  return null;
}

/**
 * The sweep command that makes `rows` (written to `out`), derived from the rows and
 * verified against their grid id (see the module doc).
 */
export function sweepCommand(rows: readonly Row[], out: string): SweepCommand {
  const gridIds = [...new Set(rows.map((r) => String(r.grid_id)))];
  const seeds = [...new Set(rows.map((r) => Number(r.seed)))];
  const grid = gridFlags(rows);
  const other = otherFlags(rows);
  const flags = { ...grid, ...other };
  let derivedId = "";
  try {
    derivedId = idOf(flags);
  } catch {
    derivedId = "(not a grid the sweep accepts)";
  }
  const verified = gridIds.length === 1 && derivedId === gridIds[0];
  const named = verified ? namedGrid(derivedId, other.strategy) : null;
  const parts = named
    ? [`--grid ${named}`, ...Object.entries(other).filter(([k]) => k !== "strategy")]
    : Object.entries(flags);
  const text = parts.map((p) => (Array.isArray(p) ? `--${p[0]} ${p[1]}` : p));
  return {
    command: ["deno task sweep", ...text, `--out ${out}`].join(" "),
    verified,
    gridIds,
    derivedId,
    seeds,
  };
}

/** The commit of the code a notebook ran, or "unknown" without git. */
export interface CodeCommit {
  /** Short hash of the last commit that changed anything outside notebooks/. */
  commit: string;
  /** Files outside notebooks/ differ from it. */
  dirty: boolean;
}

function git(args: string[]): string | null {
  try {
    const out = new Deno.Command("git", { args: ["-C", REPO_ROOT, ...args], stderr: "null" })
      .outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null; // no git, or no --allow-run
  }
}

/**
 * The code's commit: the last one that changed anything but notebooks/ (so re-executing a
 * committed notebook after a notebooks-only commit prints the same), and whether files
 * outside notebooks/ have uncommitted changes.
 */
export function codeCommit(): CodeCommit {
  const commit = git(["log", "-1", "--format=%h", "--abbrev=12", "--", ".", ":(exclude)notebooks"]);
  if (!commit) return { commit: "unknown", dirty: false };
  const status = git(["status", "--porcelain", "--", ".", ":(exclude)notebooks"]);
  return { commit, dirty: status !== null && status.length > 0 };
}

/** s2lab's version, from deno.json. */
export function s2labVersion(): string {
  try {
    return String(JSON.parse(Deno.readTextFileSync(`${REPO_ROOT}deno.json`)).version ?? "unknown");
  } catch {
    return "unknown";
  }
}

/** Markdown lines: version, commit, Deno. */
export function environmentLines(): string[] {
  const c = codeCommit();
  return [
    `s2lab ${s2labVersion()}, code at commit \`${c.commit}\`${
      c.dirty ? " with uncommitted changes" : ""
    } (the last commit outside notebooks/), Deno ${Deno.version.deno}.`,
  ];
}

/** The reproducibility header of a notebook that reads a sweep CSV. */
export function sweepHeader(rows: readonly Row[], path: string, kept?: number): string {
  const shown = displayPath(path);
  const c = sweepCommand(rows, shown);
  const points = new Set(rows.map((r) => `${r.grid_id}/${r.point}`)).size;
  const strategies = new Set(rows.map((r) => r.strategy)).size;
  const lines = [
    ...environmentLines(),
    `Read \`${shown}\`: ${rows.length} rows = ${points} grid points × ${strategies} strategies` +
    `${kept === undefined ? "" : `; the parameters keep ${kept}`}; grid id ${
      c.gridIds.join(", ")
    }, seed ${c.seeds.join(", ")}.`,
    c.verified
      ? `Made by \`${c.command}\` (derived from the rows; its grid id is the CSV's, ` +
        `${c.gridIds[0]}: the same points, seed and cost model).`
      : `The sweep command is not recorded and the one derived from the rows, \`${c.command}\`, ` +
        `gives grid id ${c.derivedId}, not ${c.gridIds.join(", ")}: the CSV is not one ` +
        `product grid (merged, or a flag this notebook cannot see).`,
  ];
  return lines.map((l) => `- ${l}`).join("\n");
}
