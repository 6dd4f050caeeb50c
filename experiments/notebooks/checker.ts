/**
 * The command line the notebook checkers share (check_facts.ts, check_text.ts): each named
 * executed notebook is checked, its problems printed one a line on stderr, then one summary
 * line on stdout. Exit status: 0 every notebook holds, 1 one does not, 2 bad input (no
 * notebook named, or one that cannot be read).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { runChecker } from "./checker.ts";
 * const seen: string[] = [];
 * // Every notebook holds: runChecker returns (it exits only on a problem or bad input).
 * runChecker("check.ts NOTEBOOK.ipynb...", (p) => {
 *   seen.push(p);
 *   return { problems: [], summary: `${p}: 0 problems` };
 * }, ["a.ipynb", "b.ipynb"]);
 * assertEquals(seen, ["a.ipynb", "b.ipynb"]);
 * ```
 *
 * @module
 */

/** What a checker found in one notebook. */
export interface CheckedNotebook {
  /** One line per problem (empty: the notebook holds). */
  problems: string[];
  /** One line: what was checked and how it went. */
  summary: string;
}

/** Run `check` on every notebook named in `args` (see the module doc); exits when done. */
export function runChecker(
  usage: string,
  check: (path: string) => CheckedNotebook,
  args: readonly string[] = Deno.args,
): void {
  if (args.length === 0) {
    console.error(`usage: ${usage}`);
    Deno.exit(2);
  }
  let failed = false;
  for (const p of args) {
    let res;
    try {
      res = check(p);
    } catch (e) {
      console.error(`error: ${p}: ${(e as Error).message}`);
      Deno.exit(2);
    }
    for (const line of res.problems) console.error(line);
    console.log(res.summary);
    failed ||= res.problems.length > 0;
  }
  if (failed) Deno.exit(1);
}
