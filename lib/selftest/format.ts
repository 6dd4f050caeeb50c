/**
 * Small formatting helpers shared by the selftest emitters: hex addresses, C literals,
 * sizes, and the tag of the comments that tie every generated block to the trace event it
 * comes from (the event described as replay describes it).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { cComment, cHex, eventLine, hex, sizeText, wrap } from "./format.ts";
 * assertEquals(hex(2 ** 32), "0x100000000");
 * assertEquals(cHex(4096), "0x1000ul");
 * assertEquals(sizeText(128 * 2 ** 20), "128M");
 * assertEquals(
 *   eventLine(4, { op: "migrate", l1ipa: 0x57e00000, size: 0x200000 }),
 *   "event #4: migrate L1 0x57e00000 +0x200000",
 * );
 * assertEquals(cComment("short", 1).length, 1); // one line when it fits in 100 columns
 * assertEquals(wrap("  one two three", 10, "    "), ["  one two", "    three"]);
 * ```
 * @module
 */

import { formatSize } from "../util/size.ts";
import { describeEvent, type TraceEvent } from "../trace/ops.ts";

/** An address or size in lower-case hex with a `0x` prefix (no 32-bit arithmetic). */
export function hex(n: number): string {
  return "0x" + n.toString(16);
}

/** A C `unsigned long` literal (`0x1000ul`); the selftests are 64-bit (LP64). */
export function cHex(n: number): string {
  return hex(n) + "ul";
}

/** A byte count with the largest binary suffix that divides it (`2M`, `128M`, `4K`). */
export function sizeText(bytes: number): string {
  return formatSize(bytes);
}

/**
 * `event #i: op operands`: the tag every generated block carries, the operands in the
 * words `deno task replay` prints (the op table's `describeEvent`).
 */
export function eventLine(index: number, e: TraceEvent): string {
  const operands = describeEvent(e);
  return `event #${index}: ${e.op}${operands ? " " + operands : ""}`;
}

/** Make text safe inside a C block comment (no comment terminator). */
export function cSafe(text: string): string {
  return text.replaceAll("*/", "* /");
}

/** Make text safe inside a C string literal (and a comment): no quotes, backslashes or `%`. */
export function cString(text: string): string {
  return cSafe(text).replaceAll("\\", "/").replaceAll('"', "'").replaceAll("%", " percent");
}

/** Word-wrap `text` to `width` columns, keeping its leading spaces; continuation lines start with `indent`. */
export function wrap(text: string, width: number, indent = ""): string[] {
  const lead = /^ */.exec(text)![0];
  const out: string[] = [];
  let line = lead;
  for (const word of text.slice(lead.length).split(" ")) {
    if (line.trim() && (line + " " + word).length > width) {
      out.push(line);
      line = indent + word;
    } else line = line.trim() ? line + " " + word : line + word;
  }
  if (line.trim()) out.push(line);
  return out;
}

/** Columns of kernel C, and of a tab. */
export const C_COLUMNS = 100;

/**
 * A C comment at `tabs` tabs of indentation: one line when it fits in
 * {@linkcode C_COLUMNS} columns, else a block comment with wrapped lines.
 */
export function cComment(text: string, tabs: number): string[] {
  const pad = "\t".repeat(tabs);
  const safe = cSafe(text);
  if (tabs * 8 + safe.length + 6 <= C_COLUMNS) return [`${pad}/* ${safe} */`];
  return [
    `${pad}/*`,
    ...wrap(safe, C_COLUMNS - tabs * 8 - 3).map((l) => `${pad} * ${l}`),
    `${pad} */`,
  ];
}
