/**
 * Running the project's CLIs from tests: one of `experiments/` under `deno run` with the
 * permissions its task grants, from the repository root, output captured.
 *
 * @module
 */

/** The repository root. */
export const ROOT: string = new URL("..", import.meta.url).pathname;

/** What a CLI run left: exit status and its output as text. */
export interface CliRun {
  /** Exit status. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** Run `experiments/<script>` with `perms` (deno run flags) and `args`. */
export async function runScript(script: string, perms: string[], args: string[]): Promise<CliRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...perms, `experiments/${script}`, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
