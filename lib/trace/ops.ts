/**
 * The trace's vocabulary, one table: every operation a trace may use, with its keys (each
 * with the reader of its value), what it does to the VM (the kernel entry points it
 * drives), how it reads in one line, its class (who acts, what it may change, and with it
 * whether the oracle's findings stand across it), the L2 range a guest access touches, and
 * how a KVM selftest in L1 produces it. Parsing, replay, the oracle's checker, the cases,
 * the sweep's aggregation, the selftest exporter and the fuzzer all derive from this
 * table; nothing else names an operation for these.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { describeEvent, HOST_UNMAP_OPS, opClass, opKeys, parseEvent } from "./ops.ts";
 * const cfg = { hostGranule: "4K", paBits: 40, vcpus: 1, memslots: [], contexts: [] };
 * const e = parseEvent({ op: "migrate", l1ipa: "1G", size: "4K" }, "events[0]", cfg);
 * assertEquals(describeEvent(e), "L1 0x40000000 +0x1000");
 * assertEquals(opClass("migrate"), "host-unmap");
 * assertEquals(HOST_UNMAP_OPS, ["migrate", "swap-out", "numa-scan", "thp-split", "memslot-delete"]);
 * assertEquals(opKeys("migrate"), ["op", "l1ipa", "size"]);
 * assertThrows(
 *   () => parseEvent({ op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K",
 *     writeable: false }, "events[3]", cfg),
 *   Error,
 *   'events[3]: unknown key "writeable" (did you mean "writable"?)',
 * );
 * ```
 * @module
 */

import type { DroppedLeaf, L1ContextSpec } from "../guest/l1.ts";
import type { MemslotSpec } from "../host/memory.ts";
import { migratePages, numaScan, swapOut, thpSplit } from "../host/mm.ts";
import { kvmVcpuPutAll, l1Access, l2Access, l2Touch } from "../kvm/arm.ts";
import { granule } from "../kvm/granule.ts";
import type { AccessResult, FlushRecord, Kvm } from "../kvm/kvm.ts";
import { kvmAddMemslot, kvmDeleteMemslot } from "../kvm/kvm_main.ts";
import { kvmMmuWpMemoryRegion, stage2FlushVm } from "../kvm/mmu.ts";
import {
  handleAlle1is,
  handleIpas2e1is,
  handleRipas2e1is,
  handleVmalls12e1is,
} from "../kvm/sys_regs.ts";
import { nearestKey } from "../util/keys.ts";
import { formatSize, hex } from "../util/size.ts";
import {
  addr,
  at,
  bool,
  context,
  type FieldReader,
  int,
  memslot,
  obj,
  readObject,
  type Schema,
  schemaKeys,
  size,
  type TraceConfig,
  TraceError,
  UnknownKeyError,
} from "./fields.ts";

/** Host operations on a canonical range through the MMU notifier. */
export type HostRangeOp = "migrate" | "swap-out" | "numa-scan" | "thp-split";

/** One event of a trace. */
export type TraceEvent =
  | { op: "l1-map"; ctx: number; l2ipa: number; l1ipa: number; size: number; writable: boolean }
  | { op: "l1-unmap"; ctx: number; l2ipa: number; size: number }
  | { op: "access"; vcpu: number; ctx: number; l2ipa: number; write: boolean }
  | {
    op: "touch";
    vcpu: number;
    ctx: number;
    l2ipa: number;
    size: number;
    stride: number;
    write: boolean;
  }
  | { op: "l1-access"; l1ipa: number; write: boolean }
  | { op: "tlbi-ipa"; vmid: number; l2ipa: number; ttl: number }
  | { op: "tlbi-range"; vmid: number; l2ipa: number; size: number }
  | { op: "tlbi-vmid"; vmid: number }
  | { op: "tlbi-all" }
  | { op: "ctx-create"; context: L1ContextSpec }
  | { op: "ctx-destroy"; ctx: number }
  | { [O in HostRangeOp]: { op: O; l1ipa: number; size: number } }[HostRangeOp]
  | { op: "memslot-delete"; slot: number }
  | { op: "memslot-add"; memslot: MemslotSpec }
  | { op: "wp"; slot: number }
  | { op: "flush" }
  | { op: "l1-reboot" };

/** An operation's name. */
export type TraceOp = TraceEvent["op"];

/** The event of operation `O`. */
export type EventOf<O extends TraceOp> = Extract<TraceEvent, { op: O }>;

/** An L2 vCPU's access to memory (the events of class `l2-access`). */
export type GuestAccessEvent = Extract<TraceEvent, { vcpu: number; ctx: number; l2ipa: number }>;

/**
 * Who acts in an operation, and what it may change:
 * - `l1-table`: L1 writes its own stage-2 tables or contexts; no shadow leaf and no host
 *   page changes (what L1 changed stays allowed until its TLBI);
 * - `l1-canonical`: L1 touches its own memory; only the canonical stage-2 changes;
 * - `l2-access`: an L2 vCPU touches memory: a shadow hit or a shadow fault;
 * - `l1-tlbi`: L1 invalidates; KVM's TLBI handlers (sys_regs.c) act, whatever the design;
 * - `design-tlbi`: TLBI ALLE1IS, which is kvm_nested_s2_unmap(), the design's;
 * - `host-unmap`: the host unmaps canonical memory (MMU notifier, memslot delete);
 * - `host-wp`, `host-flush`: dirty-log write protection, a cache flush of the VM;
 * - `host-config`: the VMM adds a memslot;
 * - `l1-reboot`: L1 leaves and forgets every context, then TLBI ALLE1IS.
 */
export type OpClass =
  | "l1-table"
  | "l1-canonical"
  | "l2-access"
  | "l1-tlbi"
  | "design-tlbi"
  | "host-unmap"
  | "host-wp"
  | "host-flush"
  | "host-config"
  | "l1-reboot";

/**
 * Per class, whether it is *shadow-neutral*: after it every shadow leaf stays as allowed
 * as before, so the oracle's findings stand without a check. True for `l1-table` and
 * `l1-canonical` (no shadow leaf and no host page changes, and what L1 changed stays
 * allowed, as an old leaf not yet invalidated, until its TLBI) and for `host-config` (a
 * new memslot changes no shadow leaf and no page behind one).
 */
export const SHADOW_NEUTRAL: { readonly [C in OpClass]: boolean } = {
  "l1-table": true,
  "l1-canonical": true,
  "l2-access": false,
  "l1-tlbi": false,
  "design-tlbi": false,
  "host-unmap": false,
  "host-wp": false,
  "host-flush": false,
  "host-config": true,
  "l1-reboot": false,
};

/** What applying an event did, for the oracle. */
export interface Applied {
  /** Canonical ranges the host invalidated (no shadow leaf may map into them after). */
  invalidated?: [number, number][];
  /** Canonical ranges the host write-protected (dirty logging of a memslot). */
  writeProtected?: [number, number][];
  /** What an access came to. */
  result?: AccessResult;
  /** What a flush covered. */
  flushed?: FlushRecord;
  /** An L1 TLBI RIPAS2E1IS: its range and the old L1 leaves it invalidated. */
  rangeTlbi?: { start: number; end: number; dropped: DroppedLeaf[] };
  /** The VMID an L1 TLBI by address or by VMID invalidates. */
  tlbiVmid?: number;
}

/**
 * How a KVM selftest that runs in L1 (`lib/selftest`) produces an operation:
 * - `l1`: the program itself (an L2 VM, its memslots, a guest step, a read or write of
 *   the memfd that is L1's memory);
 * - `host`: the companion host (L0) script, one stage per event; `newPage` when the host
 *   gives the memory a new page, so that L1's next write lands in another host page than
 *   a stale shadow entry maps and L2 can tell the stale entry by content;
 * - `none`: nothing in L1 userspace or an L0 shell can produce it (or the exporter does
 *   not), and why.
 */
export type SelftestRole =
  | { readonly by: "l1" }
  | { readonly by: "host"; readonly newPage: boolean }
  | { readonly by: "none"; readonly why: string };

/** One operation of the table. */
export interface OpSpec<O extends TraceOp> {
  /** Who acts and what may change. */
  readonly cls: OpClass;
  /**
   * The event's keys besides `op`, each with the reader of its value (the environment is
   * the trace's configuration): the keys a trace may give it, and no others.
   */
  readonly fields: Schema<Omit<EventOf<O>, "op">, TraceConfig>;
  /** Checks between fields, after they are read (`path` names the event). */
  readonly check?: (e: EventOf<O>, path: string) => void;
  /** Do it to the VM. */
  apply(kvm: Kvm, e: EventOf<O>): Applied;
  /** Its operands in one line, addresses in hex. */
  describe(e: EventOf<O>): string;
  /** Class `l2-access` only: the bytes from its L2 IPA that it touches. */
  readonly span?: (e: EventOf<O>) => number;
  /** How a selftest in L1 produces it. */
  readonly selftest: SelftestRole;
}

const ctxField: FieldReader<number> = (o, k, p) => int(o, k, p, 0, 2 ** 31);
const vmidField: FieldReader<number> = (o, k, p) => int(o, k, p, 0, 65535);
const slotField: FieldReader<number> = (o, k, p) => int(o, k, p, 0, 32767);
const vcpuField: FieldReader<number, TraceConfig> = (o, k, p, cfg) =>
  int(o, k, p, 0, cfg.vcpus - 1);
const flag = (def: boolean): FieldReader<boolean> => (o, k, p) => bool(o, k, p, def);
/** `read` or `write`: the direction of an access. */
const direction = (write: boolean) => (write ? "write" : "read");

/** L1's KVM issues its TLBIs itself: no TLBI of L1's userspace. */
const L1_KVM_TLBI: SelftestRole = {
  by: "none",
  why: "L1's KVM issues TLBIs itself; L1 userspace cannot issue one on its own",
};

/** A host operation on a canonical range through the MMU notifier. */
function hostRange<O extends HostRangeOp>(
  op: O,
  run: (kvm: Kvm, start: number, end: number) => [number, number],
  newPage: boolean,
): OpSpec<O> {
  type E = { op: O; l1ipa: number; size: number };
  return {
    cls: "host-unmap",
    fields: { l1ipa: addr, size } as unknown as OpSpec<O>["fields"],
    apply: (kvm, e) => {
      const { l1ipa, size } = e as E;
      // The host acts on memory the VMM registered: a range that meets no memslot is no
      // host operation KVM could see (the MMU notifier only reaches memslot HVAs).
      if (!kvm.host.memslots.some((m) => m.base < l1ipa + size && l1ipa < m.base + m.size)) {
        throw new RangeError(
          `${op} of L1 ${hex(l1ipa)} +${
            formatSize(size)
          } meets no memslot (the host can only act on memory a memslot maps)`,
        );
      }
      return { invalidated: [run(kvm, l1ipa, l1ipa + size)] };
    },
    describe: (e) => `L1 ${hex((e as E).l1ipa)} +${hex((e as E).size)}`,
    selftest: { by: "host", newPage },
  };
}

/** Every operation, in the order error messages and tables list them. */
export const OPS: { readonly [O in TraceOp]: OpSpec<O> } = {
  "l1-map": {
    cls: "l1-table",
    fields: { ctx: ctxField, l2ipa: addr, l1ipa: addr, size, writable: flag(true) },
    apply: (kvm, e) => {
      kvm.l1.map(e.ctx, e.l2ipa, e.size, e.l1ipa, e.writable);
      return {};
    },
    describe: (e) =>
      `ctx ${e.ctx} L2 ${hex(e.l2ipa)} -> L1 ${hex(e.l1ipa)} +${hex(e.size)}${
        e.writable ? "" : " ro"
      }`,
    selftest: { by: "l1" },
  },
  "l1-unmap": {
    cls: "l1-table",
    fields: { ctx: ctxField, l2ipa: addr, size },
    apply: (kvm, e) => {
      kvm.l1.unmap(e.ctx, e.l2ipa, e.size);
      return {};
    },
    describe: (e) => `ctx ${e.ctx} L2 ${hex(e.l2ipa)} +${hex(e.size)}`,
    selftest: { by: "l1" },
  },
  "access": {
    cls: "l2-access",
    fields: { vcpu: vcpuField, ctx: ctxField, l2ipa: addr, write: flag(false) },
    apply: (kvm, e) => ({ result: l2Access(kvm, e.vcpu, e.ctx, e.l2ipa, e.write) }),
    describe: (e) => `vcpu ${e.vcpu} ctx ${e.ctx} L2 ${hex(e.l2ipa)} ${direction(e.write)}`,
    span: () => 1,
    selftest: { by: "l1" },
  },
  "touch": {
    cls: "l2-access",
    fields: {
      vcpu: vcpuField,
      ctx: ctxField,
      l2ipa: addr,
      size,
      stride: (o, k, p, cfg) =>
        o[k] === undefined ? granule(cfg.hostGranule).pageSize : size(o, k, p),
      write: flag(false),
    },
    check: (e, path) => {
      if (e.stride > e.size) {
        throw new TraceError(
          at(path, "stride"),
          `${hex(e.stride)} is larger than size ${hex(e.size)}`,
        );
      }
    },
    apply: (kvm, e) => ({
      result: l2Touch(kvm, e.vcpu, e.ctx, e.l2ipa, e.size, e.stride, e.write),
    }),
    describe: (e) =>
      `vcpu ${e.vcpu} ctx ${e.ctx} L2 ${hex(e.l2ipa)} +${hex(e.size)} every ${hex(e.stride)} ` +
      direction(e.write),
    span: (e) => e.size,
    selftest: {
      by: "none",
      why: "the exporter turns single accesses into guest steps, not a touch of a range " +
        "(write it as accesses)",
    },
  },
  "l1-access": {
    cls: "l1-canonical",
    fields: { l1ipa: addr, write: flag(false) },
    apply: (kvm, e) => ({ result: l1Access(kvm, e.l1ipa, e.write) }),
    describe: (e) => `L1 ${hex(e.l1ipa)} ${direction(e.write)}`,
    selftest: { by: "l1" },
  },
  "tlbi-ipa": {
    cls: "l1-tlbi",
    fields: { vmid: vmidField, l2ipa: addr, ttl: (o, k, p) => int(o, k, p, 0, 3, 0) },
    apply: (kvm, e) => {
      handleIpas2e1is(kvm, e.vmid, e.l2ipa, e.ttl);
      kvm.l1.tlbiIpa(e.vmid, e.l2ipa, e.ttl);
      return { tlbiVmid: e.vmid };
    },
    describe: (e) => `vmid ${e.vmid} L2 ${hex(e.l2ipa)}${e.ttl ? ` ttl ${e.ttl}` : ""}`,
    selftest: L1_KVM_TLBI,
  },
  "tlbi-range": {
    cls: "l1-tlbi",
    fields: { vmid: vmidField, l2ipa: addr, size },
    apply: (kvm, e) => {
      const start = e.l2ipa, end = e.l2ipa + e.size;
      handleRipas2e1is(kvm, e.vmid, start, end);
      return {
        rangeTlbi: { start, end, dropped: kvm.l1.tlbiRange(e.vmid, start, end) },
        tlbiVmid: e.vmid,
      };
    },
    describe: (e) => `vmid ${e.vmid} L2 ${hex(e.l2ipa)} +${hex(e.size)}`,
    selftest: L1_KVM_TLBI,
  },
  "tlbi-vmid": {
    cls: "l1-tlbi",
    fields: { vmid: vmidField },
    apply: (kvm, e) => {
      handleVmalls12e1is(kvm, e.vmid);
      kvm.l1.tlbiVmid(e.vmid);
      return { tlbiVmid: e.vmid };
    },
    describe: (e) => `vmid ${e.vmid}`,
    selftest: L1_KVM_TLBI,
  },
  "tlbi-all": {
    cls: "design-tlbi",
    fields: {},
    apply: (kvm) => {
      handleAlle1is(kvm);
      kvm.l1.tlbiAll();
      return {};
    },
    describe: () => "",
    selftest: L1_KVM_TLBI,
  },
  "ctx-create": {
    cls: "l1-table",
    fields: { context: (o, k, p) => context(o[k], at(p, k)) },
    apply: (kvm, e) => {
      kvm.l1.createContext(e.context);
      return {};
    },
    describe: (e) =>
      `ctx ${e.context.id} vmid ${e.context.vmid} ${e.context.granule}/${e.context.ipaBits}`,
    selftest: { by: "l1" },
  },
  "ctx-destroy": {
    cls: "l1-table",
    fields: { ctx: ctxField },
    apply: (kvm, e) => {
      kvm.l1.destroyContext(e.ctx);
      return {};
    },
    describe: (e) => `ctx ${e.ctx}`,
    selftest: { by: "none", why: "the L2 VMs live to the end of the program" },
  },
  "migrate": hostRange("migrate", migratePages, true),
  "swap-out": hostRange("swap-out", swapOut, true),
  "numa-scan": hostRange("numa-scan", numaScan, false),
  "thp-split": hostRange("thp-split", thpSplit, false),
  "memslot-delete": {
    cls: "host-unmap",
    fields: { slot: slotField },
    apply: (kvm, e) => ({ invalidated: [kvmDeleteMemslot(kvm, e.slot)] }),
    describe: (e) => `slot ${e.slot}`,
    selftest: {
      by: "none",
      why: "L1's memory is unplugged by the L0 VMM (memory hot-unplug); not scripted",
    },
  },
  "memslot-add": {
    cls: "host-config",
    fields: { memslot: (o, k, p, cfg) => memslot(o[k], at(p, k), cfg.hostGranule) },
    apply: (kvm, e) => {
      kvmAddMemslot(kvm, e.memslot);
      return {};
    },
    describe: (e) =>
      `slot ${e.memslot.id} ${hex(e.memslot.base)} +${hex(e.memslot.size)} ${e.memslot.backing}`,
    selftest: {
      by: "none",
      why: "L1's memory is plugged by the L0 VMM (memory hotplug); not scripted",
    },
  },
  "wp": {
    cls: "host-wp",
    fields: { slot: slotField },
    apply: (kvm, e) => {
      kvmMmuWpMemoryRegion(kvm, e.slot);
      const s = kvm.host.memslot(e.slot);
      return { writeProtected: [[s.base, s.base + s.size]] };
    },
    describe: (e) => `slot ${e.slot}`,
    selftest: {
      by: "none",
      why: "dirty logging on L1's memory is started by the L0 VMM (e.g. a live migration " +
        "of L1); not scripted",
    },
  },
  "flush": {
    cls: "host-flush",
    fields: {},
    apply: (kvm) => {
      stage2FlushVm(kvm);
      return { flushed: kvm.lastFlush ?? undefined };
    },
    describe: () => "",
    selftest: {
      by: "none",
      why: "kvm_nested_s2_flush() runs when L1 toggles its caches (set/way maintenance): " +
        "no userspace trigger",
    },
  },
  "l1-reboot": {
    cls: "l1-reboot",
    fields: {},
    apply: (kvm) => {
      kvmVcpuPutAll(kvm);
      for (const c of kvm.l1.contexts) c.destroyed = true;
      handleAlle1is(kvm);
      kvm.l1.tlbiAll();
      return {};
    },
    describe: () => "",
    selftest: { by: "none", why: "the program runs in L1 and cannot reboot it" },
  },
};

/** The operations a trace may use, in table order. */
export const TRACE_OPS: readonly TraceOp[] = Object.keys(OPS) as TraceOp[];

/** The spec of `op`, for code that handles every operation alike. */
const spec = (op: TraceOp) => OPS[op] as OpSpec<TraceOp>;

/** The keys an event of `op` may hold, `op` first, in table order. */
export function opKeys(op: TraceOp): string[] {
  return ["op", ...schemaKeys(spec(op).fields)];
}

/** The class of an operation. */
export function opClass(op: TraceOp): OpClass {
  return OPS[op].cls;
}

/** Host operations that reach kvm_nested_s2_unmap() for a canonical range (class `host-unmap`). */
export const HOST_UNMAP_OPS: readonly TraceOp[] = TRACE_OPS.filter((op) =>
  OPS[op].cls === "host-unmap"
);

/** Whether `e` is an L2 vCPU's access to memory (class `l2-access`). */
export function isGuestAccess(e: TraceEvent): e is GuestAccessEvent {
  return OPS[e.op].cls === "l2-access";
}

/** The end of the L2 range a guest access touches (its L2 IPA plus the bytes it covers). */
export function guestAccessEnd(e: GuestAccessEvent): number {
  return e.l2ipa + spec(e.op).span!(e);
}

/** How a selftest in L1 produces `op` (see {@linkcode SelftestRole}). */
export function selftestRole(op: TraceOp): SelftestRole {
  return OPS[op].selftest;
}

/** Read one event; throws a {@linkcode TraceError} naming the field, or the unknown key. */
export function parseEvent(v: unknown, path: string, cfg: TraceConfig): TraceEvent {
  const o = obj(v, path);
  const op = o.op;
  if (typeof op !== "string" || !Object.hasOwn(OPS, op)) {
    if (op === undefined) {
      // A misspelled "op" is named as such, not as a missing one.
      const near = Object.keys(o).find((k) => nearestKey(k, ["op"]) === "op");
      if (near !== undefined) {
        throw new UnknownKeyError(path, {
          key: near,
          problem: `unknown key "${near}" (did you mean "op"?)`,
        });
      }
      throw new TraceError(at(path, "op"), "missing");
    }
    const near = typeof op === "string" ? nearestKey(op, TRACE_OPS) : undefined;
    throw new TraceError(
      at(path, "op"),
      `unknown operation ${JSON.stringify(op)} ` +
        (near ? `(did you mean "${near}"?)` : `(expected one of ${TRACE_OPS.join(", ")})`),
    );
  }
  const s = spec(op as TraceOp);
  const e = { op, ...readObject(o, path, s.fields, cfg, ["op"]) } as TraceEvent;
  s.check?.(e, path);
  return e;
}

/** Apply one event to the VM. */
export function applyEvent(kvm: Kvm, e: TraceEvent): Applied {
  return spec(e.op).apply(kvm, e);
}

/**
 * One line of an event's operands, addresses in hex: what `deno task replay` prints and
 * what the selftest's comments tag each block with.
 */
export function describeEvent(e: TraceEvent): string {
  return spec(e.op).describe(e);
}
