/**
 * The oracle: after an event, every live shadow leaf is checked against what the
 * architecture and the host allow it to hold, computed from the L1 stage-2 tables (and
 * the old leaves L1 has not invalidated yet) and the host's memory. It reads the world
 * only — host memory, L1's tables, the shadow tables — never a strategy's index, and it
 * does not use the canonical IPA the engine records beside each shadow leaf.
 *
 * @example A shadow leaf left on a migrated page is stale
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { checkShadows, oracleWorld } from "./oracle.ts";
 * import { kvmCreateVm } from "../kvm/kvm_main.ts";
 * import { l2Access } from "../kvm/arm.ts";
 * import { FullWalk } from "../strategies/full_walk.ts";
 * const kvm = kvmCreateVm({
 *   hostGranule: "4K", paBits: 40, vcpus: 1,
 *   memslots: [{ id: 0, base: 0x4000_0000, size: 0x4000_0000, backing: "page" }],
 * }, new FullWalk());
 * kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 40 });
 * kvm.l1.map(1, 0x1_0000_0000, 0x1000, 0x4000_0000, true);
 * l2Access(kvm, 0, 1, 0x1_0000_0000, false);
 * assertEquals(checkShadows(oracleWorld(kvm), { event: 0, op: "access" }), []);
 * kvm.host.migrateHostRange(0x4000_0000, 0x4000_1000); // behind KVM's back
 * assertEquals(checkShadows(oracleWorld(kvm), { event: 1, op: "x" }).map((v) => v.kind), [
 *   "stale-pa",
 * ]);
 * ```
 * @module
 */

import type { DroppedLeaf, L1Context, L1Hypervisor } from "../guest/l1.ts";
import type { HostMemory } from "../host/memory.ts";
import { vtcrOf } from "../kvm/nested.ts";
import type { KvmPgtable } from "../kvm/pgtable.ts";
import { forEachLeaf, kvmPgtableGetLeaf } from "../kvm/pgtable_stage2.ts";
import { newPgtableLeaf, PTE_W } from "../kvm/pte.ts";
import type { ShadowMmu } from "../kvm/s2_mmu.ts";
import { hex } from "../util/size.ts";

/** What is wrong with a shadow leaf. */
export type ViolationKind =
  /** L1 maps nothing there, and no old mapping is still allowed. */
  | "l1-unmapped"
  /** The leaf is larger than L1's mapping or the host's mapping. */
  | "too-large"
  /** The host has nothing present at the canonical IPA (swapped, freed, memslot gone). */
  | "not-present"
  /** The host page moved: the leaf points at the old host PA. */
  | "stale-pa"
  /** Writable where L1 or the host (dirty logging) allows no write. */
  | "writable"
  /** The host invalidated the canonical range at this event and the leaf survived. */
  | "not-invalidated"
  /** No L1 context holds this MMU's VTTBR any more, and L1 invalidated it. */
  | "no-context"
  /** A canonical stage-2 leaf that disagrees with host memory. */
  | "canonical-stale"
  /** A flush of the VM left this leaf's memory uncleaned (kvm_nested_s2_flush() missed it). */
  | "unflushed"
  /**
   * Not the design's: a leaf KVM itself (whatever the design) leaves where the architecture
   * invalidates it. At TLBI RIPAS2E1IS, the architecture invalidates an old L1 leaf whole
   * when the range covers any of it; KVM's handle_ripas2e1is() unmaps exactly the range from
   * the shadow, so shadow leaves of the old L1 block outside the range survive. `rule` says
   * what the leaf breaks.
   */
  | "kvm-baseline";

/** One stale or wrong entry. */
export interface Violation {
  /** Event index (0-based) after which it was found. */
  event: number;
  /** The event's operation. */
  op: string;
  /** What is wrong. */
  kind: ViolationKind;
  /** Shadow MMU index (-1 for the canonical stage-2). */
  mmu: number;
  /** L1 context id the MMU serves (-1 when none). */
  context: number;
  /** Shadow IPA (L2 IPA) of the leaf; for the canonical stage-2, the canonical IPA. */
  shadowIpa: number;
  /** Leaf size in bytes. */
  size: number;
  /** The canonical IPA it translates to by L1's tables (null when none). */
  canonicalIpa: number | null;
  /** Host PA the leaf holds. */
  pa: number;
  /** What it should have been. */
  expected: string;
  /** For `kvm-baseline`: the rule the leaf breaks. */
  rule?: ViolationKind;
}

/** What the oracle reads. */
export interface OracleWorld {
  /** Host memory and memslots. */
  host: HostMemory;
  /** L1's contexts and their tables. */
  l1: L1Hypervisor;
  /** The canonical stage-2 (kvm->arch.mmu). */
  canonical: KvmPgtable;
  /** The shadow MMUs. */
  mmus: readonly ShadowMmu[];
}

/** The world of a VM as the oracle reads it (never the design's index). */
export function oracleWorld(
  kvm: {
    host: HostMemory;
    l1: L1Hypervisor;
    canonical: KvmPgtable;
    nestedMmus: readonly ShadowMmu[];
  },
): OracleWorld {
  return { host: kvm.host, l1: kvm.l1, canonical: kvm.canonical, mmus: kvm.nestedMmus };
}

/** The event the check follows. */
export interface CheckContext {
  /** Event index. */
  event: number;
  /** Event operation. */
  op: string;
  /** Canonical ranges the host invalidated at this event (no leaf may map into them). */
  invalidated?: [number, number][];
  /**
   * A flush happened at this event: every leaf translating into `ranges` must be among
   * the leaves flushed (shadow MMU id -> base IPAs).
   */
  flushed?: {
    ranges: [number, number][];
    leaves: ReadonlyMap<number, ReadonlySet<number>>;
  };
  /**
   * Check only the leaves of `mmu` in shadow [start, end), and not the canonical stage-2
   * (after an L2 access: only that MMU gained leaves there). All leaves when absent.
   */
  only?: { mmu: ShadowMmu; start: number; end: number };
  /**
   * Check only the leaves of `mmu` based at these shadow IPAs (those an access installed),
   * and not the canonical stage-2; IPAs where no leaf starts any more are skipped.
   */
  leaves?: { mmu: ShadowMmu; ipas: readonly number[] };
  /**
   * Check only these MMUs' leaves (incremental checks: the MMUs an event can affect); with
   * `canonicalRanges`, only their leaves whose canonical IPA, as the engine recorded it at
   * install time, meets one of the ranges. The record only narrows the search: each leaf
   * found is still judged from the world alone.
   */
  mmus?: readonly ShadowMmu[];
  /** With `mmus`: the canonical ranges the event changed; the canonical stage-2 is checked there only. */
  canonicalRanges?: readonly [number, number][];
  /**
   * This event is L1's TLBI RIPAS2E1IS over [start, end), which KVM handles alone: the old
   * L1 leaves it invalidated (for `kvm-baseline`).
   */
  rangeTlbi?: { start: number; end: number; dropped: readonly DroppedLeaf[] };
}

interface Candidate {
  canonical: number;
  writable: boolean;
  source: string;
}

/**
 * The L1 contexts the MMU caches, as lookup_s2_mmu() matches them: with L1's stage 2 on, the
 * VTTBR (VMID and BADDR) and the VTCR; with it off, the VMID alone.
 */
function contextsOf(l1: L1Hypervisor, mmu: ShadowMmu): L1Context[] {
  return l1.contexts.filter((c) =>
    c.vmid === mmu.vmid && c.s2Enabled === mmu.s2Enabled &&
    (!c.s2Enabled || (c.baddr === mmu.baddr && vtcrOf(c) === mmu.vtcr))
  );
}

/** Leaves looked up in L1's stage-2, the host's tables and a shadow (each read at once). */
const L1_LEAF = newPgtableLeaf(), HOST_LEAF = newPgtableLeaf(), SHADOW_LEAF = newPgtableLeaf();

/** Translations the architecture still allows for [s, s + size) in these contexts. */
function candidates(l1: L1Hypervisor, ctxs: L1Context[], s: number, size: number): {
  list: Candidate[];
  tooLarge: boolean;
} {
  const list: Candidate[] = [];
  let tooLarge = false;
  for (const c of ctxs) {
    if (!c.s2Enabled) {
      if (s + size <= 2 ** l1.paBits) list.push({ canonical: s, writable: true, source: "S2 off" });
      continue;
    }
    if (kvmPgtableGetLeaf(c.s2, s, L1_LEAF) >= 0) {
      const base = L1_LEAF.base;
      if (base <= s && s + size <= base + L1_LEAF.size) {
        list.push({
          canonical: L1_LEAF.oa + (s - base),
          writable: (L1_LEAF.attr & PTE_W) !== 0,
          source: c.destroyed ? `destroyed context ${c.id}` : `context ${c.id}`,
        });
      } else tooLarge = true;
    }
    for (const p of c.pending) {
      if (p.base <= s && s + size <= p.base + p.size) {
        list.push({
          canonical: p.l1ipa + (s - p.base),
          writable: (p.attr & PTE_W) !== 0,
          source: `context ${c.id} old leaf not yet invalidated`,
        });
      }
    }
  }
  return { list, tooLarge };
}

/** Why host memory does not allow [canonical, +size) -> pa (writable?), or null if it does. */
function hostProblem(
  host: HostMemory,
  canonical: number,
  size: number,
  pa: number,
  writable: boolean,
  invalidated: [number, number][] | undefined,
): { kind: ViolationKind; expected: string } | null {
  if (invalidated) {
    for (const [a, b] of invalidated) {
      if (canonical < b && canonical + size > a) {
        return {
          kind: "not-invalidated",
          expected: `nothing: the host invalidated canonical [${hex(a)}, ${hex(b)})`,
        };
      }
    }
  }
  const leaf = HOST_LEAF;
  if (!host.findMemslot(canonical) || kvmPgtableGetLeaf(host.mm, canonical, leaf) < 0) {
    return {
      kind: "not-present",
      expected: `nothing: canonical ${hex(canonical)} is not present on the host`,
    };
  }
  if (leaf.base > canonical || canonical + size > leaf.base + leaf.size) {
    return {
      kind: "too-large",
      expected: `at most the host mapping of ${leaf.size} bytes at ${hex(leaf.base)}`,
    };
  }
  const now = leaf.oa + (canonical - leaf.base);
  if (now !== pa) return { kind: "stale-pa", expected: `host PA ${hex(now)}` };
  if (writable && !host.writableForKvm(canonical, size)) {
    return { kind: "writable", expected: "read-only: dirty logging has write-protected it" };
  }
  return null;
}

function checkLeaf(
  w: OracleWorld,
  cx: CheckContext,
  mmu: ShadowMmu,
  ctxs: L1Context[],
  s: number,
  size: number,
  pa: number,
  attr: number,
  out: Violation[],
): void {
  const writable = (attr & PTE_W) !== 0;
  const base = {
    event: cx.event,
    op: cx.op,
    mmu: mmu.id,
    context: mmu.contextId,
    shadowIpa: s,
    size,
    pa,
  };
  if (ctxs.length === 0) {
    out.push({
      ...base,
      kind: "no-context",
      canonicalIpa: null,
      expected: "nothing: L1 invalidated this context",
    });
    return;
  }
  const { list, tooLarge } = candidates(w.l1, ctxs, s, size);
  if (list.length === 0) {
    out.push({
      ...base,
      kind: tooLarge ? "too-large" : "l1-unmapped",
      canonicalIpa: null,
      expected: tooLarge ? "at most L1's mapping size" : "nothing: L1's stage-2 does not map it",
    });
    return;
  }
  let first: { kind: ViolationKind; expected: string; canonical: number } | null = null;
  for (const c of list) {
    if (writable && !c.writable) {
      first ??= { kind: "writable", expected: `read-only (${c.source})`, canonical: c.canonical };
      continue;
    }
    const p = hostProblem(w.host, c.canonical, size, pa, writable, cx.invalidated);
    if (!p) {
      const f = cx.flushed;
      if (
        f && !f.leaves.get(mmu.id)?.has(s) &&
        f.ranges.some(([a, b]) => c.canonical < b && c.canonical + size > a)
      ) {
        out.push({
          ...base,
          kind: "unflushed",
          canonicalIpa: c.canonical,
          expected: "cleaned by kvm_nested_s2_flush(): the VM's caches were flushed",
        });
      }
      return;
    }
    first ??= { ...p, canonical: c.canonical };
  }
  out.push({
    ...base,
    kind: first!.kind,
    canonicalIpa: first!.canonical,
    expected: first!.expected,
  });
}

/**
 * KVM's own shortfall at TLBI RIPAS2E1IS (see `kvm-baseline`): a finding on a leaf outside
 * the TLBI's range, inside an old L1 leaf of the MMU's context that the TLBI invalidated,
 * is KVM's (handle_ripas2e1is() unmaps exactly the range), not the design's. A leaf inside
 * the range that survived stays a violation: KVM unmaps that part.
 */
function blameKvm(
  w: OracleWorld,
  t: NonNullable<CheckContext["rangeTlbi"]>,
  found: Violation[],
): void {
  for (const v of found) {
    if (v.mmu < 0 || (v.shadowIpa < t.end && t.start < v.shadowIpa + v.size)) continue;
    const mmu = w.mmus[v.mmu];
    const ids = new Set(contextsOf(w.l1, mmu).map((c) => c.id));
    const p = t.dropped.find((d) =>
      ids.has(d.ctx) && d.base <= v.shadowIpa && v.shadowIpa + v.size <= d.base + d.size
    );
    if (!p) continue;
    v.rule = v.kind;
    v.kind = "kvm-baseline";
    v.expected = `${v.rule} (${v.expected}): the TLBI invalidated L1's old leaf ` +
      `[${hex(p.base)}, ${hex(p.base + p.size)}) whole; KVM's handle_ripas2e1is() unmaps ` +
      `only [${hex(t.start)}, ${hex(t.end)}) of the shadow`;
  }
}

/**
 * Check every live shadow leaf (or just `cx.only`) and the canonical stage-2. Returns
 * the violations, in MMU and IPA order.
 */
export function checkShadows(w: OracleWorld, cx: CheckContext): Violation[] {
  const out: Violation[] = [];
  if (cx.only) {
    const { mmu, start, end } = cx.only;
    const ctxs = contextsOf(w.l1, mmu);
    forEachLeaf(
      mmu.pgt,
      (s, size, pa, attr) => checkLeaf(w, cx, mmu, ctxs, s, size, pa, attr, out),
      start,
      Math.min(end, mmu.pgt.geom.ipaSize),
    );
    return out;
  }
  if (cx.leaves) {
    const { mmu, ipas } = cx.leaves;
    const ctxs = contextsOf(w.l1, mmu);
    const pgt = mmu.pgt;
    const sorted = [...new Set(ipas)].sort((a, b) => a - b);
    for (const s of sorted) {
      if (kvmPgtableGetLeaf(pgt, s, SHADOW_LEAF) < 0 || SHADOW_LEAF.base !== s) continue;
      const { size, oa, attr } = SHADOW_LEAF;
      checkLeaf(w, cx, mmu, ctxs, s, size, oa, attr, out);
    }
    return out;
  }
  const ranges = cx.mmus ? cx.canonicalRanges : undefined;
  for (const mmu of cx.mmus ?? w.mmus) {
    if (mmu.pgt.leaves === 0) continue;
    const ctxs = contextsOf(w.l1, mmu);
    forEachLeaf(mmu.pgt, (s, size, pa, attr, canonical) => {
      if (ranges && !ranges.some(([a, b]) => canonical < b && a < canonical + size)) return;
      checkLeaf(w, cx, mmu, ctxs, s, size, pa, attr, out);
    });
  }
  if (cx.rangeTlbi) blameKvm(w, cx.rangeTlbi, out);
  const canonical = (ipa: number, size: number, pa: number, attr: number) => {
    const p = hostProblem(w.host, ipa, size, pa, (attr & PTE_W) !== 0, cx.invalidated);
    if (p) {
      out.push({
        event: cx.event,
        op: cx.op,
        kind: "canonical-stale",
        mmu: -1,
        context: -1,
        shadowIpa: ipa,
        size,
        canonicalIpa: ipa,
        pa,
        expected: `${p.kind}: ${p.expected}`,
      });
    }
  };
  if (!cx.mmus) forEachLeaf(w.canonical, canonical);
  else for (const [a, b] of ranges ?? []) forEachLeaf(w.canonical, canonical, a, b);
  return out;
}
