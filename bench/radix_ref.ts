/**
 * `bench/radix_ref.c`'s fault loop transcribed to TypeScript, statement for statement: the
 * same draws, the same three 4-level radix tables of 512 64-bit entries (the 4 KiB `calloc`
 * of a table is a 4 KiB region of a shared `ArrayBuffer`, as the simulator's pools are), the
 * same reverse-map record appended per fault. It models nothing: it is the ceiling for the
 * simulator's random faults, what TypeScript does for the C's work on this machine at this
 * moment, printed by `deno task bench` beside the C (`bench/c_ratio.ts`).
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { drawPages, transcribedFaults } from "./radix_ref.ts";
 * const { s, c } = drawPages(3);
 * assertEquals([s.length, c.every((x) => x % 4096 === 0 && x < 2 ** 38)], [3, true]);
 * assert(transcribedFaults(1000) > 0); // faults per second
 * ```
 * @module
 */

/** L1 memory the C draws its pages from: 256 GiB. */
export const RADIX_REF_MEM = 256 * 2 ** 30;

/** Entries of a radix table (4 KiB of 64-bit entries). */
const ENTRIES = 512;
/** Bytes of the shared buffers tables are carved from. */
const TABLE_BUFFER_BYTES = 2 ** 20;

/**
 * `n` (canonical IPA, L2 IPA) page pairs over 256 GiB, drawn as radix_ref.c draws them
 * (xorshift64 from its seed, canonical first): BigInt here, outside any timed loop.
 */
export function drawPages(n: number): { s: number[]; c: number[] } {
  let x = 88172645463325252n;
  const mask = (1n << 64n) - 1n;
  const next = () => {
    x ^= (x << 13n) & mask;
    x ^= x >> 7n;
    x ^= (x << 17n) & mask;
    return x;
  };
  const pages = BigInt(RADIX_REF_MEM / 4096);
  const s: number[] = [], c: number[] = [];
  for (let i = 0; i < n; i++) {
    c.push(Number(next() % pages) * 4096);
    s.push(Number(next() % pages) * 4096);
  }
  return { s, c };
}

/** Radix tables: table `t` is `tables[t]`; an entry holds a child's id, or an address + 1. */
class Radix {
  /** Every table made, by id (id 0 is never used: 0 is an empty entry). */
  readonly tables: Float64Array[] = [new Float64Array(0)];
  private buf = new ArrayBuffer(0);
  private used = 0;

  /** newt(): a zeroed table. */
  newt(): number {
    if (this.used === this.buf.byteLength) {
      this.buf = new ArrayBuffer(TABLE_BUFFER_BYTES);
      this.used = 0;
    }
    this.tables.push(new Float64Array(this.buf, this.used, ENTRIES));
    this.used += ENTRIES * 8;
    return this.tables.length - 1;
  }

  /**
   * slot(): the last-level table that translates `ipa` from `root` (created on the way with
   * `create`, else -1 where one is missing); the entry's index in it is `ipa >> 12 & 511`.
   */
  slot(root: number, ipa: number, create: boolean): number {
    let t = root;
    for (let shift = 2 ** 39; shift > 2 ** 12; shift /= ENTRIES) {
      const tab = this.tables[t];
      const i = Math.floor(ipa / shift) % ENTRIES;
      let child = tab[i];
      if (child === 0) {
        if (!create) return -1;
        child = tab[i] = this.newt();
      }
      t = child;
    }
    return t;
  }
}

/**
 * radix_ref.c's timed loop over `n` drawn faults (its set-up first, untimed): walk L1's
 * table, fault the canonical table, install the shadow entry, append a reverse-map record.
 * Returns faults per second.
 */
export function transcribedFaults(n: number): number {
  const r = new Radix();
  const guest = r.newt(), canon = r.newt(), shadow = r.newt();
  const pages = RADIX_REF_MEM / 4096;
  const head = new Uint32Array(pages);
  // rrec { shadow, canon, mmu, next }: the same 24 bytes a record, as a struct of arrays.
  const recShadow = new Float64Array(n + 1), recCanon = new Float64Array(n + 1);
  const recMmu = new Uint32Array(n + 1), recNext = new Uint32Array(n + 1);
  let nrec = 1;
  let nextpa = 2 ** 40;
  const { s, c } = drawPages(n);
  for (let i = 0; i < n; i++) {
    r.tables[r.slot(guest, s[i], true)][(s[i] / 4096) % ENTRIES] = c[i] + 1;
  }
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const sh = s[i];
    const ca = r.tables[r.slot(guest, sh, false)][(sh / 4096) % ENTRIES] - 1;
    const ht = r.tables[r.slot(canon, ca, true)];
    const hi = (ca / 4096) % ENTRIES;
    if (ht[hi] === 0) {
      ht[hi] = nextpa + 1;
      nextpa += 4096;
    }
    r.tables[r.slot(shadow, sh, true)][(sh / 4096) % ENTRIES] = ht[hi];
    const pfn = ca / 4096;
    recShadow[nrec] = sh;
    recCanon[nrec] = ca;
    recMmu[nrec] = 0;
    recNext[nrec] = head[pfn];
    head[pfn] = nrec++;
  }
  return n / ((performance.now() - t0) / 1000);
}
