/**
 * `deno task verify` run from code (notebooks/06-try-a-design): the command a user would
 * type, run with the Deno that runs the caller, in the repository root, without progress;
 * its verdict is the exit status (0 correct, 1 a counterexample). Bad input (status 2: a
 * design file that does not load, a bad flag) is thrown as one {@linkcode VerifyTaskError}
 * line, verify's own.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { verifyTaskArgs } from "./task.ts";
 * assertEquals(
 *   verifyTaskArgs("experiments/designs/guest_s2_tracking.ts", {
 *     out: "results/verify/notebook", quick: true, exhaustDepth: 4,
 *   }).join(" "),
 *   "experiments/designs/guest_s2_tracking.ts --quick --exhaust-depth 4 " +
 *     "--out results/verify/notebook",
 * );
 * ```
 * @module
 */

import { REPO_ROOT } from "../plots/results.ts";
import type { VerifyCheck } from "./plan.ts";

/** How to run `deno task verify`. */
export interface VerifyTaskOptions {
  /** The report folder (relative paths are relative to the repository root). */
  out: string;
  /** `--quick`. */
  quick?: boolean;
  /** `--exhaust-depth N`: the exhaustive search bounded by depth alone. */
  exhaustDepth?: number;
  /** `--only`: these checks alone. */
  only?: readonly VerifyCheck[];
}

/** What a run of `deno task verify` gave. */
export interface VerifyTaskRun {
  /** 0: every check held; 1: a counterexample. */
  readonly status: 0 | 1;
  /** The command, as typed in the repository root. */
  readonly command: string;
  /** The report folder, absolute. */
  readonly dir: string;
}

/** `deno task verify` failed: bad input (its one line), or it crashed (its stderr's end). */
export class VerifyTaskError extends Error {
  /** The message verify printed. */
  constructor(message: string) {
    super(message);
    this.name = "VerifyTaskError";
  }
}

/** The arguments after `deno task verify`. */
export function verifyTaskArgs(design: string, opts: VerifyTaskOptions): string[] {
  return [
    design,
    ...(opts.quick ? ["--quick"] : []),
    ...(opts.exhaustDepth === undefined ? [] : ["--exhaust-depth", String(opts.exhaustDepth)]),
    ...(opts.only === undefined ? [] : ["--only", opts.only.join(",")]),
    "--out",
    opts.out,
  ];
}

/** Run `deno task verify design ...` in the repository root and wait for its verdict. */
export async function runVerifyTask(
  design: string,
  opts: VerifyTaskOptions,
): Promise<VerifyTaskRun> {
  const args = verifyTaskArgs(design, opts);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "verify", ...args, "--quiet"],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0 && out.code !== 1) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n");
    const line = err.find((l) => l.startsWith("error:")) ?? err.slice(-5).join("\n");
    throw new VerifyTaskError(`deno task verify ${args.join(" ")}: ${line}`);
  }
  const dir = opts.out.startsWith("/") ? opts.out : REPO_ROOT + opts.out.replace(/^\.\//, "");
  return { status: out.code as 0 | 1, command: `deno task verify ${args.join(" ")}`, dir };
}
