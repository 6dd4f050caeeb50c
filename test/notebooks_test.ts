/**
 * The committed notebooks, without Jupyter: each opens with a code cell tagged
 * `parameters` and a reproducibility header whose sweep command reproduces the CSV's grid
 * id; every plot cell holds an SVG; every takeaway's numbers hold against its CSV when an
 * independent checker (experiments/notebooks/check_facts.ts) recomputes them; and the
 * checker fails a notebook whose takeaway was edited to say something else.
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { checkNotebook } from "../experiments/notebooks/check_facts.ts";
import {
  hostScaleRows,
  hostScaleTakeaway,
  largestPopulated,
  loadSweep,
  sweepCommand,
} from "../lib/plots/mod.ts";
import { SWEEP_HEADER } from "../lib/sweep/columns.ts";
import { gridFilePath, parseGridFile, specGrid, sweepSpec } from "../lib/sweep/spec.ts";
import { loadDesignFile } from "../lib/strategies/load.ts";
import { headerOf, parseCsv } from "../lib/util/csv.ts";
import { verifyTaskArgs } from "../lib/verify/task.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
// The notebooks that read the committed results (06-try-a-design runs verify and reads the
// report folder it writes: its tests are at the end).
const NOTEBOOKS = [...Deno.readDirSync(`${ROOT}notebooks`)]
  .map((e) => e.name).filter((n) => n.endsWith(".ipynb") && n !== "06-try-a-design.ipynb").sort();
const MIME = "application/vnd.s2lab.facts+json";

interface Cell {
  cell_type: string;
  metadata: { tags?: string[] };
  source: string[] | string;
  outputs?: { output_type: string; data?: Record<string, unknown> }[];
}

const text = (v: unknown) => (Array.isArray(v) ? v.join("") : String(v ?? ""));
const load = (name: string): { cells: Cell[] } =>
  JSON.parse(Deno.readTextFileSync(`${ROOT}notebooks/${name}`));

Deno.test("five notebooks, host scale included", () => {
  assertEquals(NOTEBOOKS, [
    "01-cost.ipynb",
    "02-correctness.ipynb",
    "03-memory.ipynb",
    "04-reproducer.ipynb",
    "05-host-scale.ipynb",
  ]);
});

for (const name of NOTEBOOKS) {
  Deno.test(`${name}: parameters first, a header, SVGs, takeaways that hold`, () => {
    const nb = load(name);
    const code = nb.cells.filter((c) => c.cell_type === "code");
    assert(code[0].metadata.tags?.includes("parameters"), "the first code cell is `parameters`");
    for (const c of code) {
      for (const o of c.outputs ?? []) assert(o.output_type !== "error", text(c.source));
    }
    const header = text(code[1].outputs?.[0]?.data?.["text/markdown"]);
    assertStringIncludes(header, "**Reproducibility**");
    if (!name.startsWith("04")) {
      // The derived command reproduces the CSV's grid id (verified, not guessed).
      assertMatch(header, /Made by `deno task sweep [^`]*` \(derived from the rows; its grid id/);
      assertMatch(header, /grid id [0-9a-f]{8}, seed \d+/);
      // The commit that swept the CSV and its cost model, as its timing file records them.
      const m =
        /Swept at commit `([0-9a-f]{12})` with (the default cost model \(lib\/sweep\/costmodel\.ts\)|the cost model of [^(]+) \(as `([^`]+\.timing\.csv)` records\)/
          .exec(header);
      assert(m, header);
      const timing = parseCsv(Deno.readTextFileSync(`${ROOT}${m[3]}`)).rows;
      assertEquals([...new Set(timing.map((r) => r.commit))], [m[1]]);
      const models = [...new Set(timing.map((r) => r.cost_model))];
      assertEquals(models.length, 1);
      assertEquals(
        m[2],
        models[0] === "default"
          ? "the default cost model (lib/sweep/costmodel.ts)"
          : `the cost model of ${models[0]}`,
      );
    }
    // Nothing of the checkout or the kernel that ran it: re-executing at another commit
    // prints the same.
    const outputs = JSON.stringify(code.map((c) => c.outputs ?? []));
    assert(!/code at commit|Deno \d+\.\d+|\/work\/|\/home\/|\/root\//.test(outputs), name);
    for (const c of code.filter((c) => c.metadata.tags?.includes("plot"))) {
      const svg = text(c.outputs?.map((o) => o.data?.["image/svg+xml"]).find((s) => s));
      assert(svg.startsWith("<svg") && svg.trimEnd().endsWith("</svg>"), text(c.source));
    }
    const takeaways = code.filter((c) => c.metadata.tags?.includes("takeaway"));
    assert(takeaways.length > 0, "at least one takeaway");
    for (const c of takeaways) assert(c.outputs?.some((o) => o.data?.[MIME]), text(c.source));
    const res = checkNotebook(`${ROOT}notebooks/${name}`);
    assertEquals(res.problems, []);
    assert(res.facts > 5, `${res.facts} facts`);
  });
}

Deno.test("the checker fails a takeaway edited to contradict its data", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-nb-" });
  try {
    const nb = load("01-cost.ipynb");
    const cell = nb.cells.find((c) => c.metadata.tags?.includes("takeaway"))!;
    const out = cell.outputs!.find((o) => o.data?.[MIME])!;
    const payload = out.data![MIME] as { facts: { value: number; shown: string }[] };
    const f = payload.facts[0];
    // 1. The value differs from the CSV's.
    const claimed = structuredClone(nb);
    const c1 = claimed.cells[nb.cells.indexOf(cell)].outputs!.find((o) => o.data?.[MIME])!;
    (c1.data![MIME] as { facts: { value: number }[] }).facts[0].value = f.value * 2 + 1;
    await Deno.writeTextFile(`${dir}/value.ipynb`, JSON.stringify(claimed));
    assertMatch(checkNotebook(`${dir}/value.ipynb`).problems.join("\n"), /gives/);
    // 2. The sentence no longer states the number.
    const prose = structuredClone(nb);
    const c2 = prose.cells[nb.cells.indexOf(cell)].outputs!.find((o) => o.data?.[MIME])!;
    c2.data!["text/markdown"] = text(c2.data!["text/markdown"]).split(f.shown).join("many");
    await Deno.writeTextFile(`${dir}/prose.ipynb`, JSON.stringify(prose));
    assertMatch(checkNotebook(`${dir}/prose.ipynb`).problems.join("\n"), /is not in its takeaway/);
    // 3. The fact is about rows that are not there (a sentence reading "NaN" states nothing).
    const none = structuredClone(nb);
    const c3 = none.cells[nb.cells.indexOf(cell)].outputs!.find((o) => o.data?.[MIME])!;
    const f3 = (c3.data![MIME] as { facts: { where: Record<string, unknown> }[] }).facts[0];
    f3.where = { ...f3.where, vcpus: 123457 };
    await Deno.writeTextFile(`${dir}/none.ipynb`, JSON.stringify(none));
    assertMatch(checkNotebook(`${dir}/none.ipynb`).problems.join("\n"), /selects no row/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a few numbers the takeaways state, recomputed here from the CSVs", () => {
  const facts = (name: string) =>
    load(name).cells.flatMap((c) =>
      (c.outputs ?? []).flatMap((o) =>
        (o.data?.[MIME] as { facts: { id: string; value: number }[] } | undefined)?.facts ?? []
      )
    );
  const csv = (path: string) => {
    const [head, ...lines] = Deno.readTextFileSync(`${ROOT}${path}`).trimEnd().split("\n");
    const cols = head.split(",");
    return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [cols[i], v])));
  };
  // 01: rmap's and full-walk's worst unmap at 192 vCPUs, 256 GiB, 64K, alias 0.5.
  const sweep = csv("results/sweep.csv").filter((r) =>
    r.vcpus === "192" && r.l1_mem_bytes === String(256 * 2 ** 30) && r.granule === "64K" &&
    r.alias === "0.5"
  );
  const worst = (s: string) =>
    Math.max(...sweep.filter((r) => r.strategy === s).map((r) => Number(r.unmap_iterations_max)));
  const f01 = facts("01-cost.ipynb");
  assertEquals(f01.find((f) => f.id === "rmap.64K")?.value, worst("rmap"));
  assertEquals(f01.find((f) => f.id === "full-walk.64K")?.value, worst("full-walk"));
  // 04: 1,520 distinct stale leaves under maple-v2 (3,035 findings), rmap's worst unmap
  // 2,573 iterations against full-walk's 1,024, rmap-bounded's one fallback.
  const f04 = facts("04-reproducer.ipynb");
  const byId = (id: string) => f04.find((f) => f.id === id)?.value;
  const findings = csv("results/reproducer.findings.csv").filter((r) => r.strategy === "maple-v2");
  assertEquals(
    byId("maple-v2.leaves"),
    new Set(findings.map((r) => `${r.mmu}/${r.shadow_ipa}`)).size,
  );
  assertEquals(byId("maple-v2.findings"), findings.length);
  assertEquals([byId("maple-v2.leaves"), byId("maple-v2.findings")], [1520, 3035]);
  assertEquals([byId("rmap.worst"), byId("full-walk.worst")], [2573, 1024]);
  assertEquals(byId("rmap-bounded.fallbacks"), 1);
});

Deno.test("host-scale takeaways name a point that exists when the largest vCPU count and working set differ", async () => {
  // results/scale.csv: 64 vCPUs x 1 GiB is the most populated point; 192 vCPUs only has 16M
  // and 64M working sets. Every fact of every part must select rows of that one point.
  const path = `${ROOT}results/scale.csv`;
  const rows = hostScaleRows(await loadSweep(path));
  assertEquals(largestPopulated(rows, 0.1), { vcpus: 64, ws: 2 ** 30, granule: "4K" });
  for (const part of ["unmap", "storm", "memory", "contention"] as const) {
    const t = hostScaleTakeaway(rows, path, {}, 0.1, "max", part);
    assert(t.facts.length > 0, part);
    for (const f of t.facts) assert(Number.isFinite(f.value), `${part}: ${f.id} is ${f.value}`);
    assertStringIncludes(t.text, "At 64 vCPUs, 4K pages, a working set of 1 GiB");
  }
});

/** Every committed sweep CSV: results/*.csv with the sweep's header, and the CI fixture. */
const SWEEP_CSVS = [
  ...[...Deno.readDirSync(`${ROOT}results`)].map((e) => `results/${e.name}`)
    .filter((p) => p.endsWith(".csv"))
    .filter((p) => headerOf(Deno.readTextFileSync(`${ROOT}${p}`)).join() === SWEEP_HEADER.join())
    .sort(),
  "test/fixtures/notebooks/notebook-ci.csv",
];

Deno.test("the sweep command a header derives reproduces the grid id of every committed CSV", async () => {
  assertEquals(SWEEP_CSVS.slice(0, 3), [
    "results/scale.csv",
    "results/sweep.csv",
    "results/working-set.csv",
  ]);
  for (const csv of SWEEP_CSVS) {
    const rows = await loadSweep(`${ROOT}${csv}`);
    const c = sweepCommand(rows, csv);
    // Resolve the command's flags as `deno task sweep` does (lib/sweep/spec.ts).
    const flags: Record<string, string> = {};
    for (let i = 0; i < c.args.length; i += 2) {
      assertMatch(c.args[i], /^--[a-z0-9-]+$/);
      flags[c.args[i].slice(2)] = c.args[i + 1];
    }
    const { grid: ref, ...rest } = flags;
    const file = ref === undefined
      ? undefined
      : parseGridFile(ref, Deno.readTextFileSync(gridFilePath(ref).path));
    const spec = sweepSpec(rest, file);
    const ids = [...new Set(rows.map((r) => r.grid_id))];
    assertEquals([specGrid(spec).id], ids, `${csv}: ${c.command}`);
    assertEquals(spec.strategies, [...new Set(rows.map((r) => r.strategy))], c.command);
    assertEquals(c.verified, true, c.command);
    assertEquals(c.command, ["deno task sweep", ...c.args, "--out", csv].join(" "));
  }
});

// 06-try-a-design, as committed: its parameters name a design file that exists and loads,
// and a report folder git ignores; its stored outputs are what those parameters give (the
// command it ran, the exhaustive depth in every world), with nothing of the checkout, the
// machine or the clock; its figures are SVG and its takeaways carry facts about the report
// folder's CSVs (.ci/notebooks.sh recomputes them after each run; the folder is not
// committed, so they are not recomputed here).
const NOTEBOOK = "06-try-a-design.ipynb";
const code = load(NOTEBOOK).cells.filter((c) => c.cell_type === "code");
const params = text(code[0].source);

/** The default a parameter falls back to: `const name = Deno.env.get(...) || "value";`. */
function defaultOf(name: string): string {
  const m = new RegExp(`const ${name} = Deno\\.env\\.get\\("\\w+"\\) \\|\\| "([^"]+)";`).exec(
    params,
  );
  assert(m, `the parameters cell has no default for ${name}:\n${params}`);
  return m[1];
}

Deno.test("06-try-a-design: the parameters name a design file that loads, a folder git ignores", async () => {
  assert(code[0].metadata.tags?.includes("parameters"), "the first code cell is `parameters`");
  const design = defaultOf("design");
  assert(Deno.statSync(`${ROOT}${design}`).isFile, `${design} is not a file`);
  const record = await loadDesignFile(`${ROOT}${design}`);
  assertEquals(record.name, "guest-s2-tracking"); // the worked example of docs/designs.md
  const out = defaultOf("out");
  const ignored = Deno.readTextFileSync(`${ROOT}.gitignore`).split("\n");
  assert(ignored.includes(`${out}/`), `.gitignore does not ignore ${out}/`);
});

Deno.test("06-try-a-design: its outputs are what its parameters give, and nothing of the run", () => {
  for (const c of code) {
    for (const o of c.outputs ?? []) assert(o.output_type !== "error", text(c.source));
  }
  const depth = Number(/const exhaustDepth = (\d+);/.exec(params)?.[1]);
  const args = verifyTaskArgs(defaultOf("design"), {
    out: defaultOf("out"),
    quick: true,
    exhaustDepth: depth,
  });
  const header = text(code[1].outputs?.[0]?.data?.["text/markdown"]);
  assertStringIncludes(header, "**Reproducibility**");
  assertStringIncludes(header, `Ran \`deno task verify ${args.join(" ")}\``);
  const shown = code.flatMap((c) => (c.outputs ?? []).map((o) => text(o.data?.["text/markdown"])));
  const row = shown.join("\n").split("\n").find((l) => l.startsWith("| exhaust |")) ?? "";
  const depths = [...row.matchAll(/every sequence of up to (\d+) events/g)].map((m) =>
    Number(m[1])
  );
  assertEquals(depths, [depth, depth], row);
  const all = JSON.stringify(code.map((c) => c.outputs ?? []));
  assert(
    !/\/tmp\/|\/work\/|\/home\/|\/root\/|commit [0-9a-f]{7}|wall_s|elapsed/.test(all),
    all.slice(0, 400),
  );
  for (const c of code.filter((c) => c.metadata.tags?.includes("plot"))) {
    const svgs = (c.outputs ?? []).map((o) => text(o.data?.["image/svg+xml"])).filter((s) => s);
    assertEquals(svgs.length, 4); // unmap cost, index memory, refaults, insert lock
    for (const s of svgs) assert(s.startsWith("<svg") && s.trimEnd().endsWith("</svg>"));
  }
  const takeaways = code.filter((c) => c.metadata.tags?.includes("takeaway"));
  assertEquals(takeaways.length, 2);
  for (const c of takeaways) {
    const facts = c.outputs?.flatMap((o) =>
      (o.data?.[MIME] as { facts: { file: string }[] })?.facts ?? []
    ) ?? [];
    assert(facts.length > 0, text(c.source));
    for (const f of facts) assertMatch(f.file, new RegExp(`^${defaultOf("out")}/\\w+\\.csv$`));
  }
});
