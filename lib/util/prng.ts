/**
 * A small seeded PRNG for workload generation: xoshiro128** on four 32-bit words, seeded
 * by splitmix32, plus FNV-1a for hashing strings into seeds. Only 32-bit counters and
 * hashes go through bitwise operations; draws that become addresses or counts up to 2^53
 * are built from two 32-bit outputs with ordinary arithmetic.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Prng } from "./prng.ts";
 * const a = new Prng(1), b = new Prng(1);
 * assertEquals(a.int(1000), b.int(1000));
 * assertEquals(a.float() < 1, true);
 * ```
 * @module
 */

/** FNV-1a over the UTF-16 code units of `text`, as an unsigned 32-bit integer. */
export function fnv1a32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** splitmix32: a 32-bit mixer; advances `state[0]` and returns the next output. */
function splitmix32(state: Uint32Array): number {
  state[0] = (state[0] + 0x9e3779b9) >>> 0;
  let z = state[0];
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** xoshiro128**: period 2^128 - 1, 32-bit outputs. */
export class Prng {
  private readonly s = new Uint32Array(4);

  /** Seed with any 32-bit integer (or a string, hashed with FNV-1a). */
  constructor(seed: number | string) {
    const st = new Uint32Array([typeof seed === "string" ? fnv1a32(seed) : seed >>> 0]);
    for (let i = 0; i < 4; i++) this.s[i] = splitmix32(st);
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** The next unsigned 32-bit output. */
  next32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }

  /** A float in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.next32() >>> 5; // 27 bits
    const lo = this.next32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A whole number in [0, n), n up to 2^53 (addresses and slot numbers). */
  int(n: number): number {
    if (!(n >= 1) || !Number.isSafeInteger(n)) throw new RangeError(`Prng.int: bad bound ${n}`);
    return Math.floor(this.float() * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.float() < p;
  }

  /** `k` distinct whole numbers from [0, n), in draw order (k <= n; fast when k << n). */
  distinct(k: number, n: number, exclude?: (x: number) => boolean): number[] {
    if (k > n) throw new RangeError(`Prng.distinct: ${k} values from ${n}`);
    const seen = new Set<number>();
    const out: number[] = [];
    if (k * 2 > n) {
      // Dense: shuffle the candidates (Fisher-Yates on a prefix).
      const all: number[] = [];
      for (let i = 0; i < n; i++) if (!exclude?.(i)) all.push(i);
      const m = Math.min(k, all.length);
      for (let i = 0; i < m; i++) {
        const j = i + this.int(all.length - i);
        [all[i], all[j]] = [all[j], all[i]];
        out.push(all[i]);
      }
      return out;
    }
    let tries = 0;
    while (out.length < k && tries < k * 64) {
      tries++;
      const x = this.int(n);
      if (seen.has(x) || exclude?.(x)) continue;
      seen.add(x);
      out.push(x);
    }
    return out;
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
