/**
 * `deno bench bench/model_bench.ts`: the simulator's own speed on the model's hot paths.
 * Read faults per second as (faults per iteration) / (time per iteration); read the
 * full-walk unmap as a ratio to the same unmap on an empty VM, to see that the time
 * grows with the populated tables and not with the IPA space the walk counts.
 *
 * @module
 */

import { kvmUnmapGfnRange } from "../lib/kvm/mmu.ts";
import { STRATEGY_NAMES, UPSTREAM } from "../lib/strategies/mod.ts";
import { faultAll, faultVm } from "./fixtures.ts";

const FAULTS = 100_000;

Deno.bench({
  name: `shadow faults: ${FAULTS} 4K faults, ${UPSTREAM} (engine only)`,
  group: "faults",
  baseline: true,
  fn(b) {
    const kvm = faultVm(UPSTREAM, 1, 1, FAULTS);
    b.start();
    faultAll(kvm, 1, FAULTS, 1);
    b.end();
  },
});

for (const s of STRATEGY_NAMES.filter((x) => x !== UPSTREAM)) {
  Deno.bench({
    name: `shadow faults: ${FAULTS} 4K faults, ${s}`,
    group: "faults",
    fn(b) {
      const kvm = faultVm(s, 1, 1, FAULTS);
      b.start();
      faultAll(kvm, 1, FAULTS, 1);
      b.end();
    },
  });
}

/** 192 vCPUs: 384 shadow MMUs, each with `pages` 4K leaves, then one host unmap of one page. */
function unmapAt384(strategy: string, pages: number, paBits = 48) {
  return (b: Deno.BenchContext) => {
    const kvm = faultVm(strategy, 192, 384, pages, paBits);
    faultAll(kvm, 384, pages, 192);
    b.start();
    kvmUnmapGfnRange(kvm, 2 ** 30, 2 ** 30 + 4096);
    b.end();
  };
}

// The full walk counts 384 x 2^48 / 2^30 = 100,663,296 iterations at 48 bits and 16 times
// as many at 52 bits; the simulator's time follows the populated tables, not that count.
Deno.bench({
  name: "full-walk unmap, 384 MMUs x 1 leaf, 48-bit IPA (100.7M iterations)",
  group: "unmap384",
  baseline: true,
  fn: unmapAt384(UPSTREAM, 1, 48),
});
Deno.bench({
  name: "full-walk unmap, 384 MMUs x 1 leaf, 52-bit IPA (1.61G iterations)",
  group: "unmap384",
  fn: unmapAt384(UPSTREAM, 1, 52),
});
Deno.bench({
  name: "full-walk unmap, 384 MMUs x 1024 leaves, 48-bit IPA",
  group: "unmap384",
  fn: unmapAt384(UPSTREAM, 1024),
});
Deno.bench({
  name: "rmap unmap, 384 MMUs x 1024 leaves",
  group: "unmap384",
  fn: unmapAt384("rmap", 1024),
});
