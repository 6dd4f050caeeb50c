/**
 * Typed arrays that grow in place: views over resizable `ArrayBuffer`s that reserve address
 * space and take pages only as they are used, so that growing a pool never copies it (a
 * copy touches every byte twice, and on these machines the first touch of fresh memory is
 * most of its cost). A pool grows by an eighth at a time, so at most an eighth of it is
 * room not yet used; past its reservation it is copied once into one 16 times larger.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { grown, growable } from "./growable.ts";
 * let a = growable(Float64Array, 2, 4096);
 * a[1] = 2 ** 52;
 * const same = grown(a); // within the reservation: the same array, longer
 * assertEquals([same === a, a.length], [true, 1026]);
 * a = grown(grown(grown(a))); // past it: copied into a reservation 16 times larger
 * assertEquals([a.length, a[1], a[4097], a.buffer.maxByteLength / 8], [4098, 2 ** 52, 0, 65536]);
 * ```
 * @module
 */

/** The typed arrays the pools use. */
export type PoolArray =
  | Int8Array
  | Uint8Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/** A typed-array constructor of one of those kinds. */
export type PoolKind<T> = { new (b: ArrayBuffer): T; readonly BYTES_PER_ELEMENT: number };

/**
 * Entries a pool reserves room for at first ({@linkcode pool}): address space only (a
 * Float64 pool reserves 1 GiB of it), pages are taken as the pool grows.
 */
export const POOL_RESERVE = 2 ** 27;

/** Entries a pool grows by at least. */
export const POOL_STEP = 1024;

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
 * `a` longer by an eighth (at least {@linkcode POOL_STEP} entries; new entries zero): in
 * place within its reservation (the same array), else copied into a new reservation 16
 * times larger (any typed array of these kinds is accepted: a plain one is copied into a
 * growable one). The new length depends only on the old one, so pools of one length stay
 * of one length.
 */
export function grown<T extends PoolArray>(a: T): T {
  const n = a.length + Math.max(POOL_STEP, Math.ceil(a.length / 8));
  const z = a.BYTES_PER_ELEMENT;
  const buf = a.buffer as ArrayBuffer;
  if (buf.resizable && n * z <= buf.maxByteLength) {
    buf.resize(n * z);
    return a;
  }
  const max = buf.resizable ? buf.maxByteLength / z : a.length;
  const b = growable(a.constructor as PoolKind<T>, n, Math.max(n, 16 * max));
  b.set(a);
  return b;
}
