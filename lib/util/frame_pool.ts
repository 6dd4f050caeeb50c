/**
 * A pool of page-aligned addresses (IPAs), one per handle, kept as 32-bit page frames while
 * every address fits one (below 16 TiB with 4 KiB pages) and as doubles from the first
 * that does not: the simulator's memory, not the model's. It grows in place as
 * {@linkcode pool} does.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { FramePool } from "./frame_pool.ts";
 * const p = new FramePool();
 * p.set(0, 0x4000_0000);
 * p.set(1, 2 ** 51); // past 2^32 frames: the pool turns wide, values kept
 * assertEquals([p.get(0), p.get(1), p.wide], [0x4000_0000, 2 ** 51, true]);
 * ```
 * @module
 */

import { grown, pool } from "./growable.ts";

/** Bytes of a page frame: 32-bit frames (here and in other narrow stores) count these. */
export const FRAME_UNIT = 4096;

/** The largest 32-bit word, hence frame. */
export const FRAME_MAX = 2 ** 32 - 1;

/** Whether address `x` has a 32-bit frame: a whole number of frames up to FRAME_MAX. */
export function fitsFrame(x: number): boolean {
  const f = x / FRAME_UNIT;
  return f === Math.floor(f) && f <= FRAME_MAX;
}

/** Page-aligned addresses by handle: 32-bit frames while they fit, doubles after. */
export class FramePool {
  private narrowFrames: Uint32Array;
  private wideAddrs: Float64Array | null = null;

  /** A pool with room for `n` handles, all 0 (as {@linkcode pool}: pools of one length grow alike). */
  constructor(n = 1024) {
    this.narrowFrames = pool(Uint32Array, n);
  }

  /** Whether the pool keeps doubles (an address had no 32-bit frame). */
  get wide(): boolean {
    return this.wideAddrs !== null;
  }

  /** Handles the pool has room for (grow() to add room). */
  get length(): number {
    return this.wideAddrs !== null ? this.wideAddrs.length : this.narrowFrames.length;
  }

  /** The address at handle `i` (0 where none was set). */
  get(i: number): number {
    const w = this.wideAddrs;
    return w !== null ? w[i] : this.narrowFrames[i] * FRAME_UNIT;
  }

  /** Set handle `i` (below `length`) to address `x` (an integer from 0 to 2^52). */
  set(i: number, x: number): void {
    const w = this.wideAddrs;
    if (w !== null) {
      w[i] = x;
      return;
    }
    if (fitsFrame(x)) this.narrowFrames[i] = x / FRAME_UNIT;
    else {
      this.widen();
      this.wideAddrs![i] = x;
    }
  }

  /** Room for more handles (the same rule as {@linkcode grown}). */
  grow(): void {
    if (this.wideAddrs !== null) this.wideAddrs = grown(this.wideAddrs);
    else this.narrowFrames = grown(this.narrowFrames);
  }

  private widen(): void {
    const n = this.narrowFrames;
    const w = pool(Float64Array, n.length);
    for (let i = 0; i < n.length; i++) w[i] = n[i] * FRAME_UNIT;
    this.wideAddrs = w;
    this.narrowFrames = new Uint32Array(0);
  }
}
