/**
 * An audit of the merging the exhaustive checker does: breadth first to a small depth,
 * every time a history reaches a fingerprint an earlier history reached (a merge), the two
 * are kept as a pair; then random continuations are run from both states of some pairs,
 * and at every step the two must agree: the same status (disabled, clean, violation,
 * failure) and the same fingerprint. A design whose `encodeState()` leaves out something
 * that decides a later call, or a world encoding that does, shows up as a pair that
 * disagrees. It is a sample, not a proof; the proof is the argument in `docs/exhaust.md`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { auditMerges } from "./audit.ts";
 * import { loadDesign } from "./design.ts";
 * import { world } from "./worlds.ts";
 * const r = auditMerges(world("4k"), await loadDesign({ strategy: "rmap" }), {
 *   depth: 2, pairs: 5, continuations: 2, length: 3,
 * });
 * assertEquals(r.disagreements, []);
 * ```
 * @module
 */

import type { Trace } from "../trace/trace.ts";
import type { DesignFactory } from "./design.ts";
import { Expander, STATUS_OK } from "./expand.ts";

/** Options of {@linkcode auditMerges}. */
export interface AuditOptions {
  /** Depth of the breadth-first search that finds merges. */
  depth: number;
  /** Merged pairs to continue from (spread over all pairs found). */
  pairs: number;
  /** Random continuations per pair. */
  continuations: number;
  /** Events per continuation. */
  length: number;
  /** Seed of the continuations (default 1). */
  seed?: number;
}

/** What the audit found. */
export interface AuditResult {
  /** Merges seen (histories reaching a fingerprint seen before). */
  merges: number;
  /** Continuation steps compared. */
  steps: number;
  /** Pairs whose continuations disagreed: both histories and the continuation. */
  disagreements: { a: number[]; b: number[]; continuation: number[] }[];
}

/** Audit the merges of `make`'s design over `world` (see the module doc). */
export function auditMerges(world: Trace, make: DesignFactory, o: AuditOptions): AuditResult {
  const x = new Expander(world, make, "design");
  const n = world.events.length;
  const first = new Map<string, number[]>();
  first.set(x.rootFingerprint().join(), []);
  const pairs: [number[], number[]][] = [];
  let frontier: number[][] = [[]];
  for (let d = 0; d < o.depth; d++) {
    const next: number[][] = [];
    for (const h of frontier) {
      const r = x.expand(new Uint8Array(h), h.length, 1);
      for (let j = 0; j < n; j++) {
        if (r.status[j] !== STATUS_OK) continue;
        const key = r.fingerprints.slice(j * 4, j * 4 + 4).join();
        const seen = first.get(key);
        if (seen) pairs.push([seen, [...h, j]]);
        else {
          first.set(key, [...h, j]);
          next.push([...h, j]);
        }
      }
    }
    frontier = next;
  }
  let seed = o.seed ?? 1;
  const rnd = (k: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % k;
  };
  const result: AuditResult = { merges: pairs.length, steps: 0, disagreements: [] };
  const stride = Math.max(1, Math.floor(pairs.length / Math.max(1, o.pairs)));
  for (let p = 0; p < pairs.length && p / stride < o.pairs; p += stride) {
    const [a, b] = pairs[p];
    for (let c = 0; c < o.continuations; c++) {
      const cont: number[] = [];
      let ha = a, hb = b;
      for (let i = 0; i < o.length; i++) {
        const ra = x.expand(new Uint8Array(ha), ha.length, 1);
        const rb = x.expand(new Uint8Array(hb), hb.length, 1);
        const ok: number[] = [];
        let agree = true;
        for (let j = 0; j < n; j++) {
          const fa = ra.fingerprints.slice(j * 4, j * 4 + 4).join();
          const fb = rb.fingerprints.slice(j * 4, j * 4 + 4).join();
          if (ra.status[j] !== rb.status[j] || fa !== fb) agree = false;
          if (ra.status[j] === STATUS_OK) ok.push(j);
        }
        result.steps++;
        if (!agree) {
          result.disagreements.push({ a, b, continuation: cont });
          break;
        }
        if (ok.length === 0) break;
        const j = ok[rnd(ok.length)];
        cont.push(j);
        ha = [...ha, j];
        hb = [...hb, j];
      }
    }
  }
  return result;
}
