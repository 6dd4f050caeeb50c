/**
 * CSV I/O with `@std/csv`: deterministic number formatting, rows to text by a header
 * (LF line ends, so that a file is byte-identical wherever it is written), reading back
 * whole texts or streaming big files row by row, atomic replacement of a file (a
 * temporary file in the same directory, then rename) and the append-only `.partial.tmp`
 * file a running sweep keeps for `--resume`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { formatCsv, formatValue, parseCsv } from "./csv.ts";
 * assertEquals([formatValue(1 / 3), formatValue(2 ** 40)], ["0.333", "1099511627776"]);
 * const text = formatCsv(["a", "b"], [{ a: 1, b: "x,y" }]);
 * assertEquals(text, 'a,b\n1,"x,y"\n');
 * assertEquals(parseCsv(text).rows, [{ a: "1", b: "x,y" }]);
 * ```
 * @module
 */

import { parse, stringify } from "@std/csv";

/** A value as the CSV writes it: integers exactly, other numbers with at most 3 decimals. */
export function formatValue(v: string | number | boolean): string {
  if (typeof v === "boolean") return v ? "1" : "0";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return Math.abs(v) < 1e21 ? v.toFixed(0) : String(v);
  const r = Math.round(v * 1000) / 1000;
  return Number.isInteger(r) ? r.toFixed(0) : String(r);
}

/** A row of values by column name (any object whose fields are strings or numbers). */
export type CsvRecord = { readonly [column: string]: string | number };

/** Rows (by column name) as CSV text: header line, one line per row, final newline. */
export function formatCsv(header: readonly string[], rows: readonly CsvRecord[]): string {
  return formatLines(header, rows, true);
}

/** Data lines only (no header), each ending in a newline. */
export function formatCsvLines(header: readonly string[], rows: readonly CsvRecord[]): string {
  return formatLines(header, rows, false);
}

function formatLines(header: readonly string[], rows: readonly CsvRecord[], withHeader: boolean) {
  const body = rows.map((r) =>
    header.map((h) => {
      const v = r[h];
      if (v === undefined) throw new Error(`row has no column ${h}`);
      return formatValue(v);
    })
  );
  // @std/csv ends lines with CRLF; none of our fields holds a line break, so LF is exact.
  return stringify(withHeader ? [header.slice(), ...body] : body).replaceAll("\r\n", "\n");
}

/** A parsed CSV: its header and rows as strings. */
export interface ParsedCsv {
  /** Column names. */
  header: string[];
  /** Rows by column name. */
  rows: Record<string, string>[];
}

function toRecords(table: string[][], tolerant: boolean): ParsedCsv {
  const header = table[0] ?? [];
  const rows: Record<string, string>[] = [];
  for (let i = 1; i < table.length; i++) {
    const r = table[i];
    if (r.length !== header.length) {
      if (tolerant) continue;
      throw new Error(`line ${i + 1} has ${r.length} fields, the header ${header.length}`);
    }
    const rec: Record<string, string> = {};
    header.forEach((h, j) => rec[h] = r[j]);
    rows.push(rec);
  }
  return { header, rows };
}

/**
 * Parse CSV text. With `tolerant`, a last line cut short (no final newline, or the wrong
 * number of fields, as a killed writer may leave) is dropped instead of kept.
 */
export function parseCsv(text: string, tolerant = false): ParsedCsv {
  let t = text;
  if (tolerant && t.length > 0 && !t.endsWith("\n")) t = t.slice(0, t.lastIndexOf("\n") + 1);
  return toRecords(parse(t, { fieldsPerRecord: -1 }), tolerant);
}

/** The header line of a CSV file's text (split on commas; our headers need no quoting). */
export function headerOf(text: string): string[] {
  const nl = text.indexOf("\n");
  return (nl < 0 ? text : text.slice(0, nl)).trim().split(",");
}

function dirAndBase(path: string): [string, string] {
  const i = path.lastIndexOf("/");
  return i < 0 ? [".", path] : [path.slice(0, i) || "/", path.slice(i + 1)];
}

/**
 * Replace `path` with `text` atomically: write `<path>.<pid>.tmp` in the same directory,
 * then rename it over `path`. A crash leaves either the old file or the new one.
 */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const [dir, base] = dirAndBase(path);
  const tmp = `${dir}/${base}.${Deno.pid}.tmp`;
  try {
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** The progress file a running sweep appends to: `<out>.partial.tmp`. */
export function partialPath(out: string): string {
  return `${out}.partial.tmp`;
}

/** Read a file's text, or null when it does not exist. */
export async function readIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}
