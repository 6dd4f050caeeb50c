import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { DEFAULT_NS_PER_FAULT, estimateNs } from "../sweep/costmodel.ts";
import {
  type CostModelFile,
  CostModelFileError,
  costModelOf,
  describeCostModel,
  parseCostModelFile,
  readCostModelFile,
} from "./model_file.ts";

const spread = (m: number, sd = 0) => ({ mean: m, sd, min: m - sd, max: m + sd });
const GOOD: CostModelFile = {
  format: "s2lab-cost-model",
  version: 1,
  machine: "box, Linux 6.16 aarch64",
  nsPerIteration: spread(25, 1),
  nsPerDescriptor: spread(2.5, 0.1),
  descriptorRatio: 0.1,
  samples: 3,
  softLockupNs: 40e9,
  source: {
    recording: "r.txt",
    recordingSha256: "a".repeat(64),
    tracer: "function_graph",
    trace: "t.json",
    traceSha256: "b".repeat(64),
    program: "t",
    shows: "maple-v2",
    strategy: "full-walk",
  },
  stages: [{
    stage: 1,
    event: 4,
    op: "migrate",
    iterations: 1024,
    descriptors: 3072,
    walks: 1,
    calls: 4,
    samples: 3,
    ns: spread(33000, 1000),
  }],
};

Deno.test("a cost model file becomes the sweep's CostModel", () => {
  const file = parseCostModelFile(JSON.stringify(GOOD), "m.json");
  assertEquals(file, GOOD);
  const m = costModelOf(file);
  assertEquals(m, {
    nsPerIteration: 25,
    nsPerDescriptor: 2.5,
    softLockupNs: 40e9,
    nsPerFault: DEFAULT_NS_PER_FAULT,
  });
  assertEquals(estimateNs(m, 1000, 100), 25250);
  assertEquals(
    describeCostModel(file),
    "measured on box, Linux 6.16 aarch64: 25 ns/iteration (sd 1, 3 samples), 2.5 ns/descriptor, function_graph recording r.txt",
  );
});

Deno.test("a bad cost model file is one line naming the file and the field", () => {
  const edit = (f: (o: Record<string, unknown>) => void) => {
    const o = structuredClone(GOOD) as unknown as Record<string, unknown>;
    f(o);
    return JSON.stringify(o);
  };
  const src = (o: Record<string, unknown>) => o.source as Record<string, unknown>;
  const stage = (o: Record<string, unknown>) => (o.stages as Record<string, unknown>[])[0];
  const cases: [string, string][] = [
    ["{", "m.json: not JSON: "],
    ["[]", "m.json: expected an object"],
    [
      edit((o) => (o.nsPerIteraton = 1)),
      'm.json: unknown key "nsPerIteraton" (did you mean "nsPerIteration"?)',
    ],
    [edit((o) => delete o.machine), 'm.json: missing key "machine"'],
    [edit((o) => (o.format = "cost")), 'm.json: format: expected "s2lab-cost-model", got "cost"'],
    [edit((o) => (o.version = 2)), "m.json: version: expected 1, got 2"],
    [edit((o) => (o.samples = 2.5)), "m.json: samples: expected a whole number >= 1, got 2.5"],
    [edit((o) => (o.samples = 4)), "m.json: samples: 4, but the stages hold 3"],
    [
      edit((o) => (o.softLockupNs = "20s")),
      'm.json: softLockupNs: expected a number >= 1, got "20s"',
    ],
    [
      edit((o) => (o.nsPerIteration = { mean: 1, sd: 0, min: 2, max: 3 })),
      "m.json: nsPerIteration: expected min <= mean <= max",
    ],
    [
      edit((o) => (o.nsPerIteration = spread(0))),
      "m.json: nsPerIteration.mean: expected a number > 0",
    ],
    [
      edit((o) => (o.nsPerDescriptor = { mean: 1, sd: 0, min: 1, max: 1, n: 3 })),
      'm.json: nsPerDescriptor: unknown key "n" (expected one of mean, sd, min, max)',
    ],
    [
      edit((o) => (src(o).trcae = "x")),
      'm.json: source: unknown key "trcae" (did you mean "trace"?)',
    ],
    [
      edit((o) => (src(o).tracer = "perf")),
      'm.json: source.tracer: expected one of function_graph, bpftrace, got "perf"',
    ],
    [
      edit((o) => (src(o).traceSha256 = "abc")),
      "m.json: source.traceSha256: expected a string matching",
    ],
    [edit((o) => (o.stages = [])), "m.json: stages: expected a non-empty array"],
    [
      edit((o) => (stage(o).walks = -1)),
      "m.json: stages[0].walks: expected a whole number >= 0, got -1",
    ],
    [
      edit((o) => (stage(o).ns = spread(1, 2))),
      "m.json: stages[0].ns.min: expected a number >= 0, got -1",
    ],
    // The sweep's cost flags' ranges: --watchdog-thresh 1..3600, --ns-per-descriptor 0..1e6.
    [
      edit((o) => (o.softLockupNs = 1e9)),
      "m.json: softLockupNs: 1000000000 is out of range (2000000000..7200000000000, as --watchdog-thresh 1..3600)",
    ],
    [
      edit((o) => (o.nsPerDescriptor = spread(2e6))),
      "m.json: nsPerDescriptor.mean: 2000000 is out of range (0..1000000, as --ns-per-descriptor 0..1000000)",
    ],
    [
      edit((o) => (o.softLockupNs = 2e10 + 0.5)),
      "m.json: softLockupNs: expected a whole number, got 20000000000.5",
    ],
  ];
  for (const [text, msg] of cases) {
    const e = assertThrows(() => parseCostModelFile(text, "m.json"), CostModelFileError);
    assertEquals(e.message.startsWith(msg), true, `${msg}\n   got: ${e.message}`);
    assertEquals(e.message.includes("\n"), false);
  }
});

Deno.test("readCostModelFile: an unreadable file is one line too", async () => {
  const dir = await Deno.makeTempDir();
  try {
    Deno.writeTextFileSync(`${dir}/m.json`, JSON.stringify(GOOD));
    const read = await readCostModelFile(`${dir}/m.json`);
    assertEquals(read.model.nsPerIteration, 25);
    assertEquals(read.origin, `${dir}/m.json: ${describeCostModel(GOOD)}`);
    await assertRejects(
      () => readCostModelFile(`${dir}/absent.json`),
      CostModelFileError,
      `${dir}/absent.json: cannot read: no such file or directory`,
    );
    await assertRejects(
      () => readCostModelFile(dir),
      CostModelFileError,
      `${dir}: cannot read: is a directory`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
