import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "@std/assert";
import { defaultWorkload } from "../lib/trace/workload.ts";
import { runScript } from "./cli.ts";
import { STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import { percentile } from "../lib/sweep/stats.ts";
import { SWEEP_COLUMNS, SWEEP_HEADER, TIMING_HEADER } from "../lib/sweep/columns.ts";
import { defaultCostModel } from "../lib/sweep/costmodel.ts";
import { estimatePointBytes, expandGrid, GridError, parseGridValues } from "../lib/sweep/grid.ts";
import { runPoint } from "../lib/sweep/run.ts";
import { HOST_UNMAP_OPS } from "../lib/trace/ops.ts";
import { generateWorkload, type WorkloadParams } from "../lib/trace/workload.ts";
import { formatCsv, formatValue, parseCsv } from "../lib/util/csv.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const G = 2 ** 30;

/** Run a script of experiments/ with the sweep task's permissions. */
const run = (script: string, args: string[]) =>
  runScript(script, ["--allow-read", "--allow-write", "--allow-sys=systemMemoryInfo"], args);

/**
 * Start the sweep with `args` (its task's permissions) and resolve once `rows` rows are in
 * its partial file (`--out`'s `.partial.tmp`), or after a minute.
 */
async function sweepUntil(args: string[], rows: number): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-sys=systemMemoryInfo"]
      .concat("experiments/sweep.ts", args),
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const partial = `${args[args.indexOf("--out") + 1]}.partial.tmp`;
  for (let i = 0; i < 2400; i++) {
    const t = await Deno.readTextFile(partial).catch(() => "");
    if (t.split("\n").length >= rows + 2) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return child;
}

/** A grid of 18 small points (one strategy) that a test can interrupt and resume. */
const RESUMABLE = [
  "--vcpus",
  "4,8,16",
  "--l1-mem",
  "2G,4G",
  "--memslots",
  "2",
  "--granule",
  "4K",
  "--alias",
  "0,0.1,0.5",
  "--pages-per-context",
  "64",
  "--strategy",
  "full-walk",
  "--seed",
  "5",
  "--quiet",
];

const SMALL = [
  "--vcpus",
  "1,2",
  "--l1-mem",
  "2G",
  "--memslots",
  "2",
  "--granule",
  "4K,64K",
  "--alias",
  "0,0.5",
  "--pages-per-context",
  "16",
  "--seed",
  "3",
  "--jobs",
  "2",
  "--quiet",
];

const point = (over: Partial<WorkloadParams>): WorkloadParams => ({
  ...defaultWorkload(),
  l1Mem: 2 * G,
  memslots: 2,
  pagesPerContext: 16,
  ...over,
});

Deno.test("schema: unique column names, units as suffixes", () => {
  assertEquals(new Set(SWEEP_HEADER).size, SWEEP_HEADER.length);
  for (const c of SWEEP_COLUMNS) assertMatch(c.name, /^[a-z0-9_]+$/);
  assert(SWEEP_HEADER.includes("l1_mem_bytes") && SWEEP_HEADER.includes("unmap_est_ns_max"));
  assert(!SWEEP_HEADER.some((h) => /wall|_ms$/.test(h)), "wall time belongs in the timing file");
});

Deno.test("csv: deterministic numbers, quoting, tolerant read of a cut line", () => {
  assertEquals(formatValue(2 ** 52), "4503599627370496");
  assertEquals(formatValue(0.1 + 0.2), "0.3");
  assertEquals(formatValue(2 / 3), "0.667");
  assertEquals(formatValue(true), "1");
  const text = formatCsv(["a", "b"], [{ a: 1, b: "x,y" }, { a: 2, b: "z" }]);
  assertEquals(text, 'a,b\n1,"x,y"\n2,z\n');
  assertEquals(parseCsv(text + "3,").rows.length, 3);
  assertEquals(parseCsv(text + "3,w", true).rows.length, 2);
  assertEquals(percentile([1, 2, 3, 4], 0.99), 4);
  assertEquals(percentile(Array.from({ length: 200 }, (_, i) => i + 1), 0.99), 198);
});

Deno.test("full-walk row: iterations per unmap = valid MMUs x 2^paBits / chunk, exactly", () => {
  const cost = defaultCostModel();
  const cases: [Partial<WorkloadParams>, number][] = [
    // 4K host, 48-bit: chunks of 1G; 2 vCPUs, 1 context each -> 2 valid MMUs of 4.
    [{ vcpus: 2, granule: "4K", l1Granule: "4K", paBits: 48 }, 2 * 2 ** 48 / 2 ** 30],
    // Two contexts per vCPU: all 4 shadow MMUs valid.
    [{ vcpus: 2, contextsPerVcpu: 2, granule: "4K", l1Granule: "4K", paBits: 48 }, 4 * 2 ** 18],
    // 64K host, 52-bit: chunks of 512M -> 8,388,608 per MMU (the seed's "about 8M").
    [{ vcpus: 1, granule: "64K", l1Granule: "64K", paBits: 52, alias: 0.5 }, 2 ** 23],
    // 16K host, 48-bit: chunks of 32M.
    [{ vcpus: 1, granule: "16K", l1Granule: "16K", paBits: 48 }, 2 ** 23],
  ];
  for (const [over, perUnmap] of cases) {
    const params = point(over);
    const w = generateWorkload(params, 9);
    const unmaps = w.trace.events.filter((e) => HOST_UNMAP_OPS.includes(e.op)).length;
    const maps = w.trace.events.filter((e) => e.op === "l1-map").length;
    const { rows } = runPoint(
      { gridId: "t", index: 0, points: 1, seed: 9, params },
      ["full-walk"],
      cost,
    );
    const r = rows[0];
    assertEquals(r.events, w.trace.events.length);
    assertEquals(r.unmap_events, unmaps);
    assertEquals(r.l1_mappings, maps);
    assertEquals(r.shadow_mmus, 2 * params.vcpus);
    assertEquals(r.unmap_iterations_mean, perUnmap);
    assertEquals(r.unmap_iterations_p99, perUnmap);
    assertEquals(r.unmap_iterations_max, perUnmap);
    // One wp (whole space of each valid MMU), no index: every iteration is a chunk.
    assertEquals(r.wp_iterations_total, perUnmap);
    // The L1 reboot's TLBI ALLE1IS is kvm_nested_s2_unmap() too: the strategy's full walk.
    assertEquals(r.reboot_iterations_total, perUnmap);
    assertEquals(r.iterations_total, (unmaps + 2) * perUnmap);
    assertEquals(r.chunks_total, r.iterations_total);
    assertEquals(r.steps_total, 0);
    // No L1 TLBI by IPA or VMID and no MMU recycled: nothing counted to the engine.
    assertEquals(r.engine_iterations_total, 0);
    assertEquals(r.peak_memory_bytes, 0);
    assertEquals(r.violations, 0);
    assertEquals(r.fallbacks, 0);
    // Every descriptor an empty chunk visits is at least one: the estimate is above 20 ns x iterations.
    assert((r.unmap_est_ns_max as number) >= perUnmap * 22);
    assertEquals(r.soft_lockup, (r.unmap_est_ns_max as number) > 20e9 ? 1 : 0);
  }
});

Deno.test("192 vCPUs, 64K / 52-bit: a full walk per unmap estimates past the soft-lockup threshold", () => {
  // The generator's valid-MMU count and the arithmetic: 192 x 2^52 / 2^29 iterations x 20 ns = 32 s.
  const params = point({
    vcpus: 192,
    granule: "64K",
    l1Granule: "64K",
    paBits: 52,
    l1Mem: 192 * G,
    memslots: 4,
    pagesPerContext: 2,
  });
  const { rows } = runPoint(
    { gridId: "t", index: 0, points: 1, seed: 1, params },
    ["full-walk"],
    defaultCostModel(),
  );
  assertEquals(rows[0].unmap_iterations_max, 192 * 2 ** 23);
  assertEquals(rows[0].soft_lockup, 1);
});

Deno.test("grid: expansion order, same/auto resolution, skipped and refused combinations", () => {
  const g = expandGrid(
    parseGridValues({
      vcpus: "1,2",
      granule: "4K,64K",
      "l1-granule": "same,16K",
      "l1-mem": "4G",
      alias: "0",
    }),
  );
  // 16K over a 64K host is skipped; 4K host: same(4K) and 16K; 64K host: same(64K).
  assertEquals(g.skipped, 2);
  assertEquals(g.points.map((p) => `${p.granule}/${p.l1Granule}/${p.paBits}/${p.vcpus}`), [
    "4K/4K/48/1",
    "4K/4K/48/2",
    "4K/16K/48/1",
    "4K/16K/48/2",
    "64K/64K/52/1",
    "64K/64K/52/2",
  ]);
  assertThrows(() => parseGridValues({ "l1-mem": "64X" }), GridError);
  assertMatch(
    String(assertThrows(() => parseGridValues({ vcpus: "0" }))),
    /--vcpus: 0 is out of range/,
  );
  assertMatch(
    String(assertThrows(() => parseGridValues({ granule: "8K" }))),
    /unknown granule "8K"/,
  );
  assertMatch(
    String(assertThrows(() => expandGrid(parseGridValues({ granule: "64K", "l1-mem": "1G" })))),
    /does not split/,
  );
  // --working-set: bytes, or a fraction of a context's share; --retouch a fraction.
  const ws = expandGrid(
    parseGridValues({
      vcpus: "2",
      "l1-mem": "4G",
      granule: "4K",
      alias: "0",
      "working-set": "0,64M,0.5",
      retouch: "0,1",
    }),
  );
  assertEquals(
    ws.points.map((p) => [p.workingSet, p.workingSetFraction, p.retouch]),
    // Without a working set the re-touch fraction is no dimension: one point, not two.
    [[0, 0, 0], [64 * 2 ** 20, 0, 0], [64 * 2 ** 20, 0, 1], [0, 0.5, 0], [0, 0.5, 1]],
  );
  assertMatch(
    String(assertThrows(() => parseGridValues({ "working-set": "64Q" }))),
    /--working-set: malformed size "64Q"/,
  );
  // The default grid holds the published scale and fits this machine's memory.
  const d = expandGrid(parseGridValues({}));
  assert(d.points.some((p) => p.vcpus === 192 && p.l1Mem >= 256 * G));
  assert(Math.max(...d.points.map((p) => estimatePointBytes(p))) < 8 * G);
});

Deno.test({
  name: "cli: the same seed gives a byte-identical CSV; wall time goes to the timing file",
  async fn() {
    const dir = await Deno.makeTempDir();
    const a = await run("sweep.ts", [...SMALL, "--strategy", "full-walk", "--out", `${dir}/a.csv`]);
    assertEquals(a.code, 0, a.stderr);
    const b = await run("sweep.ts", [
      ...SMALL,
      "--strategy",
      "full-walk",
      "--jobs",
      "1",
      "--out",
      `${dir}/b.csv`,
    ]);
    assertEquals(b.code, 0, b.stderr);
    const ta = await Deno.readTextFile(`${dir}/a.csv`);
    assertEquals(await Deno.readTextFile(`${dir}/b.csv`), ta);
    // The same grid from a grid file (flags not given there keep their values).
    const gdir = await Deno.makeTempDir();
    await Deno.writeTextFile(
      `${gdir}/grid.json`,
      JSON.stringify({
        vcpus: [1, 2],
        "l1-mem": "2G",
        granule: ["4K", "64K"],
        alias: [0, 0.5],
        strategy: "full-walk",
      }),
    );
    const rest = ["--memslots", "2", "--pages-per-context", "16", "--seed", "3", "--quiet"];
    const c = await run("sweep.ts", [
      "--grid",
      `${gdir}/grid.json`,
      ...rest,
      "--out",
      `${gdir}/c.csv`,
    ]);
    assertEquals(c.code, 0, c.stderr);
    assertEquals(await Deno.readTextFile(`${gdir}/c.csv`), ta);
    // And from "parts" (the union of each part's product, in order; a point an earlier
    // part listed is not repeated): the same points, the same grid id, the same bytes.
    await Deno.writeTextFile(
      `${gdir}/parts.json`,
      JSON.stringify({
        vcpus: [1, 2],
        "l1-mem": "2G",
        alias: [0, 0.5],
        strategy: "full-walk",
        parts: [{ granule: "4K" }, { granule: ["4K", "64K"] }],
      }),
    );
    const d = await run("sweep.ts", [
      "--grid",
      `${gdir}/parts.json`,
      ...rest,
      "--out",
      `${gdir}/d.csv`,
    ]);
    assertEquals(d.code, 0, d.stderr);
    assertEquals(await Deno.readTextFile(`${gdir}/d.csv`), ta);
    await Deno.remove(gdir, { recursive: true });
    const parsed = parseCsv(ta);
    assertEquals(parsed.header, SWEEP_HEADER);
    assertEquals(parsed.rows.length, 8);
    assertEquals(parsed.rows.map((r) => Number(r.point)), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert(parsed.rows.every((r) => r.violations === "0"));
    const timing = parseCsv(await Deno.readTextFile(`${dir}/a.timing.csv`));
    assertEquals(timing.header, TIMING_HEADER);
    assertEquals(timing.rows.length, 8);
    // No temporary or partial file is left behind.
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(names, ["a.csv", "a.timing.csv", "b.csv", "b.timing.csv"]);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "cli: shards merge into the unsharded file; duplicates and missing points are refused",
  async fn() {
    const dir = await Deno.makeTempDir();
    const base = [...SMALL, "--strategy", "full-walk"];
    assertEquals((await run("sweep.ts", [...base, "--out", `${dir}/all.csv`])).code, 0);
    for (const s of ["1/3", "2/3", "3/3"]) {
      const r = await run("sweep.ts", [...base, "--shard", s, "--out", `${dir}/s${s[0]}.csv`]);
      assertEquals(r.code, 0, r.stderr);
    }
    const m = await run("merge.ts", [
      "--quiet",
      "--out",
      `${dir}/merged.csv`,
      `${dir}/s1.csv`,
      `${dir}/s2.csv`,
      `${dir}/s3.csv`,
      `${dir}/s1.timing.csv`,
    ]);
    assertEquals(m.code, 0, m.stderr);
    assertEquals(
      await Deno.readTextFile(`${dir}/merged.csv`),
      await Deno.readTextFile(`${dir}/all.csv`),
    );
    const dup = await run("merge.ts", [
      "--out",
      `${dir}/dup.csv`,
      `${dir}/s1.csv`,
      `${dir}/s1.csv`,
      `${dir}/s2.csv`,
      `${dir}/s3.csv`,
    ]);
    assertEquals(dup.code, 2);
    assertMatch(dup.stderr, /^error: duplicate row: point 0 full-walk/);
    const miss = await run("merge.ts", [
      "--out",
      `${dir}/miss.csv`,
      `${dir}/s1.csv`,
      `${dir}/s3.csv`,
    ]);
    assertEquals(miss.code, 2);
    assertMatch(miss.stderr, /^error: 3 \(point, strategy\) row\(s\) missing/);
    for (const f of ["dup.csv", "miss.csv"]) {
      await assertRejects(() => Deno.stat(`${dir}/${f}`), Deno.errors.NotFound);
    }
    // merge writes only where --out says, and replaces nothing without --force.
    const shards = [`${dir}/s1.csv`, `${dir}/s2.csv`, `${dir}/s3.csv`];
    const noOut = await run("merge.ts", shards);
    assertEquals(noOut.code, 2);
    assertMatch(noOut.stderr, /^error: --out FILE is required/);
    await Deno.writeTextFile(`${dir}/keep.csv`, "precious\n");
    const again = await run("merge.ts", ["--out", `${dir}/keep.csv`, ...shards]);
    assertEquals(again.code, 2);
    assertMatch(again.stderr, /^error: --out: .*keep\.csv exists \(add --force to replace it\)\n$/);
    assertEquals(await Deno.readTextFile(`${dir}/keep.csv`), "precious\n");
    const forced = await run("merge.ts", [
      "--quiet",
      "--force",
      "--out",
      `${dir}/keep.csv`,
      ...shards,
    ]);
    assertEquals(forced.code, 0, forced.stderr);
    assertEquals(
      await Deno.readTextFile(`${dir}/keep.csv`),
      await Deno.readTextFile(`${dir}/all.csv`),
    );
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "cli: without a terminal, progress is plain lines on stderr, then the oracle's verdict",
  async fn() {
    const dir = await Deno.makeTempDir();
    const args = SMALL.filter((a) => a !== "--quiet");
    const r = await run("sweep.ts", [...args, "--out", `${dir}/p.csv`]);
    assertEquals(r.code, 0, r.stderr);
    const lines = r.stderr.trim().split("\n");
    // No bar and no escape codes when stderr is not a terminal; the last progress line is
    // the finished one.
    assert(!r.stderr.includes("\x1b"), r.stderr);
    assertMatch(r.stderr, /^sweep: 100% of the work, \d+s elapsed, ETA 0s; 8\/8 points$/m);
    const n = STRATEGY_NAMES.length;
    assertMatch(
      lines.at(-2)!,
      new RegExp(`^wrote .*p\\.csv: ${8 * n} rows \\(8 points x ${n} strategies, 0 resumed\\)`),
    );
    assertMatch(
      lines.at(-1)!,
      /^oracle: stale shadow entries found as expected in the known-broken maple-v2 \d+; 0 stale entries in every other design/,
    );
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "cli: a killed sweep leaves the previous file intact; --resume finishes it identically",
  async fn() {
    const dir = await Deno.makeTempDir();
    const out = `${dir}/r.csv`;
    const grid = RESUMABLE;
    assertEquals((await run("sweep.ts", [...grid, "--out", `${dir}/fresh.csv`])).code, 0);
    const fresh = await Deno.readTextFile(`${dir}/fresh.csv`);
    await Deno.writeTextFile(out, "previous contents\n");
    // Once two rows are in the partial file, kill the sweep.
    const child = await sweepUntil([...grid, "--jobs", "1", "--out", out], 2);
    const partial = `${out}.partial.tmp`;
    child.kill("SIGKILL");
    await child.output();
    assertEquals(await Deno.readTextFile(out), "previous contents\n");
    const kept = (await Deno.readTextFile(partial)).split("\n").length - 2;
    assert(kept >= 2 && kept < 18, `${kept} rows in the partial file`);
    // A line cut short by the kill is dropped, not trusted.
    await Deno.writeTextFile(partial, "deadbeef,3,12", { append: true });
    const r = await run("sweep.ts", [...grid, "--resume", "--out", out]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(await Deno.readTextFile(out), fresh);
    await assertRejects(() => Deno.stat(partial), Deno.errors.NotFound);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "cli: Ctrl-C says what the partial file keeps and prints the command that resumes it",
  async fn() {
    const dir = await Deno.makeTempDir();
    const out = `${dir}/i.csv`;
    const grid = RESUMABLE;
    assertEquals((await run("sweep.ts", [...grid, "--out", `${dir}/fresh.csv`])).code, 0);
    const child = await sweepUntil([...grid, "--jobs", "1", "--out", out], 2);
    const partial = `${out}.partial.tmp`;
    child.kill("SIGINT");
    const r = await child.output();
    assertEquals(r.code, 130);
    const lines = new TextDecoder().decode(r.stderr).trim().split("\n");
    assertEquals(lines.length, 1, lines.join("\n"));
    const m = /^interrupted: (\d+) of 18 rows kept in (.*); resume with: deno task sweep (.*)$/
      .exec(lines[0]);
    assert(m, lines[0]);
    assertEquals(m[2], partial);
    const kept = (await Deno.readTextFile(partial)).trim().split("\n").length - 1;
    assertEquals(Number(m[1]), kept);
    assert(kept >= 2 && kept < 18, `${kept} rows kept`);
    // The command printed resumes the sweep to the file a fresh run writes.
    const args = m[3].split(" ");
    assertEquals(args.at(-1), "--resume");
    const resumed = await run("sweep.ts", args);
    assertEquals(resumed.code, 0, resumed.stderr);
    assertEquals(await Deno.readTextFile(out), await Deno.readTextFile(`${dir}/fresh.csv`));
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "cli: the timing file records the commit of the code that ran each row",
  async fn() {
    const dir = await Deno.makeTempDir();
    const args = ["--vcpus", "1", "--l1-mem", "2G", "--granule", "4K", "--alias", "0"];
    const rest = ["--memslots", "2", "--pages-per-context", "8", "--strategy", "rmap", "--quiet"];
    const git = await new Deno.Command("git", {
      args: ["-C", ROOT, "rev-parse", "--short=12", "HEAD"],
      stdout: "piped",
      stderr: "null",
    }).output().catch(() => null);
    const head = git?.success ? new TextDecoder().decode(git.stdout).trim() : null;
    // With the task's permission to run git: HEAD, marked when the code differs from it.
    const a = await runScript(
      "sweep.ts",
      ["--allow-read", "--allow-write", "--allow-sys=systemMemoryInfo", "--allow-run=git"],
      [...args, ...rest, "--out", `${dir}/a.csv`],
    );
    assertEquals(a.code, 0, a.stderr);
    const ta = parseCsv(await Deno.readTextFile(`${dir}/a.timing.csv`)).rows;
    assertEquals(ta.length, 1);
    if (head) assertMatch(ta[0].commit, new RegExp(`^${head}(\\+dirty)?$`));
    else assertEquals(ta[0].commit, "unknown");
    // Without it: "unknown", and no prompt.
    const b = await run("sweep.ts", [...args, ...rest, "--out", `${dir}/b.csv`]);
    assertEquals(b.code, 0, b.stderr);
    assertEquals(
      parseCsv(await Deno.readTextFile(`${dir}/b.timing.csv`)).rows[0].commit,
      "unknown",
    );
    // The sweep CSV itself does not change with it.
    assertEquals(await Deno.readTextFile(`${dir}/a.csv`), await Deno.readTextFile(`${dir}/b.csv`));
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "cli: bad input exits 2 with one line and writes nothing",
  async fn() {
    const dir = await Deno.makeTempDir();
    const out = `${dir}/sub/x.csv`;
    const gdir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${gdir}/bad.json`, JSON.stringify({ cpus: [1] }));
    await Deno.writeTextFile(`${gdir}/parts1.json`, JSON.stringify({ parts: { vcpus: 1 } }));
    await Deno.writeTextFile(`${gdir}/parts2.json`, JSON.stringify({ parts: [{ seed: 2 }] }));
    await Deno.writeTextFile(`${gdir}/parts3.json`, JSON.stringify({ parts: [{ vcpu: 2 }] }));
    await Deno.writeTextFile(`${gdir}/typo.json`, JSON.stringify({ "watchdog-tresh": 5 }));
    await Deno.writeTextFile(`${gdir}/object.json`, JSON.stringify({ vcpus: { n: 8 } }));
    const cases: [string[], RegExp][] = [
      [["--strategy", "nope"], /unknown strategy "nope"/],
      [["--granule", "8K"], /--granule: unknown granule "8K"/],
      [["--l1-mem", "64X"], /--l1-mem: malformed size "64X"/],
      [["--vcpus", "0"], /--vcpus: 0 is out of range/],
      [["--alias", "1.5"], /--alias: 1.5 is out of range/],
      [["--alias", "abc"], /--alias: "abc" is not a number/],
      [["--seed", "-1"], /--seed/],
      [["--shard", "3/2"], /--shard: 3\/2 is out of range/],
      [["--jobs", "0"], /--jobs: 0 is out of range/],
      [["--granule", "64K", "--l1-mem", "1G"], /does not split into 4 memslots/],
      // Memory budgets print readably; one too small for every point says so.
      [
        ["--vcpus", "1,4096", "--pages-per-context", "100000", "--max-memory", "16G"],
        /^error: grid too large: point \d+ \(vcpus=4096 .*\) needs ~[\d.]+ TiB, more than --max-memory 16 GiB$/,
      ],
      [
        ["--max-memory", "1K"],
        /^error: --max-memory 1 KiB is too small to run any point of the grid: the smallest replay needs ~[\d.]+ MiB$/,
      ],
      [
        ["--vcpus", "1", "--l1-mem", "2G", "--granule", "4K", "--alias", "0", "--max-memory", "1K"],
        /^error: grid too large: point 0 \(vcpus=1 .*\) needs ~[\d.]+ MiB, more than --max-memory 1 KiB$/,
      ],
      [["--bogus"], /unknown option "--bogus"/],
      [["--grid", `${dir}/missing.json`], /--grid: cannot read/],
      // Grid files: strict keys, one line naming the file and the key, the nearest valid key.
      [
        ["--grid", `${gdir}/bad.json`],
        /--grid: .*bad\.json: unknown key "cpus" \(did you mean "vcpus"\?\)$/,
      ],
      [
        ["--grid", `${gdir}/typo.json`],
        /--grid: .*typo\.json: unknown key "watchdog-tresh" \(did you mean "watchdog-thresh"\?\)$/,
      ],
      [
        ["--grid", `${gdir}/parts1.json`],
        /--grid: .*parts1\.json: "parts" must be a non-empty list/,
      ],
      [
        ["--grid", `${gdir}/parts2.json`],
        /--grid: .*parts2\.json: parts\[0\]: "seed" is not a grid dimension \(give it beside "parts"\)$/,
      ],
      [
        ["--grid", `${gdir}/parts3.json`],
        /--grid: .*parts3\.json: parts\[0\]: unknown key "vcpu" \(did you mean "vcpus"\?\)$/,
      ],
      [
        ["--grid", `${gdir}/object.json`],
        /--grid: .*object\.json: "vcpus" must be a number, a string or a list/,
      ],
      [
        ["--grid", "no-such-grid"],
        /--grid: no grid named "no-such-grid" \(experiments\/grids\/ has /,
      ],
      [
        ["--vcpus", "2", "--l1-mem", "4G", "--working-set", "4G"],
        /working-set 4G is larger than a context's share of L1 memory \(2G for each of 2 contexts\)/,
      ],
      [["--working-set", "1.5"], /--working-set: malformed size "1.5"/],
      [["--working-set", "-1M"], /--working-set/],
      [["--retouch", "1.5"], /--retouch: 1.5 is out of range \(0..1\)/],
      [["--ns-per-fault", "x"], /--ns-per-fault: "x" is not a number/],
    ];
    for (const [args, re] of cases) {
      const r = await run("sweep.ts", [...args, "--out", out]);
      assertEquals(r.code, 2, `${args.join(" ")}: exit ${r.code}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assertEquals(lines.length, 1, `${args.join(" ")}: ${r.stderr}`);
      assertMatch(lines[0], /^error: /);
      assertMatch(lines[0], re);
    }
    assertEquals([...Deno.readDirSync(dir)], []);
    // Output paths are checked before any point runs: a directory, a path under a file, a
    // file the task may not write. One line each, exit 2, nothing written.
    await Deno.writeTextFile(`${gdir}/file`, "");
    const outs: [string, RegExp][] = [
      [dir, /--out: cannot write .*: it is a directory$/],
      [`${gdir}/file/x.csv`, /--out: cannot write .*: not a directory$/],
      ["/proc/version", /--out: cannot write \/proc\/version: permission denied$/],
    ];
    for (const [o, re] of outs) {
      const r = await run("sweep.ts", ["--vcpus", "1", "--l1-mem", "2G", "--out", o]);
      assertEquals(r.code, 2, `${o}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assertEquals(lines.length, 1, r.stderr);
      assertMatch(lines[0], re);
    }
    assertEquals([...Deno.readDirSync(dir)], []);
    await Deno.remove(gdir, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "cli: --emit-trace writes one point's trace, which deno task replay runs clean",
  async fn() {
    const dir = await Deno.makeTempDir();
    const t = `${dir}/point.json`;
    const many = await run("sweep.ts", [...SMALL, "--emit-trace", t]);
    assertEquals(many.code, 2);
    assertMatch(many.stderr, /narrow it to one or give --point/);
    const r = await run("sweep.ts", [...SMALL, "--emit-trace", t, "--point", "5"]);
    assertEquals(r.code, 0, r.stderr);
    const trace = JSON.parse(await Deno.readTextFile(t));
    assertEquals(trace.config.hostGranule, "64K");
    const rep = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "experiments/replay.ts",
        t,
        "--strategy",
        "full-walk",
        "--json",
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(rep.code, 0, new TextDecoder().decode(rep.stderr));
    assertEquals(JSON.parse(new TextDecoder().decode(rep.stdout)).violations, 0);
    await Deno.remove(dir, { recursive: true });
  },
});
