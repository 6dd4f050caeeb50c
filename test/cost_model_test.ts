/**
 * A measured cost model, brought back: `deno task calibrate` turns a recording (a
 * hand-written fixture, test/fixtures/calibrate/) into a cost model file, and
 * `deno task sweep --cost-model` and `deno task verify --cost-model` estimate with it. The
 * sweep's CSV is the one the same values given as flags make, flags override the file field
 * by field, the timing file names the model; a bad file is one line naming it and its field,
 * exit 2, nothing written.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import {
  COST_MODEL_FILE_FIELDS,
  describeCostModel,
  readCostModelFile,
} from "../lib/calibrate/mod.ts";
import { defaultCostModel } from "../lib/sweep/costmodel.ts";
import { COST_FLAGS } from "../lib/sweep/spec.ts";
import { parseCsv } from "../lib/util/csv.ts";
import { runScript } from "./cli.ts";

const sweep = (args: string[]) =>
  runScript("sweep.ts", ["--allow-read", "--allow-write", "--allow-sys=systemMemoryInfo"], args);
const calibrate = (args: string[]) =>
  runScript("calibrate.ts", ["--allow-read", "--allow-write"], args);
const verify = (args: string[]) =>
  runScript("verify.ts", ["--allow-read", "--allow-write", "--allow-run=git"], args);

/** Two points, two designs: a second of work. */
const TINY = [
  ...["--vcpus", "1,2", "--l1-mem", "4G", "--granule", "4K", "--alias", "0"],
  ...["--strategy", "full-walk,rmap", "--jobs", "1", "--quiet"],
];

/**
 * A cost model file made by calibrate from the reproducer's function_graph fixture, its
 * soft-lockup threshold moved to 2 x 7 s so that every field differs from the default.
 */
async function modelFile(dir: string): Promise<string> {
  const path = `${dir}/model.json`;
  const r = await calibrate([
    "test/fixtures/calibrate/reproducer-fgraph.txt",
    ...["--trace", "test/fixtures/selftest/reproducer-min.json", "--out", path],
  ]);
  assertEquals(r.code, 0, r.stderr);
  const json = JSON.parse(await Deno.readTextFile(path));
  json.softLockupNs = 14e9;
  await Deno.writeTextFile(path, JSON.stringify(json, null, 2));
  return path;
}

/** The cost flags that set each field of the model to `m`'s value. */
function flagsOf(m: ReturnType<typeof defaultCostModel>): string[] {
  return COST_FLAGS.flatMap((f) => [`--${f.flag}`, String(f.toFlag(m[f.field]))]);
}

const read = (p: string) => Deno.readTextFile(p);

Deno.test("sweep --cost-model: the CSV of the same values as flags, the model named in the timing file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-cost-model-" });
  try {
    const path = await modelFile(dir);
    const { file, model } = await readCostModelFile(path);
    const def = defaultCostModel();
    for (const f of COST_FLAGS.filter((f) => f.field !== "nsPerFault")) {
      assert(model[f.field] !== def[f.field], `${f.field} must differ from the default`);
    }
    const a = await sweep([...TINY, "--cost-model", path, "--out", `${dir}/a.csv`]);
    assertEquals(a.code, 0, a.stderr);
    const b = await sweep([...TINY, ...flagsOf(model), "--out", `${dir}/b.csv`]);
    assertEquals(b.code, 0, b.stderr);
    assertEquals(await read(`${dir}/a.csv`), await read(`${dir}/b.csv`));
    const rows = parseCsv(await read(`${dir}/a.csv`), true).rows;
    assertEquals(rows.map((r) => Number(r.ns_per_iteration)), rows.map(() => 23.56));
    assertEquals(rows.map((r) => Number(r.soft_lockup_threshold_ns)), rows.map(() => 14e9));
    const timing = parseCsv(await read(`${dir}/a.timing.csv`), true).rows;
    assertEquals(timing.length, 4);
    for (const t of timing) assertEquals(t.cost_model, `${path}: ${describeCostModel(file)}`);
    const flagged = parseCsv(await read(`${dir}/b.timing.csv`), true).rows[0].cost_model;
    assertMatch(String(flagged), /^default; over it: --ns-per-iteration 23\.56 /);

    // A flag overrides its field only: the file's other fields stay.
    const c = await sweep([
      ...TINY,
      ...["--cost-model", path, "--ns-per-iteration", "30", "--out", `${dir}/c.csv`],
    ]);
    assertEquals(c.code, 0, c.stderr);
    const d = await sweep([
      ...TINY,
      ...flagsOf({ ...model, nsPerIteration: 30 }),
      ...["--out", `${dir}/d.csv`],
    ]);
    assertEquals(d.code, 0, d.stderr);
    assertEquals(await read(`${dir}/c.csv`), await read(`${dir}/d.csv`));
    assertEquals(
      parseCsv(await read(`${dir}/c.timing.csv`), true).rows[0].cost_model,
      `${path}: ${describeCostModel(file)}; over it: --ns-per-iteration 30`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sweep and verify --cost-model: a bad file is one line naming it and the field, exit 2, nothing written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-cost-model-" });
  try {
    const good = JSON.parse(await read(await modelFile(dir)));
    const bad: [string, string | null, RegExp][] = [
      ["missing", null, /absent\.json: cannot read: no such file or directory$/],
      ["json", "{ not json", /json\.json: not JSON: /],
      [
        "key",
        JSON.stringify({ ...good, nsPerIteraton: 1 }),
        /key\.json: unknown key "nsPerIteraton" \(did you mean "nsPerIteration"\?\)$/,
      ],
      [
        "type",
        JSON.stringify({ ...good, softLockupNs: "20s" }),
        /type\.json: softLockupNs: expected a number >= 1, got "20s"$/,
      ],
      [
        "range",
        JSON.stringify({ ...good, softLockupNs: 1000 }),
        /range\.json: softLockupNs: 1000 is out of range \(2000000000\.\.7200000000000, as --watchdog-thresh 1\.\.3600\)$/,
      ],
      [
        "iteration",
        JSON.stringify({ ...good, nsPerIteration: { mean: 2e6, sd: 0, min: 2e6, max: 2e6 } }),
        /iteration\.json: nsPerIteration\.mean: 2000000 is out of range \(0\.\.1000000, as --ns-per-iteration 0\.\.1000000\)$/,
      ],
    ];
    for (const [name, text, why] of bad) {
      const path = `${dir}/${text === null ? "absent" : name}.json`;
      if (text !== null) await Deno.writeTextFile(path, text);
      const out = `${dir}/out-${name}`;
      const s = await sweep([...TINY, "--cost-model", path, "--out", `${out}/s.csv`]);
      const v = await verify(["rmap", "--quick", "--cost-model", path, "--out", `${out}/v`]);
      for (const [task, r] of [["sweep", s], ["verify", v]] as const) {
        assertEquals(r.code, 2, `${task} ${name}: ${r.stderr}`);
        const lines = r.stderr.trim().split("\n");
        assertEquals(lines.length, 1, `${task} ${name}: ${r.stderr}`);
        assertMatch(lines[0], /^error: --cost-model: /);
        assertMatch(lines[0], why);
      }
      let written: string[] = [];
      try {
        written = [...Deno.readDirSync(out)].map((e) => e.name);
      } catch {
        // not even the directory
      }
      assertEquals(written, [], name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verify --cost-model: the cost check estimates with the file's model, the report and the time figure name it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-cost-model-" });
  try {
    const path = await modelFile(dir);
    const { file } = await readCostModelFile(path);
    const r = await verify([
      ...["rmap", "--quick", "--only", "cost", "--cost-model", path],
      ...["--out", `${dir}/v`, "--quiet"],
    ]);
    assertEquals(r.code, 0, r.stderr);
    const rows = parseCsv(await read(`${dir}/v/cost.csv`), true).rows;
    assert(rows.length > 0);
    for (const row of rows) {
      assertEquals(
        [row.ns_per_iteration, row.ns_per_descriptor, row.soft_lockup_threshold_ns].map(Number),
        [23.56, 2.356, 14e9],
      );
    }
    const named = `the cost model of ${path}: ${describeCostModel(file)}`;
    const report = await read(`${dir}/v/report.md`);
    assert(
      report.includes(
        `Estimated times use ${named}: 23.56 ns per iteration, 2.356 ns per descriptor, ` +
          "soft lockup above 14.0 s.",
      ),
      report,
    );
    assert(report.includes(`--cost-model ${path}`), "the command that reproduces it");
    const svg = await read(`${dir}/v/unmap-cost.svg`);
    // The subtitle wraps: compare its words.
    const words = (t: string) => t.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ");
    assert(words(svg).includes(`≈ 23.56 ns each by ${named}`.replace(/\s+/g, " ")), words(svg));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("docs/sweeps.md's cost-flag table lists every cost flag with its column and default", async () => {
  const doc = await read("docs/sweeps.md");
  const rows = doc.split("\n").filter((l) => /^\| `--[a-z-]+` \|/.test(l))
    .map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
  const def = defaultCostModel();
  assertEquals(
    rows.map((
      [flag, dflt, , column],
    ) => [flag, dflt.replace(/ \(s\)$/, "").replace(",", ""), column]),
    COST_FLAGS.map((f) => [`\`--${f.flag}\``, String(f.toFlag(def[f.field])), `\`${f.column}\``]),
  );
  for (const [flag, , file] of rows) {
    const f = COST_FLAGS.find((f) => `\`--${f.flag}\`` === flag)!;
    const m = COST_MODEL_FILE_FIELDS.find((m) => m.field === f.field);
    assertEquals(file.startsWith("the file's"), m !== undefined, flag);
    if (m) assert(file.includes(`\`${m.path}\``), `${flag}: ${file} names ${m.path}`);
  }
});
