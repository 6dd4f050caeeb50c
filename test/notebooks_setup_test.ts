/**
 * experiments/notebooks/setup.sh (`deno task notebooks:setup`) run against stubs: `deno`,
 * `jupyter` and `dpkg-query` on a PATH of the test's own, HOME and XDG_DATA_HOME in a temp
 * directory, so nothing is installed and nothing outside the temp directory is written.
 * `apt-get`, `sudo` and `npx` stubs record a call and fail: the packages are "installed".
 *
 * The rule: the script puts its copy of deno where its flags and XDG_DATA_HOME say, and an
 * exported DENO_DIR (Deno's cache) reaches every deno command it runs unchanged.
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);
const SETUP = `${ROOT}experiments/notebooks/setup.sh`;
/** The script reads the kernelspec list with Debian's python3 (the one Jupyter runs on). */
const PYTHON = "/usr/bin/python3";
const HAS_PYTHON = (() => {
  try {
    return Deno.statSync(PYTHON).isFile;
  } catch {
    return false;
  }
})();

/** Each stub appends `<name> <args> | DENO_DIR=<value or -unset->` to $STUB_LOG. */
const LOG_CALL = `echo "$(basename "$0") $* | DENO_DIR=\${DENO_DIR--unset-}" >>"$STUB_LOG"`;
const STUBS: Record<string, string> = {
  // deno 2.9.6: --version, `eval 'console.log(Deno.execPath())'` (its own path), and
  // `jupyter --install` (records the kernel's binary, for the jupyter stub).
  deno: `${LOG_CALL}
case "$1" in
  --version) echo "deno 2.9.6 (stable, release, x86_64-unknown-linux-gnu)" ;;
  eval) echo "$0" ;;
  jupyter) echo "$0" >"$STUB_STATE/kernel" ;;
  *) exit 1 ;;
esac`,
  // `jupyter kernelspec list --json`: the deno kernel the deno stub installed, if any.
  jupyter: `${LOG_CALL}
if [[ -s "$STUB_STATE/kernel" ]]; then
  printf '{"kernelspecs": {"deno": {"resource_dir": "%s/kernels/deno", "spec": {"argv": ["%s", "jupyter", "--kernel"]}}}}\\n' \\
    "$STUB_STATE" "$(cat "$STUB_STATE/kernel")"
else
  echo '{"kernelspecs": {}}'
fi`,
  // Every package installed.
  "dpkg-query": `${LOG_CALL}
case "$*" in
  *Status*) echo "install ok installed" ;;
  *) echo "0.0-stub" ;;
esac`,
  "apt-get": `${LOG_CALL}\nexit 1`,
  sudo: `${LOG_CALL}\nexit 1`,
  npx: `${LOG_CALL}\nexit 1`,
};

interface SetupRun {
  code: number;
  output: string;
  /** The stub calls of this run, one line each. */
  calls: string[];
}

/** A temp directory with the stubs in bin/ (removed by the caller). */
async function stubs(): Promise<string> {
  const tmp = await Deno.makeTempDir({ prefix: "s2lab-nbsetup-" });
  for (const d of ["bin", "state", "home", "data"]) await Deno.mkdir(`${tmp}/${d}`);
  for (const [name, body] of Object.entries(STUBS)) {
    await Deno.writeTextFile(`${tmp}/bin/${name}`, `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  }
  return tmp;
}

/** setup.sh with `args` in `tmp` on its stubs; `denoDir` exported as DENO_DIR when given. */
async function setup(tmp: string, args: string[], denoDir?: string): Promise<SetupRun> {
  await Deno.writeTextFile(`${tmp}/calls.log`, "");
  const env: Record<string, string> = {
    PATH: `${tmp}/bin:/usr/bin:/bin`,
    HOME: `${tmp}/home`,
    XDG_DATA_HOME: `${tmp}/data`,
    STUB_LOG: `${tmp}/calls.log`,
    STUB_STATE: `${tmp}/state`,
  };
  if (denoDir !== undefined) env.DENO_DIR = denoDir;
  const out = await new Deno.Command("bash", {
    args: [SETUP, ...args],
    cwd: tmp,
    clearEnv: true,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    output: dec.decode(out.stdout) + dec.decode(out.stderr),
    calls: (await Deno.readTextFile(`${tmp}/calls.log`)).trimEnd().split("\n"),
  };
}

/** The deno calls of a run and the DENO_DIR each saw. */
function denoCalls(run: SetupRun): { call: string; denoDir: string }[] {
  return run.calls.filter((c) => /^deno /.test(c)).map((c) => ({
    call: c.slice(0, c.lastIndexOf(" | ")),
    denoDir: c.slice(c.lastIndexOf("DENO_DIR=") + "DENO_DIR=".length),
  }));
}

function assertNothingInstalled(run: SetupRun) {
  const refused = run.calls.filter((c) => /^(apt-get|sudo|npx) /.test(c));
  assertEquals(refused, [], "setup.sh called apt-get, sudo or npx");
}

Deno.test({
  name: `notebooks:setup: an exported DENO_DIR reaches every deno command unchanged${
    HAS_PYTHON ? "" : ` (skipped: no ${PYTHON})`
  }`,
  ignore: !HAS_PYTHON,
  async fn() {
    const cache = "/nonexistent/s2lab-deno-cache";
    const tmp = await stubs();
    try {
      const run = await setup(tmp, [], cache);
      assertEquals(run.code, 0, run.output);
      assertNothingInstalled(run);
      // The copy went to XDG_DATA_HOME, the kernel runs it, and the cache stayed where the
      // user put it: not beside the copy.
      const copy = `${tmp}/data/s2lab/deno-2.9.6/deno`;
      assertEquals(await Deno.readTextFile(copy), await Deno.readTextFile(`${tmp}/bin/deno`));
      assertEquals((await Deno.readTextFile(`${tmp}/state/kernel`)).trim(), copy);
      const calls = denoCalls(run);
      assert(calls.some((c) => c.call.includes("jupyter --install")), run.calls.join("\n"));
      for (const c of calls) assertEquals(c.denoDir, cache, c.call);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: `notebooks:setup: without DENO_DIR none is set, and --deno-dir places the copy${
    HAS_PYTHON ? "" : ` (skipped: no ${PYTHON})`
  }`,
  ignore: !HAS_PYTHON,
  async fn() {
    const tmp = await stubs();
    try {
      const run = await setup(tmp, ["--deno-dir", "stable"]);
      assertEquals(run.code, 0, run.output);
      assertNothingInstalled(run);
      const copy = `${tmp}/stable/deno`;
      assertEquals((await Deno.readTextFile(`${tmp}/state/kernel`)).trim(), copy);
      assertStringIncludes(run.output, `running ${copy}`);
      const calls = denoCalls(run);
      assert(calls.length > 0, run.calls.join("\n"));
      for (const c of calls) assertEquals(c.denoDir, "-unset-", c.call);
      // A second run finds the packages, the copy and the kernel in place.
      const again = await setup(tmp, ["--deno-dir", "stable"]);
      assertEquals(again.code, 0, again.output);
      assertNothingInstalled(again);
      assertEquals(again.output.match(/installed already|there already/g)?.length, 3, again.output);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
