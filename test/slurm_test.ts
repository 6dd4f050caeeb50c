/**
 * experiments/slurm/submit.sh on a real Slurm (issue #13): a 2-shard grid through
 * `sbatch --array` and the dependent merge job gives the bytes of the unsharded sweep.
 *
 * Needs a cluster: `bash .ci/slurm.sh` starts a single-node one from Debian's packages
 * (.ci/run does). Without `sbatch` on PATH the test fails and says so, unless
 * S2LAB_SKIP_SLURM=1, which ignores it.
 */

import { STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import { assert, assertEquals, assertMatch } from "@std/assert";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);
const SUBMIT = `${ROOT}experiments/slurm/submit.sh`;
const SKIP = Deno.env.get("S2LAB_SKIP_SLURM") === "1";
const HINT = "start a single-node Slurm with `bash .ci/slurm.sh` (as root), " +
  "or set S2LAB_SKIP_SLURM=1 to skip this test";
/** A few seconds of work: 4 points x every strategy. */
const GRID = [
  ...["--vcpus", "1,2", "--l1-mem", "4G", "--granule", "4K"],
  ...["--alias", "0,0.1", "--pages-per-context", "8"],
];

function onPath(name: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (dir !== "" && Deno.statSync(`${dir}/${name}`).isFile) return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

async function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", ...opts.env },
    stdout: "piped",
    stderr: "piped",
    signal: opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined,
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test({
  name: "slurm: a 2-shard sweep through sbatch --array and the merge job equals the unsharded one",
  ignore: SKIP,
  async fn() {
    // The test command installs what it needs: without a cluster answering, start the
    // single-node one (.ci/slurm.sh installs Debian's slurm-wlm and munge as root), and
    // stop it again at the end.
    const up = async () =>
      onPath("sbatch") &&
      /idle|mix|alloc/.test((await run("sinfo", ["-h", "-o", "%t"], { timeoutMs: 30_000 })).stdout);
    let started = false;
    if (!(await up())) {
      const s = await run("bash", [`${ROOT}.ci/slurm.sh`], { timeoutMs: 600_000 });
      started = s.code === 0;
      assert(started, `could not start Slurm (${s.stderr.trim().split("\n").pop()}): ${HINT}`);
    }
    assert(await up(), `no idle Slurm node: ${HINT}`);

    const tmp = await Deno.makeTempDir({ prefix: "s2lab-slurm-" });
    const name = `s2lab-test-${Deno.pid}`;
    try {
      const merged = `${tmp}/merged.csv`;
      const sub = await run("bash", [
        SUBMIT,
        ...["--shards", "2", "--out", merged, "--work-dir", `${tmp}/work`],
        ...["--job-name", name, "--time", "10:00", "--keep-shards", "--wait", "--"],
        ...GRID,
      ], { env: { S2LAB_DENO: Deno.execPath() }, timeoutMs: 300_000 });
      assertEquals(sub.code, 0, `submit.sh failed:\n${sub.stdout}${sub.stderr}`);

      // Both array tasks ran, each wrote its shard, and the merge job marked success.
      const work = [...Deno.readDirSync(`${tmp}/work`)].map((e) => e.name).sort();
      for (const f of ["shard-1.csv", "shard-2.csv", "merge.ok"]) {
        assert(work.includes(f), `${f} missing in the work dir: ${work.join(" ")}`);
      }
      assertEquals(work.filter((f) => /^slurm-\d+_[01]\.out$/.test(f)).length, 2, work.join(" "));

      const full = `${tmp}/full.csv`;
      const one = await run(Deno.execPath(), [
        ...["task", "-q", "sweep", ...GRID, "--out", full, "--quiet"],
      ], { timeoutMs: 300_000 });
      assertEquals(one.code, 0, `unsharded sweep failed:\n${one.stderr}`);

      const a = await Deno.readFile(merged), b = await Deno.readFile(full);
      const text = new TextDecoder().decode(a);
      assertEquals(
        text.trimEnd().split("\n").length,
        1 + 4 * STRATEGY_NAMES.length,
        "4 points x every strategy",
      );
      assertEquals(text, new TextDecoder().decode(b), "merged CSV differs from the unsharded one");
      assertEquals(a, b);
      assert((await Deno.stat(`${tmp}/merged.timing.csv`)).isFile, "merged timing CSV");
    } finally {
      // Nothing of ours stays queued when the test failed half-way.
      await run("scancel", ["--name", name]).catch(() => {});
      await run("scancel", ["--name", `${name}-merge`]).catch(() => {});
      await Deno.remove(tmp, { recursive: true });
      if (started) await run("bash", [`${ROOT}.ci/slurm.sh`, "stop"]);
    }
  },
});

Deno.test("slurm: submit.sh rejects bad input with one line and exit 2", async () => {
  for (
    const args of [
      [],
      ["--shards"],
      ["--shards", "0", "--out", "x.csv"],
      ["--shards", "2"],
      ["--shards", "2", "--out", "x.csv", "--bogus"],
      ["--shards", "2", "--out", "x.csv", "--", "--shard", "1/2"],
    ]
  ) {
    const r = await run("bash", [SUBMIT, ...args]);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assertEquals(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assertMatch(r.stderr, /^error: /);
  }
});
