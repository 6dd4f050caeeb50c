import { assertEquals } from "@std/assert";
import { parseSweep } from "../plots/results.ts";
import { mixedTickAxes } from "../plots/readback.ts";
import type { SweepRow } from "../sweep/columns.ts";
import { checkCost } from "./cost.ts";
import { verifyFigures } from "./figures.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

Deno.test("every axis of every figure of a verify report keeps one tick format", async () => {
  const mixed: string[] = [];
  for await (const e of Deno.readDir(`${ROOT}docs/designs`)) {
    const path = `${ROOT}docs/designs/${e.name}/cost.csv`;
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch {
      continue;
    }
    // The report's own rows (cost.csv): the grid, then the populated point.
    const rows = parseSweep(text, path) as unknown as SweepRow[];
    const design = e.name; // a report folder is named for its design
    const cost = {
      grid: rows.filter((r) => r.working_set_bytes === 0),
      populated: rows.filter((r) => r.working_set_bytes > 0),
      costModel: "default",
    };
    for (const f of verifyFigures(design, cost)) {
      for (const a of mixedTickAxes(f.svg)) {
        mixed.push(`${e.name}/${f.name} ${a.axis}: ${a.labels.filter((l) => l).join(" ")}`);
      }
    }
  }
  // And a grid of the run's own, small enough for a test.
  const run = checkCost("rmap", ["full-walk"], {
    grid: {
      vcpus: "1,2,8",
      granule: "4K",
      "l1-mem": "4G",
      alias: "0,0.5",
      "pages-per-context": "8",
    },
    populated: {
      vcpus: "2",
      granule: "4K",
      "l1-mem": "4G",
      alias: "0.5",
      "working-set": "64K",
      "pages-per-context": "8",
    },
    seed: 1,
  });
  for (const f of verifyFigures("rmap", run.cost)) {
    for (const a of mixedTickAxes(f.svg)) {
      mixed.push(`rmap/${f.name} ${a.axis}: ${a.labels.join(" ")}`);
    }
  }
  assertEquals(mixed, []);
});
