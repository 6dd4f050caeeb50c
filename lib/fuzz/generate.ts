/**
 * The fuzzer's trace generator: from a seed, a broad random trace that uses every trace
 * operation, every (host granule, L1 granule) pair, every host backing, every TLBI form
 * (by IPA with and without a TTL hint, hints of the wrong level and reserved ones, ranges
 * that cover part of an L1 block, by VMID, ALLE1IS), contexts that share a VMID, contexts
 * with stage 2 off, more contexts than shadow MMUs (recycling), memslots deleted and added
 * back, dirty logging, flushes and L1 reboots. Aliases are frequent: L1 mappings are drawn
 * from a small pool of canonical pages and L2 slots, so pages, blocks and aliases collide.
 *
 * The generator tracks what exists (live contexts, memslots), so every trace it makes
 * replays without a trace error; the same seed gives the same trace.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { generateFuzzTrace } from "./generate.ts";
 * import { replay } from "../trace/replay.ts";
 * import { makeStrategy } from "../strategies/mod.ts";
 * const t = generateFuzzTrace(7);
 * assertEquals(generateFuzzTrace(7), t);
 * assertEquals(replay(t, makeStrategy("rmap")).violations, 0);
 * ```
 * @module
 */

import type { L1ContextSpec } from "../guest/l1.ts";
import type { MemslotSpec } from "../host/memory.ts";
import { granule, GRANULE_NAMES, type GranuleName, levelSize } from "../kvm/granule.ts";
import type { TraceEvent } from "../trace/ops.ts";
import type { Trace } from "../trace/trace.ts";
import { Prng } from "../util/prng.ts";
import { alignDown } from "../util/size.ts";

/** Options of {@linkcode generateFuzzTrace}. */
export interface FuzzTraceOptions {
  /** Most events after L1's first mappings (default 120). */
  maxEvents?: number;
  /** Host granules to draw from (default all three). */
  hostGranules?: readonly GranuleName[];
}

const G = 2 ** 30, M = 2 ** 20;

/** One L1 mapping the generator may (re)write: context, L2 IPA, canonical IPA, size. */
interface PoolMapping {
  ctx: number;
  l2ipa: number;
  l1ipa: number;
  size: number;
  writable: boolean;
}

/** A context as the generator knows it. */
interface Ctx {
  spec: L1ContextSpec;
  live: boolean;
}

/**
 * A broad random trace from `seed` (see the module doc). Its name says the seed, so that a
 * finding can be regenerated with `deno task fuzz --seed S --runs 1`.
 */
export function generateFuzzTrace(seed: number, opts: FuzzTraceOptions = {}): Trace {
  const rng = new Prng(`fuzz|${seed >>> 0}`);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];
  const hostNames = opts.hostGranules ?? GRANULE_NAMES;
  const hostName = pick(hostNames);
  const hg = granule(hostName);
  const page = hg.pageSize;
  const pmd = levelSize(hg, 2);
  // PA range: 40..48 bits, 52 now and then with 64K pages (FEAT_LPA).
  const paBits = hostName === "64K" && rng.chance(0.25) ? 52 : pick([40, 44, 48]);
  const vcpus = 1 + rng.int(3);

  // Memslots: one to three, each 1 GiB at a 1 GiB boundary from 1 GiB (room for every
  // block an L1 granule can map, but 512M 64K blocks need the slot to be 512M-aligned, and
  // 1G blocks of 4K L1s need it 1G-aligned: both hold).
  const backings = ["page", "thp", `hugetlb:${pmd / M}M`];
  if (hostName === "4K") backings.push("hugetlb:1G");
  const nSlots = 1 + rng.int(3);
  const slots: MemslotSpec[] = [];
  for (let i = 0; i < nSlots; i++) {
    slots.push({ id: i, base: (1 + 2 * i) * G, size: G, backing: pick(backings) });
  }
  const liveSlots = new Set(slots.map((s) => s.id));
  const l1Granules = GRANULE_NAMES.filter((n) => granule(n).pageSize >= page);

  // Contexts: up to 2 x vCPUs + 2 (more than the shadow MMUs: recycling), some sharing a
  // VMID (other BADDR), one in ten with L1's stage 2 off.
  const nCtx = 1 + rng.int(2 * vcpus + 2);
  const ctxs: Ctx[] = [];
  for (let i = 0; i < nCtx; i++) {
    const id = i + 1;
    const vmid = i > 0 && rng.chance(0.3) ? ctxs[rng.int(i)].spec.vmid : 100 + id;
    const ipaBits = Math.min(paBits, pick([40, 44, 48]));
    ctxs.push({
      spec: { id, vmid, granule: pick(l1Granules), ipaBits, s2: !rng.chance(0.1) },
      live: i < Math.max(1, Math.ceil(nCtx / 2)),
    });
  }
  const ctxGranule = (c: Ctx) => granule(c.spec.granule);
  const live = () => ctxs.filter((c) => c.live);

  // The pool: canonical "hot" pages every mapping lands on or around, so that aliases,
  // blocks over pages and partial overlaps are common.
  const hot: number[] = [];
  for (let i = 0; i < 4; i++) {
    const s = pick(slots);
    hot.push(s.base + rng.int(s.size / (2 * M)) * 2 * M + rng.int(512) * 4096);
  }
  const pool: PoolMapping[] = [];
  const newMapping = (c: Ctx): PoolMapping => {
    const g = ctxGranule(c);
    const sizes = [g.pageSize, g.pageSize, ...blockSizesOf(g)];
    const size = pick(sizes);
    const l1ipa = alignDown(pick(hot) + (rng.chance(0.3) ? rng.int(4) * g.pageSize : 0), size);
    // L2 slots: a few per context, at 4G and up, so that remaps of one L2 IPA collide.
    const l2ipa = alignDown(4 * G + rng.int(4) * 2 * G + rng.int(3) * size, size);
    return { ctx: c.spec.id, l2ipa, l1ipa, size, writable: !rng.chance(0.15) };
  };
  const mapEvent = (m: PoolMapping): TraceEvent => ({
    op: "l1-map",
    ctx: m.ctx,
    l2ipa: m.l2ipa,
    l1ipa: m.l1ipa,
    size: m.size,
    writable: m.writable,
  });

  const events: TraceEvent[] = [];
  for (const c of live()) {
    if (!c.spec.s2) continue;
    for (let k = 0; k < 2; k++) {
      const m = newMapping(c);
      pool.push(m);
      events.push(mapEvent(m));
    }
  }
  const mappingsOf = (c: Ctx) => pool.filter((m) => m.ctx === c.spec.id);
  const liveSlotList = () => slots.filter((s) => liveSlots.has(s.id));
  /** A canonical range around a hot page, of a host size: what the host invalidates. */
  const hostRange = () => {
    const size = pick([page, page, pmd, 4 * pmd]);
    return { l1ipa: alignDown(pick(hot), size), size };
  };
  const inLiveSlot = (a: number) => liveSlotList().some((s) => a >= s.base && a < s.base + s.size);

  const n = 10 + rng.int(Math.max(1, (opts.maxEvents ?? 120) - 10));
  let nextCtxId = nCtx + 1;
  for (let i = 0; i < n; i++) {
    const r = rng.float();
    const lc = live();
    if (lc.length === 0 || r < 0.02) {
      // L1 creates a context (a new one, or one it destroyed or lost in a reboot).
      const dead = ctxs.filter((c) => !c.live);
      let c: Ctx;
      if (dead.length > 0 && rng.chance(0.7)) c = pick(dead);
      else {
        const g = pick(l1Granules);
        c = {
          spec: {
            id: nextCtxId,
            vmid: rng.chance(0.3) ? pick(ctxs).spec.vmid : 100 + nextCtxId,
            granule: g,
            ipaBits: Math.min(paBits, pick([40, 44, 48])),
            s2: !rng.chance(0.1),
          },
          live: false,
        };
        nextCtxId++;
        ctxs.push(c);
      }
      // A live context with the same VTTBR forbids it.
      if (
        ctxs.some((o) =>
          o.live && o.spec.vmid === c.spec.vmid && o.spec.id !== c.spec.id &&
          (o.spec.baddr ?? o.spec.id) === (c.spec.baddr ?? c.spec.id)
        )
      ) continue;
      c.live = true;
      events.push({ op: "ctx-create", context: { ...c.spec } });
      continue;
    }
    const c = pick(lc);
    if (r < 0.2) {
      // L1 (re)maps: a pool mapping of this context, or a new one.
      const mine = mappingsOf(c);
      if (!c.spec.s2) continue;
      const m = mine.length > 0 && rng.chance(0.5) ? pick(mine) : newMapping(c);
      if (!pool.includes(m)) pool.push(m);
      if (rng.chance(0.5)) {
        // Break-before-make, as KVM as L1 does it (stage2_try_break_pte()): clear the
        // range, invalidate it (by IPA with the level, or by range), then write.
        events.push({ op: "l1-unmap", ctx: m.ctx, l2ipa: m.l2ipa, size: m.size });
        const g = ctxGranule(c);
        const level = [3, 2, 1].find((l) => levelSize(g, l) === m.size) ?? 0;
        events.push(
          rng.chance(0.5)
            ? { op: "tlbi-ipa", vmid: c.spec.vmid, l2ipa: m.l2ipa, ttl: level }
            : { op: "tlbi-range", vmid: c.spec.vmid, l2ipa: m.l2ipa, size: m.size },
        );
      }
      events.push(mapEvent(m));
    } else if (r < 0.25) {
      const mine = mappingsOf(c);
      if (mine.length === 0 || !c.spec.s2) continue;
      const m = pick(mine);
      const g = ctxGranule(c);
      // Unmap the mapping, or one page of it.
      const size = rng.chance(0.5) ? m.size : g.pageSize;
      events.push({ op: "l1-unmap", ctx: c.spec.id, l2ipa: m.l2ipa, size });
    } else if (r < 0.55) {
      // An L2 access through a mapping of this context (or straight to canonical with S2 off).
      const vcpu = rng.int(vcpus);
      const write = rng.chance(0.5);
      if (!c.spec.s2) {
        const a = alignDown(pick(hot) + rng.int(8) * page, page);
        if (a < 2 ** c.spec.ipaBits) {
          events.push({ op: "access", vcpu, ctx: c.spec.id, l2ipa: a, write });
        }
        continue;
      }
      const mine = mappingsOf(c);
      if (mine.length === 0) continue;
      const m = pick(mine);
      const off = alignDown(rng.int(Math.min(m.size, 4 * pmd)), page);
      events.push({ op: "access", vcpu, ctx: c.spec.id, l2ipa: m.l2ipa + off, write });
    } else if (r < 0.58) {
      events.push({ op: "l1-access", l1ipa: alignDown(pick(hot), page), write: rng.chance(0.5) });
    } else if (r < 0.66) {
      // TLBI by IPA: no hint, the right level, a wrong one, or a reserved one.
      const mine = mappingsOf(c);
      const m = mine.length > 0 ? pick(mine) : null;
      const ipa = m ? m.l2ipa + alignDown(rng.int(m.size), page) : 4 * G;
      events.push({ op: "tlbi-ipa", vmid: c.spec.vmid, l2ipa: ipa, ttl: rng.int(4) });
    } else if (r < 0.71) {
      // TLBI by range: often a part of a block, sometimes several mappings.
      const mine = mappingsOf(c);
      const m = mine.length > 0 ? pick(mine) : null;
      const g = ctxGranule(c);
      const start = m ? m.l2ipa + alignDown(rng.int(m.size), g.pageSize) : 4 * G;
      const size = g.pageSize * (1 + rng.int(rng.chance(0.5) ? 4 : 64));
      events.push({ op: "tlbi-range", vmid: c.spec.vmid, l2ipa: start, size });
    } else if (r < 0.73) {
      events.push({ op: "tlbi-vmid", vmid: c.spec.vmid });
    } else if (r < 0.74) {
      events.push({ op: "tlbi-all" });
    } else if (r < 0.76) {
      c.live = false;
      events.push({ op: "ctx-destroy", ctx: c.spec.id });
    } else if (r < 0.88) {
      const h = hostRange();
      if (!inLiveSlot(h.l1ipa)) continue;
      const op = pick(["migrate", "migrate", "swap-out", "numa-scan", "thp-split"] as const);
      events.push({ op, l1ipa: h.l1ipa, size: h.size });
    } else if (r < 0.905) {
      const ls = liveSlotList();
      const dead = slots.filter((s) => !liveSlots.has(s.id));
      if (dead.length > 0 && (ls.length <= 1 || rng.chance(0.5))) {
        const s = pick(dead);
        liveSlots.add(s.id);
        events.push({ op: "memslot-add", memslot: { ...s, backing: pick(backings) } });
      } else if (ls.length > 1) {
        const s = pick(ls);
        liveSlots.delete(s.id);
        events.push({ op: "memslot-delete", slot: s.id });
      }
    } else if (r < 0.95) {
      const ls = liveSlotList();
      if (ls.length > 0) events.push({ op: "wp", slot: pick(ls).id });
    } else if (r < 0.98) {
      events.push({ op: "flush" });
    } else {
      for (const x of ctxs) x.live = false;
      events.push({ op: "l1-reboot" });
    }
  }
  return {
    name: `fuzz seed ${seed >>> 0}`,
    description: `deno task fuzz: broad random trace, seed ${seed >>> 0} (host ${hostName}, ` +
      `${paBits}-bit PA, ${vcpus} vCPUs, ${nCtx} contexts at start)`,
    config: {
      hostGranule: hostName,
      paBits,
      vcpus,
      memslots: slots,
      contexts: ctxs.slice(0, nCtx).filter((_, i) => i < Math.max(1, Math.ceil(nCtx / 2))).map((
        c,
      ) => ({ ...c.spec })),
    },
    events,
  };
}

/** L1's block sizes for a granule (2M and 1G for 4K, 32M for 16K, 512M for 64K). */
function blockSizesOf(g: { pageShift: number }): number[] {
  return g.pageShift === 12 ? [2 * M, G] : g.pageShift === 14 ? [32 * M] : [512 * M];
}
