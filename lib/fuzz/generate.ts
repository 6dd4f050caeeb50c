/**
 * The fuzzer's trace generator: from a seed, a broad random trace that uses every trace
 * operation (`touch` included), every (host granule, L1 granule) pair, every PA size
 * (36-bit and 52-bit too) and L1 stage-2 input size, every host backing, L1 pages and
 * blocks, every TLBI form (by IPA with and without a TTL hint, hints of the wrong level
 * and reserved ones, ranges that cover part of an L1 block, by VMID, ALLE1IS), TLBIs for
 * the VMIDs of destroyed contexts and of none, contexts that share a VMID, contexts with
 * stage 2 off, more contexts than shadow MMUs (recycling), memslots deleted and added
 * back, dirty logging, flushes and L1 reboots.
 *
 * Memslot layouts: either one to three 1 GiB slots at 1 GiB boundaries, or one to four
 * slots of varied sizes (a few pages, just under a PMD, PMD multiples with or without a
 * few pages more, 1 GiB) at page, PMD or 1 GiB aligned bases, adjacent or apart, so that
 * huge pages are cut by slot ends, L1 blocks reach past a slot into MMIO, and some slots
 * are only added later. Host operations act on one page, a few pages (less than a THP,
 * across a THP boundary or not), a THP, a THP's worth across a THP boundary, or four THPs.
 *
 * Aliases are frequent: L1 mappings are drawn from a small pool of canonical "hot" pages
 * (some at a slot's last page, some in MMIO just past it) and L2 slots, so pages, blocks
 * and aliases collide. The generator tracks what exists (live contexts, memslots), so
 * every trace it makes replays without a trace error; the same seed gives the same trace.
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
 * assertEquals(generateFuzzTrace(7, { maxEvents: 12 }).events.length <= 12, true);
 * ```
 * @module
 */

import type { L1ContextSpec } from "../guest/l1.ts";
import type { MemslotSpec } from "../host/memory.ts";
import {
  type Granule,
  granule,
  GRANULE_NAMES,
  type GranuleName,
  levelSize,
} from "../kvm/granule.ts";
import type { TraceEvent } from "../trace/ops.ts";
import type { Trace } from "../trace/trace.ts";
import { Prng } from "../util/prng.ts";
import { alignDown } from "../util/size.ts";
import { backingsOf, l1LeafSizes } from "./domain.ts";

/** Options of {@linkcode generateFuzzTrace}. */
export interface FuzzTraceOptions {
  /** Most events of the trace, L1's first mappings included (default 120). */
  maxEvents?: number;
  /** Host granules to draw from (default all three). */
  hostGranules?: readonly GranuleName[];
}

/** Default of {@linkcode FuzzTraceOptions.maxEvents}. */
export const FUZZ_MAX_EVENTS = 120;

const G = 2 ** 30;

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
  /** L1 has it now. */
  live: boolean;
  /** L1 had it at some point (a destroyed context when not live). */
  created: boolean;
}

/** kvm_get_pa_bits(): 32 to 48 bits, 52 now and then with 64K pages (FEAT_LPA). */
function drawPaBits(rng: Prng, host: GranuleName): number {
  if (host === "64K" && rng.chance(0.2)) return 52;
  const r = rng.float();
  return r < 0.05 ? 32 : r < 0.2 ? 36 : [40, 42, 44, 48][rng.int(4)];
}

/** An L1 context's input size: mostly 40 bits and up, never more than L1's PA range. */
function drawIpaBits(rng: Prng, paBits: number): number {
  const r = rng.float();
  const bits = r < 0.08 ? 32 : r < 0.18 ? 36 : r < 0.28 ? 39 : [40, 42, 44, 48][rng.int(4)];
  return Math.min(paBits, bits);
}

/**
 * The memslots of a trace, below `paSize`: one to three 1 GiB slots at odd GiB (as a VMM
 * lays out RAM), or one to four slots of varied sizes and alignments, adjacent or apart.
 */
function drawMemslots(
  rng: Prng,
  g: Granule,
  paSize: number,
  backings: readonly string[],
): MemslotSpec[] {
  const page = g.pageSize, pmd = levelSize(g, 2);
  const backing = () => backings[rng.int(backings.length)];
  const limit = Math.min(paSize, 64 * G);
  const slots: MemslotSpec[] = [];
  if (rng.chance(0.4)) {
    const n = 1 + rng.int(3);
    for (let i = 0; i < n && (2 + 2 * i) * G <= limit; i++) {
      slots.push({ id: i, base: (1 + 2 * i) * G, size: G, backing: backing() });
    }
    return slots;
  }
  const n = 1 + rng.int(4);
  let end = G;
  for (let i = 0; i < n; i++) {
    // Right after the slot before (a huge page across the two), or a gap of a few pages, a
    // PMD or 1 GiB, then aligned to 1 GiB, a PMD or a page (and a few pages more).
    let base = end;
    if (i === 0 || !rng.chance(0.3)) {
      const align = [G, pmd, page][rng.int(3)];
      base = Math.ceil((end + [0, page * (1 + rng.int(8)), pmd, G][rng.int(4)]) / align) * align;
      if (align === page) base += page * (1 + rng.int(15));
    }
    const k = 1 + rng.int(4);
    const size = [
      page * (1 + rng.int(16)), // a few pages
      pmd - page * (1 + rng.int(4)), // just under a PMD
      pmd * k, // PMD multiples
      pmd * k + page * (1 + rng.int(3)), // and a few pages more
      G,
      G,
    ][rng.int(6)];
    if (base + size > limit) break;
    slots.push({ id: i, base, size, backing: backing() });
    end = base + size;
  }
  if (slots.length === 0) slots.push({ id: 0, base: G, size: G, backing: backing() });
  return slots;
}

/**
 * A broad random trace from `seed` (see the module doc). Its name says the seed, so that a
 * finding can be regenerated with `deno task fuzz --seed S --runs 1`.
 */
export function generateFuzzTrace(seed: number, opts: FuzzTraceOptions = {}): Trace {
  const rng = new Prng(`fuzz|${seed >>> 0}`);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];
  const maxEvents = opts.maxEvents ?? FUZZ_MAX_EVENTS;
  const hostName = pick(opts.hostGranules ?? GRANULE_NAMES);
  const hg = granule(hostName);
  const page = hg.pageSize;
  const pmd = levelSize(hg, 2);
  const paBits = drawPaBits(rng, hostName);
  const paSize = 2 ** paBits;
  const vcpus = 1 + rng.int(3);
  const backings = backingsOf(hostName);

  const slots = drawMemslots(rng, hg, paSize, backings);
  const liveSlots = new Set(slots.map((s) => s.id));
  // Now and then a slot the VMM only adds later.
  if (slots.length > 1 && rng.chance(0.25)) liveSlots.delete(pick(slots).id);
  const initialSlots = slots.filter((s) => liveSlots.has(s.id));
  const inSomeSlot = (a: number) => slots.some((s) => a >= s.base && a < s.base + s.size);
  const l1Granules = GRANULE_NAMES.filter((n) => granule(n).pageSize >= page);

  // Contexts: up to 2 x vCPUs + 2 (more than the shadow MMUs: recycling), some sharing a
  // VMID (other BADDR), one in ten with L1's stage 2 off.
  const nCtx = 1 + rng.int(2 * vcpus + 2);
  const nLive = Math.max(1, Math.ceil(nCtx / 2));
  const ctxs: Ctx[] = [];
  for (let i = 0; i < nCtx; i++) {
    const id = i + 1;
    const vmid = i > 0 && rng.chance(0.3) ? ctxs[rng.int(i)].spec.vmid : 100 + id;
    const spec = {
      id,
      vmid,
      granule: pick(l1Granules),
      ipaBits: drawIpaBits(rng, paBits),
      s2: !rng.chance(0.1),
    };
    ctxs.push({ spec, live: i < nLive, created: i < nLive });
  }
  const ctxGranule = (c: Ctx) => granule(c.spec.granule);
  const live = () => ctxs.filter((c) => c.live);
  /** Where a context's L2 slots are: from 4G up, or from 1G in a 32-bit IPA space. */
  const l2Area = (c: Ctx) => {
    const unit = Math.min(2 * G, 2 ** c.spec.ipaBits / 8);
    return { base: 2 * unit, unit };
  };

  // The pool: canonical "hot" pages every mapping lands on or around, so that aliases,
  // blocks over pages and partial overlaps are common. Some are a slot's first or last pages
  // (an L1 block over them reaches past the slot, into MMIO or the next slot) and some are
  // in MMIO just past a slot.
  const hot: number[] = [];
  for (let i = 0; i < 4; i++) {
    const s = pick(slots);
    const r = rng.float();
    const past = s.base + s.size + page * rng.int(4);
    if (r < 0.1) hot.push(Math.max(s.base, s.base + s.size - page * (1 + rng.int(2))));
    else if (r < 0.15) hot.push(s.base);
    else if (r < 0.21 && past < paSize && !inSomeSlot(past)) hot.push(past);
    else hot.push(s.base + alignDown(rng.int(s.size), 4096));
  }
  const pool: PoolMapping[] = [];
  const newMapping = (c: Ctx): PoolMapping => {
    const g = ctxGranule(c);
    const size = pick([g.pageSize, ...l1LeafSizes(g.name, c.spec.ipaBits)]);
    const h = pick(hot);
    let l1ipa = alignDown(h + (rng.chance(0.3) ? rng.int(4) * g.pageSize : 0), size);
    if (l1ipa + size > paSize) l1ipa = alignDown(h, size);
    // L2 slots: a few per context, so that remaps of one L2 IPA collide.
    const { base, unit } = l2Area(c);
    const l2ipa = alignDown(base + rng.int(4) * unit + rng.int(3) * size, size);
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
  /** Append `es` if they all fit in `maxEvents`; whether they did. */
  const emit = (...es: TraceEvent[]): boolean => {
    if (events.length + es.length > maxEvents) return false;
    events.push(...es);
    return true;
  };
  for (const c of live()) {
    if (!c.spec.s2) continue;
    for (let k = 0; k < 2; k++) {
      const m = newMapping(c);
      if (emit(mapEvent(m))) pool.push(m);
    }
  }
  const mappingsOf = (c: Ctx) => pool.filter((m) => m.ctx === c.spec.id);
  const liveSlotList = () => slots.filter((s) => liveSlots.has(s.id));
  /** A canonical range around a hot page that the host invalidates. */
  const hostRange = () => {
    const h = pick(hot);
    const r = rng.float();
    if (r < 0.35) return { l1ipa: alignDown(h, page), size: page };
    if (r < 0.55) {
      // A few pages, less than a THP, starting anywhere around the hot page.
      const n = 2 + rng.int(15);
      return { l1ipa: alignDown(h, page) - page * rng.int(n), size: n * page };
    }
    if (r < 0.75) return { l1ipa: alignDown(h, pmd), size: pmd };
    if (r < 0.85) return { l1ipa: alignDown(h, page), size: pmd }; // across a THP boundary
    return { l1ipa: alignDown(h, 4 * pmd), size: 4 * pmd };
  };
  const meetsLiveSlot = (a: number, size: number) =>
    liveSlotList().some((s) => a < s.base + s.size && s.base < a + size);
  /**
   * Whom an L1 TLBI by VMID names: mostly context `c`; now and then a destroyed context
   * (its old leaves may still be pending), or a VMID no context ever had.
   */
  const tlbiTarget = (c: Ctx): { vmid: number; of: Ctx | null } => {
    const destroyed = ctxs.filter((x) => x.created && !x.live);
    if (destroyed.length > 0 && rng.chance(0.2)) {
      const d = pick(destroyed);
      return { vmid: d.spec.vmid, of: d };
    }
    if (rng.chance(0.03)) return { vmid: 9000 + rng.int(8), of: null };
    return { vmid: c.spec.vmid, of: c };
  };

  const n = 10 + rng.int(Math.max(1, maxEvents - 10));
  let nextCtxId = nCtx + 1;
  for (let i = 0; i < n && events.length < maxEvents; i++) {
    const r = rng.float();
    const lc = live();
    if (lc.length === 0 || r < 0.02) {
      // L1 creates a context (a new one, or one it destroyed or lost in a reboot).
      const dead = ctxs.filter((c) => !c.live);
      let c: Ctx;
      if (dead.length > 0 && rng.chance(0.7)) c = pick(dead);
      else {
        c = {
          spec: {
            id: nextCtxId,
            vmid: rng.chance(0.3) ? pick(ctxs).spec.vmid : 100 + nextCtxId,
            granule: pick(l1Granules),
            ipaBits: drawIpaBits(rng, paBits),
            s2: !rng.chance(0.1),
          },
          live: false,
          created: false,
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
      if (emit({ op: "ctx-create", context: { ...c.spec } })) c.live = c.created = true;
      continue;
    }
    const c = pick(lc);
    const g = ctxGranule(c);
    if (r < 0.2) {
      // L1 (re)maps: a pool mapping of this context, or a new one.
      const mine = mappingsOf(c);
      if (!c.spec.s2) continue;
      const m = mine.length > 0 && rng.chance(0.5) ? pick(mine) : newMapping(c);
      let ok: boolean;
      if (rng.chance(0.5)) {
        // Break-before-make, as KVM as L1 does it (stage2_try_break_pte()): clear the
        // range, invalidate it (by IPA with the level, or by range), then write.
        const level = [3, 2, 1].find((l) => levelSize(g, l) === m.size) ?? 0;
        ok = emit(
          { op: "l1-unmap", ctx: m.ctx, l2ipa: m.l2ipa, size: m.size },
          rng.chance(0.5)
            ? { op: "tlbi-ipa", vmid: c.spec.vmid, l2ipa: m.l2ipa, ttl: level }
            : { op: "tlbi-range", vmid: c.spec.vmid, l2ipa: m.l2ipa, size: m.size },
          mapEvent(m),
        );
      } else ok = emit(mapEvent(m));
      if (ok && !pool.includes(m)) pool.push(m);
    } else if (r < 0.25) {
      const mine = mappingsOf(c);
      if (mine.length === 0 || !c.spec.s2) continue;
      const m = pick(mine);
      // Unmap the mapping, or one page of it.
      const size = rng.chance(0.5) ? m.size : g.pageSize;
      emit({ op: "l1-unmap", ctx: c.spec.id, l2ipa: m.l2ipa, size });
    } else if (r < 0.55) {
      // An L2 access, or a touch of a few pages (every host page, L1 page or THP), through
      // a mapping of this context (or straight to canonical with stage 2 off).
      const vcpu = rng.int(vcpus);
      const write = rng.chance(0.5);
      let start: number;
      if (!c.spec.s2) start = alignDown(pick(hot) + rng.int(8) * page, page);
      else {
        const mine = mappingsOf(c);
        if (mine.length === 0) continue;
        const m = pick(mine);
        start = m.l2ipa + alignDown(rng.int(Math.min(m.size, 4 * pmd)), page);
      }
      const limit = 2 ** c.spec.ipaBits;
      if (start >= limit) continue;
      if (!rng.chance(0.2)) {
        emit({ op: "access", vcpu, ctx: c.spec.id, l2ipa: start, write });
        continue;
      }
      const stride = pick([page, page, g.pageSize, pmd]);
      const count = Math.min(1 + rng.int(16), Math.floor((limit - start) / stride));
      if (count < 1) continue;
      emit({
        op: "touch",
        vcpu,
        ctx: c.spec.id,
        l2ipa: start,
        size: count * stride,
        stride,
        write,
      });
    } else if (r < 0.58) {
      emit({ op: "l1-access", l1ipa: alignDown(pick(hot), page), write: rng.chance(0.5) });
    } else if (r < 0.66) {
      // TLBI by IPA: no hint, the right level, a wrong one, or a reserved one.
      const t = tlbiTarget(c);
      const mine = t.of ? mappingsOf(t.of) : [];
      const m = mine.length > 0 ? pick(mine) : null;
      const ipa = m ? m.l2ipa + alignDown(rng.int(m.size), page) : l2Area(t.of ?? c).base;
      emit({ op: "tlbi-ipa", vmid: t.vmid, l2ipa: ipa, ttl: rng.int(4) });
    } else if (r < 0.71) {
      // TLBI by range: often a part of a block, sometimes several mappings.
      const t = tlbiTarget(c);
      const mine = t.of ? mappingsOf(t.of) : [];
      const m = mine.length > 0 ? pick(mine) : null;
      const tg = ctxGranule(t.of ?? c);
      const start = m ? m.l2ipa + alignDown(rng.int(m.size), tg.pageSize) : l2Area(t.of ?? c).base;
      const size = tg.pageSize * (1 + rng.int(rng.chance(0.5) ? 4 : 64));
      emit({ op: "tlbi-range", vmid: t.vmid, l2ipa: start, size });
    } else if (r < 0.73) {
      emit({ op: "tlbi-vmid", vmid: tlbiTarget(c).vmid });
    } else if (r < 0.74) {
      emit({ op: "tlbi-all" });
    } else if (r < 0.76) {
      // L1 tears the context down, now and then invalidating its VMID right away (as KVM
      // as L1 does when it frees a VM's stage 2).
      const destroy: TraceEvent = { op: "ctx-destroy", ctx: c.spec.id };
      const ok = rng.chance(0.3)
        ? emit(destroy, { op: "tlbi-vmid", vmid: c.spec.vmid })
        : emit(destroy);
      if (ok) c.live = false;
    } else if (r < 0.88) {
      const h = hostRange();
      if (h.l1ipa + h.size > paSize || !meetsLiveSlot(h.l1ipa, h.size)) continue;
      const op = pick(["migrate", "migrate", "swap-out", "numa-scan", "thp-split"] as const);
      emit({ op, l1ipa: h.l1ipa, size: h.size });
    } else if (r < 0.905) {
      const ls = liveSlotList();
      const dead = slots.filter((s) => !liveSlots.has(s.id));
      if (dead.length > 0 && (ls.length <= 1 || rng.chance(0.5))) {
        const s = pick(dead);
        if (emit({ op: "memslot-add", memslot: { ...s, backing: pick(backings) } })) {
          liveSlots.add(s.id);
        }
      } else if (ls.length > 1) {
        const s = pick(ls);
        if (emit({ op: "memslot-delete", slot: s.id })) liveSlots.delete(s.id);
      }
    } else if (r < 0.95) {
      const ls = liveSlotList();
      if (ls.length > 0) emit({ op: "wp", slot: pick(ls).id });
    } else if (r < 0.98) {
      emit({ op: "flush" });
    } else if (emit({ op: "l1-reboot" })) {
      for (const x of ctxs) x.live = false;
    }
  }
  return {
    name: `fuzz seed ${seed >>> 0}`,
    description: `deno task fuzz: broad random trace, seed ${seed >>> 0} (host ${hostName}, ` +
      `${paBits}-bit PA, ${vcpus} vCPUs, ${slots.length} memslots, ${nCtx} contexts at start)`,
    config: {
      hostGranule: hostName,
      paBits,
      vcpus,
      memslots: initialSlots,
      contexts: ctxs.slice(0, nLive).map((c) => ({ ...c.spec })),
    },
    events,
  };
}
