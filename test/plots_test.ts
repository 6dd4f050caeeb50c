import assert from "assert";
import { DOMParser } from "linkedom";
import {
  composeFigure,
  costFigure,
  countMarks,
  Figure,
  JUPYTER_DISPLAY,
  loadSweep,
  parseSvg,
  parseSweep,
  plotDocument,
  ResultsFormatError,
  ResultsMissingError,
  writePlots,
} from "../lib/plots/mod.ts";
import type { CostModel } from "../lib/sweep/costmodel.ts";
import { formatCsv } from "../lib/sweep/csv.ts";
import { expandGrid, gridId, parseGridValues } from "../lib/sweep/grid.ts";
import { runPoint } from "../lib/sweep/run.ts";
import { SWEEP_HEADER, type SweepRow } from "../lib/sweep/schema.ts";
import { STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import { loadTrace, replayReproducer } from "../lib/plots/reproducer.ts";
import * as Plot from "@observablehq/plot";

const ROOT = new URL("..", import.meta.url).pathname;

/**
 * A small sweep, run in process: 2 granules x 2 memory sizes x 2 vCPU counts x 2 alias
 * densities, every strategy. The soft-lockup threshold is lowered to 0.1 s so that the
 * 64K full walks cross it and the rings are drawn.
 */
function smallSweep(): SweepRow[] {
  const grid = expandGrid(parseGridValues({
    granule: "4K,64K",
    "l1-mem": "4G,8G",
    vcpus: "1,4",
    alias: "0,0.5",
    "pages-per-context": "16",
  }));
  const cost: CostModel = { nsPerIteration: 20, nsPerDescriptor: 2, softLockupNs: 1e8 };
  const id = gridId(grid.points, 1, cost);
  return grid.points.flatMap((params, index) =>
    runPoint(
      { gridId: id, index, points: grid.points.length, seed: 1, params },
      STRATEGY_NAMES,
      cost,
    )
      .rows
  );
}

let cached: { dir: string; csv: string; rows: SweepRow[] } | null = null;
async function fixture() {
  if (!cached) {
    const dir = await Deno.makeTempDir({ prefix: "s2lab-plots-" });
    const rows = smallSweep();
    const csv = `${dir}/sweep.csv`;
    await Deno.writeTextFile(csv, formatCsv(SWEEP_HEADER, rows));
    cached = { dir, csv, rows };
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  }
  return cached;
}

const n = (r: SweepRow, c: string) => Number(r[c]);
const key = (r: SweepRow, cols: string[]) => cols.map((c) => r[c]).join("|");
const distinctCount = (rows: SweepRow[], cols: string[]) =>
  new Set(rows.map((r) => key(r, cols))).size;

Deno.test("loadSweep names a missing file and how to make it", async () => {
  await assert.rejects(
    () => loadSweep("/nonexistent/dir/sweep.csv"),
    (e: unknown) =>
      e instanceof ResultsMissingError && e.message.includes("/nonexistent/dir/sweep.csv") &&
      e.message.includes("deno task sweep"),
  );
});

Deno.test("parseSweep: numbers by schema type, text kept, missing columns and bad numbers named", () => {
  const rows = parseSweep(
    "strategy,granule,vcpus,alias,extra\nrmap,4K,192,0.5,x\n",
    "t.csv",
    ["strategy", "vcpus"],
  );
  assert.equal(rows[0].vcpus, 192);
  assert.equal(rows[0].alias, 0.5);
  assert.equal(rows[0].granule, "4K");
  assert.equal(rows[0].extra, "x");
  assert.throws(
    () => parseSweep("strategy\nrmap\n", "t.csv"),
    (e: unknown) =>
      e instanceof ResultsFormatError && /t\.csv: .*missing column\(s\) granule/.test(e.message),
  );
  assert.throws(
    () => parseSweep("strategy,vcpus\nrmap,many\n", "t.csv", ["strategy"]),
    (e: unknown) => e instanceof ResultsFormatError && /row 2, column vcpus/.test(e.message),
  );
});

Deno.test("writePlots writes every figure as valid SVG with the marks the data calls for", async () => {
  const { dir, csv, rows } = await fixture();
  const out = `${dir}/plots`;
  const budgets = [1024, 4096, 262144];
  const aliases = [0, 0.5];
  const res = await writePlots({
    csv,
    out,
    budget: { vcpus: 2, pagesPerContext: 16, aliases, budgets },
  });
  const names = [
    "01-cost-vcpus",
    "01-cost-memory",
    "02-violations",
    "02-tradeoff",
    "03-memory",
    "03-collateral",
    "03-budget",
    "04-reproducer-timeline",
  ];
  for (const name of names) assert.ok(res.files.includes(`${out}/${name}.svg`), name);
  for (const t of ["03-budget.csv", "04-reproducer-summary.csv", "04-reproducer-stale.csv"]) {
    assert.ok(res.files.includes(`${out}/${t}`), t);
  }
  const marks: Record<string, ReturnType<typeof countMarks>> = {};
  for (const name of names) {
    const text = await Deno.readTextFile(`${out}/${name}.svg`);
    parseSvg(text); // well-formed XML, <svg> root in the SVG namespace
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const root = doc.documentElement;
    assert.equal(root.tagName.toLowerCase(), "svg", name);
    assert.ok(Number(root.getAttribute("width")) > 400, `${name} has a width`);
    assert.ok(Number(root.getAttribute("height")) > 300, `${name} has a height`);
    assert.ok(root.querySelector("title")?.textContent, `${name} has a title`);
    assert.ok(root.querySelectorAll('g[aria-label="legend"] text').length > 0, `${name} legend`);
    marks[name] = countMarks(text);
  }

  const maxOf = (c: string) => Math.max(...rows.map((r) => n(r, c)));
  const maxAlias = maxOf("alias");
  const granules = new Set(rows.map((r) => r.granule)).size;

  // 01: one line per (granule, strategy) and one dot per point, a ring per soft lockup, a
  // threshold rule per granule panel.
  for (
    const [name, by, other] of [
      ["01-cost-vcpus", "vcpus", "l1_mem_bytes"],
      ["01-cost-memory", "l1_mem_bytes", "vcpus"],
    ] as const
  ) {
    const sel = rows.filter((r) =>
      n(r, "alias") === maxAlias && n(r, other) === maxOf(other) && n(r, "unmap_iterations_max") > 0
    );
    const pts = distinctCount(sel, ["granule", "strategy", by]);
    const rings = distinctCount(sel.filter((r) => n(r, "soft_lockup") === 1), [
      "granule",
      "strategy",
      by,
    ]);
    assert.ok(rings > 0, "the lowered threshold puts some points past it");
    assert.equal(marks[name].line, distinctCount(sel, ["granule", "strategy"]), `${name} lines`);
    assert.equal(marks[name].dot, pts + rings, `${name} dots`);
    assert.equal(marks[name].rule, granules, `${name} rules`);
  }

  // 02: at the largest scale, a line per (strategy, granule) over alias densities.
  const big = rows.filter((r) =>
    n(r, "vcpus") === maxOf("vcpus") && n(r, "l1_mem_bytes") === maxOf("l1_mem_bytes")
  );
  assert.equal(marks["02-violations"].line, distinctCount(big, ["strategy", "granule"]));
  assert.equal(marks["02-violations"].dot, distinctCount(big, ["strategy", "granule", "alias"]));
  assert.equal(marks["02-violations"].rule, STRATEGY_NAMES.length, "a zero line per panel");
  assert.equal(
    marks["02-tradeoff"].dot,
    distinctCount(big.filter((r) => n(r, "unmap_iterations_max") > 0), [
      "strategy",
      "granule",
      "alias",
    ]),
  );
  assert.equal(marks["02-tradeoff"].rule, 1, "one soft-lockup line");
  assert.ok(
    big.some((r) => r.strategy === "maple-v2" && n(r, "violations") > 0),
    "the small sweep shows maple-v2's violations",
  );

  // 03: memory (log: full-walk's 0 B not drawn) and collateral (symlog: every point).
  const mem = big.filter((r) => n(r, "memory_bytes_per_shadow_entry") > 0);
  assert.equal(marks["03-memory"].line, distinctCount(mem, ["strategy", "granule"]));
  assert.equal(marks["03-memory"].dot, distinctCount(mem, ["strategy", "granule", "alias"]));
  assert.equal(marks["03-collateral"].line, distinctCount(big, ["strategy", "granule"]));
  assert.equal(marks["03-collateral"].dot, distinctCount(big, ["strategy", "granule", "alias"]));
  // Budget: two charts, a line per alias density in each, a dot per (alias, budget).
  assert.equal(res.budget.length, aliases.length * budgets.length);
  assert.equal(marks["03-budget"].line, 2 * aliases.length);
  assert.equal(marks["03-budget"].dot, 2 * aliases.length * budgets.length);
  assert.equal(marks["03-budget"].rule, 2, "the default budget in both charts");
  assert.ok(res.budget.some((b) => b.fallbacks > 0), "a 1 KiB budget falls back");
  assert.ok(res.budget.every((b) => b.violations === 0), "falling back stays correct");

  // 04: a dot per stale entry, a step line per strategy, the migrations as rules in each chart.
  const run = replayReproducer(await loadTrace());
  const stale = run.runs.reduce((s, r) => s + r.firstSeen.length, 0);
  const broken = run.runs.filter((r) => r.violations > 0).map((r) => r.strategy);
  assert.deepEqual(broken, ["maple-v2"]);
  assert.equal(marks["04-reproducer-timeline"].dot, stale);
  assert.equal(marks["04-reproducer-timeline"].line, STRATEGY_NAMES.length);
  assert.equal(marks["04-reproducer-timeline"].rule, run.unmapEventIndexes.length * 2);
  const summary = await Deno.readTextFile(`${out}/04-reproducer-summary.csv`);
  assert.match(summary, /^strategy,violations,not-invalidated,stale-pa,/);
  assert.match(summary, /\nmaple-v2,3035,/);
});

Deno.test("a figure shows itself in Jupyter as image/svg+xml", async () => {
  const { csv } = await fixture();
  const rows = await loadSweep(csv);
  const fig = costFigure(rows, { by: "vcpus" });
  assert.ok(fig instanceof Figure);
  const bundle = fig[Symbol.for("Jupyter.display") as typeof JUPYTER_DISPLAY]();
  assert.equal(JUPYTER_DISPLAY, Symbol.for("Jupyter.display"));
  assert.equal(bundle["image/svg+xml"], fig.svg);
  assert.ok(fig.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
});

Deno.test("a broken chart fails: malformed SVG, wrong root, and mark counts that differ", () => {
  assert.throws(() => parseSvg("<svg xmlns='http://www.w3.org/2000/svg'><g></svg>"), /well-formed/);
  assert.throws(() => parseSvg("<html></html>"), /not an SVG/);
  const chart = Plot.plot({
    document: plotDocument(),
    width: 300,
    height: 200,
    marks: [Plot.dot([1, 2, 3], { x: (d: number) => d, y: (d: number) => d })],
  } as Plot.PlotOptions);
  const fig = composeFigure({
    name: "t",
    title: "t & <t>",
    chart: chart as unknown as Parameters<typeof composeFigure>[0]["chart"],
    legend: [{ label: "a < b", color: "red", kind: "dot" }],
  });
  parseSvg(fig.svg);
  assert.deepEqual(countMarks(fig.svg), { line: 0, dot: 3, rule: 0, text: 0, rect: 0, tick: 0 });
});

Deno.test("deno task plots: a missing CSV is one line naming it, exit 2", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env=S2LAB_SWEEP_CSV",
      "experiments/plots.ts",
      "--csv",
      "/nonexistent/sweep.csv",
      "--out",
      "/nonexistent/plots",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr).trim();
  assert.equal(out.code, 2);
  assert.equal(err.split("\n").length, 1);
  assert.match(err, /^error: sweep results not found: \/nonexistent\/sweep\.csv/);
});
