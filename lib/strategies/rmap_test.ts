import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { propertyOptions } from "../../test/property.ts";
import fc from "fast-check";
import { l2Access } from "../kvm/arm.ts";
import { kvmCreateVm } from "../kvm/kvm_main.ts";
import { kvmUnmapGfnRange } from "../kvm/mmu.ts";
import { makeStrategy } from "./mod.ts";
import { Rmap } from "./rmap.ts";
import { RmapCompact } from "./rmap_compact.ts";
import type { TraceEvent } from "../trace/ops.ts";
import { replay } from "../trace/replay.ts";
import { parseTrace } from "../trace/trace.ts";
import { oneContextConfig } from "../../test/fixtures/one_context.ts";

const G = 2 ** 30, M = 2 ** 20, K = 2 ** 10;

/** Random traces over a small canonical window so that aliases and mixed sizes collide. */
const eventArb: fc.Arbitrary<TraceEvent> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant("l1-map" as const),
      ctx: fc.integer({ min: 1, max: 3 }),
      l2ipa: fc.integer({ min: 0, max: 15 }).map((i) => 8 * G + i * 2 * M),
      l1ipa: fc.integer({ min: 0, max: 3 }).map((i) => G + i * 2 * M),
      size: fc.constantFrom(2 * M, 4 * K),
      sub: fc.integer({ min: 0, max: 7 }),
      writable: fc.boolean(),
    }).map(({ sub, ...e }) =>
      e.size === 2 * M
        ? e
        : { ...e, l2ipa: e.l2ipa + sub * 4 * K, l1ipa: e.l1ipa + ((sub * 3) % 8) * 4 * K }
    ),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      op: fc.constant("access" as const),
      vcpu: fc.integer({ min: 0, max: 1 }),
      ctx: fc.integer({ min: 1, max: 3 }),
      l2ipa: fc.integer({ min: 0, max: 15 * 512 + 7 }).map((i) => 8 * G + i * 4 * K),
      write: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constantFrom(
        "migrate" as const,
        "swap-out" as const,
        "numa-scan" as const,
        "thp-split" as const,
      ),
      l1ipa: fc.integer({ min: 0, max: 8 * 512 - 1 }).map((i) => G + i * 4 * K),
      size: fc.constantFrom(4 * K, 64 * K, 2 * M),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("l1-unmap" as const),
      ctx: fc.integer({ min: 1, max: 3 }),
      l2ipa: fc.integer({ min: 0, max: 15 }).map((i) => 8 * G + i * 2 * M),
      size: fc.constant(2 * M),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("tlbi-ipa" as const),
      vmid: fc.integer({ min: 1, max: 3 }),
      l2ipa: fc.integer({ min: 0, max: 15 * 512 }).map((i) => 8 * G + i * 4 * K),
      ttl: fc.constantFrom(0, 2, 3),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<TraceEvent>(
      { op: "wp", slot: 0 },
      { op: "flush" },
      { op: "tlbi-vmid", vmid: 2 },
      { op: "tlbi-all" },
    ),
  },
);

/** A trace on a 4K host: contexts 1-3 (VMIDs 1-3), one 1G memslot at `base` backed by `backing`. */
function traceOf(events: readonly unknown[], { vcpus = 2, base = "1G", backing = "thp" } = {}) {
  return parseTrace({
    name: "random",
    config: {
      hostGranule: "4K",
      paBits: 40,
      vcpus,
      memslots: [{ id: 0, base, size: "1G", backing }],
      contexts: [1, 2, 3].map((id) => ({ id, vmid: id, granule: "4K", ipaBits: 40 })),
    },
    events,
  });
}

Deno.test("rmap family, full-walk, merged-pivot, span-unknown: zero violations on random alias traces", () => {
  fc.assert(
    fc.property(fc.array(eventArb, { minLength: 5, maxLength: 60 }), (events) => {
      const trace = traceOf(events);
      for (const name of ["rmap", "rmap-compact", "full-walk", "merged-pivot", "span-unknown"]) {
        const r = replay(trace, makeStrategy(name));
        assertEquals(r.violations, 0, `${name}: ${JSON.stringify(r.firstSeen[0])}`);
      }
      const bounded = replay(trace, makeStrategy("rmap-bounded", { budget: 9000 }));
      assertEquals(bounded.violations, 0, `rmap-bounded: ${JSON.stringify(bounded.firstSeen[0])}`);
    }),
    propertyOptions(150),
  );
});

Deno.test("rmap, rmap-compact: the index holds exactly one entry per live shadow leaf after every event", () => {
  fc.assert(
    fc.property(fc.array(eventArb, { minLength: 5, maxLength: 60 }), (events) => {
      const trace = traceOf(events);
      for (const rmap of [new Rmap(), new RmapCompact()]) {
        replay(trace, rmap, {
          oracle: false,
          onEvent: (e) => assertEquals(rmap.verify(), [], `${rmap.name} after event ${e.index}`),
        });
      }
    }),
    propertyOptions(100),
  );
});

Deno.test("maple-v2 fails the same random traces (the property test can fail)", () => {
  const found = fc.sample(fc.array(eventArb, { minLength: 40, maxLength: 80 }), {
    ...propertyOptions(60),
    seed: 7,
  })
    .some((events) => replay(traceOf(events), makeStrategy("maple-v2")).violations > 0);
  assert(found, "random alias traces expose maple-v2");
});

/** n entries in one MMU, `aliases` of them mapping canonical pages also mapped elsewhere. */
function populated<R extends Rmap | RmapCompact>(n: number, aliasEvery: number, rmap: R) {
  const kvm = kvmCreateVm(
    {
      hostGranule: "4K",
      paBits: 40,
      vcpus: 2,
      memslots: [{ id: 0, base: G, size: 4 * G, backing: "page" }],
    },
    rmap,
  );
  kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
  kvm.l1.createContext({ id: 2, vmid: 2, granule: "4K", ipaBits: 40 });
  for (let i = 0; i < n; i++) {
    kvm.l1.map(1, 8 * G + i * 4 * K, 4 * K, G + i * 4 * K, true);
    l2Access(kvm, 0, 1, 8 * G + i * 4 * K, false);
    if (i % aliasEvery === 0) {
      // an alias in the same MMU and one in the other MMU
      kvm.l1.map(1, 16 * G + i * 4 * K, 4 * K, G + i * 4 * K, true);
      l2Access(kvm, 0, 1, 16 * G + i * 4 * K, false);
      kvm.l1.map(2, 8 * G + i * 4 * K, 4 * K, G + i * 4 * K, true);
      l2Access(kvm, 1, 2, 8 * G + i * 4 * K, false);
    }
  }
  return { kvm, rmap };
}

/** Unmap ranges of `populated(4000, …)`: each leaf's step bound and one iteration per leaf. */
function checkUnmapWork(make: () => Rmap | RmapCompact, bound: (k: number, n: number) => number) {
  for (const aliasEvery of [1, 2, 10, 1000]) {
    const { kvm, rmap } = populated(4000, aliasEvery, make());
    for (
      const [start, pages] of [[G, 1], [G + 123 * 4 * K, 1], [G + 40 * 4 * K, 64], [
        G + 2000 * 4 * K,
        512,
      ], [G + 2600 * 4 * K, 1300]]
    ) {
      const n = rmap.entries;
      kvm.resetCost();
      kvmUnmapGfnRange(kvm, start, start + pages * 4 * K);
      const c = kvm.cost;
      const k = c.removedNeeded;
      assert(k >= pages, "at least one leaf per page");
      assertEquals(c.removedCollateral, 0);
      assert(
        c.strategySteps <= bound(k, n),
        `${rmap.name}, aliasEvery ${aliasEvery}: ${c.strategySteps} steps for k=${k}, n=${n}`,
      );
      assertEquals(c.strategy.iterations, k, "one stage2_apply_range() iteration per leaf");
      assertEquals(rmap.verify(), []);
    }
  }
}

Deno.test("rmap unmap work: index steps <= 2k + log2 n + 2, one iteration per leaf, at every alias density", () => {
  // One populated level (4K leaves): one search.
  checkUnmapWork(() => new Rmap(), (k, n) => 2 * k + Math.ceil(Math.log2(n + 1)) + 2);
});

Deno.test("rmap-compact unmap work: steps <= 2k + 2 log2 n + 6, one iteration per leaf", () => {
  // n bounds both the chunks and a chunk's exceptions.
  checkUnmapWork(() => new RmapCompact(), (k, n) => 2 * k + 2 * Math.ceil(Math.log2(n + 1)) + 6);
});

Deno.test("rmap: an unmap that meets nothing costs one search, whatever the number of MMUs", () => {
  const { kvm } = populated(1000, 10, new Rmap());
  kvm.resetCost();
  kvmUnmapGfnRange(kvm, 3 * G, 3 * G + 4 * K);
  assertEquals(kvm.cost.strategy.iterations, 0);
  assert(kvm.cost.strategySteps <= Math.ceil(Math.log2(1300)) + 2);
});

Deno.test("rmap-bounded: over budget, an MMU falls back to the full walk and stays correct", () => {
  const trace = parseTrace(
    JSON.parse(
      Deno.readTextFileSync(
        new URL("../../test/fixtures/alias_two_contexts.json", import.meta.url),
      ),
    ),
  );
  const tight = replay(trace, makeStrategy("rmap-bounded", { budget: 1 }));
  assertEquals(tight.violations, 0);
  assert(tight.fallbacks >= 2, "both MMUs fell back");
  const migrate = tight.events[4];
  assertEquals(migrate.chunks, 2 * 2 ** 48 / 2 ** 30, "the fallback is the full walk");
  const roomy = replay(trace, makeStrategy("rmap-bounded", { budget: 1 << 20 }));
  assertEquals(roomy.fallbacks, 0);
  assertEquals(roomy.events[4].chunks, 2);
  assertMatch(
    String(assertThrows(() => makeStrategy("rmap-bounded", { budget: 0 }))),
    /budget 0 must be positive/,
  );
});

Deno.test("rmap: three aliases of one page, the middle one removed by L1, the rest still unmapped", () => {
  // The head list of a key holds the newest descriptor first; removing the middle one (an
  // L1 unmap of that alias, then its TLBI) must keep the oldest reachable, or the migration
  // misses it (a stale leaf) and verify() finds the list cut.
  const t = parseTrace({
    name: "three aliases",
    config: oneContextConfig(),
    events: [
      ...["4G", "5G", "6G"].map((l2) => ({
        op: "l1-map",
        ctx: 1,
        l2ipa: l2,
        l1ipa: "1G",
        size: "4K",
      })),
      ...["4G", "5G", "6G"].map((l2) => ({ op: "access", vcpu: 0, ctx: 1, l2ipa: l2 })),
      { op: "l1-unmap", ctx: 1, l2ipa: "5G", size: "4K" },
      { op: "tlbi-ipa", vmid: 1, l2ipa: "5G", ttl: 3 },
      { op: "migrate", l1ipa: "1G", size: "4K" },
    ],
  });
  const rmap = new Rmap();
  const r = replay(t, rmap, { onEvent: () => assertEquals(rmap.verify(), []) });
  assertEquals(r.violations, 0);
  assertEquals(r.events[8].removedNeeded, 2);
});

/**
 * rmap-bounded's cost contract, on one vCPU (two shadow MMUs): contexts 1-3 (VMIDs 1-3)
 * map 4K pages L2 8G + i*4K -> `base` + i*4K; `touch[c]` is how many pages of context c vCPU 0
 * touches, in the order given; then the host migrates the first page of context `last`.
 */
function budgetTrace(touch: [ctx: number, pages: number][], last: number) {
  const base = (ctx: number) => 4 * G + ctx * 64 * K;
  const events: unknown[] = [];
  for (const [ctx, pages] of touch) {
    for (let i = 0; i < pages; i++) {
      const l2ipa = 8 * G + i * 4 * K;
      events.push({ op: "l1-map", ctx, l2ipa, l1ipa: base(ctx) + i * 4 * K, size: "4K" });
      events.push({ op: "access", vcpu: 0, ctx, l2ipa });
    }
  }
  events.push({ op: "migrate", l1ipa: base(last), size: "4K" });
  return traceOf(events, { vcpus: 1, base: "4G", backing: "page" });
}

/** The last event's stage2_apply_range() iterations and the fallbacks, with a budget of `n` entries. */
function budgetRun(n: number, touch: [number, number][], last: number): [number, number] {
  const r = replay(
    budgetTrace(touch, last),
    makeStrategy("rmap-bounded", { budget: n * Rmap.entryBytes() }),
  );
  assertEquals(r.violations, 0);
  return [r.events.at(-1)!.chunks, r.fallbacks];
}

/** stage2_apply_range() iterations of a full walk of one 40-bit shadow MMU (1G chunks). */
const FULL_WALK_CHUNKS = 2 ** 40 / G;

Deno.test("rmap-bounded cost contract: an MMU falls back exactly when its index would exceed the budget, not one entry early or late", () => {
  // A budget of exactly three entries: the third fits, the fourth does not.
  assertEquals(budgetRun(3, [[1, 3]], 1), [1, 0], "three entries: exact, one iteration");
  assertEquals(budgetRun(3, [[1, 4]], 1), [FULL_WALK_CHUNKS, 1], "the fourth: the full walk");
  assertEquals(budgetRun(4, [[1, 4]], 1), [1, 0], "a budget of four holds four");
});

Deno.test("rmap-bounded cost contract: a recycled MMU starts exact again, and falls back again at its budget", () => {
  // Context 1 takes MMU 0 and exceeds the budget; context 2 takes MMU 1; context 3 then
  // recycles MMU 0 (its reset empties it): three entries are exact again, a fourth falls back.
  assertEquals(budgetRun(3, [[1, 4], [2, 1], [3, 3]], 3), [1, 1], "recycled: exact");
  assertEquals(budgetRun(3, [[1, 4], [2, 1], [3, 4]], 3), [FULL_WALK_CHUNKS, 2], "over again");
});
