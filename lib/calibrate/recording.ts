/**
 * A recording of `kvm_nested_s2_unmap()` on a nested host, as the generated host script
 * (`NAME.host.sh`, lib/selftest/emit_host.ts) writes it with `S2LAB_RECORD=FILE`, and its
 * parser. One text file:
 *
 *     # s2lab recording 1
 *     # s2lab format function_graph            (or: bpftrace)
 *     # s2lab program reproducer_test
 *     # s2lab trace reproducer-min.json sha256 <64 hex> shows maple-v2
 *     # s2lab machine <host name, kernel release, machine, CPU model>
 *     # s2lab watchdog_thresh 10               (optional: /proc/sys/kernel/watchdog_thresh)
 *     # s2lab stage 1 begin
 *     ... what the tool printed while the host did stage 1 ...
 *     # s2lab stage 1 end
 *
 * Header lines come first, once each; then stage blocks, in any order, a stage possibly
 * several times (each run of the program appends its stages). Inside a block:
 *
 * - `function_graph`: the tracer's `trace` file (kernel/trace/trace_functions_graph.c;
 *   the format Documentation/trace/ftrace.rst, torvalds/linux @ bb2407a72197, describes)
 *   with `set_ftrace_filter` = the two functions below and `set_graph_function` =
 *   `kvm_nested_s2_unmap`: its `#` header, then per CPU `kvm_nested_s2_unmap() {`, one
 *   `kvm_stage2_unmap_range();` leaf per shadow MMU walked, and `}` with the duration
 *   (`N) ! 123.456 us  |  }`, an overhead mark `+ ! # * @ $` before durations over 10 us,
 *   100 us, 1 ms, 10 ms, 100 ms, 1 s), or the whole call as one leaf line when no walk
 *   was traced. The optional columns `funcgraph-abstime`, `funcgraph-cpu`,
 *   `funcgraph-proc` and `funcgraph-tail`'s `} /* kvm_nested_s2_unmap *\/` are read too;
 *   context-switch separators, interrupt arrows and `/* ... *\/` comments are skipped.
 *   A `[LOST n EVENTS]` line is an error: the block's calls are then incomplete.
 * - `bpftrace`: the output of {@linkcode BPFTRACE_PROGRAM}: its `Attaching N probes...`
 *   line, one `s2lab_unmap cpu=C tid=T ns=N walks=W` line per call, `s2lab_unmap_end`.
 *
 * Every call of `kvm_nested_s2_unmap()` inside a stage block is a sample of that stage's
 * host event. A malformed line is a {@linkcode RecordingError} naming its line.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseRecording } from "./recording.ts";
 * const rec = parseRecording([
 *   "# s2lab recording 1",
 *   "# s2lab format function_graph",
 *   "# s2lab program t",
 *   "# s2lab trace t.json sha256 " + "0".repeat(64) + " shows maple-v2",
 *   "# s2lab machine box, Linux 6.16 aarch64",
 *   "# s2lab stage 1 begin",
 *   " 3)               |  kvm_nested_s2_unmap() {",
 *   " 3) + 21.480 us   |    kvm_stage2_unmap_range();",
 *   " 3) + 22.040 us   |  }",
 *   "# s2lab stage 1 end",
 * ].join("\n"), "rec.txt");
 * assertEquals(rec.stages[0].calls, [{ ns: 22040, walks: 1, line: 9 }]);
 * ```
 * @module
 */

import { nearestKey } from "../util/keys.ts";

/** The kernel function whose calls are timed (arch/arm64/kvm/nested.c). */
export const UNMAP_FUNCTION = "kvm_nested_s2_unmap";

/** The walk below it: one call per valid shadow MMU (arch/arm64/kvm/mmu.c). */
export const WALK_FUNCTION = "kvm_stage2_unmap_range";

/** The recording format's version (`# s2lab recording 1`). */
export const RECORDING_VERSION = 1;

/** What starts every framing line. */
export const RECORDING_MARK = "# s2lab";

/** The tools a recording may come from. */
export const TRACERS = ["function_graph", "bpftrace"] as const;

/** One of {@linkcode TRACERS}. */
export type Tracer = typeof TRACERS[number];

/** The printf tag of {@linkcode BPFTRACE_PROGRAM}'s lines. */
export const BPFTRACE_TAG = "s2lab_unmap";

/**
 * The bpftrace program the host script runs around a stage: per call of
 * `kvm_nested_s2_unmap()`, its duration (`nsecs` is CLOCK_MONOTONIC in ns) and the number of
 * `kvm_stage2_unmap_range()` calls inside it (the shadow MMUs walked). kprobes, so that a
 * distro kernel without BTF runs it; at exit the maps are cleared, so that bpftrace prints
 * nothing else, and `s2lab_unmap_end` tells the host script that the output is complete.
 */
export const BPFTRACE_PROGRAM = [
  `kprobe:${UNMAP_FUNCTION} { @s2lab_t0[tid] = nsecs; @s2lab_walks[tid] = 0; }`,
  `kprobe:${WALK_FUNCTION} /@s2lab_t0[tid]/ { @s2lab_walks[tid] = @s2lab_walks[tid] + 1; }`,
  `kretprobe:${UNMAP_FUNCTION} /@s2lab_t0[tid]/ {`,
  `\tprintf("${BPFTRACE_TAG} cpu=%d tid=%d ns=%d walks=%d\\n", cpu, tid, nsecs - @s2lab_t0[tid], @s2lab_walks[tid]);`,
  "\tdelete(@s2lab_t0[tid]);",
  "\tdelete(@s2lab_walks[tid]);",
  "}",
  `END { clear(@s2lab_t0); clear(@s2lab_walks); printf("${BPFTRACE_TAG}_end\\n"); }`,
].join("\n");

/** The header keys, in the order the host script writes them. */
export const HEADER_KEYS = [
  "recording",
  "format",
  "program",
  "trace",
  "machine",
  "watchdog_thresh",
] as const;

/** Every key a framing line may hold. */
const FRAMING_KEYS = [...HEADER_KEYS, "stage"];

/** A recording that cannot be read: the message names the file and the line. */
export class RecordingError extends Error {
  /** `FILE:LINE: problem`, one line. */
  constructor(message: string) {
    super(message);
    this.name = "RecordingError";
  }
}

/** One call of `kvm_nested_s2_unmap()`. */
export interface UnmapCall {
  /** Its duration in ns (function_graph prints us with up to 3 decimals: rounded to 1 ns). */
  ns: number;
  /** `kvm_stage2_unmap_range()` calls inside it (shadow MMUs walked), or null when not traced. */
  walks: number | null;
  /** 1-based line of the recording that closes it. */
  line: number;
}

/** One stage block. */
export interface StageBlock {
  /** The program's stage number. */
  stage: number;
  /** 1-based line of its `begin`. */
  line: number;
  /** The calls in it, in order. */
  calls: UnmapCall[];
  /** Calls whose entry or exit fell outside the block (not samples). */
  incomplete: number;
}

/** A parsed recording. */
export interface Recording {
  /** The file as named. */
  file: string;
  /** Its tool. */
  format: Tracer;
  /** The program's name. */
  program: string;
  /** The trace file the program was generated from, as named. */
  trace: string;
  /** That file's SHA-256. */
  traceSha256: string;
  /** The strategy the program shows (its `--strategy`). */
  shows: string;
  /** Where it was recorded. */
  machine: string;
  /** /proc/sys/kernel/watchdog_thresh there, or null. */
  watchdogThresh: number | null;
  /** The stage blocks in file order. */
  stages: StageBlock[];
  /** The line of each header key. */
  headerLine: Record<string, number>;
}

/** Options of {@linkcode parseRecording}. */
export interface ParseOptions {
  /** The function timed (default {@linkcode UNMAP_FUNCTION}). */
  unmap?: string;
  /** The walk counted inside it (default {@linkcode WALK_FUNCTION}). */
  walk?: string;
}

/** A function name without GCC's clone suffixes (`.isra.0`, `.constprop.0`, `.part.0`). */
function baseName(fn: string): string {
  return fn.replace(/(\.(isra|constprop|part|cold|llvm)\.\d+)+$/, "");
}

// function_graph: [abstime |] [cpu)] [proc |] [mark] [duration us] | body
const FG_LINE = new RegExp(
  String.raw`^\s*(?:\d+\.\d+\s*\|\s*)?` + // funcgraph-abstime
    String.raw`(?:(\d+)\)\s*)?` + // funcgraph-cpu
    String.raw`(?:\S.*?-\d+\s+\|\s*)?` + // funcgraph-proc: comm-pid
    String.raw`(?:([+!#*@$])\s+)?` + // overhead mark
    String.raw`(?:(\d+(?:\.\d+)?)\s+us\s+)?` + // duration
    String.raw`\|\s?(.*)$`,
);
const FG_ENTRY = /^\s*([A-Za-z_][\w.]*)\(\)\s*\{\s*$/;
const FG_LEAF = /^\s*([A-Za-z_][\w.]*)\(\);(?:\s*\/\*.*\*\/)?\s*$/;
const FG_EXIT = /^\s*\}(?:\s*\/\*\s*([A-Za-z_][\w.]*)(?:\(\))?\s*\*\/)?\s*$/;
const FG_COMMENT = /^\s*\/\*.*\*\/\s*$/;
const FG_SKIP = [
  /^\s*-{10,}\s*$/, // context-switch separator
  /^\s*(?:\d+\)\s*)?\S.*-\d+\s+=>\s+\S.*-\d+\s*$/, // " 0)   <idle>-0    =>  qemu-1234"
  /==========>|<==========/, // interrupt entry and exit arrows
];
const BT_LINE = new RegExp(
  String.raw`^${BPFTRACE_TAG} cpu=(\d+) tid=(\d+) ns=(\d+) walks=(\d+)$`,
);
const BT_SKIP = [
  /^Attaching \d+ probes?\.\.\.$/,
  new RegExp(`^${BPFTRACE_TAG}_end$`),
  /^@\S*(?:\[.*\])?: .*$/,
];

interface Frame {
  fn: string;
  walks: number;
}

/**
 * Read a recording's text (`file` names it in errors). Throws {@linkcode RecordingError}
 * for a malformed line, a missing or repeated header line, a stage block not closed or
 * closed twice, or lost trace events.
 */
export function parseRecording(text: string, file: string, opts: ParseOptions = {}): Recording {
  const unmap = opts.unmap ?? UNMAP_FUNCTION;
  const walk = opts.walk ?? WALK_FUNCTION;
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const bad = (n: number, why: string): never => {
    throw new RecordingError(`${file}:${n}: ${why}`);
  };
  const header = new Map<string, { value: string; line: number }>();
  const stages: StageBlock[] = [];
  let block: StageBlock | null = null;
  let stacks = new Map<string, Frame[]>();

  const framing = (n: number, rest: string) => {
    const m = /^(\S+)(?:\s+(.*))?$/.exec(rest.trim());
    if (!m) bad(n, `"${RECORDING_MARK}" with nothing after it`);
    const [key, value = ""] = [m![1], (m![2] ?? "").trim()];
    if (!FRAMING_KEYS.includes(key)) {
      const near = nearestKey(key, FRAMING_KEYS);
      bad(
        n,
        `unknown key "${key}" ${
          near ? `(did you mean "${near}"?)` : `(expected one of ${FRAMING_KEYS.join(", ")})`
        }`,
      );
    }
    if (key !== "stage") {
      if (n === 1 && key !== "recording") bad(n, `expected "${RECORDING_MARK} recording 1" first`);
      if (stages.length > 0 || block) bad(n, `header line "${key}" after the first stage`);
      if (header.has(key)) bad(n, `"${key}" given twice (first on line ${header.get(key)!.line})`);
      if (value === "") bad(n, `"${key}" without a value`);
      header.set(key, { value, line: n });
      return;
    }
    const s = /^(\d+) (begin|end)$/.exec(value);
    if (!s) bad(n, `expected "stage N begin" or "stage N end", got "stage ${value}"`);
    const stage = Number(s![1]);
    if (s![2] === "begin") {
      if (block) bad(n, `stage ${stage} begins inside stage ${block.stage} (line ${block.line})`);
      if (stage < 1) bad(n, "stages count from 1");
      if (!header.has("format")) {
        bad(n, `no "${RECORDING_MARK} format" line before the first stage`);
      }
      block = { stage, line: n, calls: [], incomplete: 0 };
      stacks = new Map();
    } else {
      if (!block) bad(n, `stage ${stage} ends without a begin`);
      if (block!.stage !== stage) {
        bad(n, `stage ${stage} ends inside stage ${block!.stage} (line ${block!.line})`);
      }
      for (const st of stacks.values()) {
        block!.incomplete += st.filter((f) => f.fn === unmap).length;
      }
      stages.push(block!);
      block = null;
    }
  };

  const fgraph = (n: number, line: string) => {
    if (/\[LOST \d+ EVENTS\]/.test(line)) {
      bad(n, "the trace buffer lost events: enlarge buffer_size_kb and record again");
    }
    if (FG_SKIP.some((re) => re.test(line))) return;
    const m = FG_LINE.exec(line);
    if (!m) bad(n, `not a function_graph line: "${line.trim().slice(0, 60)}"`);
    const [, cpu = "-", , dur, body] = m!;
    const us = dur === undefined ? null : Number(dur);
    const st = stacks.get(cpu) ?? [];
    stacks.set(cpu, st);
    let e: RegExpExecArray | null;
    if ((e = FG_ENTRY.exec(body))) {
      if (us !== null) bad(n, "a function entry with a duration");
      st.push({ fn: baseName(e[1]), walks: 0 });
    } else if ((e = FG_LEAF.exec(body))) {
      if (us === null) bad(n, `the call of ${e[1]}() has no duration`);
      const fn = baseName(e[1]);
      if (fn === walk && st.length > 0) st[st.length - 1].walks++;
      if (fn === unmap) block!.calls.push({ ns: Math.round(us! * 1000), walks: null, line: n });
    } else if ((e = FG_EXIT.exec(body))) {
      if (us === null) bad(n, "a closing brace without a duration");
      const f = st.pop();
      if (!f) {
        if (e[1] && baseName(e[1]) === unmap) block!.incomplete++;
        return;
      }
      if (e[1] && baseName(e[1]) !== f.fn) {
        bad(n, `"} /* ${e[1]} */" closes ${f.fn}() on CPU ${cpu}`);
      }
      if (f.fn === walk && st.length > 0) st[st.length - 1].walks++;
      if (f.fn === unmap) {
        block!.calls.push({ ns: Math.round(us! * 1000), walks: f.walks, line: n });
      }
    } else if (!FG_COMMENT.test(body)) {
      bad(n, `not a function_graph call: "${body.trim().slice(0, 60)}"`);
    }
  };

  const bpf = (n: number, line: string) => {
    const t = line.trim();
    if (BT_SKIP.some((re) => re.test(t))) return;
    const m = BT_LINE.exec(t);
    if (!m) bad(n, `not a line of the s2lab bpftrace program: "${t.slice(0, 60)}"`);
    block!.calls.push({ ns: Number(m![3]), walks: Number(m![4]), line: n });
  };

  lines.forEach((raw, i) => {
    const n = i + 1;
    const line = raw.replace(/\r$/, "");
    if (line.startsWith(RECORDING_MARK + " ") || line === RECORDING_MARK) {
      framing(n, line.slice(RECORDING_MARK.length));
      return;
    }
    if (n === 1) bad(n, `not an s2lab recording: expected "${RECORDING_MARK} recording 1"`);
    if (line.trim() === "" || line.startsWith("#")) return; // the tools' own header lines
    if (!block) bad(n, "a line outside any stage block");
    const format = header.get("format")?.value;
    if (format === "bpftrace") bpf(n, line);
    else fgraph(n, line);
  });
  if (lines.length === 0) bad(1, "empty file: not an s2lab recording");
  const open = block as StageBlock | null; // assigned in the callbacks above
  if (open) bad(lines.length, `stage ${open.stage} (line ${open.line}) has no end`);
  const need = (key: string) => {
    const h = header.get(key);
    if (!h) bad(1, `no "${RECORDING_MARK} ${key}" line`);
    return h!;
  };
  const version = need("recording");
  if (version.value !== String(RECORDING_VERSION)) {
    bad(
      version.line,
      `recording version ${version.value}; this s2lab reads version ${RECORDING_VERSION}`,
    );
  }
  const format = need("format");
  if (!(TRACERS as readonly string[]).includes(format.value)) {
    bad(format.line, `unknown format "${format.value}" (expected one of ${TRACERS.join(", ")})`);
  }
  const trace = need("trace");
  const t = /^(\S+) sha256 ([0-9a-f]{64}) shows (\S+)$/.exec(trace.value);
  if (!t) bad(trace.line, `expected "trace FILE sha256 HEX shows STRATEGY", got "${trace.value}"`);
  let watchdogThresh: number | null = null;
  const wd = header.get("watchdog_thresh");
  if (wd) {
    if (!/^\d+$/.test(wd.value) || Number(wd.value) < 1) {
      bad(wd.line, `watchdog_thresh must be a whole number of seconds >= 1, got "${wd.value}"`);
    }
    watchdogThresh = Number(wd.value);
  }
  return {
    file,
    format: format.value as Tracer,
    program: need("program").value,
    trace: t![1],
    traceSha256: t![2],
    shows: t![3],
    machine: need("machine").value,
    watchdogThresh,
    stages,
    headerLine: Object.fromEntries([...header].map(([k, v]) => [k, v.line])),
  };
}
