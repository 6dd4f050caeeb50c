/**
 * Shared command-line plumbing: flags parsed with `@std/cli`'s `parseArgs` (a bad or
 * unknown flag is one line and exit 2, `--help` prints the usage), one-line errors with an
 * exit status, and number formatting for tables.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { CsvParseStream } from "@std/csv/parse-stream";
import { writeAtomic } from "../lib/util/csv.ts";
import { JsonSyntaxError, parseJson } from "../lib/util/json.ts";
import { nearestKey } from "../lib/util/keys.ts";

/** One flag: a string or a boolean, with an optional one-letter alias and a default. */
export interface CliFlag {
  /** What it takes. */
  type: "string" | "boolean";
  /** One-letter alias (`-h`). */
  short?: string;
  /** Value when the flag is absent. */
  default?: string | boolean;
}

/** The flags of a command, `--help` added by {@linkcode parseCli}. */
export type CliOptions = Record<string, CliFlag>;

/** The parsed values: booleans, strings (or undefined for a string flag without default). */
export type CliValues<T extends CliOptions> = {
  [K in keyof T]: T[K]["type"] extends "boolean" ? boolean
    : T[K] extends { default: string } ? string
    : string | undefined;
};

/** What {@linkcode parseCli} returns. */
export interface CliArgs<T extends CliOptions> {
  /** Flag values by name. */
  values: CliValues<T> & { help: boolean };
  /** Positional arguments. */
  positionals: string[];
}

/**
 * Parse `args` (default Deno.args) with `@std/cli`'s parseArgs, `--help`/`-h` added: an
 * unknown flag, a string flag without a value, a value given to a boolean flag, or a
 * positional argument where none is allowed is one line and exit 2; `--help` prints
 * `usage` and exits 0.
 */
export function parseCli<T extends CliOptions>(
  usage: string,
  options: T,
  allowPositionals = false,
  args: string[] = Deno.args,
): CliArgs<T> {
  const all: CliOptions = { ...options, help: { type: "boolean", short: "h", default: false } };
  const names = Object.keys(all);
  const strings = names.filter((n) => all[n].type === "string");
  const booleans = names.filter((n) => all[n].type === "boolean");
  const alias: Record<string, string> = {};
  for (const n of names) if (all[n].short) alias[all[n].short!] = n;
  const defaults: Record<string, string | boolean> = {};
  for (const n of names) if (all[n].default !== undefined) defaults[n] = all[n].default!;
  for (const n of booleans) defaults[n] ??= false;
  const known = new Set([...names, ...Object.keys(alias)]);
  // A string flag takes the next argument as its value even when it starts with "-"
  // (`--seed -1`, `--l1-mem -4G`), so that the value's own check names what is wrong.
  const stringFlags = new Set([
    ...strings.map((n) => `--${n}`),
    ...strings.filter((n) => all[n].short).map((n) => `-${all[n].short}`),
  ]);
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      joined.push(...args.slice(i));
      break;
    }
    // parseArgs reads `--quiet=maybe` as `--quiet`: a boolean flag takes no value at all.
    const named = /^--([^=]+)=/.exec(a)?.[1];
    if (named !== undefined && booleans.includes(named)) {
      fail(`--${named} takes no value (see --help)`);
    }
    if (stringFlags.has(a) && i + 1 < args.length && args[i + 1].startsWith("-")) {
      joined.push(`${a}=${args[++i]}`);
    } else joined.push(a);
  }
  args = joined;
  const parsed = parseArgs(args, {
    string: strings,
    boolean: booleans,
    alias,
    default: defaults,
    "--": false,
    unknown: (arg: string, key?: string) => {
      if (key !== undefined && known.has(key)) return true;
      if (key === undefined) {
        if (allowPositionals) return true;
        fail(`unexpected argument "${arg}" (see --help)`);
      }
      fail(`unknown option "${arg.split("=")[0]}" (see --help)`);
    },
  });
  for (const n of strings) {
    const v = parsed[n];
    if (Array.isArray(v)) fail(`--${n} is given more than once (see --help)`);
    if (
      v === "" && args.some((a) => a === `--${n}` || (all[n].short && a === `-${all[n].short}`))
    ) {
      fail(`--${n} needs a value (see --help)`);
    }
  }
  for (const n of booleans) {
    if (typeof parsed[n] !== "boolean") fail(`--${n} takes no value (see --help)`);
  }
  if (parsed.help) {
    console.log(usage);
    Deno.exit(0);
  }
  const values: Record<string, unknown> = {};
  for (const n of names) values[n] = parsed[n];
  return {
    values: values as CliValues<T> & { help: boolean },
    positionals: parsed._.map(String),
  };
}

/**
 * A comma-separated list of names (`--strategy a,b`), each one of `valid` (`what` names
 * them: "strategy", "case"): one line and exit 2, naming `flag`, when it names none, an
 * unknown one (with the nearest valid name, else the list) or one twice. Empty items
 * (`a,,b`) are dropped.
 */
export function nameList(
  flag: string,
  text: string,
  valid: readonly string[],
  what: string,
): string[] {
  const names = text.split(",").map((x) => x.trim()).filter((x) => x);
  if (names.length === 0) fail(`${flag} names no ${what}`);
  const seen = new Set<string>();
  for (const n of names) {
    if (!valid.includes(n)) {
      const near = nearestKey(n, valid);
      fail(
        `${flag}: unknown ${what} "${n}" (${
          near ? `did you mean "${near}"?` : `expected one of ${valid.join(", ")}`
        })`,
      );
    }
    if (seen.has(n)) fail(`${flag}: ${what} "${n}" is named twice`);
    seen.add(n);
  }
  return names;
}

/**
 * A file-system error in a few words, without Deno's advice on permission flags:
 * `no such file or directory`, `permission denied`, `not a directory`, `is a directory`,
 * `already exists`, else the error's first line.
 */
export function describeFsError(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.NotCapable) return "permission denied";
  if (e instanceof Deno.errors.NotADirectory) return "not a directory";
  if (e instanceof Deno.errors.IsADirectory) return "is a directory";
  if (e instanceof Deno.errors.AlreadyExists) return "already exists";
  const m = e instanceof Error ? e.message.split("\n")[0] : String(e);
  if (/^Requires .*access/.test(m)) return "permission denied";
  // "Read-only file system (os error 30): mkdir '/x'" -> "read-only file system"
  const short = m.replace(/,? run again with the --allow-[a-z]+ flag/, "")
    .replace(/ \(os error \d+\)/, "")
    .replace(/: [a-z_]+( '[^']*'( -> '[^']*')?)?$/, "");
  return short.charAt(0).toLowerCase() + short.slice(1);
}

/**
 * Read a text input named on the command line: one line and exit 2 when it cannot be read,
 * holds NUL bytes (a binary file) or is not UTF-8, instead of echoing its bytes.
 */
export async function readTextInput(path: string, what = "file"): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    fail(`cannot read ${path}: ${describeFsError(e)}`);
  }
  return decodeTextInput(path, bytes, what);
}

/**
 * The text of an input's `bytes`: one line and exit 2 when they hold NUL bytes (a binary
 * file) or are not UTF-8 (`label` names the input in the message, e.g. its path).
 */
export function decodeTextInput(label: string, bytes: Uint8Array, what = "file"): string {
  if (bytes.includes(0)) fail(`${label}: a binary file, not a ${what}`);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    fail(`${label}: not UTF-8 text, not a ${what}`);
  }
}

/** {@linkcode readTextInput}, synchronous. */
export function readTextInputSync(path: string, what = "file"): string {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (e) {
    fail(`cannot read ${path}: ${describeFsError(e)}`);
  }
  return decodeTextInput(path, bytes, what);
}

/**
 * The JSON value of `text`, an input named on the command line (`label`, e.g. its path):
 * one line and exit 2 saying where it stops being JSON and what was expected there.
 */
export function parseJsonInput(label: string, text: string): unknown {
  try {
    return parseJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) fail(`${label}: not JSON: ${e.message}`);
    throw e;
  }
}

/** Options of {@linkcode checkOutputFile}. */
export interface OutputCheck {
  /** An existing file may be replaced (else: refused, unless `force`). */
  replace?: boolean;
  /** `--force` was given: replace an existing file anyway. */
  force?: boolean;
}

/**
 * Check, before any work, that `path` can be written as a file (one line and exit 2 if
 * not, naming `flag`): not a directory, not under a file, its directory (or the nearest
 * one that exists, where the task creates the rest) writable, an existing file writable and
 * replaceable. Writes nothing: a probe file is created and removed, an existing file is
 * opened for appending and closed.
 */
export function checkOutputFile(flag: string, path: string, opts: OutputCheck = {}): void {
  const bad = (why: string): never => fail(`${flag}: cannot write ${path}: ${why}`);
  if (path.trim() === "" || path.endsWith("/")) fail(`${flag}: "${path}" is not a file name`);
  let st: Deno.FileInfo | null = null;
  try {
    st = Deno.statSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) bad(describeFsError(e));
  }
  if (st) {
    if (st.isDirectory) bad("it is a directory");
    if (!st.isFile) bad("not a regular file");
    if (!opts.replace && !opts.force) fail(`${flag}: ${path} exists (add --force to replace it)`);
    try {
      Deno.openSync(path, { append: true }).close();
    } catch (e) {
      bad(describeFsError(e));
    }
    return;
  }
  probeNearestDir(path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".", bad);
}

/**
 * Check, before any work, that `prefix` can name the files `prefix.SUFFIX` for each of
 * `suffixes` (one line and exit 2 if not, naming `flag`): a prefix that is a directory
 * (or ends in "/") would put the files beside it or hide them in it, so it is refused
 * with an example (`DIR/name`, `name` the prefix's usual last part); then each file as
 * {@linkcode checkOutputFile} checks it. Writes nothing.
 */
export function checkOutputPrefix(
  flag: string,
  prefix: string,
  suffixes: readonly string[],
  name: string,
  opts: OutputCheck = {},
): void {
  const files = `${prefix}.{${suffixes.join(",")}}`;
  const dir = prefix.replace(/\/+$/, "") || "/";
  let isDir = false;
  try {
    isDir = Deno.statSync(prefix).isDirectory;
  } catch {
    // Absent (created later) or unreadable: checkOutputFile says which.
  }
  if (isDir || prefix.endsWith("/")) {
    fail(
      `${flag}: cannot write ${files}: ${prefix} ${isDir ? "is" : "names"} a directory ` +
        `(${flag} is a prefix of file names, e.g. ${dir === "/" ? "" : dir}/${name})`,
    );
  }
  if (prefix.trim() === "") fail(`${flag}: "${prefix}" is not a prefix of file names`);
  for (const s of suffixes) checkOutputFile(flag, `${prefix}.${s}`, opts);
}

/**
 * The nearest directory of `dir` (itself or an ancestor) that exists must be a directory
 * we may create files in: a probe file is created there and removed.
 */
function probeNearestDir(dir: string, bad: (why: string) => never): void {
  for (;;) {
    try {
      const d = Deno.statSync(dir);
      if (!d.isDirectory) bad(`${dir} is not a directory`);
      break;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) bad(describeFsError(e));
      if (!dir.includes("/") || dir === "/") {
        dir = ".";
        break;
      }
      dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
    }
  }
  try {
    Deno.removeSync(Deno.makeTempFileSync({ dir, prefix: ".s2lab-probe-" }));
  } catch (e) {
    bad(`${dir}: ${describeFsError(e)}`);
  }
}

/**
 * Check, before any work, that files can be written in the directory `dir` (one line and
 * exit 2 if not, naming `flag`): an existing directory we may create files in, or a path
 * whose nearest existing ancestor is one (the task creates the rest). Writes nothing.
 */
export function checkOutputDir(flag: string, dir: string): void {
  const bad = (why: string): never => fail(`${flag}: cannot write in ${dir}: ${why}`);
  if (dir.trim() === "") fail(`${flag}: "${dir}" is not a directory name`);
  const d = dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
  try {
    if (!Deno.statSync(d).isDirectory) bad("not a directory");
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) bad(describeFsError(e));
  }
  probeNearestDir(d, bad);
}

/**
 * Write `text` to `path` atomically (lib/util/csv.ts `writeAtomic`), creating its
 * directory; a failure (the disk filled up after {@linkcode checkOutputFile} passed) is one
 * line naming `flag` and exit `code` (default 1).
 */
export async function writeOutput(
  flag: string,
  path: string,
  text: string,
  code = 1,
): Promise<void> {
  try {
    if (path.includes("/")) {
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")) || "/", { recursive: true });
    }
    await writeAtomic(path, text);
  } catch (e) {
    fail(`${flag}: cannot write ${path}: ${describeFsError(e)}`, code);
  }
}

/**
 * Read a CSV file named on the command line row by row with `@std/csv`'s
 * `CsvParseStream` (the streaming form, for big files): one line and exit 2 when it cannot
 * be read, is binary (NUL bytes) or not UTF-8, or is not CSV (a row whose field count
 * differs from the header's included). Returns the header and the rows by column name.
 */
export async function readCsvInput(
  path: string,
  what = "CSV file",
): Promise<{ header: string[]; rows: Record<string, string>[] }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    fail(`cannot read ${path}: ${describeFsError(e)}`);
  }
  class Binary extends Error {}
  const noNul = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, c) {
      if (chunk.includes(0)) throw new Binary();
      c.enqueue(chunk);
    },
  });
  const records = file.readable.pipeThrough(noNul)
    .pipeThrough(new TextDecoderStream("utf-8", { fatal: true }))
    .pipeThrough(new CsvParseStream({ fieldsPerRecord: -1 }));
  let header: string[] | null = null;
  const rows: Record<string, string>[] = [];
  let line = 0;
  try {
    for await (const r of records) {
      line++;
      if (!header) {
        header = r;
        continue;
      }
      if (r.length !== header.length) {
        fail(`${path}: line ${line} has ${r.length} fields, the header ${header.length}`);
      }
      const rec: Record<string, string> = {};
      header.forEach((h, j) => rec[h] = r[j]);
      rows.push(rec);
    }
  } catch (e) {
    if (e instanceof Binary) fail(`${path}: a binary file, not a ${what}`);
    if (e instanceof TypeError && /decode|encoded/i.test(e.message)) {
      fail(`${path}: not UTF-8 text, not a ${what}`);
    }
    if (e instanceof Deno.errors.IsADirectory) fail(`cannot read ${path}: is a directory`);
    fail(`${path}: not a ${what}: ${(e as Error).message}`);
  }
  return { header: header ?? [], rows };
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
