/**
 * Typed arrays that grow in place: views over resizable `ArrayBuffer`s that reserve address
 * space and take pages only as they are used, so that growing a pool never copies it (a
 * copy touches every byte twice, and on these machines the first touch of fresh memory is
 * most of its cost). Past its reservation a pool is copied once into one 16 times larger.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { doubled, growable } from "./growable.ts";
 * let a = growable(Float64Array, 2, 4);
 * a[1] = 2 ** 52;
 * const same = doubled(a); // within the reservation: the same array, twice as long
 * assertEquals([same === a, a.length], [true, 4]);
 * a = doubled(a); // past it: copied into a reservation of 64
 * assertEquals([a.length, a[1], a[7], a.buffer.maxByteLength / 8], [8, 2 ** 52, 0, 64]);
 * ```
 * @module
 */

/** The typed arrays the pools use. */
export type PoolArray = Int8Array | Uint8Array | Int32Array | Float64Array;

/** A typed-array constructor of one of those kinds. */
export type PoolKind<T> = { new (b: ArrayBuffer): T; readonly BYTES_PER_ELEMENT: number };

/** Entries a pool reserves room for at first ({@linkcode pool}). */
export const POOL_RESERVE = 2 ** 20;

/** A typed array of `n` zeros over a buffer that can grow in place up to `max` entries. */
export function growable<T extends PoolArray>(Kind: PoolKind<T>, n: number, max: number): T {
  const z = Kind.BYTES_PER_ELEMENT;
  return new Kind(new ArrayBuffer(n * z, { maxByteLength: Math.max(n, max) * z }));
}

/** A pool of `n` zeros with room for {@linkcode POOL_RESERVE} entries before it is copied. */
export function pool<T extends PoolArray>(Kind: PoolKind<T>, n = 1024): T {
  return growable(Kind, n, POOL_RESERVE);
}

/**
 * `a` twice as long (new entries zero): in place within its reservation, else copied into a
 * new one 16 times larger (any typed array of these kinds is accepted: a plain one is
 * copied into a growable one).
 */
export function doubled<T extends PoolArray>(a: T): T {
  const n = 2 * a.length;
  const z = a.BYTES_PER_ELEMENT;
  const buf = a.buffer as ArrayBuffer;
  if (buf.resizable && n * z <= buf.maxByteLength) {
    buf.resize(n * z);
    return a;
  }
  const b = growable(a.constructor as PoolKind<T>, n, 16 * (buf.maxByteLength / z));
  b.set(a);
  return b;
}
