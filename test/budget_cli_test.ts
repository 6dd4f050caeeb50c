/**
 * `deno task budget` (experiments/budget.ts) from its command line: each bad value of
 * `--vcpus`, `--granule` and `--cost-model` is one line naming the flag, exit 2, before any
 * replay and with nothing written; a good run writes one row per (vCPUs, granule, alias,
 * budget), the same bytes twice, and a cost model file's constants and origin in every row.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { readCostModelFile } from "../lib/calibrate/mod.ts";
import { parseCsv } from "../lib/util/csv.ts";
import { runScript } from "./cli.ts";

const budget = (args: string[]) => runScript("budget.ts", ["--allow-read", "--allow-write"], args);

/** One small replay per (vCPUs, granule): about a second. */
const SMALL = ["--alias", "0", "--budget", "1K,256K"];

Deno.test("budget: a bad --vcpus, --granule or --cost-model is one line, exit 2, nothing written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-budget-cli-" });
  try {
    const out = `${dir}/budget.csv`;
    await Deno.writeTextFile(`${dir}/not-a-model.json`, '{"format": "cost"}\n');
    const cases: [string[], RegExp][] = [
      [["--vcpus", "0"], /^error: --vcpus: 0 is out of range \(1\.\.4096\)$/],
      [["--vcpus", "8,5000"], /^error: --vcpus: 5000 is out of range \(1\.\.4096\)$/],
      [["--vcpus", "eight"], /^error: --vcpus: "eight" is not a whole number$/],
      [["--vcpus", "1.5"], /^error: --vcpus: "1\.5" is not a whole number$/],
      [["--vcpus", "8,"], /^error: --vcpus: "" is not a whole number$/],
      [["--vcpus", "8,192,8"], /^error: --vcpus: "8" and "8" are the same value$/],
      [
        ["--granule", "2K"],
        /^error: --granule: unknown granule "2K" \(expected one of 4K, 16K, 64K\)$/,
      ],
      [["--granule", "4K,4K"], /^error: --granule: "4K" is listed twice$/],
      [
        ["--cost-model", `${dir}/none.json`],
        /^error: --cost-model: .*none\.json: cannot read: no such file or directory$/,
      ],
      [["--cost-model", `${dir}/not-a-model.json`], /^error: --cost-model: .*not-a-model\.json: /],
    ];
    for (const [args, re] of cases) {
      const r = await budget([...args, "--out", out]);
      assertEquals(r.code, 2, `${args.join(" ")}: exit ${r.code}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assertEquals(lines.length, 1, r.stderr);
      assertMatch(lines[0], re, args.join(" "));
    }
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(left, ["not-a-model.json"], "nothing written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("budget: --vcpus and --granule make one row each per budget, the same bytes twice", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-budget-cli-" });
  try {
    const args = [...SMALL, "--vcpus", "2,1", "--granule", "4K", "--seed", "3"];
    const a = await budget([...args, "--out", `${dir}/a.csv`]);
    assertEquals(a.code, 0, a.stderr);
    const b = await budget([...args, "--out", `${dir}/b.csv`]);
    assertEquals(b.code, 0, b.stderr);
    const text = await Deno.readTextFile(`${dir}/a.csv`);
    assertEquals(text, await Deno.readTextFile(`${dir}/b.csv`));
    const { rows } = parseCsv(text);
    // vCPUs in the order given, each with both budgets.
    assertEquals(rows.map((r) => [r.vcpus, r.budget_bytes]), [
      ["2", "1024"],
      ["2", "262144"],
      ["1", "1024"],
      ["1", "262144"],
    ]);
    assert(rows.every((r) => r.seed === "3" && r.cost_model === "default"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("budget --cost-model: the file's constants estimate every row, and its origin is named", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-budget-cli-" });
  try {
    const model = `${dir}/model.json`;
    const cal = await runScript("calibrate.ts", ["--allow-read", "--allow-write"], [
      "test/fixtures/calibrate/reproducer-fgraph.txt",
      ...["--trace", "test/fixtures/selftest/reproducer-min.json", "--out", model],
    ]);
    assertEquals(cal.code, 0, cal.stderr);
    const base = await readCostModelFile(model);
    const r = await budget([
      ...SMALL,
      "--vcpus",
      "1",
      "--granule",
      "4K",
      "--cost-model",
      model,
      "--out",
      `${dir}/m.csv`,
    ]);
    assertEquals(r.code, 0, r.stderr);
    const { rows } = parseCsv(await Deno.readTextFile(`${dir}/m.csv`));
    for (const row of rows) {
      assertEquals(Number(row.ns_per_iteration), base.model.nsPerIteration);
      assertEquals(Number(row.ns_per_descriptor), base.model.nsPerDescriptor);
      assertEquals(Number(row.soft_lockup_threshold_ns), base.model.softLockupNs);
      assertEquals(row.cost_model, base.origin);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
