/**
 * The CSV schema of `deno task sweep`: one row per (grid point, strategy) in
 * `results/sweep.csv`, and one row per (grid point, strategy) of wall time in
 * `results/sweep.timing.csv` (kept apart so that the main file is byte-identical for a
 * given seed). Units are in the column names: `_bytes`, `_ns`, `_ms`; a column without a
 * unit suffix is a count, a fraction (0..1) or a name.
 *
 * Notebooks read columns by these names (not by position).
 *
 * @example
 * ```ts
 * import { SWEEP_COLUMNS } from "./schema.ts";
 * console.log(SWEEP_COLUMNS[0].name, SWEEP_COLUMNS.some((c) => c.name === "unmap_iterations_max")); // grid_id true
 * ```
 * @module
 */

/** One CSV column: its name (with unit), its kind and what it holds. */
export interface ColumnSpec {
  /** Column name as in the header; the unit is its suffix (`_bytes`, `_ns`, `_ms`). */
  readonly name: string;
  /** `int` (whole number), `real` (decimal, up to 3 places), `text`, or `bool` (0 or 1). */
  readonly type: "int" | "real" | "text" | "bool";
  /** One line: what the value is. */
  readonly description: string;
}

/** Columns of `results/sweep.csv`, in order. */
export const SWEEP_COLUMNS: readonly ColumnSpec[] = [
  // --- identity of the row ---------------------------------------------------------------
  {
    name: "grid_id",
    type: "text",
    description:
      "8 hex digits identifying the grid (points, seed, generator version, cost model); shards of one grid share it",
  },
  { name: "point", type: "int", description: "0-based index of the grid point in grid order" },
  {
    name: "points",
    type: "int",
    description: "number of points in the whole grid (before --shard)",
  },
  {
    name: "seed",
    type: "int",
    description: "sweep seed; each point's trace is seeded from it and the point's parameters",
  },
  {
    name: "strategy",
    type: "text",
    description: "reverse-lookup strategy (lib/strategies/mod.ts name)",
  },
  // --- grid parameters -------------------------------------------------------------------
  { name: "vcpus", type: "int", description: "L1 online vCPUs" },
  {
    name: "shadow_mmus",
    type: "int",
    description: "shadow MMUs in nested_mmus[] (S2_MMU_PER_VCPU x vcpus)",
  },
  { name: "contexts", type: "int", description: "L2 contexts (L1 stage-2 tables: VMID + VTTBR)" },
  { name: "l1_mem_bytes", type: "int", description: "L1 memory (sum of memslot sizes)" },
  { name: "memslots", type: "int", description: "memslots the L1 memory is split into" },
  {
    name: "backing",
    type: "text",
    description: "host backing of the memslots: page, thp or hugetlb:<size>",
  },
  {
    name: "granule",
    type: "text",
    description: "host granule (PAGE_SIZE): 4K, 16K or 64K; also that of every shadow stage-2",
  },
  {
    name: "l1_granule",
    type: "text",
    description: "granule of L1's stage-2 tables (>= host granule)",
  },
  {
    name: "pa_bits",
    type: "int",
    description: "kvm_get_pa_bits(): L1 PA range, the IPA size of every shadow MMU",
  },
  {
    name: "l2_ipa_bits",
    type: "int",
    description: "input size of L1's stage-2 tables (L2 IPA space)",
  },
  {
    name: "chunk_bytes",
    type: "int",
    description:
      "stage2_apply_range() chunk: kvm_granule_size(KVM_PGTABLE_MIN_BLOCK_LEVEL) of the host granule",
  },
  {
    name: "alias",
    type: "real",
    description:
      "alias density: fraction of L2 pages whose canonical page another L2 IPA also maps",
  },
  {
    name: "pages_per_context",
    type: "int",
    description: "requested working set: L1 mappings per context before aliases",
  },
  {
    name: "l1_block_fraction",
    type: "real",
    description: "requested fraction of a context's mappings L1 maps with its smallest block",
  },
  {
    name: "numa_fraction",
    type: "real",
    description: "fraction of L1 memory the NUMA-balancing scans cover",
  },
  {
    name: "numa_window_bytes",
    type: "int",
    description: "bytes per NUMA scan window (one MMU-notifier unmap each)",
  },
  {
    name: "migrations_per_window",
    type: "int",
    description: "most touched host pages migrated after each NUMA scan window",
  },
  // --- the trace ---------------------------------------------------------------------------
  { name: "events", type: "int", description: "trace events" },
  {
    name: "unmap_events",
    type: "int",
    description: "host unmap events (numa-scan, migrate, swap-out, thp-split, memslot-delete)",
  },
  { name: "wp_events", type: "int", description: "dirty-logging write-protect events" },
  {
    name: "l1_mappings",
    type: "int",
    description: "L1 stage-2 mappings the trace makes (primaries + aliases)",
  },
  { name: "alias_mappings", type: "int", description: "of which alias mappings" },
  {
    name: "touched_bytes",
    type: "int",
    description: "canonical (L1) memory the primary mappings cover",
  },
  {
    name: "valid_mmus",
    type: "int",
    description:
      "shadow MMUs valid during the host activity (the generator's count: min(contexts, shadow_mmus))",
  },
  // --- strategy work (EventReport.iterations = chunks + steps) --------------------------------
  {
    name: "iterations_total",
    type: "int",
    description: "strategy iterations over all events: stage2_apply_range() chunks + index steps",
  },
  {
    name: "chunks_total",
    type: "int",
    description: "stage2_apply_range() iterations the strategy's shadow operations spent",
  },
  { name: "steps_total", type: "int", description: "steps the strategy spent in its own index" },
  {
    name: "unmap_iterations_mean",
    type: "real",
    description: "strategy iterations per unmap event: mean",
  },
  {
    name: "unmap_iterations_p99",
    type: "int",
    description: "strategy iterations per unmap event: 99th percentile (nearest rank)",
  },
  {
    name: "unmap_iterations_max",
    type: "int",
    description: "strategy iterations per unmap event: maximum",
  },
  {
    name: "descriptors_total",
    type: "int",
    description: "shadow descriptors the strategy's walks visited over all events",
  },
  {
    name: "unmap_descriptors_mean",
    type: "real",
    description: "descriptors per unmap event: mean",
  },
  {
    name: "unmap_descriptors_max",
    type: "int",
    description: "descriptors per unmap event: maximum",
  },
  {
    name: "wp_iterations_total",
    type: "int",
    description: "strategy iterations spent in write-protect events",
  },
  {
    name: "reboot_iterations_total",
    type: "int",
    description:
      "strategy iterations of the L1 reboot (TLBI ALLE1IS -> kvm_nested_s2_unmap() of everything)",
  },
  {
    name: "engine_iterations_total",
    type: "int",
    description: "shadow iterations common to all strategies (L1 TLBIs by IPA/VMID, MMU resets)",
  },
  {
    name: "canonical_iterations_total",
    type: "int",
    description: "canonical stage-2 (kvm->arch.mmu) iterations, the same for every strategy",
  },
  {
    name: "removed_needed",
    type: "int",
    description: "shadow entries the host unmap events removed that their range required",
  },
  {
    name: "removed_collateral",
    type: "int",
    description: "shadow entries the host unmap events removed without need",
  },
  {
    name: "removed_other",
    type: "int",
    description: "shadow entries removed otherwise: L1 reboot and TLBIs, MMU resets, remaps",
  },
  {
    name: "faults",
    type: "int",
    description: "shadow faults handled (entries installed or permissions relaxed)",
  },
  {
    name: "refaults",
    type: "int",
    description: "faults on shadow IPAs a host operation had removed as collateral",
  },
  {
    name: "peak_shadow_entries",
    type: "int",
    description: "most live shadow leaves after any event",
  },
  {
    name: "peak_memory_bytes",
    type: "int",
    description: "peak strategy index memory, modeled kernel bytes",
  },
  {
    name: "memory_bytes_per_shadow_entry",
    type: "real",
    description: "peak_memory_bytes / peak_shadow_entries (0 when no entries)",
  },
  {
    name: "violations",
    type: "int",
    description: "distinct oracle violations (stale shadow entries); 0 for a correct strategy",
  },
  {
    name: "fallbacks",
    type: "int",
    description: "times a budgeted strategy fell back to the full walk",
  },
  // --- cost model (lib/sweep/costmodel.ts) -------------------------------------------------------
  {
    name: "ns_per_iteration",
    type: "real",
    description: "cost model: ns per strategy iteration (chunk or index step)",
  },
  { name: "ns_per_descriptor", type: "real", description: "cost model: ns per descriptor visited" },
  { name: "unmap_est_ns_mean", type: "int", description: "estimated time per unmap event: mean" },
  {
    name: "unmap_est_ns_p99",
    type: "int",
    description: "estimated time per unmap event: 99th percentile (nearest rank)",
  },
  { name: "unmap_est_ns_max", type: "int", description: "estimated time per unmap event: maximum" },
  {
    name: "soft_lockup_threshold_ns",
    type: "int",
    description: "soft-lockup threshold: 2 x watchdog_thresh",
  },
  {
    name: "soft_lockup_events",
    type: "int",
    description: "unmap events whose estimate exceeds the threshold",
  },
  {
    name: "soft_lockup",
    type: "bool",
    description: "1 when unmap_est_ns_max exceeds the threshold",
  },
];

/** Columns of `results/sweep.timing.csv` (the simulator's wall time; not deterministic). */
export const TIMING_COLUMNS: readonly ColumnSpec[] = [
  { name: "grid_id", type: "text", description: "as in sweep.csv" },
  { name: "point", type: "int", description: "as in sweep.csv" },
  { name: "strategy", type: "text", description: "as in sweep.csv" },
  {
    name: "generate_ms",
    type: "real",
    description: "wall time to generate the point's trace (shared by its strategies)",
  },
  {
    name: "replay_ms",
    type: "real",
    description: "wall time to replay the trace with this strategy under the oracle",
  },
  { name: "events_per_s", type: "real", description: "replayed events per second of replay_ms" },
];

/** The header line of `sweep.csv`. */
export const SWEEP_HEADER: readonly string[] = SWEEP_COLUMNS.map((c) => c.name);

/** The header line of `sweep.timing.csv`. */
export const TIMING_HEADER: readonly string[] = TIMING_COLUMNS.map((c) => c.name);

/** One row of `sweep.csv`, by column name. */
export type SweepRow = Record<string, string | number>;

/** Render the schema as a Markdown table (for README and `--help --schema`). */
export function schemaMarkdown(cols: readonly ColumnSpec[] = SWEEP_COLUMNS): string {
  const lines = ["| column | type | description |", "|---|---|---|"];
  for (const c of cols) lines.push(`| \`${c.name}\` | ${c.type} | ${c.description} |`);
  return lines.join("\n");
}
