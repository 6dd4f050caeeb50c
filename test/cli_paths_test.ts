/**
 * No sharp edges (#10), task by task: an output path that cannot be written is one line
 * naming the flag and exit 2, before any work, with nothing written; a missing directory
 * is created; a binary or non-UTF-8 input is named as such; every `--help` lists the exit
 * codes.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { describeFsError } from "../experiments/cli.ts";
import { ROOT, runScript } from "./cli.ts";

const RW = ["--allow-read", "--allow-write"];
/** Each task's script and the permissions its deno.json task grants. */
const TASKS: Record<string, string[]> = {
  replay: RW,
  sweep: [...RW, "--allow-sys=systemMemoryInfo"],
  merge: RW,
  cases: ["--allow-read"],
  selftest: RW,
  plots: [...RW, "--allow-env=S2LAB_SWEEP_CSV"],
  budget: RW,
  timeline: RW,
  fuzz: RW,
  mutate: [...RW, "--allow-run"],
};
const task = (name: string, args: string[]) => runScript(`${name}.ts`, TASKS[name], args);

const REPRO_MIN = "test/fixtures/selftest/reproducer-min.json";

/** `text` as a literal in a RegExp. */
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** One line on stderr, exit 2, matching `re`. */
function badInput(what: string, r: { code: number; stderr: string }, re: RegExp) {
  assertEquals(r.code, 2, `${what}: exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assertEquals(lines.length, 1, `${what}: ${r.stderr}`);
  assertMatch(lines[0], re, what);
}

/** Every file under `dir`, relative. */
function filesUnder(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) out.push(...filesUnder(`${dir}/${e.name}`, `${prefix}${e.name}/`));
    else out.push(`${prefix}${e.name}`);
  }
  return out.sort();
}

Deno.test("describeFsError: a few words, without os error numbers, syscalls or Deno's advice", () => {
  assertEquals(
    describeFsError(new Error("Read-only file system (os error 30): mkdir '/mnt/ro/x'")),
    "read-only file system",
  );
  assertEquals(
    describeFsError(new Error("Read-only file system (os error 30): tmpfile")),
    "read-only file system",
  );
  assertEquals(
    describeFsError(new Error("No space left on device (os error 28): rename '/a.tmp' -> '/a'")),
    "no space left on device",
  );
  assertEquals(
    describeFsError(
      new Error(`Requires write access to "/proc/x", run again with the --allow-write flag`),
    ),
    "permission denied",
  );
  assertEquals(describeFsError(new Deno.errors.IsADirectory("x")), "is a directory");
});

Deno.test({
  name:
    "cli paths: every task that writes checks its output first: one line, exit 2, nothing written",
  async fn() {
    const dir = await Deno.makeTempDir();
    const file = `${dir}/a-file`;
    await Deno.writeTextFile(file, "keep\n");
    const subdir = `${dir}/a-dir`; // with each task's file extension
    for (const ext of ["", ".c", ".csv", ".json"]) await Deno.mkdir(subdir + ext);
    // [task, args before the output, flag, output suffix (a file task's name for it)]
    const writers: [string, string[], string, string][] = [
      ["budget", ["--alias", "0"], "--out", ".csv"],
      ["timeline", [], "--out", ""],
      ["selftest", [REPRO_MIN], "--out", ".c"],
      ["plots", [], "--out", ""],
      ["fuzz", ["--runs", "1"], "--out", ""],
      [
        "replay",
        ["experiments/scenarios/reproducer.json", "--strategy", "maple-v2"],
        "--minimize",
        ".json",
      ],
      [
        "sweep",
        ["--vcpus", "1", "--l1-mem", "2G", "--granule", "4K", "--alias", "0"],
        "--out",
        ".csv",
      ],
      ["merge", ["results/sweep.csv"], "--out", ".csv"],
    ];
    for (const [name, pre, flag, ext] of writers) {
      const dirTask = name === "plots" || name === "fuzz";
      const targets: [string, RegExp][] = [
        [`${file}/x${ext}`, /: not a directory$/],
        ["/proc/version" + ext, /: permission denied$/],
        [`/proc/no-such-file${ext}`, /: permission denied$/],
      ];
      // A directory where a file goes; a file where a directory goes.
      if (dirTask) targets.push([file, /: not a directory$/]);
      else if (name !== "timeline") targets.push([subdir + ext, /: it is a directory$/]);
      for (const [target, re] of targets) {
        const r = await task(name, [...pre, flag, target]);
        badInput(
          `${name} ${flag} ${target}`,
          r,
          new RegExp(`^error: ${flag}: cannot write .*` + re.source),
        );
        assert(
          !/^wrote|replays|traces/m.test(r.stdout + r.stderr),
          `${name}: no work before the check`,
        );
      }
    }
    assertEquals(filesUnder(dir), ["a-file"]);
    for (const ext of ["", ".c", ".csv", ".json"]) assertEquals(filesUnder(subdir + ext), []);
    assertEquals(await Deno.readTextFile(file), "keep\n");
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "cli paths: a missing output directory is created (replay --minimize, selftest, budget, timeline)",
  async fn() {
    const dir = await Deno.makeTempDir();
    const runs: [string, string[]][] = [
      ["replay", [REPRO_MIN, "--strategy", "maple-v2", "--minimize", `${dir}/r/s/min.json`]],
      ["selftest", [REPRO_MIN, "--out", `${dir}/s/t/x.c`]],
      ["budget", ["--alias", "0", "--budget", "4K", "--out", `${dir}/b/c/budget.csv`]],
      ["timeline", [REPRO_MIN, "--out", `${dir}/t/u/tl`]],
    ];
    for (const [name, args] of runs) {
      const r = await task(name, args);
      assertEquals(r.code, name === "replay" ? 1 : 0, `${name}: ${r.stderr}`);
      assert(!r.stderr.includes("Uncaught"), r.stderr);
    }
    assertEquals(filesUnder(dir), [
      "b/c/budget.csv",
      "r/s/min.json",
      "s/t/x.c",
      "s/t/x.host.sh",
      "s/t/x.patch",
      "s/t/x.sh",
      "t/u/tl.findings.csv",
      "t/u/tl.strategies.csv",
      "t/u/tl.unmaps.csv",
    ]);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "cli paths: a binary or non-UTF-8 input is named as such for every task that reads one",
  async fn() {
    const dir = await Deno.makeTempDir();
    const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0x22, 0x2c]);
    const latin1 = new Uint8Array([0x7b, 0xe9, 0x7d, 0x0a]);
    for (
      const [kind, bytes, re] of [["elf", elf, "a binary file"], [
        "latin1",
        latin1,
        "not UTF-8 text",
      ]] as const
    ) {
      const f = `${dir}/${kind}.json`;
      await Deno.writeFile(f, bytes);
      await Deno.mkdir(`${dir}/cases-${kind}`);
      await Deno.writeFile(`${dir}/cases-${kind}/bad.json`, bytes);
      for (const s of ["strategies", "findings", "unmaps"]) {
        await Deno.copyFile(`${ROOT}results/reproducer.${s}.csv`, `${dir}/tl-${kind}.${s}.csv`);
      }
      await Deno.writeFile(`${dir}/tl-${kind}.findings.csv`, bytes);
      const out = `${dir}/out-${kind}`;
      const runs: [string, string[], string][] = [
        ["replay", [f], `${f}: ${re}, not a JSON trace`],
        ["selftest", [f, "--out", `${out}.c`], `${f}: ${re}, not a JSON trace`],
        ["timeline", [f, "--out", out], `${f}: ${re}, not a JSON trace`],
        ["merge", ["--out", `${out}.csv`, f], `${f}: ${re}, not a CSV file`],
        ["sweep", ["--grid", f, "--dry-run"], `--grid: ${f}: ${re}, not a JSON grid`],
        [
          "cases",
          ["--dir", `${dir}/cases-${kind}`],
          `${dir}/cases-${kind}/bad.json: ${re}, not a JSON scenario`,
        ],
        ["plots", ["--csv", f, "--out", out], `${f}: ${re}, not a CSV file`],
        ["plots", ["--budget", f, "--out", out], `${f}: ${re}, not a CSV file`],
        [
          "plots",
          ["--timeline", `${dir}/tl-${kind}`, "--out", out],
          `${dir}/tl-${kind}.findings.csv: ${re}, not a CSV file`,
        ],
      ];
      for (const [name, args, msg] of runs) {
        const r = await task(name, args);
        badInput(`${name} ${args.join(" ")}`, r, new RegExp(`^error: ${escape(msg)}$`));
        assert(!r.stderr.includes("ELF"), "not echoed");
      }
    }
    assert(filesUnder(dir).every((f) => !f.startsWith("out-")), "nothing written");
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "cli paths: merge streams its inputs; a short row or a broken quote is one line",
  async fn() {
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/short.csv`, "a,b\n1,2,3\n");
    await Deno.writeTextFile(`${dir}/quote.csv`, 'a,b\n"1,2\n');
    badInput(
      "short",
      await task("merge", ["--out", `${dir}/m.csv`, `${dir}/short.csv`]),
      /short\.csv: line 2 has 3 fields, the header 2$/,
    );
    badInput(
      "quote",
      await task("merge", ["--out", `${dir}/m.csv`, `${dir}/quote.csv`]),
      /quote\.csv: not a CSV file: /,
    );
    badInput(
      "dir",
      await task("merge", ["--out", `${dir}/m.csv`, dir]),
      /cannot read .*: is a directory$/,
    );
    // The committed sweep merges into the same bytes.
    const r = await task("merge", [
      "--out",
      `${dir}/m.csv`,
      "results/sweep.csv",
      "results/sweep.timing.csv",
    ]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(
      await Deno.readTextFile(`${dir}/m.csv`),
      await Deno.readTextFile(`${ROOT}results/sweep.csv`),
    );
    assertEquals(
      await Deno.readTextFile(`${dir}/m.timing.csv`),
      await Deno.readTextFile(`${ROOT}results/sweep.timing.csv`),
    );
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("cli paths: every task's --help lists its flags and exit codes", async () => {
  for (const name of Object.keys(TASKS)) {
    const r = await task(name, ["--help"]);
    assertEquals(r.code, 0, `${name}: ${r.stderr}`);
    assertMatch(r.stdout, /^usage: deno task /, name);
    assertMatch(r.stdout, /exit status: 0 .*2 /is, name);
    assertMatch(r.stdout, /--[a-z]/, name);
  }
  for (const sh of ["setup", "open"]) {
    const r = await new Deno.Command("bash", {
      args: [`experiments/notebooks/${sh}.sh`, "--help"],
      cwd: ROOT,
      stdout: "piped",
    }).output();
    assertEquals(r.code, 0, sh);
    assertMatch(new TextDecoder().decode(r.stdout), /exit status: .*2 bad arguments/s, sh);
  }
});
