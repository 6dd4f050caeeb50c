import { assert, assertEquals, assertMatch, assertNotEquals, assertThrows } from "@std/assert";
import { granule, levelSize } from "../kvm/granule.ts";
import { makeStrategy } from "../strategies/mod.ts";
import type { TraceEvent } from "./ops.ts";
import { replay } from "./replay.ts";
import { parseTrace } from "./trace.ts";
import {
  checkWorkload,
  defaultWorkload,
  generateWorkload,
  RAM_BASE,
  type WorkloadParams,
} from "./workload.ts";
import { fnv1a32, Prng } from "../util/prng.ts";

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
  assertEquals(xs, Array.from({ length: 8 }, () => b.next32()));
  assertNotEquals(xs, Array.from({ length: 8 }, () => c.next32()));
  assert(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32));
  const big = 2 ** 40;
  const draws = Array.from({ length: 1000 }, () => a.int(big));
  assert(draws.every((x) => Number.isInteger(x) && x >= 0 && x < big));
  // Draws above 2^32 do happen: addresses never go through 32-bit arithmetic.
  assert(draws.some((x) => x >= 2 ** 32));
  const d = a.distinct(100, 150);
  assertEquals(new Set(d).size, 100);
  assert(d.every((x) => x >= 0 && x < 150));
  assertEquals(fnv1a32(""), 0x811c9dc5);
  assertEquals(fnv1a32("a"), 0xe40c292c); // FNV-1a reference value
});

Deno.test("workload: same parameters and seed give the same trace; another seed another", () => {
  const p = small({ alias: 0.25 });
  const a = JSON.stringify(generateWorkload(p, 7).trace);
  assertEquals(JSON.stringify(generateWorkload(p, 7).trace), a);
  assertNotEquals(JSON.stringify(generateWorkload(p, 8).trace), a);
});

Deno.test("workload: the trace parses, its counts match the stats, and replays clean under full-walk", () => {
  const p = small({ alias: 0.5, vcpus: 3 });
  const w = generateWorkload(p, 1);
  const t = parseTrace(JSON.parse(JSON.stringify(w.trace)));
  assertEquals(t.events.length, w.trace.events.length);
  assertEquals(t.config.vcpus, 3);
  assertEquals(t.config.contexts.length, 3);
  assertEquals(t.config.memslots.length, 4);
  assertEquals(maps(t.events).length, w.stats.l1Mappings);
  // round(0.5 x 32) aliases per context
  assertEquals(w.stats.aliasMappings, 3 * 16);
  const unmaps =
    t.events.filter((e) => ["numa-scan", "migrate", "memslot-delete"].includes(e.op)).length;
  assertEquals(unmaps, w.stats.unmapEvents);
  assertEquals(t.events.at(-1)!.op, "l1-reboot");
  const r = replay(t, makeStrategy("full-walk"), { keepEvents: false });
  assertEquals(r.violations, 0);
});

Deno.test("workload: without aliases no two mappings share canonical memory; L2 ranges never overlap", () => {
  const w = generateWorkload(small({ vcpus: 4, alias: 0 }), 3);
  const ms = maps(w.trace.events);
  const byCanon = ms.slice().sort((a, b) => a.l1ipa - b.l1ipa);
  for (let i = 1; i < byCanon.length; i++) {
    const a = byCanon[i - 1], b = byCanon[i];
    assert(!overlap(a.l1ipa, a.size, b.l1ipa, b.size), `canonical overlap ${a.l1ipa} ${b.l1ipa}`);
  }
  for (let c = 1; c <= 4; c++) {
    const l2 = ms.filter((m) => m.ctx === c).sort((a, b) => a.l2ipa - b.l2ipa);
    for (let i = 1; i < l2.length; i++) assert(l2[i - 1].l2ipa + l2[i - 1].size <= l2[i].l2ipa);
  }
  // Each context's canonical memory is in its own share of L1 memory.
  const share = (4 * G) / 4;
  for (const m of ms) {
    if (m.size > granule("4K").pageSize) continue; // blocks are inside too, checked by range below
    const k = m.ctx - 1;
    assert(m.l1ipa >= RAM_BASE + k * share && m.l1ipa + m.size <= RAM_BASE + (k + 1) * share);
  }
});

Deno.test("workload: with aliases every alias maps canonical memory a primary maps, some at another size", () => {
  const w = generateWorkload(small({ vcpus: 4, alias: 0.5 }), 5);
  const ms = maps(w.trace.events);
  const aliasBase = 2 ** (defaultWorkload().l2IpaBits - 1);
  const primaries = ms.filter((m) => m.l2ipa < aliasBase);
  const aliases = ms.filter((m) => m.l2ipa >= aliasBase);
  assertEquals(aliases.length, w.stats.aliasMappings);
  let otherSize = 0, otherCtx = 0;
  for (const a of aliases) {
    const hit = primaries.filter((p) => overlap(p.l1ipa, p.size, a.l1ipa, a.size));
    assert(hit.length > 0, `alias at ${a.l2ipa} maps no primary's canonical memory`);
    if (hit.every((p) => p.size !== a.size)) otherSize++;
    if (hit.every((p) => p.ctx !== a.ctx)) otherCtx++;
  }
  assert(
    otherSize > 0 && otherCtx > 0,
    `${otherSize} at another size, ${otherCtx} in another context`,
  );
});

Deno.test("workload: 256 GiB and 192 vCPUs: addresses above 4 GiB, aligned, within the PA range", () => {
  const p = { ...defaultWorkload(), vcpus: 192, l1Mem: 256 * G, pagesPerContext: 8, alias: 0.1 };
  const w = generateWorkload(p, 1);
  assertEquals(w.stats.contexts, 192);
  assertEquals(w.stats.validMmus, 192);
  const ms = maps(w.trace.events);
  assert(ms.some((m) => m.l1ipa > 2 ** 37));
  for (const m of ms) {
    assertEquals(m.l1ipa % m.size, 0);
    assertEquals(m.l2ipa % m.size, 0);
    assert(m.l1ipa >= RAM_BASE && m.l1ipa + m.size <= RAM_BASE + 256 * G);
  }
  // Blocks are the L1 granule's smallest block.
  assert(ms.some((m) => m.size === levelSize(granule("4K"), 2)));
});

Deno.test("workload: checkWorkload refuses what KVM or the layout cannot do", () => {
  assertEquals(checkWorkload(small()), null);
  assertMatch(
    checkWorkload(small({ granule: "64K", l1Granule: "4K" }))!,
    /smaller than the host granule/,
  );
  assertMatch(checkWorkload(small({ alias: 1.5 }))!, /alias 1.5 is out of range/);
  assertMatch(checkWorkload(small({ vcpus: 0 }))!, /vcpus 0/);
  assertMatch(
    checkWorkload(small({ granule: "64K", l1Granule: "64K", l1Mem: G }))!,
    /does not split/,
  );
  assertMatch(checkWorkload(small({ l1Mem: 2 ** 46, paBits: 44 }))!, /PA range/);
  // L2 IPAs above the shadow MMUs' IPA space (kvm_get_pa_bits()) cannot be shadowed.
  assertMatch(
    checkWorkload(small({ paBits: 40 }))!,
    /l2-ipa-bits 44 exceeds pa-bits 40/,
  );
  assertEquals(checkWorkload(small({ paBits: 40, l2IpaBits: 40 })), null);
  assertMatch(
    String(assertThrows(() => generateWorkload(small({ backing: "hugetlb:3M" }), 1))),
    /not a 4K hugetlb size/,
  );
});

Deno.test("workload: a working set is mapped, written page by page, and re-touched after each host unmap", () => {
  const p = small({ backing: "page", workingSet: 8 * 2 ** 20, retouch: 0.25 });
  const w = generateWorkload(p, 5);
  const C = w.stats.contexts;
  assertEquals(w.stats.workingSetBytes, 8 * 2 ** 20);
  assertEquals(w.stats.workingSetPages, 2048);
  // One storm (a touch per context) after every host unmap event.
  assertEquals(w.stats.stormTouches, C * w.stats.unmapEvents);
  const touches = w.trace.events.filter((e) => e.op === "touch");
  assertEquals(touches.length, C + w.stats.stormTouches);
  const storms = touches.filter((e) => e.op === "touch" && !e.write);
  assert(storms.every((e) => e.op === "touch" && e.stride === 4 * 4096));
  const r = replay(w.trace, makeStrategy("full-walk"));
  assertEquals(r.violations, 0);
  // Every working-set page became a shadow leaf (4K host pages, L1 blocks clamped to them).
  assert(r.peakShadowLeaves >= C * 2048, `${r.peakShadowLeaves} leaves`);
  // Without a working set the trace is the version-1 one: no touch event at all.
  assert(!generateWorkload(small(), 5).trace.events.some((e) => e.op === "touch"));
  // As a fraction of the share: whole L1 pages.
  const f = generateWorkload(small({ workingSetFraction: 0.5 }), 5);
  assertEquals(f.stats.workingSetBytes, (4 * G / 2) / 2);
});

Deno.test("workload: checkWorkload refuses a working set that does not fit or a bad re-touch", () => {
  assertMatch(
    checkWorkload(small({ workingSet: 4 * G }))!,
    /working-set 4G is larger than a context's share of L1 memory \(2G for each of 2 contexts\)/,
  );
  assertMatch(
    checkWorkload(small({ workingSet: 2 ** 20, retouch: 1.5 }))!,
    /retouch 1.5 is out of range/,
  );
  assertMatch(checkWorkload(small({ workingSet: 5000 }))!, /not a whole number of 4K L1 pages/);
  assertMatch(checkWorkload(small({ workingSetFraction: -0.1 }))!, /fraction -0.1 is out of range/);
  assertEquals(checkWorkload(small({ workingSet: 2 * G })), null);
});
