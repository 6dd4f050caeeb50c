/**
 * Regions of memory for many small typed arrays, carved from a few large buffers: an
 * `ArrayBuffer` of its own costs several microseconds to create on these machines (and its
 * pages are taken again after each garbage collection), a view into a shared one a tenth of
 * a microsecond. A region given back is kept on a free list of its size and handed out
 * again before a new one is carved. Simulator memory only: nothing here is modeled.
 *
 * Regions are in bytes, multiples of 8 (so that any typed array fits at their start);
 * a region is named by its buffer and offset, as a caller's view of it already holds them
 * (`view.buffer`, `view.byteOffset`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Slab } from "./slab.ts";
 * const slab = new Slab();
 * slab.take(24);
 * const a = new Float64Array(slab.buffer, slab.offset, 3);
 * a[2] = 2 ** 52;
 * slab.give(a.buffer, a.byteOffset, 24); // a free again: the next region of 24 bytes
 * slab.take(24);
 * assertEquals([slab.buffer === a.buffer, slab.offset === a.byteOffset], [true, true]);
 * ```
 * @module
 */

/** Bytes of the first buffer a slab carves from (later ones are an eighth of what it made). */
export const SLAB_FIRST_BYTES = 512;

/** Bytes of the largest buffer a slab carves from (a region larger has one of its own). */
export const SLAB_MAX_BYTES = 2 ** 20;

/** Typed-array regions carved from shared buffers, with free lists by size. */
export class Slab {
  /** Result of {@linkcode take}: the region's buffer. */
  buffer: ArrayBuffer = new ArrayBuffer(0);
  /** Result of {@linkcode take}: the region's offset in it, in bytes. */
  offset = 0;
  /** The buffer regions are carved from now, and the bytes of it carved so far. */
  private current: ArrayBuffer = new ArrayBuffer(0);
  private used = 0;
  /** Bytes of every buffer made so far. */
  private made = 0;
  /** Per region size in bytes: the free regions' buffers and offsets. */
  private freeBufs = new Map<number, ArrayBuffer[]>();
  private freeOffs = new Map<number, number[]>();

  /**
   * A region of `bytes` (a positive multiple of 8), left in `buffer` and `offset`: one
   * given back of that size if there is one (its old contents are left in it), else a new
   * one (zeros).
   */
  take(bytes: number): void {
    if (!(bytes > 0 && bytes % 8 === 0)) {
      throw new RangeError(`slab region of ${bytes} bytes (a positive multiple of 8)`);
    }
    const bufs = this.freeBufs.get(bytes);
    if (bufs !== undefined && bufs.length > 0) {
      this.buffer = bufs.pop()!;
      this.offset = this.freeOffs.get(bytes)!.pop()!;
      return;
    }
    if (this.used + bytes > this.current.byteLength) {
      // The rest of the current buffer stays unused (less than one region): a new buffer
      // an eighth of what the slab made so far, within its bounds.
      const size = Math.max(
        bytes,
        Math.min(SLAB_MAX_BYTES, Math.max(SLAB_FIRST_BYTES, Math.ceil(this.made / 64) * 8)),
      );
      this.current = new ArrayBuffer(size);
      this.used = 0;
      this.made += size;
    }
    this.buffer = this.current;
    this.offset = this.used;
    this.used += bytes;
  }

  /** Give back the region of `bytes` at `offset` of `buffer` (taken from this slab). */
  give(buffer: ArrayBuffer, offset: number, bytes: number): void {
    let bufs = this.freeBufs.get(bytes);
    if (bufs === undefined) {
      bufs = [];
      this.freeBufs.set(bytes, bufs);
      this.freeOffs.set(bytes, []);
    }
    bufs.push(buffer);
    this.freeOffs.get(bytes)!.push(offset);
  }

  /** Bytes of every buffer the slab made (its regions, free ones and unused tails). */
  get bytesMade(): number {
    return this.made;
  }

  /** Forget every region (the caller keeps none): the next one comes from a new buffer. */
  reset(): void {
    this.current = new ArrayBuffer(0);
    this.used = 0;
    this.made = 0;
    this.freeBufs.clear();
    this.freeOffs.clear();
  }
}
