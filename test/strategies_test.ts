import { assert, assertEquals } from "@std/assert";
import { propertyOptions } from "./property.ts";
import type { Kvm } from "../lib/kvm/kvm.ts";
import fc from "fast-check";
import { migratePages } from "../lib/host/mm.ts";
import { l2Access } from "../lib/kvm/arm.ts";
import { kvmCreateVm } from "../lib/kvm/kvm_main.ts";
import { checkShadows, oracleWorld } from "../lib/oracle/oracle.ts";
import { MapleV2 } from "../lib/strategies/maple_v2.ts";
import { MergedPivot } from "../lib/strategies/merged_pivot.ts";
import { KNOWN_BROKEN, makeStrategy, STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import { SpanUnknown, UNKNOWN_IPA } from "../lib/strategies/span_unknown.ts";
import { applyEvent } from "../lib/trace/ops.ts";
import { replay } from "../lib/trace/replay.ts";
import { parseTrace, type Trace, traceToJson } from "../lib/trace/trace.ts";
import { minimizeTrace } from "../lib/trace/minimize.ts";
import { generateFuzzTrace } from "../lib/fuzz/generate.ts";

const G = 2 ** 30;
const M = 2 ** 20;
const K = 2 ** 10;

/** One 4K host, one vCPU (two shadow MMUs), one context, slot 0 at 1G. */
function trace(events: unknown[], backing = "page"): Trace {
  return parseTrace({
    name: "t",
    config: {
      hostGranule: "4K",
      paBits: 40,
      vcpus: 1,
      memslots: [{ id: 0, base: "1G", size: "1G", backing }],
      contexts: [{ id: 1, vmid: 1, granule: "4K", ipaBits: 40 }],
    },
    events,
  });
}

/** Two L2 IPAs (4G and 6G) aliasing canonical page 1G in one context, then a migrate. */
const aliasEvents = [
  { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
  { op: "l1-map", ctx: 1, l2ipa: "6G", l1ipa: "1G", size: "4K" },
  { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G", write: true },
  { op: "access", vcpu: 0, ctx: 1, l2ipa: "6G", write: true },
  { op: "migrate", l1ipa: "1G", size: "4K" },
];
const singleEvents = [
  { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
  { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G", write: true },
  { op: "migrate", l1ipa: "1G", size: "4K" },
];

Deno.test("registry: the three strategies are registered by name", () => {
  for (const n of ["maple-v2", "merged-pivot", "span-unknown"]) {
    assert(STRATEGY_NAMES.includes(n));
    assertEquals(makeStrategy(n).name, n);
  }
});

Deno.test("maple-v2: two aliases in one MMU leave a stale shadow entry after migrate", () => {
  const s = new MapleV2();
  const r = replay(trace(aliasEvents), s);
  assert(r.violations >= 1, "the overwritten alias must survive the migrate");
  const v = r.firstSeen.find((x) => x.op === "migrate");
  assert(v, "a violation found after the migrate");
  assertEquals(v.shadowIpa, 4 * G); // the first alias: its tree entry was overwritten
  assertEquals(v.kind, "not-invalidated");
  assertEquals(r.firstSeen.filter((x) => x.shadowIpa === 6 * G).length, 0);
  // The overwritten entry was lost, not freed.
  assertEquals(s.leakedEntries, 1);
  assertEquals(s.leakedBytes, 32);
  assertEquals(r.events[3].memoryBytes, 2 * 32 + 256); // two entries + one maple node
  assertEquals(r.events[4].memoryBytes, 32); // the leak stays; the tree is empty
  // The full walk has no such problem.
  assertEquals(replay(trace(aliasEvents), makeStrategy("full-walk")).violations, 0);
});

Deno.test("maple-v2: a single mapping is unmapped exactly, with counted steps", () => {
  const s = new MapleV2();
  const r = replay(trace(singleEvents), s);
  assertEquals(r.violations, 0);
  const m = r.events[2];
  assertEquals(m.chunks, 1); // one stage2_apply_range() chunk for one shadow page
  assert(m.steps > 0);
  assertEquals(m.removedNeeded, 1);
  assertEquals(s.leakedEntries, 0);
  assertEquals(m.memoryBytes, 0);
  // The full walk pays 2^40 / 1G chunks and no index steps.
  const f = replay(trace(singleEvents), makeStrategy("full-walk")).events[2];
  assertEquals(f.chunks, 1024);
  assertEquals(f.steps, 0);
});

Deno.test("maple-v2: a permission upgrade does not store a second entry", () => {
  const s = new MapleV2();
  const r = replay(
    trace([
      { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
      { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G", write: false },
      { op: "wp", slot: 0 },
      { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G", write: true },
    ]),
    s,
  );
  assertEquals(r.events[3].result, "mapped");
  assertEquals(s.liveEntries, 1);
  assertEquals(s.leakedEntries, 0);
  // wp is the patch's unchanged full walk.
  assertEquals(r.events[2].chunks, 1024);
});

Deno.test("maple-v2: a page stored inside a block splits it; the unmap loop then misses entries", () => {
  // A 2M shadow block (THP host, L1 2M block) and a 4K alias in the middle of its
  // canonical range: the tree holds [block-left, page, block-right].
  const s = new MapleV2();
  const t = trace([
    { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "2M" },
    { op: "l1-map", ctx: 1, l2ipa: "8G", l1ipa: "0x40100000", size: "4K" },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G", write: true },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: "8G", write: true },
    { op: "migrate", l1ipa: "1G", size: "2M" },
    { op: "migrate", l1ipa: "1G", size: "2M" },
  ], "thp");
  const r = replay(t, s);
  // mt_find() finds the block's left piece, unmaps the block, jumps to the block's end:
  // the 4K alias in the middle is never unmapped.
  assert(r.firstSeen.some((v) => v.op === "migrate" && v.shadowIpa === 8 * G));
  // mas_erase() at the block's start freed the block while its right piece still
  // points at it. The second migrate unmaps the page, then reads the block's entry
  // through that dangling piece (a use after free), and its mas_erase() at the
  // block's start finds nothing: the dangling piece stays in the tree for good.
  assertEquals(r.events[4].newViolations, 1);
  assertEquals(s.useAfterFree, 1);
  assertEquals(s.liveEntries, 0);
  assertEquals(s.treeSize({ id: 0 } as never), 1);
  // The fixed designs handle the same trace.
  assertEquals(replay(t, new MergedPivot()).violations, 0);
  assertEquals(replay(t, new SpanUnknown()).violations, 0);
});

Deno.test("merged-pivot: aliases are merged and all unmapped; lists and spans are recorded", () => {
  const s = new MergedPivot();
  const r = replay(trace(aliasEvents), s);
  assertEquals(r.violations, 0);
  assertEquals(s.maxListLength, 2);
  assertEquals(s.maxSpanBytes, 4 * K);
  assertEquals(r.events[4].chunks, 2);
  assert(r.events[4].steps > 0);
  assertEquals(r.events[4].memoryBytes, 0);
  assertEquals(r.events[3].memoryBytes, 3 * 32 + 256); // entry + 2 list elements + a node
  // A block and a page inside it merge into one range over the block.
  const b = new MergedPivot();
  const rb = replay(
    trace([
      { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
      { op: "l1-map", ctx: 1, l2ipa: "8G", l1ipa: "1G", size: "2M" },
      { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G", write: true },
      { op: "access", vcpu: 0, ctx: 1, l2ipa: "0x200001000", write: true },
      { op: "migrate", l1ipa: "0x40100000", size: "4K" },
    ], "thp"),
    b,
  );
  assertEquals(rb.violations, 0);
  assertEquals(b.maxSpanBytes, 2 * M);
  assertEquals(b.maxListLength, 2);
});

Deno.test("span-unknown: exact while ranges do not overlap, wholesale when aliases overlap", () => {
  const single = new SpanUnknown();
  const r1 = replay(trace(singleEvents), single);
  assertEquals(r1.violations, 0);
  assertEquals(single.wholesaleUnmaps, 0);
  assertEquals(r1.events[2].chunks, 1);
  assert(r1.events[2].steps > 0);

  const alias = new SpanUnknown();
  const r2 = replay(trace(aliasEvents), alias);
  assertEquals(r2.violations, 0);
  assertEquals(alias.unknownMerges, 1);
  assertEquals(alias.wholesaleUnmaps, 1);
  assertEquals(alias.fallbacks(), 1);
  assertEquals(r2.fallbacks, 1);
  assertEquals(r2.events[4].chunks, 1024); // the whole 40-bit shadow space
  assertEquals(r2.events[4].memoryBytes, 0);
});

Deno.test("span-unknown: a TLBI removes the reverse and direct entries of the leaf", () => {
  const s = new SpanUnknown();
  const kvm = kvmCreateVm({
    hostGranule: "4K",
    paBits: 40,
    vcpus: 1,
    memslots: [{ id: 0, base: G, size: G, backing: "page" }],
  }, s);
  kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
  kvm.l1.map(1, 4 * G, 4 * K, G, true);
  kvm.l1.map(1, 5 * G, 4 * K, G + 4 * K, true);
  assertEquals(l2Access(kvm, 0, 1, 4 * G, false), "mapped");
  assertEquals(l2Access(kvm, 0, 1, 5 * G, false), "mapped");
  const mmu = kvm.vcpu(0).hwMmu!;
  assertEquals(s.reverseEntries(mmu), [
    { start: G, end: G + 4 * K, value: 4 * G },
    { start: G + 4 * K, end: G + 8 * K, value: 5 * G },
  ]);
  assertEquals(s.directEntries(mmu).length, 2);
  kvm.l1.unmap(1, 4 * G, 4 * K);
  applyEvent(kvm, { op: "tlbi-range", vmid: 1, l2ipa: 4 * G, size: (4 * G + 4 * K) - (4 * G) });
  assertEquals(s.reverseEntries(mmu), [{ start: G + 4 * K, end: G + 8 * K, value: 5 * G }]);
  assertEquals(s.directEntries(mmu), [{ start: 5 * G, end: 5 * G + 4 * K, value: G + 4 * K }]);
  // An overlapping map makes one UNKNOWN span with no direct entries.
  kvm.l1.map(1, 6 * G, 4 * K, G + 4 * K, true);
  l2Access(kvm, 0, 1, 6 * G, false);
  assertEquals(s.reverseEntries(mmu), [{
    start: G + 4 * K,
    end: G + 8 * K,
    value: UNKNOWN_IPA,
  }]);
  assertEquals(s.directEntries(mmu).length, 0);
  assertEquals(checkShadows(oracleWorld(kvm), { event: 0, op: "x" }).length, 0);
});

Deno.test("every indexed strategy drops a recycled MMU's index", () => {
  // One vCPU has two MMUs: a third context recycles the first MMU.
  const events = [
    { op: "ctx-create", context: { id: 2, vmid: 2, granule: "4K", ipaBits: 40 } },
    { op: "ctx-create", context: { id: 3, vmid: 3, granule: "4K", ipaBits: 40 } },
    { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
    { op: "l1-map", ctx: 2, l2ipa: "4G", l1ipa: "0x40001000", size: "4K" },
    { op: "l1-map", ctx: 3, l2ipa: "4G", l1ipa: "0x40002000", size: "4K" },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G" },
    { op: "access", vcpu: 0, ctx: 2, l2ipa: "4G" },
    { op: "access", vcpu: 0, ctx: 3, l2ipa: "4G" },
  ];
  const t = trace(events);
  const sizes = (s: { name: string }, kvm: Kvm) => {
    const mmu0 = kvm.nestedMmus[0];
    if (s instanceof MapleV2) return s.treeSize(mmu0);
    if (s instanceof MergedPivot) return s.ranges(mmu0).length;
    return (s as SpanUnknown).reverseEntries(mmu0).length;
  };
  for (const mk of [() => new MapleV2(), () => new MergedPivot(), () => new SpanUnknown()]) {
    const s = mk();
    const kvm = kvmCreateVm(t.config, s);
    for (const c of t.config.contexts) kvm.l1.createContext(c);
    for (const [i, e] of t.events.entries()) {
      if (e.op === "ctx-create") kvm.l1.createContext(e.context);
      if (e.op === "l1-map") kvm.l1.map(e.ctx, e.l2ipa, e.size, e.l1ipa, e.writable);
      if (e.op === "access") l2Access(kvm, e.vcpu, e.ctx, e.l2ipa, e.write);
      if (i === 5) assertEquals(sizes(s, kvm), 1, `${s.name}: MMU 0 holds context 1's entry`);
    }
    assertEquals(kvm.nestedMmus[0].contextId, 3);
    assertEquals(kvm.cost.recycles, 1);
    // Context 3's entry only: context 1's was dropped with the reset.
    assertEquals(sizes(s, kvm), 1, s.name);
    // And migrating context 1's old page costs no shadow unmap in MMU 0.
    kvm.resetCost();
    migratePages(kvm, G, G + 4 * K);
    assertEquals(kvm.cost.strategy.iterations, 0, s.name);
  }
  // The patch itself kept the tree across a recycle.
  const keep = new MapleV2({ keepOnReset: 1 });
  replay(t, keep);
  assertEquals(keep.treeSize({ id: 0 } as never), 2);
});

// --- random traces under the oracle -------------------------------------------------------

/** A page L1 maps in a context: the random traces draw every event from a small pool. */
interface PoolPage {
  ctx: number;
  l2ipa: number;
  l1ipa: number;
  size: number;
  writable: boolean;
}

const poolPage: fc.Arbitrary<PoolPage> = fc.record({
  ctx: fc.constantFrom(1, 2, 3),
  l2: fc.integer({ min: 0, max: 3 }),
  l1: fc.integer({ min: 0, max: 2 }),
  sub: fc.integer({ min: 0, max: 1 }),
  big: fc.boolean(),
  writable: fc.boolean(),
}).map(({ ctx, l2, l1, sub, big, writable }) => {
  // Context 3 is a 64K-granule L1: 64K pages. Others: 2M blocks or 4K pages.
  const size = ctx === 3 ? 64 * K : big ? 2 * M : 4 * K;
  const o = size === 2 * M ? 0 : sub * 64 * K;
  // l1 index 2 lands in slot 1 (4K pages on the host), 0 and 1 in slot 0 (THP).
  const l1base = l1 === 2 ? G + 8 * M : G + l1 * 2 * M;
  return { ctx, l2ipa: 4 * G + l2 * 2 * M + o, l1ipa: l1base + o, size, writable };
});

const mapEvent = (p: PoolPage) => ({
  op: "l1-map",
  ctx: p.ctx,
  l2ipa: p.l2ipa,
  l1ipa: p.l1ipa,
  size: p.size,
  writable: p.writable,
});

/** Random events on pages of the pool, so that aliases, blocks and pages collide often. */
function poolEvent(pool: PoolPage[]): fc.Arbitrary<unknown> {
  const page = fc.integer({ min: 0, max: pool.length - 1 }).map((i) => pool[i]);
  const hostOp = fc.tuple(page, fc.constantFrom(4 * K, 64 * K, 2 * M)).map(([p, sz]) => ({
    l1ipa: Math.floor(p.l1ipa / sz) * sz,
    size: sz,
  }));
  return fc.oneof(
    { weight: 2, arbitrary: page.map(mapEvent) },
    {
      weight: 6,
      arbitrary: fc.tuple(fc.constantFrom(0, 1), page, fc.boolean()).map(([v, p, w]) => ({
        op: "access",
        vcpu: v,
        ctx: p.ctx,
        l2ipa: p.l2ipa + (p.size === 2 * M ? 64 * K : 0),
        write: w,
      })),
    },
    { weight: 2, arbitrary: hostOp.map((h) => ({ op: "migrate", ...h })) },
    { weight: 1, arbitrary: hostOp.map((h) => ({ op: "swap-out", ...h })) },
    { weight: 1, arbitrary: hostOp.map((h) => ({ op: "thp-split", ...h })) },
    {
      weight: 1,
      arbitrary: page.map((p) => ({ op: "l1-unmap", ctx: p.ctx, l2ipa: p.l2ipa, size: p.size })),
    },
    {
      weight: 1,
      arbitrary: page.map((p) => ({ op: "tlbi-ipa", vmid: p.ctx === 2 ? 2 : 1, l2ipa: p.l2ipa })),
    },
    { weight: 1, arbitrary: fc.constantFrom(0, 1).map((s) => ({ op: "wp", slot: s })) },
    { weight: 1, arbitrary: fc.constant({ op: "flush" }) },
  );
}

/** L1 maps the whole pool, then random events follow. */
const randomEvents = fc.array(poolPage, { minLength: 2, maxLength: 6 }).chain((pool) =>
  fc.array(poolEvent(pool), { minLength: 5, maxLength: 80 }).map((
    evs,
  ) => [...pool.map(mapEvent), ...evs])
);

function randomTrace(events: unknown[]): Trace {
  return parseTrace({
    name: "random",
    config: {
      hostGranule: "4K",
      paBits: 40,
      vcpus: 2,
      memslots: [
        { id: 0, base: "1G", size: "8M", backing: "thp" },
        { id: 1, base: "0x40800000", size: "8M", backing: "page" },
      ],
      contexts: [
        { id: 1, vmid: 1, granule: "4K", ipaBits: 40 },
        { id: 2, vmid: 2, granule: "4K", ipaBits: 40 },
        { id: 3, vmid: 1, granule: "64K", ipaBits: 40 },
      ],
    },
    events,
  });
}

/** Every design but the rejected patch, upstream included. */
const CORRECT = STRATEGY_NAMES.filter((n) => !KNOWN_BROKEN.includes(n));

/** The violations of one replay, with the shrunk trace that shows them (for the message). */
function violationsOf(t: Trace, name: string): string {
  const r = replay(t, makeStrategy(name));
  if (r.violations === 0) return "";
  const small = minimizeTrace(t, () => makeStrategy(name));
  return `${name}: ${r.violations} violation(s), first ${JSON.stringify(r.firstSeen[0])}; ` +
    `shrunk:\n${traceToJson(small)}`;
}

Deno.test("every correct design, upstream included: no violation on random aliasing traces", () => {
  let mapleStale = 0;
  fc.assert(
    fc.property(randomEvents, (events) => {
      const t = randomTrace(events);
      for (const name of CORRECT) assertEquals(violationsOf(t, name), "");
      if (replay(t, new MapleV2()).violations > 0) mapleStale++;
    }),
    propertyOptions(150),
  );
  // The same traces do catch the patch: the generator makes aliases.
  assert(mapleStale > 0, "maple-v2 was never caught: the random traces make no aliases");
});

Deno.test("every correct design, upstream included: no violation on broad fuzz traces", () => {
  // lib/fuzz/generate.ts: every op, granule pair, backing, TLBI form, recycling, memslot
  // changes. A finding prints the shrunk trace; `deno task fuzz` runs the same at scale.
  let mapleStale = 0;
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
      const t = generateFuzzTrace(seed);
      for (const name of CORRECT) assertEquals(violationsOf(t, name), "", `seed ${seed}`);
      if (replay(t, new MapleV2()).violations > 0) mapleStale++;
    }),
    propertyOptions(60),
  );
  assert(mapleStale > 0, "maple-v2 was never caught: the fuzz traces make no aliases");
});

Deno.test("maple-v2 options: tree wp misses the overwritten alias; the patch's full-walk wp does not", () => {
  const events = [
    ...aliasEvents.slice(0, 4),
    { op: "wp", slot: 0 },
  ];
  const patch = replay(trace(events), new MapleV2());
  assertEquals(patch.violations, 0);
  const tree = replay(trace(events), new MapleV2({ treeWp: 1 }));
  assert(tree.firstSeen.some((v) => v.kind === "writable" && v.shadowIpa === 4 * G));
  assert(tree.events[4].chunks < patch.events[4].chunks);
  // A memslot delete misses the lost alias either way: kvm_nested_s2_unmap()
  // (memslotAll) walks the same tree, then destroys it.
  const del = [...aliasEvents.slice(0, 4), { op: "memslot-delete", slot: 0 }];
  const all = new MapleV2({ memslotAll: 1 });
  assert(replay(trace(del), new MapleV2()).violations > 0);
  assert(replay(trace(del), all).violations > 0);
  assertEquals(all.treeSize({ id: 0 } as never), 0);
  assertEquals(all.leakedEntries, 1);
});

Deno.test("the incremental oracle finds every stale leaf the full one finds, at the same event", () => {
  // Each stale leaf at the event it is first found, with the rule it breaks then. (A leaf
  // already found stale can break another rule later; the full check, which looks at every
  // leaf after every event, may notice that sooner: it adds nothing to the count.)
  type F = { mmu: number; shadowIpa: number; pa: number; kind: string; event: number };
  const key = (fs: F[]) => {
    const first = new Map<string, string>();
    for (const v of fs) {
      const leaf = `${v.mmu}:${v.shadowIpa}:${v.pa}`;
      if (!first.has(leaf)) first.set(leaf, `${leaf}:${v.kind}@${v.event}`);
    }
    return [...first.values()].sort();
  };
  let withFindings = 0;
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
      const t = generateFuzzTrace(seed);
      for (const name of ["maple-v2", "rmap"]) {
        const full = replay(t, makeStrategy(name), { keepEvents: false });
        const inc = replay(t, makeStrategy(name), { keepEvents: false, fullCheck: false });
        assertEquals(inc.violations, full.violations, `seed ${seed} ${name}`);
        assertEquals(inc.kvmBaseline, full.kvmBaseline, `seed ${seed} ${name}`);
        assertEquals(key(inc.firstSeen), key(full.firstSeen), `seed ${seed} ${name}`);
        if (full.firstSeen.length > 0) withFindings++;
      }
    }),
    propertyOptions(60),
  );
  assert(withFindings > 0, "no trace had a finding: the comparison proved nothing");
});

Deno.test("merged-pivot: a block over two separate ranges merges all three lists", () => {
  // THP host: two 4K L1 pages at C and C+4K give two ranges; then L1's 2M block over
  // [C, C+2M) from another L2 IPA gives a 2M shadow leaf whose range covers both: the merge
  // must keep every listed shadow range. Migrating C+4K (the notifier widens to the THP)
  // unmaps all three leaves.
  const t = trace([
    { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
    { op: "l1-map", ctx: 1, l2ipa: "5G", l1ipa: "0x40001000", size: "4K" },
    { op: "l1-map", ctx: 1, l2ipa: "8G", l1ipa: "1G", size: "2M" },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G" },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: "5G" },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: "0x200001000" },
    { op: "migrate", l1ipa: "0x40001000", size: "4K" },
  ], "thp");
  const s = new MergedPivot();
  const r = replay(t, s);
  assertEquals(r.violations, 0);
  assertEquals(r.events[5].result, "mapped");
  assertEquals(r.events[6].removedNeeded, 3);
});
