/**
 * Trace -> selftest plan: the L2 VMs and vCPUs, the memslots and the memfd, and the
 * program's actions in trace order — guest steps (the trace's L2 accesses), L1-side
 * memslot changes and canonical writes, host (L0) events at stage boundaries, and after
 * each migration or swap-out the checks that read back what L2 must now see.
 *
 * The plan also carries the trace *as the program performs it* (`exported`): the trace's
 * events minus those nothing in L1 userspace or an L0 shell can produce, plus what the
 * program adds (L1's TLBI when it deletes a memslot, L1's rewrite of the marker, the
 * checks' reads). Replaying that under the oracle is how the header's expected outcome is
 * computed.
 *
 * Events, and what becomes of them:
 * - `l1-map`, `l1-unmap`: memslots of the L2 VM (L1's KVM builds its stage-2 from them);
 *   a remap of a live range deletes and re-adds its slot. L1's KVM invalidates a deleted
 *   slot itself, so a TLBI right after it is "done by L1's KVM".
 * - `access`: a read or a marker write in `guest_code`, on an L2 vCPU of the context's VM
 *   pinned to the trace's L1 vCPU.
 * - `l1-access`: a read or write of the memfd from `main` (L1's canonical mapping).
 * - `migrate`, `numa-scan`, `swap-out`, `thp-split`: the host script, one stage each.
 * - `ctx-create` of a new context: its VM is created at the start (L2 runs in it later).
 * - the operations the op table's `selftest` role says nothing in L1 userspace or an L0
 *   shell produces (TLBIs other than the above among them), and `ctx-create` of an
 *   existing context: not reproduced; each is listed at the top of the program with the
 *   reason and dropped from `exported`.
 * - Bad input ({@linkcode SelftestError}): no L2 access; an access L1 does not map (or a
 *   write to what it maps read-only); an `l1-map` over part of a live mapping or an
 *   `l1-unmap` of part of one; contexts with different granules; a mapping that is
 *   neither the granule's page nor its PMD block; L2 IPAs below 1 GiB (kvm_util's own
 *   memory) or at or above 2^47 (the identity map's VA range).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseTrace } from "../trace/trace.ts";
 * import { planSelftest } from "./plan.ts";
 * const plan = planSelftest(parseTrace({
 *   name: "alias", config: { hostGranule: "4K", paBits: 40, vcpus: 1,
 *     memslots: [{ id: 0, base: "1G", size: "1G", backing: "page" }],
 *     contexts: [{ id: 1, vmid: 1, granule: "4K", ipaBits: 40 }] },
 *   events: [{ op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
 *            { op: "l1-map", ctx: 1, l2ipa: "6G", l1ipa: "1G", size: "4K" },
 *            { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G", write: true },
 *            { op: "access", vcpu: 0, ctx: 1, l2ipa: "6G", write: true },
 *            { op: "migrate", l1ipa: "1G", size: "4K" }] }));
 * assertEquals(plan.layout.slots.map((s) => s.gpa), [2 ** 32, 6 * 2 ** 30]);
 * assertEquals(
 *   plan.actions.filter((a) => a.kind !== "comment").map((a) => a.kind),
 *   ["step", "host", "rewrite", "check", "check"],
 * );
 * assertEquals(plan.stages, 1);
 * ```
 * @module
 */

import { granule, levelSize } from "../kvm/granule.ts";
import { parseSize } from "../util/size.ts";
import type { Trace } from "../trace/trace.ts";
import { type HostRangeOp, selftestRole, type TraceEvent, type TraceOp } from "../trace/ops.ts";
import { hex } from "./format.ts";
import { type Layout, layoutSlots, type Mapping, type Slot } from "./layout.ts";

/** Input the exporter cannot turn into a selftest: one line, exit status 2. */
export class SelftestError extends Error {
  /** The reason, one line. */
  constructor(message: string) {
    super(message);
    this.name = "SelftestError";
  }
}

/** Host (L0) events the companion script performs (the op table's `host` role). */
export type HostOp = HostRangeOp;

/** Default cap on the checks after one host event. */
export const MAX_CHECKS_PER_EVENT = 8;

/** Lowest L2 IPA a trace may use: below 1 GiB are kvm_util's code, page tables and ucall MMIO. */
export const MIN_L2_IPA = 2 ** 30;

/** L2 IPAs must stay below this: guest_code reaches them through an identity map in the 48-bit VA's lower half. */
export const MAX_L2_IPA = 2 ** 47;

/** One L2 VM: a trace context L2 runs in. */
export interface PlanVm {
  /** Trace context id. */
  ctx: number;
  /** The trace's VMID (L1's KVM picks the real one). */
  vmid: number;
  /** 1-based VM number in the program (`vm1`, ...). */
  index: number;
  /** The trace's L2 IPA size. */
  ipaBits: number;
  /** The kvm_util mode's PA bits (36, 40 or 48: the smallest that holds `ipaBits`). */
  modeBits: number;
  /** kvm_util mode, e.g. `VM_MODE_P40V48_4K`. */
  mode: string;
  /** Its vCPUs, by trace vCPU. */
  vcpus: PlanVcpu[];
}

/** One L2 vCPU: a (context, trace vCPU) pair that accesses memory. */
export interface PlanVcpu {
  /** Its VM. */
  vm: PlanVm;
  /** Index in the VM's vcpus[]. */
  index: number;
  /** The trace's vCPU: the L1 CPU main pins itself to while this vCPU runs. */
  l1Cpu: number;
  /** Program-wide id (guest_code's argument). */
  id: number;
}

/** One memory access of a guest step. */
export interface GuestOp {
  /** Trace event. */
  event: number;
  /** L2 address (8-byte aligned: the marker is one u64). */
  l2ipa: number;
  /** A marker write (`S2_MARK(event)`), else a read. */
  write: boolean;
}

/** What the program does, in order. */
export type Action =
  /** Run one L2 vCPU through consecutive trace accesses, up to GUEST_SYNC(step). */
  | { kind: "step"; step: number; stage: number; vcpu: PlanVcpu; ops: GuestOp[] }
  /** L1 adds a memslot (a volatile mapping's `l1-map`). */
  | { kind: "slot-add"; event: number; slot: Slot }
  /** L1 deletes memslots (an `l1-unmap`, or the old half of a remap). */
  | { kind: "slot-delete"; event: number; slots: Slot[] }
  /** L1 reads or writes the memfd (canonical memory). */
  | { kind: "l1-access"; event: number; fdOffset: number; write: boolean }
  /** Wait for the host script's stage (a host event). */
  | {
    kind: "host";
    event: number;
    stage: number;
    op: HostOp;
    /** memfd ranges [offset, length) the event covers. */
    ranges: [number, number][];
    /** How many events of this op came before (to alternate NUMA nodes). */
    nth: number;
  }
  /** L1 writes the fresh marker of a host event through the memfd before the checks. */
  | { kind: "rewrite"; event: number; fdOffsets: number[] }
  /** L2 reads an address back; it must see the fresh marker. */
  | {
    kind: "check";
    step: number;
    stage: number;
    vcpu: PlanVcpu;
    /** The host event checked. */
    event: number;
    l2ipa: number;
    fdOffset: number;
    /** Event whose marker was there before the host event, or null (zero). */
    old: number | null;
  }
  /** A comment only (an event with nothing to do in the program). */
  | { kind: "comment"; event: number; text: string };

/** An event the program does not reproduce. */
export interface Note {
  /** Trace event. */
  event: number;
  /** Its operation. */
  op: string;
  /** Why, and what would produce it. */
  why: string;
}

/** The trace as the program performs it, event by event. */
export interface ExportedEvent {
  /** The event (trace addresses). */
  event: TraceEvent;
  /** Trace event it comes from, or null for what the program adds. */
  origin: number | null;
  /** The action it belongs to. */
  action: Action | null;
}

/** The whole plan. */
export interface Plan {
  /** The trace. */
  trace: Trace;
  /** L1's page granule ("4K"). */
  granuleName: string;
  /** L1's page size. */
  page: number;
  /** The granule's PMD block size. */
  pmd: number;
  /** The L2 VMs. */
  vms: PlanVm[];
  /** Slots and memfd. */
  layout: Layout;
  /** Every trace mapping of the exported contexts. */
  mappings: Mapping[];
  /** The program's actions. */
  actions: Action[];
  /** Host stages (host events). */
  stages: number;
  /** Guest steps. */
  steps: number;
  /** Events not reproduced. */
  notes: Note[];
  /** The trace as performed. */
  exported: ExportedEvent[];
}

/** Options of {@linkcode planSelftest}. */
export interface PlanOptions {
  /** Checks after one host event (default {@linkcode MAX_CHECKS_PER_EVENT}; 0: none). */
  maxChecks?: number;
  /** Check these first: whether the strategy leaves `l2ipa` of `ctx` stale after `hostEvent`. */
  stale?: (hostEvent: number, ctx: number, l2ipa: number) => boolean;
}

/** Why the program does not produce `op` (an op the op table says nothing here produces). */
function whyNot(op: TraceOp): string {
  const role = selftestRole(op);
  if (role.by !== "none") {
    throw new Error(`the planner has no case for ${op}, which the op table says it produces`);
  }
  return role.why;
}

const floorTo = (x: number, a: number) => Math.floor(x / a) * a;
const ceilTo = (x: number, a: number) => Math.ceil(x / a) * a;
const align8 = (x: number) => floorTo(x, 8);
const fail = (i: number, e: TraceEvent, why: string): never => {
  throw new SelftestError(`events[${i}] (${e.op}): ${why}`);
};

/** Mappings and their lifetimes, from a walk of L1's tables through the trace. */
function mappingsOf(trace: Trace) {
  const live = new Map<number, Mapping[]>();
  const all: Mapping[] = [];
  const accessOf = new Map<number, Mapping>();
  const unmapOf = new Map<number, Mapping[]>();
  const remapOf = new Map<number, Mapping>();
  trace.events.forEach((e, i) => {
    if (e.op === "l1-map") {
      const list = live.get(e.ctx) ?? [];
      const over = list.filter((m) => m.l2ipa < e.l2ipa + e.size && e.l2ipa < m.l2ipa + m.size);
      if (over.length === 1 && over[0].l2ipa === e.l2ipa && over[0].size === e.size) {
        const old = over[0];
        if (old.l1ipa === e.l1ipa && old.writable === e.writable) return; // the same mapping again
        old.end = i;
        remapOf.set(i, old);
      } else if (over.length > 0) {
        fail(
          i,
          e,
          `it maps over part of the live mapping of L2 ${hex(over[0].l2ipa)} +${
            hex(over[0].size)
          } in context ${e.ctx}: a memslot cannot change part of its backing`,
        );
      }
      const m: Mapping = {
        event: i,
        ctx: e.ctx,
        l2ipa: e.l2ipa,
        l1ipa: e.l1ipa,
        size: e.size,
        writable: e.writable,
        end: null,
        stable: false,
        slot: null,
      };
      all.push(m);
      live.set(e.ctx, [...list.filter((x) => !over.includes(x)), m]);
    } else if (e.op === "l1-unmap") {
      const list = live.get(e.ctx) ?? [];
      const over = list.filter((m) => m.l2ipa < e.l2ipa + e.size && e.l2ipa < m.l2ipa + m.size);
      const part = over.find((m) => m.l2ipa < e.l2ipa || m.l2ipa + m.size > e.l2ipa + e.size);
      if (part) {
        fail(
          i,
          e,
          `it unmaps part of the mapping of L2 ${hex(part.l2ipa)} +${
            hex(part.size)
          }: a memslot is deleted whole`,
        );
      }
      for (const m of over) m.end = i;
      unmapOf.set(i, over);
      live.set(e.ctx, list.filter((m) => !over.includes(m)));
    } else if (e.op === "access") {
      const m = (live.get(e.ctx) ?? []).find((m) =>
        e.l2ipa >= m.l2ipa && e.l2ipa < m.l2ipa + m.size
      );
      if (!m) {
        fail(
          i,
          e,
          `L1 maps nothing at L2 ${
            hex(e.l2ipa)
          } in context ${e.ctx}: the fault would go to L1, not to memory`,
        );
      }
      if (e.write && !m!.writable) {
        fail(i, e, `a write to L2 ${hex(e.l2ipa)}, which L1 maps read-only (an MMIO exit)`);
      }
      accessOf.set(i, m!);
    }
  });
  // Stable: lives to the end and nothing else of its context ever overlaps it.
  const byCtx = new Map<number, Mapping[]>();
  for (const m of all) byCtx.set(m.ctx, [...(byCtx.get(m.ctx) ?? []), m]);
  for (const list of byCtx.values()) {
    const sorted = [...list].sort((a, b) => a.l2ipa - b.l2ipa);
    const clash = new Set<Mapping>();
    for (let a = 0; a < sorted.length; a++) {
      for (
        let b = a + 1;
        b < sorted.length && sorted[b].l2ipa < sorted[a].l2ipa + sorted[a].size;
        b++
      ) {
        clash.add(sorted[a]);
        clash.add(sorted[b]);
      }
    }
    for (const m of list) m.stable = m.end === null && !clash.has(m);
  }
  return { all, accessOf, unmapOf, remapOf };
}

/** The host mapping size around a canonical address (the MMU notifier's range widens to it). */
function hostBlock(trace: Trace, l1ipa: number): number {
  const g = granule(trace.config.hostGranule);
  const slots = [
    ...trace.config.memslots,
    ...trace.events.flatMap((e) => e.op === "memslot-add" ? [e.memslot] : []),
  ];
  const s = slots.find((s) => l1ipa >= s.base && l1ipa < s.base + s.size);
  if (!s || s.backing === "page") return g.pageSize;
  if (s.backing === "thp") return levelSize(g, 2);
  const m = /^hugetlb:(.+)$/.exec(s.backing);
  return m ? parseSize(m[1]) : g.pageSize;
}

/** memfd ranges of a canonical range, clipped to the clusters the slots use. */
function fdRanges(layout: Layout, start: number, end: number): [number, number][] {
  const out: [number, number][] = [];
  for (const k of layout.clusters) {
    const s = Math.max(start, k.canonBase);
    const e = Math.min(end, k.canonBase + k.size);
    if (s < e) out.push([k.fdBase + (s - k.canonBase), e - s]);
  }
  return out;
}

/** Plan the selftest of a trace (see the module doc); throws {@linkcode SelftestError}. */
export function planSelftest(trace: Trace, opts: PlanOptions = {}): Plan {
  const maxChecks = opts.maxChecks ?? MAX_CHECKS_PER_EVENT;
  const events = trace.events;
  if (!events.some((e) => e.op === "access")) {
    throw new SelftestError(
      "the trace has no L2 access: there is nothing for L2 to run and nothing to check",
    );
  }
  // Contexts: the configuration's, then those ctx-create introduces.
  const specs = new Map(trace.config.contexts.map((c) => [c.id, c]));
  const newContext = new Set<number>();
  events.forEach((e, i) => {
    if (e.op === "ctx-create" && !specs.has(e.context.id)) {
      specs.set(e.context.id, e.context);
      newContext.add(i);
    }
  });
  const { all, accessOf, unmapOf, remapOf } = mappingsOf(trace);
  // VMs: the contexts L2 runs in.
  const runCtx = [...new Set(events.flatMap((e) => e.op === "access" ? [e.ctx] : []))].sort((
    a,
    b,
  ) => a - b);
  const granules = new Set(runCtx.map((c) => specs.get(c)!.granule));
  if (granules.size > 1) {
    throw new SelftestError(
      `the L2 contexts use different granules (${
        [...granules].join(", ")
      }): one L1 kernel has one PAGE_SIZE, which is its stage-2 granule`,
    );
  }
  const granuleName = [...granules][0];
  const g = granule(granuleName);
  const page = g.pageSize;
  // The smallest shadow leaf: L1's page or the host's, whichever is smaller.
  const leaf = Math.min(page, granule(trace.config.hostGranule).pageSize);
  const pmd = levelSize(g, 2);
  for (const c of runCtx) {
    if (specs.get(c)!.s2 === false) {
      throw new SelftestError(
        `context ${c} runs L2 with L1's stage-2 disabled: L1's KVM always enables it`,
      );
    }
  }
  const mappings = all.filter((m) => runCtx.includes(m.ctx));
  for (const m of mappings) {
    const e = events[m.event];
    if (m.size !== page && m.size !== pmd) {
      fail(
        m.event,
        e,
        `an L1 mapping of ${hex(m.size)} bytes: only ${granuleName} pages and ${
          hex(pmd)
        }-byte PMD blocks are exported (larger blocks need a hugetlbfs memfd)`,
      );
    }
    if (m.l2ipa < MIN_L2_IPA) {
      fail(
        m.event,
        e,
        `L2 IPA ${
          hex(m.l2ipa)
        } is below 1 GiB, where kvm_util keeps the test's code, page tables and ucall MMIO`,
      );
    }
    if (m.l2ipa + m.size > MAX_L2_IPA) {
      fail(
        m.event,
        e,
        `L2 IPA ${hex(m.l2ipa)} is at or above 2^47, beyond guest_code's identity map`,
      );
    }
  }
  const layout = layoutSlots(mappings, pmd);

  let nextId = 0;
  const vms: PlanVm[] = runCtx.map((ctx, k) => {
    const spec = specs.get(ctx)!;
    const modeBits = [36, 40, 48].find((b) => b >= spec.ipaBits) ?? 48;
    const vm: PlanVm = {
      ctx,
      vmid: spec.vmid,
      index: k + 1,
      ipaBits: spec.ipaBits,
      modeBits,
      mode: `VM_MODE_P${modeBits}V48_${granuleName}`,
      vcpus: [],
    };
    const cpus = [
      ...new Set(events.flatMap((e) => e.op === "access" && e.ctx === ctx ? [e.vcpu] : [])),
    ].sort((a, b) => a - b);
    vm.vcpus = cpus.map((l1Cpu, index) => ({ vm, index, l1Cpu, id: nextId++ }));
    return vm;
  });
  const vmOf = new Map(vms.map((vm) => [vm.ctx, vm]));
  const vcpuOf = (ctx: number, cpu: number) => vmOf.get(ctx)!.vcpus.find((v) => v.l1Cpu === cpu)!;

  const actions: Action[] = [];
  const exported: ExportedEvent[] = [];
  const notes: Note[] = [];
  const value = new Map<number, number>(); // memfd offset (8-aligned) -> marker event
  const touched = new Map<number, Map<number, { l2ipa: number; vcpu: PlanVcpu; m: Mapping }>>();
  const count = new Map<string, number>();
  let stage = 0;
  let step = 0;
  // The slots L1 deleted since the last L2 or host activity: their TLBIs are L1's KVM's.
  let deleted: { vmid: number; start: number; end: number; slot: number }[] = [];
  const push = (event: TraceEvent, origin: number | null, action: Action | null) =>
    exported.push({ event, origin, action });
  const drop = (i: number, e: TraceEvent, why: string) => {
    notes.push({ event: i, op: e.op, why });
    actions.push({ kind: "comment", event: i, text: `not reproduced: ${why}` });
  };
  const deleteSlots = (i: number, ms: Mapping[]) => {
    const slots = ms.map((m) => m.slot!);
    const a: Action = { kind: "slot-delete", event: i, slots };
    actions.push(a);
    const vmid = specs.get(ms[0].ctx)!.vmid;
    for (const s of slots) {
      deleted.push({ vmid, start: s.gpa, end: s.gpa + s.size, slot: s.id });
    }
    return { a, vmid };
  };

  events.forEach((e, i) => {
    switch (e.op) {
      case "l1-map": {
        if (!vmOf.has(e.ctx)) {
          actions.push({ kind: "comment", event: i, text: `context ${e.ctx} never runs L2` });
          push(e, i, null);
          return;
        }
        const m = mappings.find((m) => m.event === i);
        if (!m) {
          actions.push({ kind: "comment", event: i, text: "the same mapping again: no change" });
          push(e, i, null);
          return;
        }
        const old = remapOf.get(i);
        if (old) {
          const { a, vmid } = deleteSlots(i, [old]);
          push({ op: "l1-unmap", ctx: old.ctx, l2ipa: old.l2ipa, size: old.size }, i, a);
          push({ op: "tlbi-range", vmid, l2ipa: old.l2ipa, size: old.size }, null, a);
        }
        if (m.stable) {
          actions.push({
            kind: "comment",
            event: i,
            text: `L1's KVM maps it on L2's first touch: memslot ${m.slot!.id}, added at the start`,
          });
          push(e, i, null);
        } else {
          const a: Action = { kind: "slot-add", event: i, slot: m.slot! };
          actions.push(a);
          push(e, i, a);
        }
        return;
      }
      case "l1-unmap": {
        const ms = (unmapOf.get(i) ?? []).filter((m) => vmOf.has(m.ctx));
        if (ms.length === 0) {
          actions.push({ kind: "comment", event: i, text: "nothing mapped there: no change" });
          push(e, i, null);
          return;
        }
        const { a, vmid } = deleteSlots(i, ms);
        push(e, i, a);
        for (const m of ms) push({ op: "tlbi-range", vmid, l2ipa: m.l2ipa, size: m.size }, null, a);
        return;
      }
      case "tlbi-ipa":
      case "tlbi-range":
      case "tlbi-vmid":
      case "tlbi-all": {
        const [s, t] = e.op === "tlbi-ipa"
          ? [e.l2ipa, e.l2ipa + 1]
          : e.op === "tlbi-range"
          ? [e.l2ipa, e.l2ipa + e.size]
          : [0, Infinity];
        const hit = deleted.filter((d) =>
          (e.op === "tlbi-all" || d.vmid === e.vmid) && d.start < t && s < d.end
        );
        if (hit.length > 0) {
          actions.push({
            kind: "comment",
            event: i,
            text: `done by L1's KVM when it deleted memslot ${hit.map((d) => d.slot).join(", ")}`,
          });
        } else drop(i, e, whyNot(e.op));
        return;
      }
      case "access": {
        deleted = [];
        const m = accessOf.get(i)!;
        const vcpu = vcpuOf(e.ctx, e.vcpu);
        const op: GuestOp = { event: i, l2ipa: align8(e.l2ipa), write: e.write };
        const last = actions.at(-1);
        if (last?.kind === "step" && last.vcpu === vcpu) last.ops.push(op);
        else actions.push({ kind: "step", step: ++step, stage, vcpu, ops: [op] });
        push(e, i, actions.at(-1)!);
        const fd = align8(layout.fdOffset(m.l1ipa + (e.l2ipa - m.l2ipa))!);
        if (e.write) value.set(fd, i);
        const pages = touched.get(e.ctx) ?? new Map();
        pages.set(floorTo(e.l2ipa, leaf), { l2ipa: op.l2ipa, vcpu, m });
        touched.set(e.ctx, pages);
        return;
      }
      case "l1-access": {
        deleted = [];
        const fd = layout.fdOffset(e.l1ipa);
        if (fd === null) {
          drop(i, e, "L1 memory no L2 VM maps: no shadow entry can depend on it");
          return;
        }
        const a: Action = { kind: "l1-access", event: i, fdOffset: align8(fd), write: e.write };
        actions.push(a);
        push(e, i, a);
        if (e.write) value.set(align8(fd), i);
        return;
      }
      case "migrate":
      case "swap-out":
      case "numa-scan":
      case "thp-split": {
        deleted = [];
        const ranges = fdRanges(layout, e.l1ipa, e.l1ipa + e.size);
        if (ranges.length === 0) {
          drop(i, e, "it touches no page an L2 VM maps: no shadow entry can depend on it");
          return;
        }
        const nth = count.get(e.op) ?? 0;
        count.set(e.op, nth + 1);
        const host: Action = { kind: "host", event: i, stage: ++stage, op: e.op, ranges, nth };
        actions.push(host);
        push(e, i, host);
        const role = selftestRole(e.op);
        if (role.by !== "host" || !role.newPage || maxChecks === 0) return;
        // What L2 touched whose canonical page the host event covered (widened to the host page).
        const b = hostBlock(trace, e.l1ipa);
        const lo = floorTo(e.l1ipa, b);
        const hi = ceilTo(e.l1ipa + e.size, b);
        const candidates = vms.flatMap((vm) =>
          [...(touched.get(vm.ctx)?.values() ?? [])].filter((t) =>
            (t.m.end === null || t.m.end > i) &&
            t.m.l1ipa + (t.l2ipa - t.m.l2ipa) >= lo && t.m.l1ipa + (t.l2ipa - t.m.l2ipa) < hi
          ).map((t) => ({ ...t, vm }))
        );
        const stale = (t: typeof candidates[number]) => opts.stale?.(i, t.vm.ctx, t.l2ipa) ? 0 : 1;
        candidates.sort((x, y) =>
          stale(x) - stale(y) || x.vm.index - y.vm.index || x.l2ipa - y.l2ipa
        );
        const chosen = candidates.slice(0, maxChecks);
        if (chosen.length === 0) return;
        const fds = chosen.map((t) => align8(layout.fdOffset(t.m.l1ipa + (t.l2ipa - t.m.l2ipa))!));
        const olds = fds.map((fd) => value.get(fd) ?? null);
        const distinct = [...new Set(fds)];
        const rewrite: Action = { kind: "rewrite", event: i, fdOffsets: distinct };
        actions.push(rewrite);
        for (const fd of distinct) {
          value.set(fd, i);
          const t = chosen[fds.indexOf(fd)];
          push(
            { op: "l1-access", l1ipa: t.m.l1ipa + (t.l2ipa - t.m.l2ipa), write: true },
            null,
            rewrite,
          );
        }
        chosen.forEach((t, k) => {
          const check: Action = {
            kind: "check",
            step: ++step,
            stage,
            vcpu: t.vcpu,
            event: i,
            l2ipa: t.l2ipa,
            fdOffset: fds[k],
            old: olds[k],
          };
          actions.push(check);
          push(
            { op: "access", vcpu: t.vcpu.l1Cpu, ctx: t.vm.ctx, l2ipa: t.l2ipa, write: false },
            null,
            check,
          );
        });
        return;
      }
      case "ctx-create":
        if (newContext.has(i)) {
          const vm = vmOf.get(e.context.id);
          actions.push({
            kind: "comment",
            event: i,
            text: vm
              ? `VM ${vm.index} exists from the start; L2 first runs in it later`
              : `context ${e.context.id} never runs L2`,
          });
          push(e, i, null);
        } else drop(i, e, "the context's VM already exists (and stays)");
        return;
      default:
        drop(i, e, whyNot(e.op));
    }
  });
  return {
    trace,
    granuleName,
    page,
    pmd,
    vms,
    layout,
    mappings,
    actions,
    stages: stage,
    steps: step,
    notes,
    exported,
  };
}

/** The exported events as a trace the replay can run (same configuration). */
export function exportedTrace(plan: Plan): Trace {
  return {
    ...plan.trace,
    name: `${plan.trace.name} (as the selftest performs it)`,
    events: plan.exported.map((x) => x.event),
  };
}
