/**
 * 128-bit fingerprints of state encodings and the set of fingerprints seen, as TLC keeps
 * its states: MurmurHash3 x86_128 over the encoding's UTF-16 code units (two per 32-bit
 * word), and an open-addressing hash table of four 32-bit words per fingerprint in one
 * typed array (16 bytes a state, no object per state). Two distinct states share a
 * fingerprint with probability about n² / 2^129 for n states: below 10^-24 for 10^7.
 *
 * @example
 * ```ts
 * import { assertEquals, assertNotEquals } from "@std/assert";
 * import { Fingerprint, FingerprintSet } from "./fingerprint.ts";
 * const fp = new Fingerprint();
 * const a = fp.of("world|design").slice(), b = fp.of("world|design!").slice();
 * assertNotEquals(a, b);
 * const seen = new FingerprintSet(4);
 * assertEquals([seen.add(a), seen.add(b), seen.add(a), seen.size], [true, true, false, 2]);
 * ```
 * @module
 */

const C1 = 0x239b961b, C2 = 0xab0e9789, C3 = 0x38b34ae5, C4 = 0xa1e38b93;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** MurmurHash3 x86_128 of strings, into a reused 4-word result. */
export class Fingerprint {
  private readonly out = new Uint32Array(4);

  /** The fingerprint of `s` (the same array each call: copy it to keep it). */
  of(s: string): Uint32Array {
    let h1 = 0x9747b28c, h2 = 0x9747b28c, h3 = 0x9747b28c, h4 = 0x9747b28c;
    const n = s.length;
    const word = (i: number) =>
      i + 1 < n ? s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16) : (
        i < n ? s.charCodeAt(i) : 0
      );
    let i = 0;
    for (; i + 8 <= n; i += 8) {
      let k1 = word(i), k2 = word(i + 2), k3 = word(i + 4), k4 = word(i + 6);
      k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
      h1 ^= k1;
      h1 = Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b;
      k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
      h2 ^= k2;
      h2 = Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747;
      k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
      h3 ^= k3;
      h3 = Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35;
      k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
      h4 ^= k4;
      h4 = Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17;
    }
    // Tail: the remaining code units, zero-padded, through the same lane mixing.
    if (i < n) {
      h1 ^= Math.imul(rotl(Math.imul(word(i), C1), 15), C2);
      h2 ^= Math.imul(rotl(Math.imul(word(i + 2), C2), 16), C3);
      h3 ^= Math.imul(rotl(Math.imul(word(i + 4), C3), 17), C4);
      h4 ^= Math.imul(rotl(Math.imul(word(i + 6), C4), 18), C1);
    }
    h1 ^= n, h2 ^= n, h3 ^= n, h4 ^= n;
    h1 += h2 + h3 + h4, h2 += h1, h3 += h1, h4 += h1;
    h1 = fmix(h1), h2 = fmix(h2), h3 = fmix(h3), h4 = fmix(h4);
    h1 += h2 + h3 + h4, h2 += h1, h3 += h1, h4 += h1;
    const o = this.out;
    o[0] = h1, o[1] = h2, o[2] = h3, o[3] = h4;
    return o;
  }
}

/** A set of 128-bit fingerprints (open addressing, grown at 3/4 full). */
export class FingerprintSet {
  private table: Uint32Array;
  private mask: number;
  private n = 0;

  /** An empty set with room for 2^`log2Slots` fingerprints before it first grows. */
  constructor(log2Slots = 16) {
    this.table = new Uint32Array(4 << log2Slots);
    this.mask = (1 << log2Slots) - 1;
  }

  /** Fingerprints in the set. */
  get size(): number {
    return this.n;
  }

  /** Bytes of the table. */
  get bytes(): number {
    return this.table.byteLength;
  }

  /** Add `fp` (4 words at `at`); true if it was not there. */
  add(fp: Uint32Array, at = 0): boolean {
    const b = fp[at + 1], c = fp[at + 2], d = fp[at + 3];
    // all zeros marks an empty slot
    const a = (fp[at] | b | c | d) === 0 ? 1 : fp[at];
    if (this.insert(this.table, this.mask, a, b, c, d)) {
      if (++this.n * 4 > (this.mask + 1) * 3) this.grow();
      return true;
    }
    return false;
  }

  private insert(t: Uint32Array, mask: number, a: number, b: number, c: number, d: number) {
    for (let i = (a ^ fmix(b)) & mask;; i = (i + 1) & mask) {
      const o = i * 4;
      if ((t[o] | t[o + 1] | t[o + 2] | t[o + 3]) === 0) {
        t[o] = a, t[o + 1] = b, t[o + 2] = c, t[o + 3] = d;
        return true;
      }
      if (t[o] === a && t[o + 1] === b && t[o + 2] === c && t[o + 3] === d) return false;
    }
  }

  private grow(): void {
    const old = this.table;
    const slots = (this.mask + 1) * 2;
    this.table = new Uint32Array(slots * 4);
    this.mask = slots - 1;
    for (let o = 0; o < old.length; o += 4) {
      if ((old[o] | old[o + 1] | old[o + 2] | old[o + 3]) !== 0) {
        this.insert(this.table, this.mask, old[o], old[o + 1], old[o + 2], old[o + 3]);
      }
    }
  }
}
