/**
 * Shared command-line plumbing: one-line errors with an exit status, and number
 * formatting for tables.
 *
 * @module
 */

/** Exit status for bad input (malformed arguments or trace). */
export const EXIT_BAD_INPUT = 2;

/** Print `message` as one line on stderr and exit with `code`. */
export function fail(message: string, code = EXIT_BAD_INPUT): never {
  console.error(`error: ${message.split("\n")[0]}`);
  Deno.exit(code);
}

/** Thousands separators for counts in tables. */
export function fmtCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** Render rows as an aligned text table (first row is the header). */
export function textTable(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? fmtCount(c) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells
    .map((r) =>
      r.map((
        c,
        i,
      ) => (i <= 2 && typeof rows[1]?.[i] === "string"
        ? c.padEnd(widths[i])
        : c.padStart(widths[i]))
      ).join("  ")
    )
    .join("\n");
}
