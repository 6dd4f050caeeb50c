/**
 * The CSV schema of `deno task sweep`: one row per (grid point, strategy) in
 * `results/sweep.csv`, and one row per (grid point, strategy) of wall time in
 * `results/sweep.timing.csv` (kept apart so that the main file is byte-identical for a
 * given seed). Units are in the column names: `_bytes`, `_ns`, `_ms`; a column without a
 * unit suffix is a count, a fraction (0..1) or a name.
 *
 * Notebooks read columns by these names (not by position).
 *
 * Each column carries its getter, so the schema and the row are one list.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { SWEEP_COLUMNS, SWEEP_HEADER } from "./columns.ts";
 * assertEquals(SWEEP_HEADER[0], "grid_id");
 * assertEquals(SWEEP_COLUMNS.find((c) => c.name === "unmap_iterations_max")?.type, "int");
 * ```
 * @module
 */

import { granule, levelSize } from "../kvm/granule.ts";
import type { ReplayReport } from "../trace/replay.ts";
import { normalizeBacking, type WorkloadStats } from "../trace/workload.ts";
import type { EventAggregate } from "./aggregate.ts";
import { max, mean, percentile } from "./stats.ts";
import type { CostModel } from "./costmodel.ts";
import type { PointSpec } from "./grid.ts";
import type { InsertContention } from "./contention.ts";
import type { InsertLock } from "../kvm/strategy.ts";
import { formatCsv } from "../util/csv.ts";

/** One CSV column: its name (with unit), its kind, what it holds, and how a row gets it. */
export interface ColumnSpec<R> {
  /** Column name as in the header; the unit is its suffix (`_bytes`, `_ns`, `_ms`). */
  readonly name: string;
  /** `int` (whole number), `real` (decimal, up to 3 places), `text`, or `bool` (0 or 1). */
  readonly type: "int" | "real" | "text" | "bool";
  /** One line: what the value is. */
  readonly description: string;
  /** The value of this column for a row's input. */
  readonly get: (r: R) => string | number;
}

/** CSV text of `xs` under `cols`: the header, then each row through the columns' getters. */
export function columnsCsv<R>(cols: readonly ColumnSpec<R>[], xs: readonly R[]): string {
  return formatCsv(
    cols.map((c) => c.name),
    xs.map((x) => Object.fromEntries(cols.map((c) => [c.name, c.get(x)]))),
  );
}

/** What one `sweep.csv` row is computed from: the point, its workload and one replay. */
export interface RowInput {
  /** The grid point. */
  pt: PointSpec;
  /** Facts about the point's generated trace. */
  stats: WorkloadStats;
  /** The strategy replayed. */
  strategy: string;
  /** Shadow MMUs in nested_mmus[]: S2_MMU_PER_VCPU x the point's vCPUs. */
  shadowMmus: number;
  /** Per-event sums and per-unmap samples of the replay. */
  agg: EventAggregate;
  /** The replay's totals. */
  report: Pick<ReplayReport, "violations" | "fallbacks" | "peakMemoryBytes" | "peakShadowLeaves">;
  /** The cost model. */
  cost: CostModel;
  /** `agg.unmapIterations`, ascending. */
  sortedIterations: number[];
  /** Estimated ns of each unmap event, in event order. */
  unmapEstNs: number[];
  /** `unmapEstNs`, ascending. */
  sortedEstNs: number[];
  /** Inserts and contended inserts per lock domain. */
  contention: InsertContention;
  /** The lock the design's insert takes in a kernel port. */
  insertLock: InsertLock;
  /** Distinct stale leaves found `kvm-baseline` (KVM's own, whatever the design). */
  kvmBaseline: number;
}

/** Wall time of one (point, strategy): a `sweep.timing.csv` row. */
export type TimingRow = {
  /** Schema column `grid_id`. */
  grid_id: string;
  /** Point index. */
  point: number;
  /** Strategy. */
  strategy: string;
  /** ms to generate the trace. */
  generate_ms: number;
  /** ms to replay it. */
  replay_ms: number;
  /** Events per second of replay. */
  events_per_s: number;
  /** The commit of the code that ran it (lib/sweep/commit.ts). */
  commit: string;
  /** Where the cost model comes from (lib/sweep/spec.ts's `costOrigin`). */
  cost_model: string;
};

/** stage2_apply_range()'s chunk for a host granule: kvm_granule_size(KVM_PGTABLE_MIN_BLOCK_LEVEL). */
function chunkBytes(g: string): number {
  const hg = granule(g);
  return levelSize(hg, hg.minBlockLevel);
}

/** Columns of `results/sweep.csv`, in order. */
export const SWEEP_COLUMNS = [
  // --- identity of the row ---------------------------------------------------------------
  {
    name: "grid_id",
    type: "text",
    description:
      "8 hex digits identifying the grid (points, seed, generator version, cost model); shards of one grid share it",
    get: (r) => r.pt.gridId,
  },
  {
    name: "point",
    type: "int",
    description: "0-based index of the grid point in grid order",
    get: (r) => r.pt.index,
  },
  {
    name: "points",
    type: "int",
    description: "number of points in the whole grid (before --shard)",
    get: (r) => r.pt.points,
  },
  {
    name: "seed",
    type: "int",
    description: "sweep seed; each point's trace is seeded from it and the point's parameters",
    get: (r) => r.pt.seed,
  },
  {
    name: "strategy",
    type: "text",
    description: "reverse-lookup strategy (lib/strategies/mod.ts name)",
    get: (r) => r.strategy,
  },
  // --- grid parameters -------------------------------------------------------------------
  { name: "vcpus", type: "int", description: "L1 online vCPUs", get: (r) => r.pt.params.vcpus },
  {
    name: "shadow_mmus",
    type: "int",
    description: "shadow MMUs in nested_mmus[] (S2_MMU_PER_VCPU x vcpus)",
    get: (r) => r.shadowMmus,
  },
  {
    name: "contexts",
    type: "int",
    description: "L2 contexts (L1 stage-2 tables: VMID + VTTBR)",
    get: (r) => r.stats.contexts,
  },
  {
    name: "l1_mem_bytes",
    type: "int",
    description: "L1 memory (sum of memslot sizes)",
    get: (r) => r.pt.params.l1Mem,
  },
  {
    name: "memslots",
    type: "int",
    description: "memslots the L1 memory is split into",
    get: (r) => r.pt.params.memslots,
  },
  {
    name: "backing",
    type: "text",
    description: "host backing of the memslots: page, thp or hugetlb:<size>",
    get: (r) => normalizeBacking(r.pt.params.granule, r.pt.params.backing),
  },
  {
    name: "granule",
    type: "text",
    description: "host granule (PAGE_SIZE): 4K, 16K or 64K; also that of every shadow stage-2",
    get: (r) => r.pt.params.granule,
  },
  {
    name: "l1_granule",
    type: "text",
    description: "granule of L1's stage-2 tables (>= host granule)",
    get: (r) => r.pt.params.l1Granule,
  },
  {
    name: "pa_bits",
    type: "int",
    description: "kvm_get_pa_bits(): L1 PA range, the IPA size of every shadow MMU",
    get: (r) => r.pt.params.paBits,
  },
  {
    name: "l2_ipa_bits",
    type: "int",
    description: "input size of L1's stage-2 tables (L2 IPA space)",
    get: (r) => r.pt.params.l2IpaBits,
  },
  {
    name: "chunk_bytes",
    type: "int",
    description:
      "stage2_apply_range() chunk: kvm_granule_size(KVM_PGTABLE_MIN_BLOCK_LEVEL) of the host granule",
    get: (r) => chunkBytes(r.pt.params.granule),
  },
  {
    name: "alias",
    type: "real",
    description:
      "alias density: fraction of L2 pages whose canonical page another L2 IPA also maps",
    get: (r) => r.pt.params.alias,
  },
  {
    name: "pages_per_context",
    type: "int",
    description: "requested working set: L1 mappings per context before aliases",
    get: (r) => r.pt.params.pagesPerContext,
  },
  {
    name: "l1_block_fraction",
    type: "real",
    description: "requested fraction of a context's mappings L1 maps with its smallest block",
    get: (r) => r.pt.params.l1BlockFraction,
  },
  {
    name: "numa_fraction",
    type: "real",
    description: "fraction of L1 memory the NUMA-balancing scans cover",
    get: (r) => r.pt.params.numaFraction,
  },
  {
    name: "numa_window_bytes",
    type: "int",
    description: "bytes per NUMA scan window (one MMU-notifier unmap each)",
    get: (r) => r.pt.params.numaWindow,
  },
  {
    name: "migrations_per_window",
    type: "int",
    description: "most touched host pages migrated after each NUMA scan window",
    get: (r) => r.pt.params.migrationsPerWindow,
  },
  // --- the trace ---------------------------------------------------------------------------
  { name: "events", type: "int", description: "trace events", get: (r) => r.agg.events },
  {
    name: "unmap_events",
    type: "int",
    description: "host unmap events (numa-scan, migrate, swap-out, thp-split, memslot-delete)",
    get: (r) => r.agg.unmapIterations.length,
  },
  {
    name: "wp_events",
    type: "int",
    description: "dirty-logging write-protect events",
    get: (r) => r.agg.wpEvents,
  },
  {
    name: "l1_mappings",
    type: "int",
    description: "L1 stage-2 mappings the trace makes (primaries + aliases)",
    get: (r) => r.stats.l1Mappings,
  },
  {
    name: "alias_mappings",
    type: "int",
    description: "of which alias mappings",
    get: (r) => r.stats.aliasMappings,
  },
  {
    name: "touched_bytes",
    type: "int",
    description: "canonical (L1) memory the primary mappings cover",
    get: (r) => r.stats.touchedBytes,
  },
  {
    name: "valid_mmus",
    type: "int",
    description:
      "shadow MMUs valid during the host activity (the generator's count: min(contexts, shadow_mmus))",
    get: (r) => r.stats.validMmus,
  },
  // --- strategy work (EventReport.iterations = chunks + steps) --------------------------------
  {
    name: "iterations_total",
    type: "int",
    description: "strategy iterations over all events: stage2_apply_range() chunks + index steps",
    get: (r) => r.agg.iterations,
  },
  {
    name: "chunks_total",
    type: "int",
    description: "stage2_apply_range() iterations the strategy's shadow operations spent",
    get: (r) => r.agg.chunks,
  },
  {
    name: "steps_total",
    type: "int",
    description: "steps the strategy spent in its own index",
    get: (r) => r.agg.steps,
  },
  {
    name: "unmap_iterations_mean",
    type: "real",
    description: "strategy iterations per unmap event: mean",
    get: (r) => mean(r.agg.unmapIterations),
  },
  {
    name: "unmap_iterations_p99",
    type: "int",
    description: "strategy iterations per unmap event: 99th percentile (nearest rank)",
    get: (r) => percentile(r.sortedIterations, 0.99),
  },
  {
    name: "unmap_iterations_max",
    type: "int",
    description: "strategy iterations per unmap event: maximum",
    get: (r) => max(r.agg.unmapIterations),
  },
  {
    name: "descriptors_total",
    type: "int",
    description: "shadow descriptors the strategy's walks visited over all events",
    get: (r) => r.agg.descriptors,
  },
  {
    name: "unmap_descriptors_mean",
    type: "real",
    description: "descriptors per unmap event: mean",
    get: (r) => mean(r.agg.unmapDescriptors),
  },
  {
    name: "unmap_descriptors_max",
    type: "int",
    description: "descriptors per unmap event: maximum",
    get: (r) => max(r.agg.unmapDescriptors),
  },
  {
    name: "wp_iterations_total",
    type: "int",
    description: "strategy iterations spent in write-protect events",
    get: (r) => r.agg.wpIterations,
  },
  {
    name: "reboot_iterations_total",
    type: "int",
    description:
      "strategy iterations of the L1 reboot (TLBI ALLE1IS -> kvm_nested_s2_unmap() of everything)",
    get: (r) => r.agg.rebootIterations,
  },
  {
    name: "engine_iterations_total",
    type: "int",
    description: "shadow iterations common to all strategies (L1 TLBIs by IPA/VMID, MMU resets)",
    get: (r) => r.agg.engineIterations,
  },
  {
    name: "canonical_iterations_total",
    type: "int",
    description: "canonical stage-2 (kvm->arch.mmu) iterations, the same for every strategy",
    get: (r) => r.agg.canonicalIterations,
  },
  {
    name: "removed_needed",
    type: "int",
    description: "shadow entries the host unmap events removed that their range required",
    get: (r) => r.agg.removedNeeded,
  },
  {
    name: "removed_collateral",
    type: "int",
    description: "shadow entries the host unmap events removed without need",
    get: (r) => r.agg.removedCollateral,
  },
  {
    name: "removed_other",
    type: "int",
    description: "shadow entries removed otherwise: L1 reboot and TLBIs, MMU resets, remaps",
    get: (r) => r.agg.removedOther,
  },
  {
    name: "faults",
    type: "int",
    description: "shadow faults handled (entries installed or permissions relaxed)",
    get: (r) => r.agg.faults,
  },
  {
    name: "refaults",
    type: "int",
    description: "faults on shadow IPAs a host operation had removed as collateral",
    get: (r) => r.agg.refaults,
  },
  {
    name: "peak_shadow_entries",
    type: "int",
    description: "most live shadow leaves after any event",
    get: (r) => r.report.peakShadowLeaves,
  },
  {
    name: "peak_memory_bytes",
    type: "int",
    description: "peak strategy index memory, modeled kernel bytes",
    get: (r) => r.report.peakMemoryBytes,
  },
  {
    name: "memory_bytes_per_shadow_entry",
    type: "real",
    description: "peak_memory_bytes / peak_shadow_entries (0 when no entries)",
    get: (r) =>
      r.report.peakShadowLeaves === 0 ? 0 : r.report.peakMemoryBytes / r.report.peakShadowLeaves,
  },
  {
    name: "violations",
    type: "int",
    description: "distinct oracle violations (stale shadow entries); 0 for a correct strategy",
    get: (r) => r.report.violations,
  },
  {
    name: "fallbacks",
    type: "int",
    description: "times a budgeted strategy fell back to the full walk",
    get: (r) => r.report.fallbacks,
  },
  // --- cost model (lib/sweep/costmodel.ts) -------------------------------------------------------
  {
    name: "ns_per_iteration",
    type: "real",
    description: "cost model: ns per strategy iteration (chunk or index step)",
    get: (r) => r.cost.nsPerIteration,
  },
  {
    name: "ns_per_descriptor",
    type: "real",
    description: "cost model: ns per descriptor visited",
    get: (r) => r.cost.nsPerDescriptor,
  },
  {
    name: "unmap_est_ns_mean",
    type: "int",
    description: "estimated time per unmap event: mean",
    get: (r) => Math.round(mean(r.unmapEstNs)),
  },
  {
    name: "unmap_est_ns_p99",
    type: "int",
    description: "estimated time per unmap event: 99th percentile (nearest rank)",
    get: (r) => percentile(r.sortedEstNs, 0.99),
  },
  {
    name: "unmap_est_ns_max",
    type: "int",
    description: "estimated time per unmap event: maximum",
    get: (r) => max(r.unmapEstNs),
  },
  {
    name: "soft_lockup_threshold_ns",
    type: "int",
    description: "soft-lockup threshold: 2 x watchdog_thresh",
    get: (r) => r.cost.softLockupNs,
  },
  {
    name: "soft_lockup_events",
    type: "int",
    description: "unmap events whose estimate exceeds the threshold",
    get: (r) => r.unmapEstNs.filter((t) => t > r.cost.softLockupNs).length,
  },
  {
    name: "soft_lockup",
    type: "bool",
    description: "1 when unmap_est_ns_max exceeds the threshold",
    get: (r) => (max(r.unmapEstNs) > r.cost.softLockupNs ? 1 : 0),
  },
  // --- working set and refault storms (appended: earlier columns keep their places) ----
  {
    name: "working_set_bytes",
    type: "int",
    description: "bytes of L2 memory each context maps and touches page by page (0: none)",
    get: (r) => r.stats.workingSetBytes,
  },
  {
    name: "retouch",
    type: "real",
    description: "fraction of its working set each context re-touches after each host unmap",
    get: (r) => (r.stats.workingSetBytes > 0 ? r.pt.params.retouch : 0),
  },
  {
    name: "shadow_entries_mean",
    type: "real",
    description: "live shadow leaves after each event, mean over events",
    get: (r) => (r.agg.events === 0 ? 0 : r.agg.shadowLeavesSum / r.agg.events),
  },
  {
    name: "shadow_table_pages_peak",
    type: "int",
    description: "most shadow table pages (every MMU, pgd pages included) after any event",
    get: (r) => r.agg.peakTablePages,
  },
  {
    name: "unmap_leaves_destroyed_mean",
    type: "real",
    description: "shadow leaves one unmap event destroys (needed + collateral): mean",
    get: (r) => mean(r.agg.unmapDestroyed),
  },
  {
    name: "unmap_leaves_destroyed_max",
    type: "int",
    description: "shadow leaves one unmap event destroys (needed + collateral): maximum",
    get: (r) => max(r.agg.unmapDestroyed),
  },
  {
    name: "unmap_tables_freed_total",
    type: "int",
    description: "shadow table pages freed by host unmap events, total",
    get: (r) => r.agg.unmapTablesFreed.reduce((a, b) => a + b, 0),
  },
  {
    name: "unmap_tables_freed_max",
    type: "int",
    description: "shadow table pages one host unmap event freed: maximum",
    get: (r) => max(r.agg.unmapTablesFreed),
  },
  {
    name: "storm_faults_total",
    type: "int",
    description:
      "refault storms: shadow faults of the guest accesses right after host unmaps, total",
    get: (r) => r.agg.stormFaults.reduce((a, b) => a + b, 0),
  },
  {
    name: "storm_faults_max",
    type: "int",
    description: "shadow faults of the storm after one host unmap (all vCPUs): maximum",
    get: (r) => max(r.agg.stormFaults),
  },
  {
    name: "storm_vcpu_faults_max",
    type: "int",
    description: "shadow faults one vCPU takes in the storm after one host unmap: maximum",
    get: (r) => max(r.agg.stormVcpuFaults),
  },
  {
    name: "storm_refaults_total",
    type: "int",
    description: "storm faults on leaves the preceding unmap removed as collateral, total",
    get: (r) => r.agg.stormRefaults.reduce((a, b) => a + b, 0),
  },
  {
    name: "ns_per_fault",
    type: "real",
    description: "cost model: ns per shadow fault (an estimate, lib/sweep/costmodel.ts)",
    get: (r) => r.cost.nsPerFault,
  },
  {
    name: "storm_est_ns_max",
    type: "int",
    description: "estimated CPU time of the largest storm, over every vCPU",
    get: (r) => Math.round(max(r.agg.stormFaults) * r.cost.nsPerFault),
  },
  {
    name: "storm_vcpu_est_ns_max",
    type: "int",
    description: "estimated time one vCPU spends refaulting after one host unmap: maximum",
    get: (r) => Math.round(max(r.agg.stormVcpuFaults) * r.cost.nsPerFault),
  },
  {
    name: "kvm_baseline",
    type: "int",
    description:
      "distinct stale leaves KVM itself leaves whatever the design (docs/oracle.md); not violations",
    get: (r) => r.kvmBaseline,
  },
  // --- concurrency of index inserts (lib/sweep/contention.ts) ------------------------------
  {
    name: "insert_lock",
    type: "text",
    description: "lock an index insert takes in a kernel port: vm, mmu, chunk or none",
    get: (r) => r.insertLock,
  },
  {
    name: "inserts_total",
    type: "int",
    description: "shadow leaves installed by nested faults (index inserts)",
    get: (r) => r.contention.inserts,
  },
  {
    name: "inserts_contended",
    type: "int",
    description:
      "inserts into a lock domain (of insert_lock) another vCPU also inserted into in the same phase",
    get: (r) => (r.insertLock === "none" ? 0 : r.contention.contended[r.insertLock]),
  },
  {
    name: "inserts_contended_vm",
    type: "int",
    description: "the same with one lock per VM",
    get: (r) => r.contention.contended.vm,
  },
  {
    name: "inserts_contended_mmu",
    type: "int",
    description: "the same with one lock per shadow MMU",
    get: (r) => r.contention.contended.mmu,
  },
  {
    name: "inserts_contended_chunk",
    type: "int",
    description: "the same with one lock per canonical chunk (512 leaves of one size)",
    get: (r) => r.contention.contended.chunk,
  },
] as const satisfies readonly ColumnSpec<RowInput>[];

/** Columns of `results/sweep.timing.csv` (the simulator's wall time; not deterministic). */
export const TIMING_COLUMNS = [
  { name: "grid_id", type: "text", description: "as in sweep.csv", get: (r) => r.grid_id },
  { name: "point", type: "int", description: "as in sweep.csv", get: (r) => r.point },
  { name: "strategy", type: "text", description: "as in sweep.csv", get: (r) => r.strategy },
  {
    name: "generate_ms",
    type: "real",
    description: "wall time to generate the point's trace (shared by its strategies)",
    get: (r) => r.generate_ms,
  },
  {
    name: "replay_ms",
    type: "real",
    description: "wall time to replay the trace with this strategy under the oracle",
    get: (r) => r.replay_ms,
  },
  {
    name: "events_per_s",
    type: "real",
    description: "replayed events per second of replay_ms",
    get: (r) => r.events_per_s,
  },
  {
    name: "commit",
    type: "text",
    description:
      "commit of the code that ran the row (12 hex digits; +dirty: the code differed from it; unknown: no git)",
    get: (r) => r.commit,
  },
  {
    name: "cost_model",
    type: "text",
    description:
      "where the cost model of sweep.csv's ns_per_* and soft_lockup_threshold_ns columns comes from: default (lib/sweep/costmodel.ts) or the --cost-model file and what it says it is, then the cost flags set over it",
    get: (r) => r.cost_model,
  },
] as const satisfies readonly ColumnSpec<TimingRow>[];

/** The header line of `sweep.csv`. */
export const SWEEP_HEADER: readonly string[] = SWEEP_COLUMNS.map((c) => c.name);

/** The header line of `sweep.timing.csv`. */
export const TIMING_HEADER: readonly string[] = TIMING_COLUMNS.map((c) => c.name);

/** A `sweep.csv` column name. */
export type SweepColumn = (typeof SWEEP_COLUMNS)[number]["name"];

/** One row of `sweep.csv`: text columns are strings, the others numbers. */
export type SweepRow = {
  [C in (typeof SWEEP_COLUMNS)[number] as C["name"]]: C["type"] extends "text" ? string : number;
};

/** The row of one replay: every column's getter, in schema order. */
export function sweepRow(r: RowInput): SweepRow {
  const row: Record<string, string | number> = {};
  for (const c of SWEEP_COLUMNS) row[c.name] = (c.get as (r: RowInput) => string | number)(r);
  return row as SweepRow;
}

/** Render the schema as a Markdown table (for docs/schema.md and `--help --schema`). */
export function schemaMarkdown(
  cols: readonly { name: string; type: string; description: string }[] = SWEEP_COLUMNS,
): string {
  const lines = ["| column | type | description |", "|---|---|---|"];
  for (const c of cols) lines.push(`| \`${c.name}\` | ${c.type} | ${c.description} |`);
  return lines.join("\n");
}
