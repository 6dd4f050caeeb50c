/**
 * The oracle as a replay runs it: after each event, which shadow leaves to check, and the
 * findings standing after it. Two modes:
 *
 * - **full** (what the tests use, the default of `replay()`): after every event that can
 *   change what a leaf is allowed to hold, every live shadow leaf and the canonical stage-2;
 *   after an L2 access, the leaves it installed (an access only adds those and removes
 *   others, and removing a leaf never makes another wrong).
 * - **incremental** (sweeps at scale; `--full-check` turns the full mode back on): only the
 *   leaves an event can affect. An access or touch: the leaves it installed (or whose
 *   permissions it relaxed), as the fault path reports them. A host unmap or write-protect
 *   of canonical [a, b): the leaves of the MMUs that ever installed a leaf in a 1 GiB
 *   canonical region meeting [a, b) (as this checker saw them installed), narrowed to those
 *   whose recorded canonical IPA meets [a, b), and the canonical stage-2 there. An L1 TLBI
 *   by address or VMID: every leaf of the VMID's MMUs. A flush, TLBI ALLE1IS or an L1
 *   reboot: everything. The equality of the two modes on broad random traces is a test
 *   (`test/strategies_test.ts`).
 *
 * Either way each leaf checked is judged from the world alone (`../oracle/oracle.ts`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { generateFuzzTrace } from "../fuzz/generate.ts";
 * import { makeStrategy } from "../strategies/mod.ts";
 * import { replay } from "./replay.ts";
 * const t = generateFuzzTrace(11);
 * const full = replay(t, makeStrategy("maple-v2"));
 * const inc = replay(t, makeStrategy("maple-v2"), { fullCheck: false });
 * assertEquals(inc.violations, full.violations);
 * ```
 * @module
 */

import type { Kvm } from "../kvm/kvm.ts";
import { kvmPgtableGetLeaf } from "../kvm/pgtable_stage2.ts";
import { newPgtableLeaf } from "../kvm/pte.ts";
import type { ShadowMmu } from "../kvm/s2_mmu.ts";
import { checkShadows, type OracleWorld, oracleWorld, type Violation } from "../oracle/oracle.ts";
import {
  type Applied,
  guestAccessEnd,
  isGuestAccess,
  opClass,
  SHADOW_NEUTRAL,
  type TraceEvent,
} from "./ops.ts";

/** Canonical regions the incremental mode tracks MMUs by: 1 GiB. */
const REGION = 2 ** 30;

/** Checks a VM after each event and keeps the findings standing. */
export class EventChecker {
  private readonly kvm: Kvm;
  private readonly full: boolean;
  /** Standing findings by shadow MMU id (-1: the canonical stage-2). */
  private standing = new Map<number, Violation[]>();
  /** Incremental mode: per 1 GiB canonical region, the MMUs seen installing a leaf there. */
  private readonly regions = new Map<number, Set<number>>();
  /** Incremental mode: the shadow leaves installed during the current event (MMU, IPA). */
  private insertedMmu: ShadowMmu[] = [];
  private insertedIpa: number[] = [];

  /** A checker of `kvm`, in full mode unless `full` is false. */
  constructor(kvm: Kvm, full = true) {
    this.kvm = kvm;
    this.full = full;
  }

  /**
   * The hook the fault path calls for each shadow leaf it installs (`Kvm.onShadowInsert`):
   * in incremental mode it records the leaf and its canonical region; null in full mode.
   */
  insertHook(): ((mmu: ShadowMmu, canonicalIpa: number, size: number, ipa: number) => void) | null {
    if (this.full) return null;
    let lastRegion = -1, lastMmu = -1; // runs of faults into one region by one MMU
    return (mmu, canonicalIpa, size, ipa) => {
      this.insertedMmu.push(mmu);
      this.insertedIpa.push(ipa);
      const r0 = Math.floor(canonicalIpa / REGION);
      if (r0 === lastRegion && mmu.id === lastMmu && canonicalIpa + size <= (r0 + 1) * REGION) {
        return;
      }
      lastRegion = r0;
      lastMmu = mmu.id;
      for (let r = r0; r * REGION < canonicalIpa + size; r++) {
        let set = this.regions.get(r);
        if (!set) this.regions.set(r, set = new Set());
        set.add(mmu.id);
      }
    };
  }

  /** Every finding standing after the last event. */
  standingFindings(): Violation[] {
    return [...this.standing.values()].flat();
  }

  /** Check after event `index` (`e`, applied as `applied`); returns what was found. */
  check(index: number, e: TraceEvent, applied: Applied): Violation[] {
    const kvm = this.kvm;
    const cls = opClass(e.op);
    if (SHADOW_NEUTRAL[cls]) return [];
    const world = oracleWorld(kvm);
    const base = { event: index, op: e.op };
    if (isGuestAccess(e)) {
      if (!this.full) return this.checkInserted(world, base);
      const mmu = kvm.vcpu(e.vcpu).hwMmu;
      if (!mmu) return [];
      const start = e.l2ipa, end = guestAccessEnd(e);
      const found = checkShadows(world, { ...base, only: { mmu, start, end } });
      this.replace([mmu], found, (v) => v.shadowIpa < end && start < v.shadowIpa + v.size);
      return found;
    }
    this.insertedMmu.length = 0;
    this.insertedIpa.length = 0;
    const cx = {
      ...base,
      invalidated: applied.invalidated,
      rangeTlbi: applied.rangeTlbi,
      flushed: applied.flushed,
    };
    let scope: { mmus: ShadowMmu[]; canonicalRanges?: [number, number][] } | null = null;
    if (!this.full) {
      const ranges = applied.invalidated ?? applied.writeProtected;
      const vmid = applied.tlbiVmid;
      if (ranges) scope = { mmus: this.mmusIn(ranges), canonicalRanges: ranges };
      else if (vmid !== undefined) {
        scope = { mmus: kvm.nestedMmus.filter((m) => m.valid && m.vmid === vmid) };
      }
    }
    if (!scope) {
      const found = checkShadows(world, cx);
      this.standing = new Map();
      for (const v of found) this.push(v);
      return found;
    }
    const found = checkShadows(world, { ...cx, ...scope });
    const ranges = scope.canonicalRanges;
    this.replace(
      scope.mmus,
      found,
      (v) =>
        !ranges || v.canonicalIpa === null ||
        ranges.some(([a, b]) => v.canonicalIpa! < b && a < v.canonicalIpa! + v.size),
      ranges !== undefined,
    );
    return found;
  }

  private push(v: Violation): void {
    const l = this.standing.get(v.mmu);
    if (l) l.push(v);
    else this.standing.set(v.mmu, [v]);
  }

  /**
   * After checking part of `mmus`: drop their standing findings that the check covered
   * (`covered`) or whose leaf is gone, keep the rest, add `found`.
   */
  private replace(
    mmus: readonly ShadowMmu[],
    found: Violation[],
    covered: (v: Violation) => boolean,
    canonicalToo = false,
  ): void {
    const ids = new Set(mmus.map((m) => m.id));
    if (canonicalToo) ids.add(-1);
    for (const id of ids) {
      const old = this.standing.get(id);
      if (!old) continue;
      const pgt = id >= 0 ? this.kvm.nestedMmus[id].pgt : this.kvm.canonical;
      const leaf = newPgtableLeaf();
      const keep = old.filter((v) =>
        !covered(v) && kvmPgtableGetLeaf(pgt, v.shadowIpa, leaf) >= 0 &&
        leaf.base === v.shadowIpa && leaf.oa === v.pa
      );
      if (keep.length) this.standing.set(id, keep);
      else this.standing.delete(id);
    }
    for (const v of found) this.push(v);
  }

  /** Incremental mode, after an access: judge the leaves it installed, then forget them. */
  private checkInserted(world: OracleWorld, base: { event: number; op: string }): Violation[] {
    const mmus = this.insertedMmu, ipas = this.insertedIpa;
    if (mmus.length === 0) return [];
    const byMmu = new Map<ShadowMmu, number[]>();
    for (let k = 0; k < mmus.length; k++) {
      const l = byMmu.get(mmus[k]);
      if (l) l.push(ipas[k]);
      else byMmu.set(mmus[k], [ipas[k]]);
    }
    this.insertedMmu = [];
    this.insertedIpa = [];
    const all: Violation[] = [];
    for (const [mmu, list] of [...byMmu].sort((a, b) => a[0].id - b[0].id)) {
      const found = checkShadows(world, { ...base, leaves: { mmu, ipas: list } });
      const checked = new Set(list);
      this.replace([mmu], found, (v) => checked.has(v.shadowIpa));
      all.push(...found);
    }
    return all;
  }

  /** The MMUs seen installing a leaf in a region that meets one of `ranges`. */
  private mmusIn(ranges: readonly [number, number][]): ShadowMmu[] {
    const ids = new Set<number>();
    for (const [a, b] of ranges) {
      for (let r = Math.floor(a / REGION); r * REGION < b; r++) {
        for (const id of this.regions.get(r) ?? []) ids.add(id);
      }
    }
    return [...ids].sort((x, y) => x - y).map((id) => this.kvm.nestedMmus[id]);
  }
}
