/**
 * The commit of the code a sweep runs, as its timing file records it (column `commit`):
 * the checkout's HEAD in 12 hex digits, `+dirty` when the code the sweep runs (`lib/`,
 * `experiments/`, `vendor/`, `deno.json`, `deno.lock`) has uncommitted changes, or
 * `unknown` without git or without permission to run it (`--allow-run=git`; the sweep
 * never prompts). The notebooks name this commit as the one that made a CSV, so that
 * re-executing them at a later commit prints the same.
 *
 * @example
 * ```ts
 * import { assertMatch } from "@std/assert";
 * import { codeCommit } from "./commit.ts";
 * assertMatch(codeCommit(), /^([0-9a-f]{12}(\+dirty)?|unknown)$/);
 * ```
 * @module
 */

/** The repository root (ends with a slash). */
const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

/** What the sweep runs: a change here makes the recorded commit `+dirty`. */
export const CODE_PATHS: readonly string[] = [
  "lib",
  "experiments",
  "vendor",
  "deno.json",
  "deno.lock",
];

/** The value recorded when the commit cannot be known. */
export const UNKNOWN_COMMIT = "unknown";

function git(args: string[]): string | null {
  try {
    const out = new Deno.Command("git", { args: ["-C", ROOT, ...args], stderr: "null" })
      .outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null; // no git
  }
}

/** The commit of the code running now (see the module doc). */
export function codeCommit(): string {
  let state: Deno.PermissionState;
  try {
    state = Deno.permissions.querySync({ name: "run", command: "git" }).state;
  } catch {
    return UNKNOWN_COMMIT;
  }
  if (state !== "granted") return UNKNOWN_COMMIT;
  const head = git(["rev-parse", "--short=12", "HEAD"]);
  if (!head || !/^[0-9a-f]{12,40}$/.test(head)) return UNKNOWN_COMMIT;
  const status = git(["status", "--porcelain", "--", ...CODE_PATHS]);
  return status === null || status.length > 0 ? `${head}+dirty` : head;
}
