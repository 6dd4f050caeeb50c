/**
 * Shared command-line plumbing: one-line errors with an exit status, and number
 * formatting for tables.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "parse-args";

/** The options of a command, `--help` added by {@linkcode parseCli}. */
export type CliOptions = NonNullable<ParseArgsConfig["options"]>;

/**
 * parseArgs() over Deno.args with `--help`/`-h` added: a bad flag is one line and exit 2,
 * `--help` prints `usage` and exits 0.
 */
export function parseCli<T extends CliOptions>(
  usage: string,
  options: T,
  allowPositionals = false,
) {
  let args;
  try {
    args = parseArgs({
      args: Deno.args,
      allowPositionals,
      options: { ...options, help: { type: "boolean", short: "h", default: false } } as
        & T
        & { help: { type: "boolean"; short: "h"; default: false } },
    });
  } catch (e) {
    fail((e as Error).message);
  }
  if (args.values.help) {
    console.log(usage);
    Deno.exit(0);
  }
  return args;
}

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
