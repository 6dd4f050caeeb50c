/**
 * `rmap-bounded` — ours: {@linkcode Rmap} under a per-MMU memory budget. An MMU whose
 * index would outgrow the budget falls back to the full walk until its shadow table is
 * empty again (a reset), so memory is bounded whatever L2 does, at the full walk's cost
 * for the MMUs that exceed it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { RMAP_BOUNDED_DEFAULT_BUDGET, rmapBoundedDesign } from "./rmap_bounded.ts";
 * const d = rmapBoundedDesign.make({});
 * assertEquals([d.name, RMAP_BOUNDED_DEFAULT_BUDGET], ["rmap-bounded", 256 * 1024]);
 * ```
 * @module
 */

import type { Design } from "./design.ts";
import { Rmap } from "./rmap.ts";

/** Default per-MMU budget of `rmap-bounded`: 256 KiB. */
export const RMAP_BOUNDED_DEFAULT_BUDGET = 256 * 1024;

/** The `rmap-bounded` design record. */
export const rmapBoundedDesign: Design = {
  name: "rmap-bounded",
  label: "rmap-bounded (ours)",
  summary: "rmap under a per-MMU memory budget, full-walk fallback",
  role: "ours",
  knownBroken: false,
  reference: false,
  insertLock: "vm",
  leafBytes: 280,
  description: "rmap with a per-MMU budget (option budget, default 256 KiB): an MMU whose " +
    "index entries would exceed it is dropped from the index and handled by the full walk " +
    "until its shadow table is reset. Its memory is bounded; its cost is rmap's below the " +
    "budget and the full walk's above it.",
  source: "docs/rmap.md; lib/strategies/rmap.ts",
  style: { color: "#17becf", dash: "8,3,2,3,2,3", symbol: "times", hollow: false },
  make: (opts) => new Rmap({ budget: opts.budget ?? RMAP_BOUNDED_DEFAULT_BUDGET }),
};
