/**
 * Typed arrays that grow in place: views over resizable `ArrayBuffer`s that reserve address
 * space for `max` entries and take pages only as they are used, so that growing a pool
 * never copies it (a copy touches every byte twice, and on these machines the first touch
 * of fresh memory is most of its cost). Past its reservation a pool is copied once into a
 * larger one.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { growable, grown } from "./growable.ts";
 * let a = growable(Float64Array, 2, 4);
 * a[1] = 2 ** 52;
 * const same = grown(a, Float64Array, 4, 4); // within the reservation: the same array
 * assertEquals([same === a, a.length], [true, 4]);
 * a = grown(a, Float64Array, 8, 64); // past it: copied into a new reservation
 * assertEquals([a.length, a[1], a[7]], [8, 2 ** 52, 0]);
 * ```
 * @module
 */

/** A typed-array constructor of the kinds the pools use. */
export type PoolKind<T> = { new (b: ArrayBuffer): T; readonly BYTES_PER_ELEMENT: number };

/** A typed array of `n` zeros over a buffer that can grow in place up to `max` entries. */
export function growable<T extends Int8Array | Int32Array | Float64Array>(
  Kind: PoolKind<T>,
  n: number,
  max: number,
): T {
  const z = Kind.BYTES_PER_ELEMENT;
  return new Kind(new ArrayBuffer(n * z, { maxByteLength: Math.max(n, max) * z }));
}

/**
 * `a` grown to `n` entries (new ones zero): in place within its reservation, else copied
 * into a new one of `max` entries.
 */
export function grown<T extends Int8Array | Int32Array | Float64Array>(
  a: T,
  Kind: PoolKind<T>,
  n: number,
  max: number,
): T {
  const buf = a.buffer as ArrayBuffer;
  const bytes = n * a.BYTES_PER_ELEMENT;
  if (bytes <= buf.maxByteLength) {
    buf.resize(bytes);
    return a;
  }
  const b = growable(Kind, n, max);
  b.set(a);
  return b;
}
