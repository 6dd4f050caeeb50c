import { assertEquals } from "@std/assert";
import { checksTakeaway, costTakeaway } from "./takeaway.ts";

async function inFolder(files: Record<string, string>, f: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-takeaway-" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const csv = (lines: string[]) => lines.join("\n") + "\n";

Deno.test("checksTakeaway: cases held, depths completed (a partial depth is not), clean fuzz traces", async () => {
  await inFolder({
    "cases.csv": csv(["case,ok,violations", "a,1,0", "b,0,3", "c,1,0"]),
    "exhaust.csv": csv([
      "world,depth,complete,explored,new_distinct,seconds,dedup",
      "4k,0,1,1,1,0,design",
      "4k,1,1,31,11,0.1,design",
      "4k,2,1,339,79,0.1,design",
      "4k,3,0,900,200,9.9,design",
      "64k,0,1,1,1,0,design",
      "64k,1,1,29,10,0.5,design",
    ]),
    "fuzz.csv": csv(["seed,events,violations", "1,79,0", "2,73,2", "3,1048,0"]),
  }, async (dir) => {
    const t = await checksTakeaway(dir);
    assertEquals(
      t.text,
      [
        "- **Cases**: 2 of 3 held the expectation of a correct design.",
        "- **Exhaustive search**: world 4k every sequence of up to 2 events (91 distinct states); " +
        "world 64k every sequence of up to 1 event (11 distinct states).",
        "- **Fuzz**: 3 random traces (1,200 events), 2 of them without a stale entry.",
      ].join("\n"),
    );
    assertEquals(t.facts.map((f) => [f.id, f.value]), [
      ["cases.held", 2],
      ["cases.all", 3],
      ["exhaust.4k.depth", 2],
      ["exhaust.4k.states", 91],
      ["exhaust.64k.depth", 1],
      ["exhaust.64k.states", 11],
      ["fuzz.traces", 3],
      ["fuzz.events", 1200],
      ["fuzz.clean", 2],
    ]);
    // Each fact names its CSV, so that check_facts.ts can recompute it.
    assertEquals(
      new Set(t.facts.map((f) => f.file.split("/").pop())),
      new Set(["cases.csv", "exhaust.csv", "fuzz.csv"]),
    );
  });
});

Deno.test("costTakeaway: the largest vCPU count beside each reference, the populated point", async () => {
  const head =
    "strategy,vcpus,granule,alias,working_set_bytes,unmap_iterations_max,memory_bytes_per_shadow_entry,inserts_contended,inserts_total,insert_lock";
  await inFolder({
    "cost.csv": csv([
      head,
      "full-walk,1,4K,0,0,1000,0,0,10,none",
      "mine,1,4K,0,0,10,64,0,10,mmu",
      "cheap,1,4K,0,0,5,8,0,10,vm",
      "full-walk,8,4K,0,0,250000,0,0,80,none",
      "mine,8,4K,0,0,100,64,0,80,mmu",
      "cheap,8,4K,0,0,40,8.25,0,80,vm",
      "full-walk,4,4K,0.1,4194304,9,0,0,300,none",
      "mine,4,4K,0.1,4194304,9,48.125,7,300,mmu",
      "cheap,4,4K,0.1,4194304,9,10.279,0,300,vm",
    ]),
  }, async (dir) => {
    const t = await costTakeaway(dir, "mine");
    assertEquals(
      t?.text,
      [
        "- 8 vCPUs, 4K host pages, alias 0: mine's worst host unmap takes **100** iterations; " +
        "full-walk 250,000 (2,500× the iterations), cheap 40.",
        "- Populated point (4 vCPUs, 4M working set per L2 context): mine's index takes **48.1** " +
        "bytes per shadow entry (full-walk 0, cheap 10.3); 7 of its 300 inserts found the mmu " +
        "lock taken.",
      ].join("\n"),
    );
    assertEquals(t?.ratios.map((r) => [r.num, r.den, r.value]), [[
      "full-walk.4K.0",
      "mine.4K.0",
      2500,
    ]]);
  });
  await inFolder({}, async (dir) => assertEquals(await costTakeaway(dir, "mine"), null));
});
