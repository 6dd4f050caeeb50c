/**
 * experiments/slurm/submit.sh on a real Slurm: a 2-shard grid through `sbatch --array` and
 * the dependent merge job gives the bytes of the unsharded sweep.
 *
 * Runs only where a cluster already answers: `scontrol ping` finds its controller up and
 * `sinfo` lists an idle node, for the configuration in SLURM_CONF (else Slurm's default,
 * /etc/slurm/slurm.conf). Elsewhere the test is ignored and its name says why ("skipped: no
 * Slurm (...)"): the tests install nothing and start no daemon. CI starts a private
 * single-node cluster (`bash .ci/slurm.sh start DIR`, whose files all live in DIR) and
 * points SLURM_CONF at it. S2LAB_REQUIRE_SLURM=1 (what CI sets) turns a missing cluster into
 * a failure; S2LAB_SKIP_SLURM=1 skips the test even where a cluster answers.
 */

import { STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import { assert, assertEquals, assertMatch } from "@std/assert";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);
const SUBMIT = `${ROOT}experiments/slurm/submit.sh`;
/** A few seconds of work: 4 points x every strategy. */
const GRID = [
  ...["--vcpus", "1,2", "--l1-mem", "4G", "--granule", "4K"],
  ...["--alias", "0,0.1", "--pages-per-context", "8"],
];

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

/** `cmd args` with a time limit; undefined when cmd is not on PATH or does not end in time. */
async function probe(cmd: string, args: string[], env: Record<string, string>, timeoutMs: number) {
  try {
    return await run(cmd, args, { env, timeoutMs });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || (e instanceof Error && e.name === "AbortError")) {
      return undefined;
    }
    throw e;
  }
}

/**
 * Why this test cannot run here ("" when it can): a cluster answers when the Slurm
 * configuration exists, `scontrol ping` finds its controller up, `sinfo` lists an idle node
 * and `sbatch` is on PATH. Asks the cluster only; starts nothing.
 */
async function noSlurm(env: { SLURM_CONF?: string; S2LAB_SKIP_SLURM?: string }): Promise<string> {
  if (env.S2LAB_SKIP_SLURM === "1") return "S2LAB_SKIP_SLURM=1";
  const given = env.SLURM_CONF;
  const conf = given || "/etc/slurm/slurm.conf";
  // Slurm's commands retry a missing configuration for a minute: look for it first.
  try {
    if (!(await Deno.stat(conf)).isFile) return `no Slurm (SLURM_CONF=${conf} is not a file)`;
  } catch {
    return `no Slurm (no ${conf}${given ? "" : ", SLURM_CONF unset"})`;
  }
  const slurm = { SLURM_CONF: conf };
  const ping = await probe("scontrol", ["ping"], slurm, 15_000);
  if (ping === undefined) return "no Slurm (scontrol not on PATH, or no answer in 15 s)";
  if (!/ is UP\b/.test(ping.stdout)) {
    return `no Slurm (scontrol ping, ${conf}: ${
      ping.stdout.trim().split("\n")[0] || ping.stderr.trim()
    })`;
  }
  const info = await probe("sinfo", ["-h", "-o", "%t"], slurm, 30_000);
  const states = info?.stdout.split(/\s+/).filter((s) => s !== "") ?? [];
  if (!states.some((s) => s === "idle" || s === "mix")) {
    return `no Slurm (sinfo, ${conf}: no idle node${
      states.length ? `, only ${states.join(" ")}` : ""
    })`;
  }
  if ((await probe("sbatch", ["--version"], slurm, 15_000))?.code !== 0) {
    return "no Slurm (sbatch not on PATH)";
  }
  return "";
}

const NAME =
  "slurm: a 2-shard sweep through sbatch --array and the merge job equals the unsharded one";
const WHY_NOT = await noSlurm({
  SLURM_CONF: Deno.env.get("SLURM_CONF"),
  S2LAB_SKIP_SLURM: Deno.env.get("S2LAB_SKIP_SLURM"),
});
const REQUIRED = Deno.env.get("S2LAB_REQUIRE_SLURM") === "1";

Deno.test({
  name: WHY_NOT && !REQUIRED ? `${NAME} (skipped: ${WHY_NOT})` : NAME,
  ignore: WHY_NOT !== "" && !REQUIRED,
  async fn() {
    assertEquals(WHY_NOT, "", `S2LAB_REQUIRE_SLURM=1 but ${WHY_NOT}`);
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

Deno.test("slurm: where no controller answers, the test is skipped at once and says why", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "s2lab-noslurm-" });
  try {
    // No configuration: Slurm's commands are not even run.
    assertMatch(
      await noSlurm({ SLURM_CONF: `${tmp}/none.conf` }),
      new RegExp(`^no Slurm \\(no ${tmp}/none\\.conf\\)$`),
    );
    // A configuration whose controller port has no listener (the discard port, 9): scontrol
    // ping answers DOWN (or scontrol is not installed); no daemon is started to find out.
    const conf = `${tmp}/slurm.conf`;
    await Deno.writeTextFile(conf, "ClusterName=none\nSlurmctldHost=localhost\nSlurmctldPort=9\n");
    const t0 = performance.now();
    assertMatch(await noSlurm({ SLURM_CONF: conf }), /^no Slurm \((scontrol ping|scontrol not)/);
    assert(performance.now() - t0 < 60_000, "the probe does not wait for sinfo's retries");
    assertEquals(await noSlurm({ SLURM_CONF: conf, S2LAB_SKIP_SLURM: "1" }), "S2LAB_SKIP_SLURM=1");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
