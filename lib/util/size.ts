/**
 * Sizes and addresses as people write them: parsing `4K`, `2M`, `256G`, `0x40000000` or
 * a plain number, and formatting a byte count back, exactly (`2M`, for keys, flags and
 * messages) or readably (`2.5 MiB`, for prose and figures). Addresses up to 2^52 are exact
 * in a JS number; nothing here uses a 32-bit bitwise operation on them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { formatBytes, formatSize, hex, parseAddr, parseSize } from "./size.ts";
 * assertEquals(parseSize("2M"), 2 ** 21);
 * assertEquals(parseAddr("0x40000000"), 2 ** 30);
 * assertEquals(formatSize(3 * 2 ** 30), "3G");
 * assertEquals(formatBytes(2.5 * 2 ** 20), "2.5 MiB");
 * assertEquals(hex(4096), "0x1000");
 * ```
 * @module
 */

/** Bytes per suffix accepted by {@linkcode parseSize}, largest last. */
const SIZE_SUFFIX: Readonly<Record<string, number>> = {
  "": 1,
  K: 2 ** 10,
  M: 2 ** 20,
  G: 2 ** 30,
  T: 2 ** 40,
  P: 2 ** 50,
};

/**
 * Parse a size such as `4K`, `2M`, `256G` or a plain byte count. Throws a one-line
 * error naming the value for anything else (`64X`, `-1`, `1.5K`).
 */
export function parseSize(text: string | number): number {
  if (typeof text === "number") {
    if (Number.isSafeInteger(text) && text >= 0) return text;
    throw new RangeError(`size ${text} is not a whole number of bytes`);
  }
  const m = /^(\d+)([KMGTP]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) throw new RangeError(`malformed size "${text}" (expected e.g. 4K, 2M, 256G)`);
  const v = Number(m[1]) * SIZE_SUFFIX[m[2].toUpperCase()];
  if (!Number.isSafeInteger(v)) throw new RangeError(`size "${text}" is too large`);
  return v;
}

/** Parse an address or size: a number, `0x…` hex, or a size such as `4G`. */
export function parseAddr(v: unknown): number {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(`${v} is not a whole non-negative number`);
    }
    return v;
  }
  if (typeof v !== "string") {
    throw new RangeError(`expected a number or a string, got ${JSON.stringify(v)}`);
  }
  if (/^0x[0-9a-f]+$/i.test(v.trim())) {
    const n = Number(v.trim());
    if (!Number.isSafeInteger(n)) throw new RangeError(`"${v}" is too large`);
    return n;
  }
  return parseSize(v);
}

/**
 * Whether `x` is a multiple of the power of two `size` (for addresses: no fmod, no
 * 32-bit bitwise operation).
 */
export function isAligned(x: number, size: number): boolean {
  const q = x / size;
  return q === Math.floor(q);
}

/** `x` rounded down to a multiple of `size` (ALIGN_DOWN). */
export function alignDown(x: number, size: number): number {
  return Math.floor(x / size) * size;
}

/** A byte count with the largest binary suffix that divides it exactly (`2M`, `3G`, `4097`). */
export function formatSize(bytes: number): string {
  for (const s of ["P", "T", "G", "M", "K"]) {
    const u = SIZE_SUFFIX[s];
    if (bytes >= u && bytes % u === 0) return `${bytes / u}${s}`;
  }
  return `${bytes}`;
}

/** A byte count for prose and figures: KiB / MiB / GiB / TiB, whole units when exact. */
export function formatBytes(n: number): string {
  for (const u of ["T", "G", "M", "K"]) {
    const size = SIZE_SUFFIX[u];
    if (n >= size) {
      const v = n / size;
      return `${Number.isInteger(v) ? v : v.toFixed(1)} ${u}iB`;
    }
  }
  return `${n} B`;
}

/** An address in hex, `0x…`. */
export function hex(n: number): string {
  return "0x" + n.toString(16);
}
