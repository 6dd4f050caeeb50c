import assert from "assert";
import { granule, levelSize } from "../lib/granule.ts";
import { replay } from "../lib/replay.ts";
import { makeStrategy } from "../lib/strategies/mod.ts";
import { fnv1a32, Prng } from "../lib/sweep/prng.ts";
import { parseTrace, type TraceEvent } from "../lib/trace.ts";
import {
  checkWorkload,
  defaultWorkload,
  generateWorkload,
  RAM_BASE,
  type WorkloadParams,
} from "../lib/workload.ts";

const G = 2 ** 30;
const small = (over: Partial<WorkloadParams> = {}): WorkloadParams => ({
  ...defaultWorkload(),
  vcpus: 2,
  l1Mem: 4 * G,
  pagesPerContext: 32,
  ...over,
});

type MapEv = Extract<TraceEvent, { op: "l1-map" }>;
const maps = (evs: TraceEvent[]) => evs.filter((e): e is MapEv => e.op === "l1-map");
const overlap = (a: number, as: number, b: number, bs: number) => a < b + bs && b < a + as;

Deno.test("prng: reproducible, bounded, 53-bit draws", () => {
  const a = new Prng(42), b = new Prng(42), c = new Prng(43);
  const xs = Array.from({ length: 8 }, () => a.next32());
  assert.deepEqual(xs, Array.from({ length: 8 }, () => b.next32()));
  assert.notDeepEqual(xs, Array.from({ length: 8 }, () => c.next32()));
  assert.ok(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32));
  const big = 2 ** 40;
  const draws = Array.from({ length: 1000 }, () => a.int(big));
  assert.ok(draws.every((x) => Number.isInteger(x) && x >= 0 && x < big));
  // Draws above 2^32 do happen: addresses never go through 32-bit arithmetic.
  assert.ok(draws.some((x) => x >= 2 ** 32));
  const d = a.distinct(100, 150);
  assert.equal(new Set(d).size, 100);
  assert.ok(d.every((x) => x >= 0 && x < 150));
  assert.equal(fnv1a32(""), 0x811c9dc5);
  assert.equal(fnv1a32("a"), 0xe40c292c); // FNV-1a reference value
});

Deno.test("workload: same parameters and seed give the same trace; another seed another", () => {
  const p = small({ alias: 0.25 });
  const a = JSON.stringify(generateWorkload(p, 7).trace);
  assert.equal(JSON.stringify(generateWorkload(p, 7).trace), a);
  assert.notEqual(JSON.stringify(generateWorkload(p, 8).trace), a);
});

Deno.test("workload: the trace parses, its counts match the stats, and replays clean under full-walk", () => {
  const p = small({ alias: 0.5, vcpus: 3 });
  const w = generateWorkload(p, 1);
  const t = parseTrace(JSON.parse(JSON.stringify(w.trace)));
  assert.equal(t.events.length, w.trace.events.length);
  assert.equal(t.config.vcpus, 3);
  assert.equal(t.config.contexts.length, 3);
  assert.equal(t.config.memslots.length, 4);
  assert.equal(maps(t.events).length, w.stats.l1Mappings);
  // round(0.5 x 32) aliases per context
  assert.equal(w.stats.aliasMappings, 3 * 16);
  const unmaps =
    t.events.filter((e) => ["numa-scan", "migrate", "memslot-delete"].includes(e.op)).length;
  assert.equal(unmaps, w.stats.unmapEvents);
  assert.equal(t.events.at(-1)!.op, "l1-reboot");
  const r = replay(t, makeStrategy("full-walk"), { keepEvents: false });
  assert.equal(r.violations, 0);
});

Deno.test("workload: without aliases no two mappings share canonical memory; L2 ranges never overlap", () => {
  const w = generateWorkload(small({ vcpus: 4, alias: 0 }), 3);
  const ms = maps(w.trace.events);
  const byCanon = ms.slice().sort((a, b) => a.l1ipa - b.l1ipa);
  for (let i = 1; i < byCanon.length; i++) {
    const a = byCanon[i - 1], b = byCanon[i];
    assert.ok(
      !overlap(a.l1ipa, a.size, b.l1ipa, b.size),
      `canonical overlap ${a.l1ipa} ${b.l1ipa}`,
    );
  }
  for (let c = 1; c <= 4; c++) {
    const l2 = ms.filter((m) => m.ctx === c).sort((a, b) => a.l2ipa - b.l2ipa);
    for (let i = 1; i < l2.length; i++) assert.ok(l2[i - 1].l2ipa + l2[i - 1].size <= l2[i].l2ipa);
  }
  // Each context's canonical memory is in its own share of L1 memory.
  const share = (4 * G) / 4;
  for (const m of ms) {
    if (m.size > granule("4K").pageSize) continue; // blocks are inside too, checked by range below
    const k = m.ctx - 1;
    assert.ok(m.l1ipa >= RAM_BASE + k * share && m.l1ipa + m.size <= RAM_BASE + (k + 1) * share);
  }
});

Deno.test("workload: with aliases every alias maps canonical memory a primary maps, some at another size", () => {
  const w = generateWorkload(small({ vcpus: 4, alias: 0.5 }), 5);
  const ms = maps(w.trace.events);
  const aliasBase = 2 ** (defaultWorkload().l2IpaBits - 1);
  const primaries = ms.filter((m) => m.l2ipa < aliasBase);
  const aliases = ms.filter((m) => m.l2ipa >= aliasBase);
  assert.equal(aliases.length, w.stats.aliasMappings);
  let otherSize = 0, otherCtx = 0;
  for (const a of aliases) {
    const hit = primaries.filter((p) => overlap(p.l1ipa, p.size, a.l1ipa, a.size));
    assert.ok(hit.length > 0, `alias at ${a.l2ipa} maps no primary's canonical memory`);
    if (hit.every((p) => p.size !== a.size)) otherSize++;
    if (hit.every((p) => p.ctx !== a.ctx)) otherCtx++;
  }
  assert.ok(
    otherSize > 0 && otherCtx > 0,
    `${otherSize} at another size, ${otherCtx} in another context`,
  );
});

Deno.test("workload: 256 GiB and 192 vCPUs: addresses above 4 GiB, aligned, within the PA range", () => {
  const p = { ...defaultWorkload(), vcpus: 192, l1Mem: 256 * G, pagesPerContext: 8, alias: 0.1 };
  const w = generateWorkload(p, 1);
  assert.equal(w.stats.contexts, 192);
  assert.equal(w.stats.validMmus, 192);
  const ms = maps(w.trace.events);
  assert.ok(ms.some((m) => m.l1ipa > 2 ** 37));
  for (const m of ms) {
    assert.equal(m.l1ipa % m.size, 0);
    assert.equal(m.l2ipa % m.size, 0);
    assert.ok(m.l1ipa >= RAM_BASE && m.l1ipa + m.size <= RAM_BASE + 256 * G);
  }
  // Blocks are the L1 granule's smallest block.
  assert.ok(ms.some((m) => m.size === levelSize(granule("4K"), 2)));
});

Deno.test("workload: checkWorkload refuses what KVM or the layout cannot do", () => {
  assert.equal(checkWorkload(small()), null);
  assert.match(
    checkWorkload(small({ granule: "64K", l1Granule: "4K" }))!,
    /smaller than the host granule/,
  );
  assert.match(checkWorkload(small({ alias: 1.5 }))!, /alias 1.5 is out of range/);
  assert.match(checkWorkload(small({ vcpus: 0 }))!, /vcpus 0/);
  assert.match(
    checkWorkload(small({ granule: "64K", l1Granule: "64K", l1Mem: G }))!,
    /does not split/,
  );
  assert.match(checkWorkload(small({ l1Mem: 2 ** 46, paBits: 44 }))!, /PA range/);
  assert.throws(
    () => generateWorkload(small({ backing: "hugetlb:3M" }), 1),
    /not a 4K hugetlb size/,
  );
});
