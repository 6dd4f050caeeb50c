/**
 * How a memslot is backed on the host (`page`, `thp`, `hugetlb:<size>`) and the host
 * mapping size each gives for a host granule: a name table without the host's page tables,
 * so that the sweep's grid (and the figures that re-derive it) can check a backing without
 * loading the model.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { granule } from "../kvm/granule.ts";
 * import { parseBacking } from "./backing.ts";
 * assertEquals(parseBacking(granule("4K"), "thp"), { kind: "thp", size: 2 * 2 ** 20 });
 * assertEquals(parseBacking(granule("4K"), "hugetlb:1G").size, 2 ** 30);
 * assertThrows(() => parseBacking(granule("16K"), "hugetlb:1G"), RangeError, "not a 16K hugetlb size");
 * ```
 * @module
 */

import { type Granule, levelSize } from "../kvm/granule.ts";
import { formatSize, parseSize } from "../util/size.ts";

/** How a memslot is backed on the host. */
export type BackingKind = "page" | "thp" | "hugetlb";

/** Parse a backing name for a host granule, with a one-line error naming it. */
export function parseBacking(g: Granule, text: string): { kind: BackingKind; size: number } {
  const pmd = levelSize(g, 2);
  if (text === "page") return { kind: "page", size: g.pageSize };
  if (text === "thp") return { kind: "thp", size: pmd };
  const m = /^hugetlb:(.+)$/.exec(text);
  if (m) {
    const size = parseSize(m[1]);
    // arm64 hugetlbpage.c: PMD always; PUD only with 4K pages (pud_sect_supported()).
    if (size === pmd || (g.pageShift === 12 && size === levelSize(g, 1))) {
      return { kind: "hugetlb", size };
    }
    const ok = g.pageShift === 12 ? `${formatSize(pmd)} or 1G` : formatSize(pmd);
    throw new RangeError(`backing "${text}" is not a ${g.name} hugetlb size (expected ${ok})`);
  }
  throw new RangeError(`unknown backing "${text}" (expected page, thp or hugetlb:<size>)`);
}
