/**
 * notebooks/06-try-a-design.ipynb as committed, without Jupyter: its parameters name a
 * design file that exists and loads, and a report folder git ignores; its stored outputs are
 * what those parameters give (the command it ran, the exhaustive depth in every world), with
 * nothing of the checkout, the machine or the clock; its figures are SVG and its takeaways
 * carry facts about the report folder's CSVs (.ci/notebooks.sh recomputes them after each
 * run; they are not committed, so they are not recomputed here).
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { loadDesignFile } from "../lib/strategies/load.ts";
import { verifyTaskArgs } from "../lib/verify/task.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
const NOTEBOOK = "notebooks/06-try-a-design.ipynb";
const MIME = "application/vnd.s2lab.facts+json";

interface Cell {
  cell_type: string;
  metadata: { tags?: string[] };
  source: string[] | string;
  outputs?: { output_type: string; data?: Record<string, unknown> }[];
}

const text = (v: unknown) => (Array.isArray(v) ? v.join("") : String(v ?? ""));
const cells: Cell[] = JSON.parse(Deno.readTextFileSync(`${ROOT}${NOTEBOOK}`)).cells;
const code = cells.filter((c) => c.cell_type === "code");
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
