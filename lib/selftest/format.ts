/**
 * Small formatting helpers shared by the selftest emitters: hex addresses, C literals,
 * sizes, and one-line descriptions of trace events for the comments that tie every
 * generated block to the event it comes from.
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
import type { TraceEvent } from "../trace/ops.ts";

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

/** A trace event's operands in one line, addresses in hex (as `deno task replay` prints them). */
export function eventOperands(e: TraceEvent): string {
  switch (e.op) {
    case "l1-map":
      return `ctx ${e.ctx} L2 ${hex(e.l2ipa)} -> L1 ${hex(e.l1ipa)} +${hex(e.size)}${
        e.writable ? "" : " ro"
      }`;
    case "l1-unmap":
      return `ctx ${e.ctx} L2 ${hex(e.l2ipa)} +${hex(e.size)}`;
    case "access":
      return `vcpu ${e.vcpu} ctx ${e.ctx} L2 ${hex(e.l2ipa)} ${e.write ? "write" : "read"}`;
    case "l1-access":
      return `L1 ${hex(e.l1ipa)} ${e.write ? "write" : "read"}`;
    case "tlbi-ipa":
      return `vmid ${e.vmid} L2 ${hex(e.l2ipa)}${e.ttl ? ` ttl ${e.ttl}` : ""}`;
    case "tlbi-range":
      return `vmid ${e.vmid} L2 ${hex(e.l2ipa)} +${hex(e.size)}`;
    case "tlbi-vmid":
      return `vmid ${e.vmid}`;
    case "ctx-create":
      return `ctx ${e.context.id} vmid ${e.context.vmid} ${e.context.granule}/${e.context.ipaBits}`;
    case "ctx-destroy":
      return `ctx ${e.ctx}`;
    case "migrate":
    case "swap-out":
    case "numa-scan":
    case "thp-split":
      return `L1 ${hex(e.l1ipa)} +${hex(e.size)}`;
    case "memslot-delete":
    case "wp":
      return `slot ${e.slot}`;
    case "memslot-add":
      return `slot ${e.memslot.id} ${hex(e.memslot.base)} +${
        hex(e.memslot.size)
      } ${e.memslot.backing}`;
    default:
      return "";
  }
}

/** `event #i: op operands`: the tag every generated block carries. */
export function eventLine(index: number, e: TraceEvent): string {
  const operands = eventOperands(e);
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
