import { assertEquals, assertThrows } from "@std/assert";
import { BPFTRACE_PROGRAM, parseRecording, RecordingError } from "./recording.ts";

const SHA = "ab".repeat(32);
const HEAD = (format: string) => [
  "# s2lab recording 1",
  `# s2lab format ${format}`,
  "# s2lab program p",
  `# s2lab trace t.json sha256 ${SHA} shows maple-v2`,
  "# s2lab machine box, Linux 6.16 aarch64",
];
const rec = (format: string, body: string[]) => [...HEAD(format), ...body].join("\n") + "\n";

Deno.test("function_graph: durations of every form, walks counted, framing skipped", () => {
  const r = parseRecording(
    rec("function_graph", [
      "# s2lab watchdog_thresh 20",
      "# s2lab stage 2 begin",
      "# tracer: function_graph",
      "#",
      " 0)               |  kvm_nested_s2_unmap() {",
      " 0)   0.902 us    |    kvm_stage2_unmap_range();",
      " 1)               |  kvm_nested_s2_unmap() {", // another CPU, interleaved
      " 0) ! 123.456 us  |    kvm_stage2_unmap_range();",
      " 0) ! 130.001 us  |  }",
      " 1) # 1234.567 us |    kvm_stage2_unmap_range();",
      " 1) * 33998.59 us |  } /* kvm_nested_s2_unmap */",
      " 3) $ 3594274 us  |  kvm_nested_s2_unmap();",
      " 3) @ 119760.2 us |  kvm_nested_s2_unmap.constprop.0();",
      " ------------------------------------------",
      " 3)   <idle>-0    =>  qemu-sy-1234",
      " ------------------------------------------",
      " 3)               |  /* a trace_marker comment */",
      "# s2lab stage 2 end",
    ]),
    "r.txt",
  );
  assertEquals(r.format, "function_graph");
  assertEquals([r.trace, r.traceSha256, r.shows, r.watchdogThresh], [
    "t.json",
    SHA,
    "maple-v2",
    20,
  ]);
  assertEquals(r.stages.length, 1);
  assertEquals(r.stages[0].stage, 2);
  assertEquals(r.stages[0].calls.map((c) => [c.ns, c.walks]), [
    [130001, 2],
    [33998590, 1],
    [3594274000, null],
    [119760200, null],
  ]);
  assertEquals(r.headerLine.trace, 4);
});

Deno.test("function_graph: a call cut by the block's edges is counted, not timed", () => {
  const r = parseRecording(
    rec("function_graph", [
      "# s2lab stage 1 begin",
      " 0) + 12.000 us   |  } /* kvm_nested_s2_unmap */", // began before the recording
      " 1)               |  kvm_nested_s2_unmap() {", // ends after it
      "# s2lab stage 1 end",
    ]),
    "r.txt",
  );
  assertEquals(r.stages[0].calls, []);
  assertEquals(r.stages[0].incomplete, 2);
});

Deno.test("bpftrace: the program's lines; the same stage twice is two blocks", () => {
  assertEquals(BPFTRACE_PROGRAM.includes("kretprobe:kvm_nested_s2_unmap"), true);
  const r = parseRecording(
    rec("bpftrace", [
      "# s2lab stage 1 begin",
      "Attaching 4 probes...",
      "s2lab_unmap cpu=3 tid=77 ns=40210 walks=2",
      "",
      "# s2lab stage 1 end",
      "# s2lab stage 1 begin",
      "Attaching 4 probes...",
      "s2lab_unmap cpu=0 tid=77 ns=39870 walks=2",
      "@s2lab_t0[77]: 0",
      "# s2lab stage 1 end",
    ]),
    "r.txt",
  );
  assertEquals(r.stages.map((s) => s.calls.map((c) => [c.ns, c.walks, c.line])), [
    [[40210, 2, 8]],
    [[39870, 2, 13]],
  ]);
  assertEquals(r.watchdogThresh, null);
});

Deno.test("a malformed recording is one line naming the file and the line", () => {
  const fg = (line: string) =>
    rec("function_graph", ["# s2lab stage 1 begin", line, "# s2lab stage 1 end"]);
  const cases: [string, RegExp][] = [
    ["", /^r\.txt:1: empty file/],
    ["hello\n", /^r\.txt:1: not an s2lab recording/],
    [
      rec("function_graph", ["# s2lab stgae 1 begin"]),
      /^r\.txt:6: unknown key "stgae" \(did you mean "stage"\?\)$/,
    ],
    [
      rec("function_graph", ["# s2lab machine twice"]),
      /^r\.txt:6: "machine" given twice \(first on line 5\)$/,
    ],
    [rec("ftrace", []), /^r\.txt:2: unknown format "ftrace"/],
    [rec("function_graph", ["# s2lab stage 1 begin"]), /^r\.txt:6: stage 1 \(line 6\) has no end$/],
    [rec("function_graph", ["# s2lab stage 1 end"]), /^r\.txt:6: stage 1 ends without a begin$/],
    [
      rec("function_graph", ["# s2lab stage 1 begin", "# s2lab stage 2 begin"]),
      /^r\.txt:7: stage 2 begins inside stage 1/,
    ],
    [rec("function_graph", ["# s2lab stage 0 begin"]), /^r\.txt:6: stages count from 1$/],
    [rec("function_graph", ["# s2lab stage 1 done"]), /^r\.txt:6: expected "stage N begin"/],
    [fg(" 2) + 12.5 ms    |  }"), /^r\.txt:7: not a function_graph line/],
    [
      fg(" 2)               |  kvm_nested_s2_unmap();"),
      /^r\.txt:7: the call of kvm_nested_s2_unmap\(\) has no duration$/,
    ],
    [fg(" 2)               |  }"), /^r\.txt:7: a closing brace without a duration$/],
    [fg("CPU:2 [LOST 118 EVENTS]"), /^r\.txt:7: the trace buffer lost events/],
    [
      fg(" 2)   1.000 us    |  kvm_nested_s2_unmap() {"),
      /^r\.txt:7: a function entry with a duration$/,
    ],
    [
      rec("bpftrace", [
        "# s2lab stage 1 begin",
        "s2lab_unmap cpu=1 ns=5 walks=1",
        "# s2lab stage 1 end",
      ]),
      /^r\.txt:7: not a line of the s2lab bpftrace program/,
    ],
    [rec("function_graph", [" 0)   1.0 us |  x();"]), /^r\.txt:6: a line outside any stage block$/],
    [
      rec("function_graph", ["# s2lab stage 1 begin", "# s2lab stage 1 end", "# s2lab program q"]),
      /^r\.txt:8: header line "program" after the first stage$/,
    ],
    [
      HEAD("bpftrace").filter((l) => !l.includes("machine")).join("\n"),
      /^r\.txt:1: no "# s2lab machine" line$/,
    ],
    [
      HEAD("bpftrace").map((l) => l.replace(`sha256 ${SHA}`, "sha256 xyz")).join("\n"),
      /^r\.txt:4: expected "trace FILE sha256 HEX shows STRATEGY"/,
    ],
    [rec("bpftrace", ["# s2lab watchdog_thresh 0"]), /^r\.txt:6: watchdog_thresh must be/],
    [
      ["# s2lab recording 2", ...HEAD("bpftrace").slice(1)].join("\n"),
      /^r\.txt:1: recording version 2; this s2lab reads version 1$/,
    ],
  ];
  for (const [text, re] of cases) {
    const e = assertThrows(() => parseRecording(text, "r.txt"), RecordingError);
    assertEquals(re.test(e.message), true, `${JSON.stringify(text.slice(-60))}: ${e.message}`);
    assertEquals(e.message.includes("\n"), false, "one line");
  }
});
