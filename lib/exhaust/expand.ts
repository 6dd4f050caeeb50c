/**
 * Expanding states of a world: each state is named by its event history (indices into
 * the world's alphabet); for each state asked, every event of the alphabet is tried on it,
 * checked by the oracle exactly as `replay()` checks it (`check.ts` in full mode, with
 * replay's rule that a leaf first found `kvm-baseline` stays KVM's), and the successor's
 * state fingerprinted. One VM serves every state: a state is reached from the nearest
 * state on the current path kept as an in-place snapshot (`snapshot.ts`), which is
 * restored before each successor (histories asked in lexicographic order share most of
 * their path).
 *
 * A successor's status: `disabled` (the event cannot happen there: it throws a RangeError
 * before changing anything, as replay would reject such a trace), `ok` (checked clean),
 * `violation` (a stale or wrong leaf blamed on the design), or `failure` (a design hook
 * threw).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Expander, STATUS_OK } from "./expand.ts";
 * import { loadDesign } from "./design.ts";
 * import { world } from "./worlds.ts";
 * const x = new Expander(world("4k"), await loadDesign({ strategy: "full-walk" }), "design");
 * const r = x.expand(new Uint8Array(0), 0, 1); // the initial state's successors
 * assertEquals(r.status.length, 31);
 * assertEquals(r.status[0], STATUS_OK); // L1 maps a page
 * ```
 * @module
 */

import type { Kvm } from "../kvm/kvm.ts";
import type { Violation } from "../oracle/oracle.ts";
import { EventChecker } from "../trace/check.ts";
import { applyEvent, type TraceEvent } from "../trace/ops.ts";
import { buildKvm } from "../trace/replay.ts";
import type { Trace } from "../trace/trace.ts";
import { type DesignFactory, DesignFailure, guardDesign } from "./design.ts";
import { Fingerprint } from "./fingerprint.ts";
import { GraphSnapshot } from "./snapshot.ts";
import { worldKey } from "./world_key.ts";

/** The event cannot happen in the state. */
export const STATUS_DISABLED = 0;
/** The successor is checked clean. */
export const STATUS_OK = 1;
/** The oracle blames a leaf on the design. */
export const STATUS_VIOLATION = 2;
/** A design hook threw. */
export const STATUS_FAILURE = 3;

/**
 * How states are merged: `design` keys a state by the world and the design's
 * `encodeState()`; `history` by its event history (no two histories merged), for a design
 * without `encodeState()`.
 */
export type DedupScheme = "design" | "history";

/** What went wrong at a successor (the first in order of a batch). */
export interface Finding {
  /** Index of the state in the batch. */
  state: number;
  /** The event (alphabet index) that led there. */
  event: number;
  /** The violations blamed on the design (empty for a failure). */
  violations: Violation[];
  /** The design's exception, for a failure. */
  failure?: string;
}

/** The successors of a batch of states. */
export interface Expansion {
  /** Per state, per event: the successor's status. */
  status: Uint8Array;
  /** Per state, per event: the successor's fingerprint (4 words; zeros unless `ok`). */
  fingerprints: Uint32Array;
  /** The first violation or failure in order, if any. */
  finding: Finding | null;
}

/** A stale leaf's identity, as replay blames it: (MMU, shadow IPA, host PA). */
type Leaf = [number, number, number];

/** Expands states of one world with one design. */
export class Expander {
  /** The world's alphabet. */
  readonly alphabet: readonly TraceEvent[];
  private readonly kvm: Kvm;
  private readonly scheme: DedupScheme;
  private readonly snaps: GraphSnapshot[] = [];
  /** Per level of the current path: the leaves KVM was blamed for (replay's rule). */
  private readonly blames: Leaf[][] = [];
  private readonly path: number[] = [];
  private blame: Leaf[] = [];
  private readonly fp = new Fingerprint();

  /** An expander of `world` with designs from `make`, merging states by `scheme`. */
  constructor(world: Trace, make: DesignFactory, scheme: DedupScheme) {
    this.alphabet = world.events;
    const design = make();
    if (scheme === "design" && !design.encodeState) {
      throw new RangeError(`design ${design.name} has no encodeState(): use scheme "history"`);
    }
    this.scheme = scheme;
    this.kvm = buildKvm(world, guardDesign(design));
    const root = new GraphSnapshot();
    root.take([this.kvm]);
    this.snaps.push(root);
    this.blames.push([]);
  }

  /**
   * Apply alphabet event `j` to the VM as event `index` of a trace and check it; returns
   * the status and, for a violation, what was blamed on the design.
   */
  private step(j: number, index: number): { status: number; violations: Violation[] } {
    const e = this.alphabet[j];
    let found: Violation[];
    try {
      found = new EventChecker(this.kvm, true).check(index, e, applyEvent(this.kvm, e));
    } catch (err) {
      if (err instanceof DesignFailure) throw err;
      if (err instanceof RangeError) return { status: STATUS_DISABLED, violations: [] };
      throw err;
    }
    const violations: Violation[] = [];
    for (const v of found) {
      const kvmsOwn = this.blame.some(([m, s, pa]) =>
        m === v.mmu && s === v.shadowIpa && pa === v.pa
      );
      if (kvmsOwn) continue;
      if (v.kind === "kvm-baseline") this.blame = [...this.blame, [v.mmu, v.shadowIpa, v.pa]];
      else violations.push(v);
    }
    return { status: violations.length ? STATUS_VIOLATION : STATUS_OK, violations };
  }

  /** Bring the VM to the state named by `p` (clean by construction: it was checked). */
  private reach(p: Uint8Array): void {
    let l = 0;
    while (l < this.path.length && l < p.length && this.path[l] === p[l]) l++;
    this.snaps[l].restore();
    this.blame = this.blames[l];
    this.path.length = l;
    for (let i = l; i < p.length; i++) {
      const { status } = this.step(p[i], i);
      if (status !== STATUS_OK) {
        throw new Error(`state [${[...p]}] does not replay (event ${i}: status ${status})`);
      }
      this.path.push(p[i]);
      const snap = this.snaps[i + 1] ??= new GraphSnapshot();
      snap.take([this.kvm]);
      this.blames[i + 1] = this.blame;
    }
  }

  /** The fingerprint of the VM's state now (4 words, reused: copy them). */
  private fingerprint(p: Uint8Array, j: number): Uint32Array {
    if (this.scheme === "history") return this.fp.of(j < 0 ? "" : `${p.join(".")}.${j}.`);
    const { key: world, names } = worldKey(this.kvm);
    const key = world + "#" + this.kvm.strategy.encodeState!(names.name);
    const own: string[] = [];
    for (const [m, s, pa] of this.blame) {
      const n = names.known(pa); // a PA named nowhere in the world never comes back
      if (n !== undefined) own.push(`${m}:${s}:${n}`);
    }
    return this.fp.of(key + "#" + own.sort().join(","));
  }

  /** The fingerprint of the initial state (4 words, a copy). */
  rootFingerprint(): Uint32Array {
    this.reach(new Uint8Array(0));
    return this.fingerprint(new Uint8Array(0), -1).slice();
  }

  /**
   * The successors of `count` states of depth `depth`, their histories concatenated in
   * `histories` (`depth` alphabet indices each), in lexicographic order for speed.
   */
  expand(histories: Uint8Array, depth: number, count: number): Expansion {
    const n = this.alphabet.length;
    const status = new Uint8Array(count * n);
    const fingerprints = new Uint32Array(count * n * 4);
    let finding: Finding | null = null;
    for (let s = 0; s < count; s++) {
      const p = histories.subarray(s * depth, (s + 1) * depth);
      this.reach(p);
      const here = this.snaps[depth], blame = this.blame;
      for (let j = 0; j < n; j++) {
        if (j > 0) here.restore(), this.blame = blame;
        let r: { status: number; violations: Violation[] };
        try {
          r = this.step(j, depth);
        } catch (err) {
          if (!(err instanceof DesignFailure)) throw err;
          status[s * n + j] = STATUS_FAILURE;
          finding ??= { state: s, event: j, violations: [], failure: err.message };
          continue;
        }
        status[s * n + j] = r.status;
        if (r.status === STATUS_OK) fingerprints.set(this.fingerprint(p, j), (s * n + j) * 4);
        else if (r.status === STATUS_VIOLATION) {
          finding ??= { state: s, event: j, violations: r.violations };
        }
      }
      // The VM holds the last successor: the next state is reached from a snapshot.
    }
    return { status, fingerprints, finding };
  }

  /**
   * The fingerprint of the state named by `history`, reached by replaying it on a VM built
   * afresh (no snapshot): for checking that snapshots restore exactly.
   */
  static fingerprintByReplay(
    world: Trace,
    make: DesignFactory,
    scheme: DedupScheme,
    history: Uint8Array,
  ): Uint32Array {
    const x = new Expander(world, make, scheme);
    const last = history.length - 1;
    x.reach(history.subarray(0, last));
    const { status } = x.step(history[last], last);
    if (status !== STATUS_OK) throw new Error(`history [${[...history]}] is not a clean state`);
    return x.fingerprint(history.subarray(0, last), history[last]).slice();
  }
}
