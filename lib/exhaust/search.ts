/**
 * Exhaustive small-scope checking (`deno task exhaust`, and step (b) of `verify`): every
 * event sequence over a world's alphabet (`worlds.ts`) up to a depth, breadth first, each
 * state checked by the oracle, states merged by a canonical fingerprint of the world and the
 * design's state, as TLC or herd do. Breadth first, the first counterexample found is a
 * shortest one; it comes back as a trace `deno task replay` reads, with its violations.
 *
 * States of one depth are expanded in batches, in lexicographic order of their histories,
 * in this thread or by workers (`jobs`); results are merged in batch order, so counts and
 * the counterexample are the same whatever the number of workers (the depth that holds
 * the counterexample is counted up to the batch that holds it). With a time limit (wall
 * clock, or CPU seconds for a shared machine), no batch is started after it: the depth
 * being expanded is reported partial, and only whole depths count as completed.
 *
 * @example With single accesses maple-v2 fails in five events: two aliases, each faulted, a migration
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { exhaust } from "./search.ts";
 * import { world } from "./worlds.ts";
 * const w = world("4k");
 * const small = { ...w, events: [0, 1, 10, 11, 24].map((i) => w.events[i]) };
 * const broken = await exhaust({ design: { strategy: "maple-v2" }, world: small, depth: 6 });
 * assertEquals(broken.counterexample?.trace.events.map((e) => e.op), [
 *   "l1-map", "l1-map", "access", "access", "migrate",
 * ]);
 * const upstream = await exhaust({ design: { strategy: "full-walk" }, world: small, depth: 6 });
 * assertEquals(upstream.counterexample, null);
 * ```
 * @module
 */

import process from "node:process";
import type { Violation } from "../oracle/oracle.ts";
import { DesignError } from "../strategies/design.ts";
import { replay } from "../trace/replay.ts";
import type { Trace } from "../trace/trace.ts";
import { type DesignFactory, type DesignSpec, loadDesign } from "./design.ts";
import {
  type DedupScheme,
  Expander,
  type Expansion,
  STATUS_FAILURE,
  STATUS_OK,
  STATUS_VIOLATION,
} from "./expand.ts";
import { FingerprintSet } from "./fingerprint.ts";
import { WorkerPool } from "./workers.ts";
import { world as builtinWorld } from "./worlds.ts";

/** Options of {@linkcode exhaust}. */
export interface ExhaustOptions {
  /** The design (a built-in name, or a module exporting a factory). */
  design: DesignSpec;
  /**
   * The design's factory, when it is not loaded from `design` (a design object made by the
   * caller): it runs in this thread only (`jobs` 1), workers cannot rebuild it.
   */
  factory?: DesignFactory;
  /** A built-in world's name or a world trace (default `4k`). */
  world?: string | Trace;
  /** Most events in a sequence (default: no bound, until `timeLimitS`). */
  depth?: number;
  /** Start no batch after this many seconds (default: none). */
  timeLimitS?: number;
  /**
   * Start no batch after the process (its workers included) has used this many CPU
   * seconds (default: none): what a time limit on idle cores would be, on a shared machine.
   */
  cpuLimitS?: number;
  /** Workers (default 1: in this thread). */
  jobs?: number;
  /** How states are merged (default `auto`: `design` when it has encodeState()). */
  dedup?: "auto" | DedupScheme;
  /** States per batch (default: the frontier split into 16 batches of 16..2048 states). */
  batch?: number;
  /** Called after each batch, and once a depth is done. */
  onProgress?: (p: ExhaustProgress) => void;
}

/** Where a run is (for progress lines). */
export interface ExhaustProgress {
  /** The depth whose successors are being checked (states of depth - 1 expanded). */
  depth: number;
  /** States of the frontier expanded so far, and its size. */
  done: number;
  /** The frontier's size. */
  frontier: number;
  /** Successors checked so far (all depths). */
  explored: number;
  /** Distinct states so far. */
  distinct: number;
  /** Seconds since the start. */
  elapsedS: number;
  /** Seconds this depth has run. */
  depthElapsedS: number;
}

/** One depth of the search. */
export interface DepthCount {
  /** Events in the sequences. */
  depth: number;
  /** Successors checked at this depth (sequences of this length from distinct states). */
  explored: number;
  /** States first reached at this depth. */
  distinct: number;
  /** Seconds the depth took. */
  seconds: number;
}

/** The shortest counterexample. */
export interface Counterexample {
  /** The trace (the world's configuration and the events), as `deno task replay` reads it. */
  trace: Trace;
  /** The violations blamed on the design at its last event (empty for a failure). */
  violations: Violation[];
  /** The design's exception, when a design hook threw. */
  failure?: string;
}

/** What a run found. */
export interface ExhaustResult {
  /** The world's name. */
  world: string;
  /** The design's name. */
  design: string;
  /** How states were merged. */
  scheme: DedupScheme;
  /** Events in the world's alphabet. */
  alphabet: number;
  /** Successors checked, the initial state included. */
  explored: number;
  /** Distinct states (fingerprints) seen. */
  distinct: number;
  /** Every sequence of at most this many events was checked (and held). */
  depthCompleted: number;
  /** Per completed depth (0 is the initial state). */
  perDepth: DepthCount[];
  /**
   * The depth stopped in the middle, by the time limit or by the counterexample found there
   * (counted up to the batch holding it), if any.
   */
  partial: DepthCount | null;
  /** Why it stopped. */
  stopped: "depth" | "time" | "counterexample" | "exhausted";
  /** Wall-clock seconds. */
  elapsedS: number;
  /** CPU seconds of the process, its workers included (on a shared machine, less than wall × jobs). */
  cpuS: number;
  /** Successors checked per second. */
  statesPerS: number;
  /** Bytes of the fingerprint table. */
  visitedBytes: number;
  /** The shortest counterexample (the first of its length in enumeration order), or null. */
  counterexample: Counterexample | null;
}

/** Run one batch; resolves with its successors. */
type BatchRunner = (histories: Uint8Array, depth: number, count: number) => Promise<Expansion>;

/** Histories of one depth, concatenated, in a growing buffer. */
class Frontier {
  bytes: Uint8Array;
  count = 0;
  constructor(readonly depth: number, capacity = 1024) {
    this.bytes = new Uint8Array(Math.max(1, capacity * depth));
  }
  push(parent: Uint8Array, event: number): void {
    const d = this.depth, at = this.count * d;
    if (at + d > this.bytes.length) {
      const b = new Uint8Array(Math.max(this.bytes.length * 2, at + d));
      b.set(this.bytes);
      this.bytes = b;
    }
    this.bytes.set(parent, at);
    this.bytes[at + d - 1] = event;
    this.count++;
  }
  slice(from: number, to: number): Uint8Array {
    return this.bytes.slice(from * this.depth, to * this.depth);
  }
}

/** Exhaustively check a design over a small world (see the module doc). */
export async function exhaust(opts: ExhaustOptions): Promise<ExhaustResult> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const elapsed = () => (performance.now() - t0) / 1000;
  const w = typeof opts.world === "object" ? opts.world : builtinWorld(opts.world ?? "4k");
  const worldName = typeof opts.world === "object" ? opts.world.name : opts.world ?? "4k";
  if (w.events.length > 255) throw new RangeError(`world: ${w.events.length} events (at most 255)`);
  const jobs = Math.max(1, opts.jobs ?? 1);
  if (opts.factory && jobs > 1) {
    throw new RangeError("a design given as a factory runs in this thread: jobs must be 1");
  }
  const make: DesignFactory = opts.factory ?? await loadDesign(opts.design);
  const probe = make();
  const scheme: DedupScheme = opts.dedup === undefined || opts.dedup === "auto"
    ? (probe.encodeState ? "design" : "history")
    : opts.dedup;
  const local = new Expander(w, make, scheme);
  const pool = jobs > 1 ? new WorkerPool(jobs, w, opts.design, scheme) : null;
  const run: BatchRunner = pool
    ? (h, d, n) => pool.expand(h, d, n)
    : (h, d, n) => Promise.resolve(local.expand(h, d, n));
  const maxDepth = opts.depth ?? Infinity;
  const limit = opts.timeLimitS ?? Infinity;
  const cpuLimit = opts.cpuLimitS ?? Infinity;
  const cpuUsed = () => {
    const c = process.cpuUsage(cpu0);
    return (c.user + c.system) / 1e6;
  };
  const n = w.events.length;
  const visited = new FingerprintSet(16);
  visited.add(local.rootFingerprint());
  const result: ExhaustResult = {
    world: worldName,
    design: probe.name,
    scheme,
    alphabet: n,
    explored: 1,
    distinct: 1,
    depthCompleted: 0,
    perDepth: [{ depth: 0, explored: 1, distinct: 1, seconds: 0 }],
    partial: null,
    stopped: "depth",
    elapsedS: 0,
    cpuS: 0,
    statesPerS: 0,
    visitedBytes: 0,
    counterexample: null,
  };
  let frontier = new Frontier(0);
  frontier.count = 1;
  try {
    while (result.depthCompleted < maxDepth) {
      const depth = result.depthCompleted + 1;
      const d0 = elapsed();
      const next = new Frontier(depth, Math.min(frontier.count * 4, 1 << 20));
      const count: DepthCount = { depth, explored: 0, distinct: 0, seconds: 0 };
      // Not a function of `jobs`: the depth a counterexample stops is counted up to its batch.
      const size = opts.batch ?? Math.min(2048, Math.max(16, Math.ceil(frontier.count / 16)));
      const batches: [number, number][] = [];
      for (let s = 0; s < frontier.count; s += size) {
        batches.push([s, Math.min(frontier.count, s + size)]);
      }
      let finding: { batch: number; f: NonNullable<Expansion["finding"]> } | null = null;
      let done = 0, merged = 0, timedOut = false;
      const results = new Map<number, Expansion>();
      // Merge finished batches in order: fingerprints into the visited set, new states into
      // the next frontier, the first finding kept.
      const mergeReady = () => {
        for (let r = results.get(merged); r && !finding; r = results.get(merged)) {
          results.delete(merged);
          const [from] = batches[merged];
          const histories = frontier.slice(from, batches[merged][1]);
          const states = batches[merged][1] - from;
          for (let s = 0; s < states; s++) {
            const parent = histories.subarray(s * (depth - 1), (s + 1) * (depth - 1));
            for (let j = 0; j < n; j++) {
              const st = r.status[s * n + j];
              if (st === STATUS_OK) {
                count.explored++;
                if (visited.add(r.fingerprints, (s * n + j) * 4)) {
                  count.distinct++;
                  next.push(parent, j);
                }
              } else if (st === STATUS_VIOLATION || st === STATUS_FAILURE) count.explored++;
            }
          }
          if (r.finding && !finding) finding = { batch: merged, f: r.finding };
          merged++;
        }
      };
      let nextBatch = 0;
      const worker = async () => {
        while (nextBatch < batches.length) {
          if (finding && nextBatch > finding.batch) return; // a shorter or earlier one is all that matters
          if (elapsed() > limit || cpuUsed() > cpuLimit) {
            timedOut = true;
            return;
          }
          const b = nextBatch++;
          const [from, to] = batches[b];
          const r = await run(frontier.slice(from, to), depth - 1, to - from);
          done += to - from;
          results.set(b, r);
          mergeReady();
          opts.onProgress?.({
            depth,
            done,
            frontier: frontier.count,
            explored: result.explored + count.explored,
            distinct: visited.size,
            elapsedS: elapsed(),
            depthElapsedS: elapsed() - d0,
          });
        }
      };
      await Promise.all(Array.from({ length: jobs }, worker));
      count.seconds = elapsed() - d0;
      result.explored += count.explored;
      result.distinct = visited.size;
      const found = finding as { batch: number; f: NonNullable<Expansion["finding"]> } | null;
      if (found) {
        const [from] = batches[found.batch];
        const h = frontier.slice(from + found.f.state, from + found.f.state + 1);
        result.counterexample = counterexample(
          w,
          worldName,
          probe.name,
          [...h, found.f.event],
          found.f,
        );
        result.partial = count;
        result.stopped = "counterexample";
        break;
      }
      if (timedOut) {
        result.partial = count;
        result.stopped = "time";
        break;
      }
      result.perDepth.push(count);
      result.depthCompleted = depth;
      frontier = next;
      if (next.count === 0) {
        result.stopped = "exhausted";
        break;
      }
    }
  } finally {
    pool?.close();
  }
  result.elapsedS = elapsed();
  const cpu = process.cpuUsage(cpu0);
  result.cpuS = (cpu.user + cpu.system) / 1e6;
  result.statesPerS = result.explored / Math.max(result.elapsedS, 1e-9);
  result.visitedBytes = visited.bytes;
  if (result.counterexample && !result.counterexample.failure) {
    // The trace must show it on its own, as replay runs it.
    const r = replay(result.counterexample.trace, make());
    if (r.violations === 0) {
      throw new DesignError(
        probe.name,
        "the counterexample the search found does not replay on a fresh VM: the design keeps " +
          "state the search's snapshots cannot see (a closure variable, a #private field, a " +
          "WeakMap or a module variable); keep its state in fields (docs/designs.md)",
      );
    }
  }
  return result;
}

function counterexample(
  w: Trace,
  worldName: string,
  design: string,
  history: number[],
  f: NonNullable<Expansion["finding"]>,
): Counterexample {
  const what = f.failure ? `${design} throws: ${f.failure}` : `${f.violations[0].kind} ` +
    `(MMU ${f.violations[0].mmu}, shadow IPA 0x${f.violations[0].shadowIpa.toString(16)})`;
  return {
    trace: {
      name: `exhaust: shortest counterexample for ${design} in world ${worldName}`,
      description: `Found by deno task exhaust (breadth first: no sequence of fewer events ` +
        `over the world's alphabet fails): ${what}.`,
      config: w.config,
      events: history.map((j) => w.events[j]),
    },
    violations: f.violations,
    failure: f.failure,
  };
}
