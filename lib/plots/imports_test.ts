/**
 * The pipeline runs one way: the engine writes CSV files, the plots read them. No module
 * under lib/plots/ may load an engine module, directly or through another module; a
 * notebook that re-runs a sweep imports the runner (lib/sweep/rerun.ts) itself.
 *
 * The import graph is Deno's own (`deno info --json`), walked over the imports that load
 * code; a type-only import (`import type`) loads nothing and is not followed.
 */

import { assert, assertEquals } from "@std/assert";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

/**
 * What reading results needs besides the plots: every other module under lib/ is the
 * engine, the code that models the kernel (KVM, the host's mm, L1), checks
 * it (the oracle) or runs it (trace replay, the sweep's and the budget's runners, the
 * timeline replay, fuzz, selftest generation). A module not listed here is engine.
 */
const NOT_ENGINE: Readonly<Record<string, string>> = {
  "lib/plots/": "the figures and the notebooks' helpers",
  "lib/util/": "CSV, sizes, hashing, keys: no model",
  "lib/sweep/columns.ts": "the sweep CSV's column table",
  "lib/sweep/budget_columns.ts": "the budget CSV's column table",
  "lib/sweep/timeline_columns.ts": "the timeline CSVs' column tables",
  "lib/sweep/grid.ts": "the grid's dimensions, expansion and grid id",
  "lib/sweep/spec.ts": "a sweep's flags and grid file, resolved",
  "lib/sweep/costmodel.ts": "the cost model's constants",
  "lib/sweep/stats.ts": "mean, percentile and maximum",
  "lib/trace/workload.ts":
    "the trace generator's parameters, which grid ids hash (it writes trace JSON, runs no model)",
  "lib/host/backing.ts": "the memslot backing names",
  "lib/kvm/granule.ts": "the architecture's translation-granule geometry (constants, no state)",
  "lib/strategies/":
    "the design records (names, labels, styles: one record per design) and the index each " +
    "design keeps, built on lib/util; a design reaches the engine only through the seam's " +
    "types (import type from lib/kvm/strategy.ts), which load nothing",
};

const isEngine = (path: string) =>
  path.startsWith("lib/") && !Object.keys(NOT_ENGINE).some((p) => path.startsWith(p));

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string } }[];
}

/**
 * The modules of the repository `root` loads, each with the module that imported it first
 * (breadth first, so the chain to each is a shortest one).
 */
async function loads(root: string): Promise<Map<string, string | null>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", root],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: InfoModule[];
  };
  const local = (s: string) =>
    s.startsWith("file://") ? decodeURIComponent(new URL(s).pathname).slice(ROOT.length) : null;
  const byPath = new Map(info.modules.map((m) => [local(m.specifier), m]));
  const first = local(info.roots[0])!;
  const parent = new Map<string, string | null>([[first, null]]);
  const queue = [first];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const d of byPath.get(p)?.dependencies ?? []) {
      const q = d.code ? local(d.code.specifier) : null;
      if (q !== null && !parent.has(q)) {
        parent.set(q, p);
        queue.push(q);
      }
    }
  }
  return parent;
}

/** The engine modules `root` loads, each as its import chain from `root`. */
async function engineReached(root: string): Promise<string[]> {
  const parent = await loads(root);
  return [...parent.keys()].filter(isEngine).map((m) => {
    const chain = [m];
    for (let p = parent.get(m); p; p = parent.get(p)) chain.unshift(p);
    return chain.join(" -> ");
  });
}

const PLOTS = [...Deno.readDirSync(`${ROOT}lib/plots`)]
  .map((e) => e.name).filter((n) => n.endsWith(".ts") && !n.endsWith("_test.ts")).sort();

Deno.test("the engine, as defined here, holds the simulator, the oracle and the runners", () => {
  for (
    const m of [
      "lib/kvm/pgtable.ts",
      "lib/kvm/nested.ts",
      "lib/host/memory.ts",
      "lib/guest/l1.ts",
      "lib/oracle/oracle.ts",
      "lib/trace/replay.ts",
      "lib/trace/ops.ts",
      "lib/sweep/run.ts",
      "lib/sweep/rerun.ts",
      "lib/sweep/budget.ts",
      "lib/sweep/timeline.ts",
      "lib/sweep/aggregate.ts",
    ]
  ) {
    Deno.statSync(`${ROOT}${m}`);
    assert(isEngine(m), m);
  }
});

Deno.test("the walk finds the engine where it is loaded: the re-run helper reaches the replay", async () => {
  const reached = await engineReached("lib/sweep/rerun.ts");
  assert(reached.some((c) => c.endsWith("lib/trace/replay.ts")), reached.join("\n"));
  assert(reached.some((c) => c.endsWith("lib/kvm/pgtable.ts")), reached.join("\n"));
});

Deno.test("no module under lib/plots loads an engine module", async () => {
  assert(PLOTS.includes("mod.ts") && PLOTS.length > 10, PLOTS.join(", "));
  const found: string[] = [];
  for (const f of PLOTS) found.push(...await engineReached(`lib/plots/${f}`));
  assertEquals(found, []);
});
