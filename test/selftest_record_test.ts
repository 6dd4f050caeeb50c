/**
 * What the generated host script records with `S2LAB_RECORD` is what `deno task calibrate`
 * reads: one stage run by hand with each tracer, against stand-ins (a tracefs directory of
 * plain files that the stage's operation fills the way the function_graph tracer would,
 * and a bpftrace that prints the s2lab program's lines until it is signalled). The
 * recording parses, names the program, its trace and its stage, and fits; the tracefs
 * settings are put back.
 */
import { assertEquals, assertMatch } from "@std/assert";
import { fitCostModel, parseRecording, stageModels } from "../lib/calibrate/mod.ts";
import { exportSelftest } from "../lib/selftest/mod.ts";
import { parseTrace } from "../lib/trace/trace.ts";
import { has } from "./selftest_harness.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const TRACE = `${ROOT}test/fixtures/selftest/reproducer-min.json`;
const SH = has("sh", ["-c", "true"]);

/** The function_graph lines the stand-in operation writes: two calls, one MMU each. */
const FGRAPH = [
  "# tracer: function_graph",
  "#",
  "# CPU  DURATION                  FUNCTION CALLS",
  "# |     |   |                     |   |   |   |",
  " 1)               |  kvm_nested_s2_unmap() {",
  " 1) + 27.114 us   |    kvm_stage2_unmap_range();",
  " 1) + 27.530 us   |  }",
  " 1)               |  kvm_nested_s2_unmap() {",
  " 1) + 26.980 us   |    kvm_stage2_unmap_range();",
  " 1) + 27.402 us   |  }",
];

async function recordStage(tracer: "function_graph" | "bpftrace") {
  const source = Deno.readTextFileSync(TRACE);
  const trace = parseTrace(JSON.parse(source));
  const out = await exportSelftest(trace, {
    source,
    traceFile: "reproducer-min.json",
    name: "reproducer_test",
  });
  const dir = await Deno.makeTempDir({ prefix: "s2lab-record-" });
  try {
    const bin = `${dir}/bin`;
    const fs = `${dir}/tracefs`;
    Deno.mkdirSync(bin);
    Deno.mkdirSync(fs);
    const files: Record<string, string> = {
      available_tracers: "function_graph function nop\n",
      current_tracer: "nop\n",
      tracing_on: "1\n",
      set_ftrace_filter: "#### all functions enabled ####\n",
      set_graph_function: "#### all functions enabled ####\n",
      trace: "stale\n",
    };
    for (const [f, t] of Object.entries(files)) Deno.writeTextFileSync(`${fs}/${f}`, t);
    Deno.writeTextFileSync(
      `${bin}/hmp`,
      "#!/bin/sh\nset -- $1\nprintf 'Host virtual address for %s (mach-virt.ram) is %#x\\n' \"$2\" $(($2 + 0x7f0000000000))\n",
      { mode: 0o755 },
    );
    // The stage's operation: the kernel would trace kvm_nested_s2_unmap() meanwhile.
    Deno.writeTextFileSync(
      `${bin}/python3`,
      `#!/bin/sh\ncat >> ${fs}/trace <<'EOF'\n${FGRAPH.join("\n")}\nEOF\n`,
      { mode: 0o755 },
    );
    Deno.writeTextFileSync(
      `${bin}/bpftrace`,
      [
        "#!/bin/sh",
        `echo "$2" > ${dir}/bt.prog`,
        'echo "Attaching 3 probes..."',
        'done_() { echo "s2lab_unmap cpu=1 tid=40 ns=27530 walks=1"; echo "s2lab_unmap_end"; exit 0; }',
        "trap done_ INT TERM",
        "while :; do sleep 1; done",
      ].join("\n") + "\n",
      { mode: 0o755 },
    );
    Deno.writeTextFileSync(`${dir}/host.sh`, out.host);
    const r = await new Deno.Command("sh", {
      args: [`${dir}/host.sh`, "1", "0x80000000:0x200000"],
      env: {
        L1_PID: String(Deno.pid),
        QEMU_HMP: `${bin}/hmp`,
        PATH: `${bin}:${Deno.env.get("PATH")}`,
        TRACEFS: fs,
        S2LAB_RECORD: `${dir}/rec.txt`,
        S2LAB_TRACER: tracer,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    assertEquals(r.code, 0, dec.decode(r.stdout) + dec.decode(r.stderr));
    const text = Deno.readTextFileSync(`${dir}/rec.txt`);
    const rec = parseRecording(text, "rec.txt");
    const fit = fitCostModel(rec, stageModels(trace, rec.shows, "full-walk"), {
      recordingSha256: "0".repeat(64),
      strategy: "full-walk",
    });
    const state = Object.fromEntries(
      Object.keys(files).map((f) => [f, Deno.readTextFileSync(`${fs}/${f}`).trim()]),
    );
    const prog = tracer === "bpftrace" ? Deno.readTextFileSync(`${dir}/bt.prog`) : "";
    return { text, rec, fit, state, prog };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: `function_graph: the host script's recording fits${SH ? "" : " (skipped: no sh)"}`,
  ignore: !SH,
  fn: async () => {
    const { rec, fit, state } = await recordStage("function_graph");
    assertEquals([rec.format, rec.program, rec.trace, rec.shows], [
      "function_graph",
      "reproducer_test",
      "reproducer-min.json",
      "maple-v2",
    ]);
    assertEquals(
      rec.traceSha256,
      "1f22c292d6c0a08e1330e53509c1ab2a2f7711679c5c2d4fccbc9c8f7bf66517",
    );
    assertEquals(rec.stages.map((s) => [s.stage, s.calls.map((c) => [c.ns, c.walks])]), [
      [1, [[27530, 1], [27402, 1]]],
    ]);
    assertEquals(fit.file.samples, 2);
    assertMatch(rec.machine, /Linux /);
    // The tracer is put back: nop, on, no filter left behind; the buffer was cleared first.
    assertEquals(state.current_tracer, "nop");
    assertEquals(state.tracing_on, "1");
    assertEquals([state.set_ftrace_filter, state.set_graph_function], ["", ""]);
  },
});

Deno.test({
  name: `bpftrace: the host script's recording fits${SH ? "" : " (skipped: no sh)"}`,
  ignore: !SH,
  fn: async () => {
    const { rec, fit, prog, text } = await recordStage("bpftrace");
    assertMatch(prog, /^kprobe:kvm_nested_s2_unmap \{/);
    assertEquals(rec.format, "bpftrace");
    assertEquals(rec.stages.map((s) => [s.stage, s.calls.map((c) => [c.ns, c.walks])]), [[1, [[
      27530,
      1,
    ]]]]);
    assertEquals(fit.file.samples, 1);
    assertMatch(
      text,
      /\nAttaching 3 probes\.\.\.\ns2lab_unmap cpu=1 tid=40 ns=27530 walks=1\ns2lab_unmap_end\n# s2lab stage 1 end\n$/,
    );
  },
});
