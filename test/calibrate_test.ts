/**
 * `deno task calibrate` on hand-written recordings (test/fixtures/calibrate/, made in the
 * format the generated host script writes; their durations are invented, not measured):
 * a function_graph one of the published reproducer (two runs of its one stage, plain and
 * with the abstime, proc and tail columns, an interrupt and a context switch inside) and
 * a bpftrace one of alias-within-mmu (two stages, one call that walks another MMU). The
 * cost model file it writes reads back through readCostModelFile(); malformed recordings
 * are one line naming the file and the line, exit 2, nothing written.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { readCostModelFile } from "../lib/calibrate/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const REC = `${ROOT}test/fixtures/calibrate`;
const REPRO = `${ROOT}test/fixtures/selftest/reproducer-min.json`;
const ALIAS = `${ROOT}experiments/scenarios/alias-within-mmu.json`;

async function calibrate(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "experiments/calibrate.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

Deno.test("calibrate: a function_graph recording of the reproducer", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await calibrate(
      `${REC}/reproducer-fgraph.txt`,
      "--trace",
      REPRO,
      "--out",
      `${dir}/m.json`,
    );
    assertEquals(r.code, 0, r.stderr);
    console.log(r.stderr.trimEnd().split("\n").map((l) => `  ${l}`).join("\n"));
    const { file, model } = await readCostModelFile(`${dir}/m.json`);
    const [s] = file.stages;
    // One L2 VM, so one valid shadow MMU: upstream walks its 40-bit IPA space in 1 GiB
    // chunks (stage2_apply_range() at the 4K granule's level 1): 1024 iterations per call.
    assertEquals([s.stage, s.event, s.op, s.walks, s.iterations], [1, 4, "migrate", 1, 1024]);
    // Three calls in two runs, each a sample: 29.120, 36.500 and 28.470 us.
    assertEquals([s.calls, s.samples, file.samples], [3, 3, 3]);
    const a = [29120, 36500, 28470].map((ns) => ns / (1024 + 0.1 * s.descriptors));
    assertEquals(model.nsPerIteration, Math.round(mean(a) * 1000) / 1000);
    assertEquals(file.nsPerIteration.min, Math.round(Math.min(...a) * 1000) / 1000);
    assertEquals(model.nsPerDescriptor, Math.round(mean(a) * 100) / 1000);
    assertEquals(model.softLockupNs, 20e9);
    assertEquals(file.source.tracer, "function_graph");
    assertEquals(file.source.strategy, "full-walk");
    assertMatch(file.machine, /^hand-written example/);
    // Same recording, same bytes.
    const again = await calibrate(
      `${REC}/reproducer-fgraph.txt`,
      "--trace",
      REPRO,
      "--out",
      `${dir}/n.json`,
    );
    assertEquals(again.code, 0);
    assertEquals(Deno.readTextFileSync(`${dir}/n.json`), Deno.readTextFileSync(`${dir}/m.json`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("calibrate: a bpftrace recording; a call over another MMU is not a sample", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await calibrate(
      `${REC}/alias-within-mmu-bpftrace.txt`,
      "--trace",
      ALIAS,
      "--out",
      `${dir}/m.json`,
    );
    assertEquals(r.code, 0, r.stderr);
    console.log(r.stderr.trimEnd().split("\n").map((l) => `  ${l}`).join("\n"));
    assertMatch(
      r.stderr,
      /note: .*alias-within-mmu-bpftrace\.txt:16: stage 2: the call walks 2 shadow MMU\(s\), the model 1: not a sample\n/,
    );
    const { file, model } = await readCostModelFile(`${dir}/m.json`);
    assertEquals(file.stages.map((s) => [s.stage, s.op, s.calls, s.samples]), [
      [1, "swap-out", 1, 1],
      [2, "numa-scan", 4, 3],
    ]);
    const d = file.stages[0].descriptors;
    const a = [31402, 30115, 29870, 30560].map((ns) => ns / (1024 + 0.1 * d));
    assertEquals(model.nsPerIteration, Math.round(mean(a) * 1000) / 1000);
    assertEquals(model.softLockupNs, 40e9); // watchdog_thresh 20
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("calibrate: bad input is one line naming the file (and line), exit 2, nothing written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fg = Deno.readTextFileSync(`${REC}/reproducer-fgraph.txt`).split("\n");
    const bt = Deno.readTextFileSync(`${REC}/alias-within-mmu-bpftrace.txt`).split("\n");
    const write = (name: string, lines: string[]) => {
      Deno.writeTextFileSync(`${dir}/${name}`, lines.join("\n"));
      return `${dir}/${name}`;
    };
    const junk = write(
      "junk.txt",
      fg.map((l, i) => (i === 12 ? " 5) + 28.640 ms   |    x();" : l)),
    );
    const lost = write("lost.txt", fg.toSpliced(12, 0, "CPU:5 [LOST 12 EVENTS]"));
    const stage3 = write("stage3.txt", fg.map((l) => l.replace("stage 1 ", "stage 3 ")));
    const typo = write("typo.txt", fg.map((l) => l.replace("# s2lab machine", "# s2lab machnie")));
    const walks = write("walks.txt", bt.map((l) => l.replace(/walks=1/, "walks=3")));
    const unended = write("unended.txt", bt.filter((l) => l !== "# s2lab stage 2 end"));
    const out = `${dir}/out/m.json`;
    const cases: [string[], RegExp][] = [
      [[junk, "--trace", REPRO, "--out", out], /junk\.txt:13: not a function_graph line/],
      [[lost, "--trace", REPRO, "--out", out], /lost\.txt:13: the trace buffer lost events/],
      [
        [stage3, "--trace", REPRO, "--out", out],
        /stage3\.txt:7: stage 3: reproducer_test has stages 1\n/,
      ],
      [
        [typo, "--trace", REPRO, "--out", out],
        /typo\.txt:5: unknown key "machnie" \(did you mean "machine"\?\)/,
      ],
      [
        [walks, "--trace", ALIAS, "--out", out],
        /walks\.txt:7: no call of kvm_nested_s2_unmap\(\) matches the model/,
      ],
      [
        [unended, "--trace", ALIAS, "--out", out],
        /unended\.txt:\d+: stage 2 \(line 12\) has no end/,
      ],
      [
        [`${REC}/reproducer-fgraph.txt`, "--trace", ALIAS, "--out", out],
        /reproducer-fgraph\.txt:4: recorded with reproducer-min\.json sha256 1f22c292d6c0\.\.\., but .*alias-within-mmu\.json has sha256 3b4b05bfb50f\.\.\./,
      ],
      [
        [`${REC}/reproducer-fgraph.txt`, "--out", out],
        /--trace: give the trace .*reproducer-fgraph\.txt:4 names reproducer-min\.json/,
      ],
      [
        [`${REC}/reproducer-fgraph.txt`, "--trace", REPRO, "--strategy", "nope"],
        /--strategy: unknown strategy "nope"/,
      ],
      [
        [`${dir}/absent.txt`, "--trace", REPRO, "--out", out],
        /cannot read .*absent\.txt: no such file/,
      ],
      [[REPRO, "--trace", REPRO, "--out", out], /reproducer-min\.json:1: not an s2lab recording/],
    ];
    for (const [args, re] of cases) {
      const r = await calibrate(...args);
      assertEquals(r.code, 2, `${args[0]}: ${r.stderr}`);
      assertMatch(r.stderr, re);
      assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    assert(
      !(() => {
        try {
          return Deno.statSync(`${dir}/out`).isDirectory;
        } catch {
          return false;
        }
      })(),
      "nothing written",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
