/**
 * The canonical encoding of a VM's world for the exhaustive checker: everything that can
 * change what a later event does or what the oracle finds, and nothing else. Read-only
 * over the engine's state.
 *
 * In the key:
 * - host memory: each present host page (canonical IPA, size, host PA), the memslots
 *   (base, size, backing, dirty logging and the dirty pages);
 * - the canonical stage-2's leaves (IPA, size, host PA, permissions);
 * - L1: each context in L1's order (id, VMID, BADDR, granule, IPA size, stage-2 on or off,
 *   torn down or not), its stage-2 leaves (L2 IPA, size, L1 IPA, permissions), its old
 *   leaves not yet invalidated and its ranges written without break-before-make, both as
 *   sorted sets;
 * - each shadow MMU in nested_mmus[] order: the cached VTTBR/VTCR, valid, refcount,
 *   pending unmap, the context it serves, and its leaves (shadow IPA, size, host PA,
 *   permissions with L1's level, canonical IPA);
 * - each vCPU's loaded MMU and context, and where the round-robin MMU search starts.
 *
 * Left out, because nothing that decides a later event's effect or a verdict reads them:
 * work counters, the design's modeled bytes, the collateral sets (refault counting), the
 * table pages that hold no leaf (a walk's result depends on the leaves only), lookup
 * caches, the last flush's record (made afresh by each flush).
 *
 * Host PAs are named canonically ({@linkcode PaNames}): every PA extent the world holds (a
 * host page, a canonical or shadow leaf's output) is gathered, overlapping extents are
 * merged into components, and a PA is named by its component's number, in order of first
 * appearance (host pages first, then the canonical stage-2, then shadow leaves), and its
 * offset in it. Two VMs whose PAs differ by such a renaming behave alike: PAs are only ever
 * copied, offset within a host page and compared, and the host allocator hands out a PA
 * beyond every PA it handed out before, so a new PA is a new component in both (the
 * allocator's position is therefore left out).
 *
 * @example A migrated page is a new PA: the world is the same up to the renaming
 * ```ts
 * import { assertEquals, assertNotEquals } from "@std/assert";
 * import { kvmCreateVm } from "../kvm/kvm_main.ts";
 * import { l1Access } from "../kvm/arm.ts";
 * import { FullWalk } from "../strategies/full_walk.ts";
 * import { migratePages } from "../host/mm.ts";
 * import { worldKey } from "./world_key.ts";
 * const cfg = { hostGranule: "4K", paBits: 36, vcpus: 1,
 *   memslots: [{ id: 0, base: 0x4000_0000, size: 0x20_0000, backing: "page" }] };
 * const a = kvmCreateVm(cfg, new FullWalk()), b = kvmCreateVm(cfg, new FullWalk());
 * l1Access(a, 0x4000_0000, true);
 * l1Access(b, 0x4000_0000, true);
 * migratePages(b, 0x4000_0000, 0x4000_1000);
 * assertNotEquals(worldKey(a).key, worldKey(b).key); // b's canonical stage-2 lost the page
 * l1Access(b, 0x4000_0000, true);
 * assertEquals(worldKey(a).key, worldKey(b).key);
 * ```
 * @module
 */

import type { Kvm } from "../kvm/kvm.ts";
import type { KvmPgtable } from "../kvm/pgtable.ts";
import { forEachLeaf } from "../kvm/pgtable_stage2.ts";

/** Canonical names of host PAs (see the module doc). */
export class PaNames {
  /** Components, sorted by start: start, end, number. */
  private starts: number[] = [];
  private ends: number[] = [];
  private ids: number[] = [];
  private count = 0;

  /**
   * Names for PAs in the extents `[pa, pa + size)` given as pairs in `extents`, numbered
   * by first appearance there.
   */
  constructor(extents: readonly number[]) {
    const order: number[] = [];
    for (let i = 0; i < extents.length; i += 2) order.push(i);
    order.sort((a, b) => extents[a] - extents[b]);
    const comp = new Map<number, number>(); // extent index -> component index (sorted)
    for (const i of order) {
      const a = extents[i], b = a + extents[i + 1];
      const last = this.starts.length - 1;
      if (last >= 0 && a < this.ends[last]) this.ends[last] = Math.max(this.ends[last], b);
      else this.starts.push(a), this.ends.push(b), this.ids.push(-1);
      comp.set(i, this.starts.length - 1);
    }
    for (let i = 0; i < extents.length; i += 2) {
      const c = comp.get(i)!;
      if (this.ids[c] < 0) this.ids[c] = this.count++;
    }
  }

  private find(pa: number): number {
    let lo = 0, hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] <= pa) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && pa < this.ends[lo - 1] ? lo - 1 : -1;
  }

  /** The name of `pa` if a component holds it, else undefined. */
  known(pa: number): number | undefined {
    const c = this.find(pa);
    return c < 0 ? undefined : this.ids[c] * 2 ** 40 + (pa - this.starts[c]);
  }

  /** The name of `pa`: a component of its own, numbered next, when none holds it. */
  name = (pa: number): number => {
    const n = this.known(pa);
    if (n !== undefined) return n;
    const at = this.starts.findIndex((x) => x > pa);
    const c = at < 0 ? this.starts.length : at;
    this.starts.splice(c, 0, pa);
    this.ends.splice(c, 0, pa + 1);
    this.ids.splice(c, 0, this.count++);
    return this.ids[c] * 2 ** 40;
  };
}

const num = (n: number) => `${n}`;

/** `pgt`'s leaves, flat: IPA, size, output address, attributes, canonical IPA. */
function leavesOf(pgt: KvmPgtable): number[] {
  const out: number[] = [];
  forEachLeaf(pgt, (addr, size, oa, attr, meta) => out.push(addr, size, oa, attr, meta));
  return out;
}

/** Leaves as text, output addresses through `pa` (when they are host PAs). */
function text(l: number[], pa: ((x: number) => number) | null, meta = false): string {
  let s = "";
  for (let i = 0; i < l.length; i += 5) {
    s += `${num(l[i])}/${num(l[i + 1])}/${num(pa ? pa(l[i + 2]) : l[i + 2])}/${l[i + 3]}` +
      (meta ? `/${num(l[i + 4])};` : ";");
  }
  return s;
}

/**
 * The canonical encoding of `kvm`'s world (see the module doc), and the names of its host
 * PAs (for the design's and the checker's PAs, encoded after it).
 */
export function worldKey(kvm: Kvm): { key: string; names: PaNames } {
  const host = kvm.host;
  const hostLeaves = leavesOf(host.mm), canonical = leavesOf(kvm.canonical);
  const shadows = kvm.nestedMmus.map((m) => leavesOf(m.pgt));
  const extents: number[] = [];
  for (const l of [hostLeaves, canonical, ...shadows]) {
    for (let i = 0; i < l.length; i += 5) extents.push(l[i + 2], l[i + 1]);
  }
  const names = new PaNames(extents);
  const pa = (x: number) => names.known(x)!;
  let s = "H" + text(hostLeaves, pa) + "S";
  for (const m of host.memslots) {
    s += `${m.id}/${num(m.base)}/${num(m.size)}/${m.backing}/${num(m.backingSize)}/` +
      `${m.logging ? 1 : 0}/${[...m.dirty].sort((x, y) => x - y).join(".")};`;
  }
  s += "C" + text(canonical, pa) + "M";
  kvm.nestedMmus.forEach((m, i) => {
    s += `${m.valid ? 1 : 0}/${m.vmid}/${num(m.baddr)}/${m.vtcr}/${m.s2Enabled ? 1 : 0}/` +
      `${m.refcnt}/${m.pendingUnmap ? 1 : 0}/${m.contextId}:${text(shadows[i], pa, true)}!`;
  });
  s += "L";
  for (const c of kvm.l1.contexts) {
    const pending = c.pending.map((p) =>
      `${num(p.base)}/${num(p.size)}/${num(p.l1ipa)}/${p.attr}/${p.conflict ? 1 : 0}`
    );
    const conflicts = c.conflicts.map(([a, b]) => `${num(a)}-${num(b)}`);
    s += `${c.id}/${c.vmid}/${num(c.baddr)}/${c.granule.name}/${c.s2.geom.ipaBits}/` +
      `${c.s2Enabled ? 1 : 0}/${c.destroyed ? 1 : 0}:${text(leavesOf(c.s2), null)}p` +
      `${[...new Set(pending)].sort().join(";")}c${[...new Set(conflicts)].sort().join(";")}!`;
  }
  s += "V";
  // The vCPU's context by id, and whether it is still that id's live context object (a
  // context re-created under its id makes the next access look its MMU up afresh).
  for (const v of kvm.vcpus) {
    const c = v.context;
    const live = c !== null && kvm.l1.contexts.includes(c) && !c.destroyed;
    s += `${v.hwMmu ? v.hwMmu.id : -1}/${c ? c.id : -1}${c && !live ? "x" : ""};`;
  }
  return { key: s + "R" + kvm.nestedMmusNext, names };
}
