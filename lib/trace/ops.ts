/**
 * The trace's vocabulary, one table: every operation a trace may use, with how it parses
 * from JSON, what it does to the VM (the kernel entry points it drives), how it reads in
 * one line, and its class (who acts, and what it may change). Replay, the cases, the
 * sweep's aggregation and the fuzzer all derive from this table.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { describeEvent, HOST_UNMAP_OPS, opClass, parseEvent } from "./ops.ts";
 * const cfg = { hostGranule: "4K", paBits: 40, vcpus: 1, memslots: [], contexts: [] };
 * const e = parseEvent({ op: "migrate", l1ipa: "1G", size: "4K" }, "events[0]", cfg);
 * assertEquals(describeEvent(e), "L1 0x40000000 +0x1000");
 * assertEquals(opClass("migrate"), "host-unmap");
 * assertEquals(HOST_UNMAP_OPS, ["migrate", "swap-out", "numa-scan", "thp-split", "memslot-delete"]);
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
import { formatSize, hex } from "../util/size.ts";
import {
  addr,
  bool,
  context,
  int,
  type Json,
  memslot,
  obj,
  size,
  type TraceConfig,
  TraceError,
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

/** What applying an event did, for the oracle. */
export interface Applied {
  /** Canonical ranges the host invalidated (no shadow leaf may map into them after). */
  invalidated?: [number, number][];
  /** What an access came to. */
  result?: AccessResult;
  /** What a flush covered. */
  flushed?: FlushRecord;
  /** An L1 TLBI RIPAS2E1IS: its range and the old L1 leaves it invalidated. */
  rangeTlbi?: { start: number; end: number; dropped: DroppedLeaf[] };
}

/** One operation of the table. */
export interface OpSpec<O extends TraceOp> {
  /** Who acts and what may change. */
  readonly cls: OpClass;
  /** Read the event's fields from JSON (`path` names it in errors). */
  parse(o: Json, path: string, cfg: TraceConfig): EventOf<O>;
  /** Do it to the VM. */
  apply(kvm: Kvm, e: EventOf<O>): Applied;
  /** Its operands in one line, addresses in hex. */
  describe(e: EventOf<O>): string;
}

const ctxField = (o: Json, path: string) => int(o, "ctx", path, 0, 2 ** 31);
const vmidField = (o: Json, path: string) => int(o, "vmid", path, 0, 65535);

/** A host operation on a canonical range through the MMU notifier. */
function hostRange<O extends HostRangeOp>(
  op: O,
  run: (kvm: Kvm, start: number, end: number) => [number, number],
): OpSpec<O> {
  type E = { op: O; l1ipa: number; size: number };
  return {
    cls: "host-unmap",
    parse: (o, path) =>
      ({ op, l1ipa: addr(o, "l1ipa", path), size: size(o, "size", path) }) as EventOf<O>,
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
  };
}

/** Every operation, in the order error messages and tables list them. */
export const OPS: { readonly [O in TraceOp]: OpSpec<O> } = {
  "l1-map": {
    cls: "l1-table",
    parse: (o, path) => ({
      op: "l1-map",
      ctx: ctxField(o, path),
      l2ipa: addr(o, "l2ipa", path),
      l1ipa: addr(o, "l1ipa", path),
      size: size(o, "size", path),
      writable: bool(o, "writable", path, true),
    }),
    apply: (kvm, e) => {
      kvm.l1.map(e.ctx, e.l2ipa, e.size, e.l1ipa, e.writable);
      return {};
    },
    describe: (e) =>
      `ctx ${e.ctx} L2 ${hex(e.l2ipa)} -> L1 ${hex(e.l1ipa)} +${hex(e.size)}${
        e.writable ? "" : " ro"
      }`,
  },
  "l1-unmap": {
    cls: "l1-table",
    parse: (o, path) => ({
      op: "l1-unmap",
      ctx: ctxField(o, path),
      l2ipa: addr(o, "l2ipa", path),
      size: size(o, "size", path),
    }),
    apply: (kvm, e) => {
      kvm.l1.unmap(e.ctx, e.l2ipa, e.size);
      return {};
    },
    describe: (e) => `ctx ${e.ctx} L2 ${hex(e.l2ipa)} +${hex(e.size)}`,
  },
  "access": {
    cls: "l2-access",
    parse: (o, path, cfg) => ({
      op: "access",
      vcpu: int(o, "vcpu", path, 0, cfg.vcpus - 1),
      ctx: ctxField(o, path),
      l2ipa: addr(o, "l2ipa", path),
      write: bool(o, "write", path, false),
    }),
    apply: (kvm, e) => ({ result: l2Access(kvm, e.vcpu, e.ctx, e.l2ipa, e.write) }),
    describe: (e) => `vcpu ${e.vcpu} ctx ${e.ctx} L2 ${hex(e.l2ipa)}${e.write ? " write" : ""}`,
  },
  "touch": {
    cls: "l2-access",
    parse: (o, path, cfg) => {
      const e = {
        op: "touch" as const,
        vcpu: int(o, "vcpu", path, 0, cfg.vcpus - 1),
        ctx: ctxField(o, path),
        l2ipa: addr(o, "l2ipa", path),
        size: size(o, "size", path),
        stride: o.stride === undefined
          ? granule(cfg.hostGranule).pageSize
          : size(o, "stride", path),
        write: bool(o, "write", path, false),
      };
      if (e.stride > e.size) {
        throw new TraceError(
          `${path}.stride`,
          `${hex(e.stride)} is larger than size ${hex(e.size)}`,
        );
      }
      return e;
    },
    apply: (kvm, e) => ({
      result: l2Touch(kvm, e.vcpu, e.ctx, e.l2ipa, e.size, e.stride, e.write),
    }),
    describe: (e) =>
      `vcpu ${e.vcpu} ctx ${e.ctx} L2 ${hex(e.l2ipa)} +${hex(e.size)}` +
      `${e.stride !== 0x1000 ? ` every ${hex(e.stride)}` : ""}${e.write ? " write" : ""}`,
  },
  "l1-access": {
    cls: "l1-canonical",
    parse: (o, path) => ({
      op: "l1-access",
      l1ipa: addr(o, "l1ipa", path),
      write: bool(o, "write", path, false),
    }),
    apply: (kvm, e) => ({ result: l1Access(kvm, e.l1ipa, e.write) }),
    describe: (e) => `L1 ${hex(e.l1ipa)}${e.write ? " write" : ""}`,
  },
  "tlbi-ipa": {
    cls: "l1-tlbi",
    parse: (o, path) => ({
      op: "tlbi-ipa",
      vmid: vmidField(o, path),
      l2ipa: addr(o, "l2ipa", path),
      ttl: int(o, "ttl", path, 0, 3, 0),
    }),
    apply: (kvm, e) => {
      handleIpas2e1is(kvm, e.vmid, e.l2ipa, e.ttl);
      kvm.l1.tlbiIpa(e.vmid, e.l2ipa, e.ttl);
      return {};
    },
    describe: (e) => `vmid ${e.vmid} L2 ${hex(e.l2ipa)}${e.ttl ? ` ttl ${e.ttl}` : ""}`,
  },
  "tlbi-range": {
    cls: "l1-tlbi",
    parse: (o, path) => ({
      op: "tlbi-range",
      vmid: vmidField(o, path),
      l2ipa: addr(o, "l2ipa", path),
      size: size(o, "size", path),
    }),
    apply: (kvm, e) => {
      const start = e.l2ipa, end = e.l2ipa + e.size;
      handleRipas2e1is(kvm, e.vmid, start, end);
      return { rangeTlbi: { start, end, dropped: kvm.l1.tlbiRange(e.vmid, start, end) } };
    },
    describe: (e) => `vmid ${e.vmid} L2 ${hex(e.l2ipa)} +${hex(e.size)}`,
  },
  "tlbi-vmid": {
    cls: "l1-tlbi",
    parse: (o, path) => ({ op: "tlbi-vmid", vmid: vmidField(o, path) }),
    apply: (kvm, e) => {
      handleVmalls12e1is(kvm, e.vmid);
      kvm.l1.tlbiVmid(e.vmid);
      return {};
    },
    describe: (e) => `vmid ${e.vmid}`,
  },
  "tlbi-all": {
    cls: "design-tlbi",
    parse: () => ({ op: "tlbi-all" }),
    apply: (kvm) => {
      handleAlle1is(kvm);
      kvm.l1.tlbiAll();
      return {};
    },
    describe: () => "",
  },
  "ctx-create": {
    cls: "l1-table",
    parse: (o, path) => ({ op: "ctx-create", context: context(o.context, `${path}.context`) }),
    apply: (kvm, e) => {
      kvm.l1.createContext(e.context);
      return {};
    },
    describe: (e) =>
      `ctx ${e.context.id} vmid ${e.context.vmid} ${e.context.granule}/${e.context.ipaBits}`,
  },
  "ctx-destroy": {
    cls: "l1-table",
    parse: (o, path) => ({ op: "ctx-destroy", ctx: ctxField(o, path) }),
    apply: (kvm, e) => {
      kvm.l1.destroyContext(e.ctx);
      return {};
    },
    describe: (e) => `ctx ${e.ctx}`,
  },
  "migrate": hostRange("migrate", migratePages),
  "swap-out": hostRange("swap-out", swapOut),
  "numa-scan": hostRange("numa-scan", numaScan),
  "thp-split": hostRange("thp-split", thpSplit),
  "memslot-delete": {
    cls: "host-unmap",
    parse: (o, path) => ({ op: "memslot-delete", slot: int(o, "slot", path, 0, 32767) }),
    apply: (kvm, e) => ({ invalidated: [kvmDeleteMemslot(kvm, e.slot)] }),
    describe: (e) => `slot ${e.slot}`,
  },
  "memslot-add": {
    cls: "host-config",
    parse: (o, path, cfg) => ({
      op: "memslot-add",
      memslot: memslot(o.memslot, `${path}.memslot`, cfg.hostGranule),
    }),
    apply: (kvm, e) => {
      kvmAddMemslot(kvm, e.memslot);
      return {};
    },
    describe: (e) =>
      `slot ${e.memslot.id} ${hex(e.memslot.base)} +${hex(e.memslot.size)} ${e.memslot.backing}`,
  },
  "wp": {
    cls: "host-wp",
    parse: (o, path) => ({ op: "wp", slot: int(o, "slot", path, 0, 32767) }),
    apply: (kvm, e) => {
      kvmMmuWpMemoryRegion(kvm, e.slot);
      return {};
    },
    describe: (e) => `slot ${e.slot}`,
  },
  "flush": {
    cls: "host-flush",
    parse: () => ({ op: "flush" }),
    apply: (kvm) => {
      stage2FlushVm(kvm);
      return { flushed: kvm.lastFlush ?? undefined };
    },
    describe: () => "",
  },
  "l1-reboot": {
    cls: "l1-reboot",
    parse: () => ({ op: "l1-reboot" }),
    apply: (kvm) => {
      kvmVcpuPutAll(kvm);
      for (const c of kvm.l1.contexts) c.destroyed = true;
      handleAlle1is(kvm);
      kvm.l1.tlbiAll();
      return {};
    },
    describe: () => "",
  },
};

/** The operations a trace may use, in table order. */
export const TRACE_OPS: readonly TraceOp[] = Object.keys(OPS) as TraceOp[];

/** The class of an operation. */
export function opClass(op: TraceOp): OpClass {
  return OPS[op].cls;
}

/** Host operations that reach kvm_nested_s2_unmap() for a canonical range (class `host-unmap`). */
export const HOST_UNMAP_OPS: readonly TraceOp[] = TRACE_OPS.filter((op) =>
  OPS[op].cls === "host-unmap"
);

/**
 * Operations after which every shadow leaf stays as allowed as before (classes `l1-table`
 * and `l1-canonical`): no shadow leaf and no host page changed, and what L1 changed stays
 * allowed (as an old leaf not yet invalidated) until its TLBI.
 */
export function isShadowNeutral(op: TraceOp): boolean {
  const c = OPS[op].cls;
  return c === "l1-table" || c === "l1-canonical";
}

/** Read one event; throws a {@linkcode TraceError} naming the field. */
export function parseEvent(v: unknown, path: string, cfg: TraceConfig): TraceEvent {
  const o = obj(v, path);
  const op = o.op;
  if (typeof op !== "string" || !Object.hasOwn(OPS, op)) {
    throw new TraceError(
      `${path}.op`,
      `unknown operation ${JSON.stringify(op)} (expected one of ${TRACE_OPS.join(", ")})`,
    );
  }
  return (OPS[op as TraceOp] as OpSpec<TraceOp>).parse(o, path, cfg);
}

/** Apply one event to the VM. */
export function applyEvent(kvm: Kvm, e: TraceEvent): Applied {
  return (OPS[e.op] as OpSpec<TraceOp>).apply(kvm, e);
}

/** One line of an event's operands, addresses in hex. */
export function describeEvent(e: TraceEvent): string {
  return (OPS[e.op] as OpSpec<TraceOp>).describe(e);
}
