/**
 * Trace replay: apply a trace's events to a VM (`kvmCreateVm()`) with one strategy and run
 * the oracle after each event (`check.ts`: every leaf an event can make wrong, or in the
 * incremental mode only the leaves it can affect), collecting per-event work and findings.
 * After a shadow-neutral event (its class in the op table: L1's own tables or contexts,
 * L1's canonical faults, a new memslot), the previous findings stand: no shadow leaf and no
 * host page changed, and what L1 changed stays allowed (as an old leaf not yet
 * invalidated) until its TLBI, which is checked.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseTrace } from "./trace.ts";
 * import { replay } from "./replay.ts";
 * import { makeStrategy } from "../strategies/mod.ts";
 * const trace = parseTrace({
 *   name: "alias", config: { hostGranule: "4K", paBits: 40, vcpus: 1,
 *     memslots: [{ id: 0, base: "1G", size: "1G", backing: "page" }],
 *     contexts: [{ id: 1, vmid: 1, granule: "4K", ipaBits: 40 }] },
 *   events: [{ op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
 *            { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G" },
 *            { op: "migrate", l1ipa: "1G", size: "4K" }] });
 * const r = replay(trace, makeStrategy("full-walk"));
 * assertEquals([r.violations, r.events[2].iterations], [0, 1024]);
 * ```
 * @module
 */

import type { AccessResult, Kvm } from "../kvm/kvm.ts";
import { kvmCreateVm } from "../kvm/kvm_main.ts";
import type { ReverseMapStrategy } from "../kvm/strategy.ts";
import type { Violation } from "../oracle/oracle.ts";
import { TraceError } from "./fields.ts";
import { EventChecker } from "./check.ts";
import { type Applied, applyEvent, describeEvent, isGuestAccess, type TraceOp } from "./ops.ts";
import type { Trace } from "./trace.ts";

/** Work and findings of one event. */
export interface EventReport {
  /** Event index. */
  index: number;
  /** Operation. */
  op: TraceOp;
  /** The event's operands in one line (addresses in hex); "" without `eventDetail`. */
  detail: string;
  /** What an access came to (accesses only). */
  result?: AccessResult;
  /** Strategy work: stage2_apply_range() iterations plus index steps. */
  iterations: number;
  /** stage2_apply_range() iterations the strategy's shadow operations spent. */
  chunks: number;
  /** Index steps the strategy spent. */
  steps: number;
  /** Shadow descriptors the strategy's walks visited. */
  descriptors: number;
  /** Shadow iterations the kernel spends whatever the strategy (TLBI, MMU reset). */
  engineIterations: number;
  /** Canonical stage-2 iterations (the same for every strategy). */
  canonicalIterations: number;
  /** Shadow leaves removed that the host operation required. */
  removedNeeded: number;
  /** Shadow leaves a host operation removed without need. */
  removedCollateral: number;
  /** Shadow leaves removed for other reasons. */
  removedOther: number;
  /** Shadow faults handled. */
  faults: number;
  /** Faults on shadow IPAs a host operation had removed as collateral. */
  refaults: number;
  /** Strategy memory after the event, modeled kernel bytes. */
  memoryBytes: number;
  /** Live shadow leaves after the event. */
  shadowLeaves: number;
  /** Shadow table pages after the event (over every MMU, the pgd pages included). */
  shadowTablePages: number;
  /** Shadow table pages the event freed (tables emptied by an unmap, or replaced). */
  tablesFreed: number;
  /** The vCPU of a guest access (class `l2-access`), else -1. */
  vcpu: number;
  /**
   * Violations live after the event (stale entries still there), each as first found;
   * empty without `eventDetail` (on by default when per-event reports are kept).
   */
  violations: Violation[];
  /** Violations first seen at this event. */
  newViolations: number;
}

/** The whole replay. */
export interface ReplayReport {
  /** Trace name. */
  trace: string;
  /** Strategy name. */
  strategy: string;
  /** Per-event reports. */
  events: EventReport[];
  /**
   * Distinct stale shadow leaves the oracle blamed on the design: a leaf (MMU, shadow IPA,
   * host PA) counts once, whatever rules it breaks over the replay.
   */
  violations: number;
  /** Distinct leaves found `kvm-baseline`: what KVM itself leaves, whatever the design. */
  kvmBaseline: number;
  /**
   * Each distinct finding, a (leaf, kind) pair, at the event it was first seen: a stale leaf
   * appears once per rule it breaks (e.g. `not-invalidated` at a migration, `stale-pa` after).
   */
  firstSeen: Violation[];
  /** Fallbacks to the full walk (budgeted strategies). */
  fallbacks: number;
  /** Peak strategy memory, modeled kernel bytes. */
  peakMemoryBytes: number;
  /** Peak live shadow leaves. */
  peakShadowLeaves: number;
}

/** Options of {@linkcode replay}. */
export interface ReplayOptions {
  /** Run the oracle (default true). */
  oracle?: boolean;
  /** Called after each event (for streaming output). */
  onEvent?: (r: EventReport) => void;
  /** Keep per-event reports in the result (default true; sweeps turn it off). */
  keepEvents?: boolean;
  /**
   * Fill each report's `detail` and standing `violations` (default: when events are kept).
   * Without it `onEvent` gets them empty: listing the standing findings after every event
   * costs their number each time, which a sweep that only counts does not need.
   */
  eventDetail?: boolean;
  /**
   * Check every leaf an event may make wrong (default true, what the tests use); false
   * checks only the leaves each event can affect (`check.ts`), for sweeps at scale.
   */
  fullCheck?: boolean;
  /** Called after each shadow leaf a nested fault installs, with the faulting vCPU. */
  onShadowInsert?: (vcpu: number, mmu: number, canonicalIpa: number, size: number) => void;
}

/** Build the VM of a trace with a strategy (memslots and contexts of its configuration). */
export function buildKvm(trace: Trace, strategy: ReverseMapStrategy): Kvm {
  const c = trace.config;
  let kvm: Kvm;
  try {
    kvm = kvmCreateVm(c, strategy);
  } catch (e) {
    throw new TraceError("config", (e as Error).message);
  }
  c.contexts.forEach((ctx, i) => {
    try {
      kvm.l1.createContext(ctx);
    } catch (e) {
      throw new TraceError(`config.contexts[${i}]`, (e as Error).message);
    }
  });
  return kvm;
}

/** A stale leaf's identity: it counts once, whatever rules it breaks at later events. */
const leafKey = (v: Violation) => `${v.mmu}:${v.shadowIpa}:${v.pa}`;

/**
 * Replay `trace` with `strategy` under the oracle. Inconsistent events (a context or
 * memslot that does not exist, a misaligned mapping) throw a {@linkcode TraceError}
 * naming the event.
 */
export function replay(
  trace: Trace,
  strategy: ReverseMapStrategy,
  opts: ReplayOptions = {},
): ReplayReport {
  const kvm = buildKvm(trace, strategy);
  const oracle = opts.oracle ?? true;
  const keep = opts.keepEvents ?? true;
  const detail = opts.eventDetail ?? keep;
  // Per stale leaf, whom it was blamed on when first found; later findings of a leaf KVM
  // left stay KVM's.
  const blame = new Map<string, "design" | "kvm">();
  const seen = new Set<string>();
  const checker = oracle ? new EventChecker(kvm, opts.fullCheck ?? true) : null;
  const record = (found: Violation[]): number => {
    let fresh = 0;
    for (const v of found) {
      const leaf = leafKey(v);
      if (blame.get(leaf) === "kvm" && v.kind !== "kvm-baseline") {
        v.rule = v.kind;
        v.kind = "kvm-baseline";
        v.expected = `${v.rule} (${v.expected}), on a leaf KVM left earlier`;
      }
      const k = `${leaf}:${v.kind}`;
      if (!seen.has(k)) {
        seen.add(k);
        report.firstSeen.push(v);
      }
      if (!blame.has(leaf)) {
        const kvm = v.kind === "kvm-baseline";
        blame.set(leaf, kvm ? "kvm" : "design");
        if (kvm) report.kvmBaseline++;
        else fresh++;
      }
    }
    return fresh;
  };
  const report: ReplayReport = {
    trace: trace.name,
    strategy: strategy.name,
    events: [],
    violations: 0,
    kvmBaseline: 0,
    firstSeen: [],
    fallbacks: 0,
    peakMemoryBytes: 0,
    peakShadowLeaves: 0,
  };
  let vcpu = -1;
  const onInsert = opts.onShadowInsert;
  const checkerInsert = checker?.insertHook() ?? null;
  if (onInsert || checkerInsert) {
    kvm.onShadowInsert = (mmu, canonicalIpa, size, shadowIpa) => {
      checkerInsert?.(mmu, canonicalIpa, size, shadowIpa);
      onInsert?.(vcpu, mmu.id, canonicalIpa, size);
    };
  }
  const counter = kvm.shadowCounter;
  trace.events.forEach((e, index) => {
    kvm.resetCost();
    vcpu = isGuestAccess(e) ? e.vcpu : -1;
    const freedBefore = counter.tablesFreed;
    let applied: Applied;
    try {
      applied = applyEvent(kvm, e);
    } catch (err) {
      if (err instanceof RangeError) throw new TraceError(`events[${index}]`, err.message);
      throw err;
    }
    const c = kvm.cost;
    let fresh = 0;
    if (checker) fresh = record(checker.check(index, e, applied));
    const violations: Violation[] = checker && detail ? checker.standingFindings() : [];
    const memoryBytes = strategy.memoryBytes();
    const shadowLeaves = kvm.shadowLeaves();
    report.peakMemoryBytes = Math.max(report.peakMemoryBytes, memoryBytes);
    report.peakShadowLeaves = Math.max(report.peakShadowLeaves, shadowLeaves);
    const r: EventReport = {
      index,
      op: e.op,
      detail: detail ? describeEvent(e) : "",
      result: applied.result,
      iterations: c.strategy.iterations + c.strategySteps,
      chunks: c.strategy.iterations,
      steps: c.strategySteps,
      descriptors: c.strategy.descriptors,
      engineIterations: c.engine.iterations,
      canonicalIterations: c.canonical.iterations,
      removedNeeded: c.removedNeeded,
      removedCollateral: c.removedCollateral,
      removedOther: c.removedOther,
      faults: c.faults,
      refaults: c.refaults,
      memoryBytes,
      shadowLeaves,
      shadowTablePages: counter.tablePages,
      tablesFreed: counter.tablesFreed - freedBefore,
      vcpu,
      violations,
      newViolations: fresh,
    };
    if (keep) report.events.push(r);
    opts.onEvent?.(r);
  });
  report.violations = blame.size - report.kvmBaseline;
  report.fallbacks = strategy.fallbacks();
  return report;
}
