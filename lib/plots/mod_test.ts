import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { DOMParser } from "linkedom";
import * as Plot from "@observablehq/plot";
import { coincidentSeries, costData, costFigure, tradeoffData } from "./mod.ts";
import { writePlots } from "./mod.ts";
import { loadSweep, num, parseSweep, ResultsFormatError, ResultsMissingError } from "./results.ts";
import {
  composeFigure,
  countMarks,
  Figure,
  JUPYTER_DISPLAY,
  parseSvg,
  plotDocument,
} from "./svg.ts";
import { STRATEGY_NAMES } from "../strategies/mod.ts";
import { SWEEP_HEADER } from "../sweep/columns.ts";
import type { CostModel } from "../sweep/costmodel.ts";
import { expandGrid, gridId, parseGridValues } from "../sweep/grid.ts";
import { runPoint } from "../sweep/run.ts";
import { formatCsv } from "../util/csv.ts";
import { budgetCsv, budgetSweep } from "../sweep/budget.ts";
import type { SweepRow } from "../sweep/columns.ts";
import { replayTimeline, timelineCsv } from "../sweep/timeline.ts";
import { parseTrace } from "../trace/trace.ts";
import { loadBudget } from "./memory.ts";
import { loadTimeline } from "./reproducer.ts";
import { strategyOrder } from "./style.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

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
  const cost: CostModel = {
    nsPerIteration: 20,
    nsPerDescriptor: 2,
    softLockupNs: 1e8,
    nsPerFault: 1e4,
  };
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

const n = (r: SweepRow, c: string) => Number((r as Record<string, string | number>)[c]);
const key = (r: SweepRow, cols: string[]) =>
  cols.map((c) => (r as Record<string, string | number>)[c]).join("|");
const distinctCount = (rows: SweepRow[], cols: string[]) =>
  new Set(rows.map((r) => key(r, cols))).size;

Deno.test("loadSweep names a missing file and how to make it", async () => {
  const e = await assertRejects(() => loadSweep("/nonexistent/dir/sweep.csv"), ResultsMissingError);
  assertStringIncludes(e.message, "/nonexistent/dir/sweep.csv");
  assertStringIncludes(e.message, "deno task sweep");
});

Deno.test("parseSweep: numbers by schema type, text kept, missing columns and bad numbers named", () => {
  const rows = parseSweep(
    "strategy,granule,vcpus,alias,extra\nrmap,4K,192,0.5,x\n",
    "t.csv",
    ["strategy", "vcpus"],
  );
  assertEquals(rows[0].vcpus, 192);
  assertEquals(rows[0].alias, 0.5);
  assertEquals(rows[0].granule, "4K");
  assertEquals((rows[0] as unknown as Record<string, string>).extra, "x");
  // A schema column the file lacks: reading it names the column and the file.
  assertThrows(() => rows[0].shadow_mmus, ResultsFormatError, 't.csv: no column "shadow_mmus"');
  assertThrows(() => num(rows[0], "unmap_iterations_max"), ResultsFormatError, "t.csv");
  assertMatch(
    assertThrows(() => parseSweep("strategy\nrmap\n", "t.csv"), ResultsFormatError).message,
    /t\.csv: .*missing column\(s\) granule/,
  );
  assertMatch(
    assertThrows(
      () => parseSweep("strategy,vcpus\nrmap,many\n", "t.csv", ["strategy"]),
      ResultsFormatError,
    ).message,
    /row 2, column vcpus/,
  );
});

Deno.test("writePlots writes every figure as valid SVG with the marks the data calls for", async () => {
  const { dir, csv, rows } = await fixture();
  const out = `${dir}/plots`;
  const budgets = [1024, 4096, 262144];
  const aliases = [0, 0.5];
  const budgetVcpus = [1, 2];
  const budget = budgetSweep({
    vcpus: budgetVcpus,
    granules: ["4K"],
    pagesPerContext: 16,
    aliases,
    budgets,
  });
  await Deno.writeTextFile(`${dir}/budget.csv`, budgetCsv(budget));
  const run = replayTimeline(
    parseTrace(JSON.parse(await Deno.readTextFile(`${ROOT}experiments/scenarios/reproducer.json`))),
    STRATEGY_NAMES,
  );
  const timeline = timelineCsv(run);
  for (const [suffix, text] of Object.entries(timeline)) {
    await Deno.writeTextFile(`${dir}/reproducer.${suffix}`, text);
  }
  const res = await writePlots({
    csv,
    out,
    budget: `${dir}/budget.csv`,
    timeline: `${dir}/reproducer`,
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
  for (const name of names) assert(res.files.includes(`${out}/${name}.svg`), name);
  const marks: Record<string, ReturnType<typeof countMarks>> = {};
  for (const name of names) {
    const text = await Deno.readTextFile(`${out}/${name}.svg`);
    parseSvg(text); // well-formed XML, <svg> root in the SVG namespace
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const root = doc.documentElement;
    assertEquals(root.tagName.toLowerCase(), "svg", name);
    assert(Number(root.getAttribute("width")) > 400, `${name} has a width`);
    assert(Number(root.getAttribute("height")) > 300, `${name} has a height`);
    assert(root.querySelector("title")?.textContent, `${name} has a title`);
    assert(root.querySelectorAll('g[aria-label="legend"] text').length > 0, `${name} legend`);
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
    // Strategies whose series is another's point for point are not drawn (named in notes).
    const hidden = new Set(
      costData(await loadSweep(csv), { by }).coincident.map((c) => c.strategy),
    );
    const sel = rows.filter((r) =>
      n(r, "alias") === maxAlias && n(r, other) === maxOf(other) &&
      n(r, "unmap_iterations_max") > 0 && !hidden.has(r.strategy)
    );
    const pts = distinctCount(sel, ["granule", "strategy", by]);
    const rings = distinctCount(sel.filter((r) => n(r, "soft_lockup") === 1), [
      "granule",
      "strategy",
      by,
    ]);
    assert(rings > 0, "the lowered threshold puts some points past it");
    assertEquals(marks[name].line, distinctCount(sel, ["granule", "strategy"]), `${name} lines`);
    assertEquals(marks[name].dot, pts + rings, `${name} dots`);
    assertEquals(marks[name].rule, 2 * granules, `${name}: soft lockup and latency rules`);
  }

  // 02: at the largest scale, a cell with its count per (strategy, granule, alias).
  const big = rows.filter((r) =>
    n(r, "vcpus") === maxOf("vcpus") && n(r, "l1_mem_bytes") === maxOf("l1_mem_bytes")
  );
  const cells = distinctCount(big, ["strategy", "granule", "alias"]);
  assertEquals(marks["02-violations"].rect, cells);
  assertEquals(marks["02-violations"].text, cells);
  const td = tradeoffData(await loadSweep(csv));
  const tdHidden = new Set(
    coincidentSeries(td, ["granule", "l1_mem_bytes", "alias"], "pair").map((c) => c.strategy),
  );
  const most = rows.filter((r) => n(r, "vcpus") === maxOf("vcpus"));
  const tdDrawn = most.filter((r) => n(r, "unmap_iterations_max") > 0 && !tdHidden.has(r.strategy));
  // A dot per point, and one per alias density in the dot-size key.
  assertEquals(
    marks["02-tradeoff"].dot,
    distinctCount(tdDrawn, ["strategy", "granule", "l1_mem_bytes", "alias"]) +
      distinctCount(tdDrawn, ["alias"]),
  );
  const panels = distinctCount(most, ["granule", "l1_mem_bytes"]);
  assertEquals(marks["02-tradeoff"].rule, 2 * panels, "soft-lockup and latency lines per panel");
  assert(
    big.some((r) => r.strategy === "maple-v2" && n(r, "violations") > 0),
    "the small sweep shows maple-v2's violations",
  );

  // 03: memory (log: full-walk's 0 B not drawn) and collateral (symlog: every point).
  // Memory: per entry and total, two charts; a strategy whose index equals another's at
  // every point is not drawn.
  const memHidden = new Set(
    coincidentSeries(
      big.filter((r) => n(r, "peak_memory_bytes") > 0).map((r) => ({ ...r })),
      ["granule", "alias"],
      "peak_memory_bytes",
    ).map((c) => c.strategy),
  );
  const mem = big.filter((r) =>
    n(r, "memory_bytes_per_shadow_entry") > 0 && !memHidden.has(r.strategy)
  );
  assertEquals(marks["03-memory"].line, 2 * distinctCount(mem, ["strategy", "granule"]));
  assertEquals(marks["03-memory"].dot, 2 * distinctCount(mem, ["strategy", "granule", "alias"]));
  const colHidden = new Set(
    coincidentSeries(big.map((r) => ({ ...r })), ["granule", "alias"], "removed_collateral")
      .filter((c) => c.same !== "maple-v2").map((c) => c.strategy),
  );
  const col = big.filter((r) => !colHidden.has(r.strategy));
  assertEquals(marks["03-collateral"].line, distinctCount(col, ["strategy", "granule"]));
  assertEquals(marks["03-collateral"].dot, distinctCount(col, ["strategy", "granule", "alias"]));
  // Budget: two charts of a panel per vCPU count, a line per alias density in each panel, a
  // dot per (vCPUs, alias, budget); the default budget in every panel, the soft-lockup and
  // scheduling-latency lines in every panel of the time chart.
  const budgetPanels = budgetVcpus.length;
  assertEquals(budget.length, budgetPanels * aliases.length * budgets.length);
  assertEquals(marks["03-budget"].line, 2 * budgetPanels * aliases.length);
  assertEquals(marks["03-budget"].dot, 2 * budgetPanels * aliases.length * budgets.length);
  assertEquals(marks["03-budget"].rule, 2 * budgetPanels + 2 * budgetPanels);
  assert(budget.some((b) => b.fallbacks > 0), "a 1 KiB budget falls back");
  assert(budget.every((b) => b.violations === 0), "falling back stays correct");

  // 04: a dot per stale entry, a step line per strategy, the migrations as rules in each chart.
  const stale = run.runs.reduce((s, r) => s + r.firstSeen.length, 0);
  const broken = run.runs.filter((r) => r.violations > 0).map((r) => r.strategy);
  assertEquals(broken, ["maple-v2"]);
  assertEquals(marks["04-reproducer-timeline"].dot, stale);
  assertEquals(marks["04-reproducer-timeline"].line, STRATEGY_NAMES.length);
  assertEquals(marks["04-reproducer-timeline"].rule, run.unmapEvents.length * 2);
  assertMatch(timeline["strategies.csv"], /^trace,trace_events,strategy,violations,/);
  // 1,520 distinct stale leaves; 3,035 findings (not-invalidated, then stale-pa for most).
  assertMatch(timeline["strategies.csv"], /,6652,maple-v2,1520,/);
  assertEquals(run.runs.find((r) => r.strategy === "maple-v2")!.firstSeen.length, 3035);
  // What was written reads back as what was computed.
  assertEquals(await loadTimeline(`${dir}/reproducer`), {
    ...run,
    runs: strategyOrder(STRATEGY_NAMES).map((s) => run.runs.find((r) => r.strategy === s)!),
  });
  assertEquals(budgetCsv(await loadBudget(`${dir}/budget.csv`)), budgetCsv(budget));
});

Deno.test("a figure shows itself in Jupyter as image/svg+xml", async () => {
  const { csv } = await fixture();
  const rows = await loadSweep(csv);
  const fig = costFigure(rows, { by: "vcpus" });
  assert(fig instanceof Figure);
  const bundle = fig[Symbol.for("Jupyter.display") as typeof JUPYTER_DISPLAY]();
  assertEquals(JUPYTER_DISPLAY, Symbol.for("Jupyter.display"));
  assertEquals(bundle["image/svg+xml"], fig.svg);
  assert(fig.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
});

Deno.test("a broken chart fails: malformed SVG, wrong root, and mark counts that differ", () => {
  assertMatch(
    String(assertThrows(() => parseSvg("<svg xmlns='http://www.w3.org/2000/svg'><g></svg>"))),
    /well-formed/,
  );
  assertMatch(String(assertThrows(() => parseSvg("<html></html>"))), /not an SVG/);
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
  assertEquals(countMarks(fig.svg), { line: 0, dot: 3, rule: 0, text: 0, rect: 0, tick: 0 });
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
  assertEquals(out.code, 2);
  assertEquals(err.split("\n").length, 1);
  assertMatch(err, /^error: sweep results not found: \/nonexistent\/sweep\.csv/);
});
