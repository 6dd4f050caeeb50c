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
      else {
        // A prefix that is a directory would put the files beside it, or hide them in it.
        const re =
          /: .* is a directory \(--out is a prefix of file names, e\.g\. .*\/reproducer\)$/;
        targets.push([subdir, re], [`${subdir}/`, re]);
      }
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

/** Write `json` to `path` (indented); returns the path. */
async function writeJson(path: string, json: unknown): Promise<string> {
  await Deno.writeTextFile(path, JSON.stringify(json, null, 2));
  return path;
}

Deno.test({
  name: "cli inputs: the bad inputs each task accepted are one line, exit 2, nothing written",
  async fn() {
    const dir = await Deno.makeTempDir();
    const out = `${dir}/out`;
    const repro = JSON.parse(await Deno.readTextFile(`${ROOT}${REPRO_MIN}`));
    const writeable = await writeJson(`${dir}/writeable.json`, {
      ...repro,
      events: repro.events.map((e: Record<string, unknown>, i: number) =>
        i === 0 ? { ...e, writeable: false } : e
      ),
    });
    const vcpu = await writeJson(`${dir}/vcpu.json`, {
      ...repro,
      config: { ...repro.config, vcpu: 2 },
    });
    await Deno.copyFile(`${ROOT}${REPRO_MIN}`, `${dir}/repro.json`);
    const notJson = `${dir}/not.json`;
    await Deno.writeTextFile(notJson, "hello\nworld, this is no trace\n");
    const comma = `${dir}/comma.json`;
    await Deno.writeTextFile(comma, '{\n  "name": "x",\n  "events": [],\n}\n');
    await Deno.mkdir(`${dir}/cases`);
    await Deno.copyFile(notJson, `${dir}/cases/not.json`);
    await Deno.mkdir(`${dir}/an-existing-dir`);
    // A sweep CSV whose grid has 0 points, and one whose row is past the grid's last point.
    const [header, row] = (await Deno.readTextFile(`${ROOT}results/sweep.csv`)).split("\n");
    const col = header.split(",");
    const withField = (name: string, v: string) =>
      `${header}\n${row.split(",").map((x, i) => col[i] === name ? v : x).join(",")}\n`;
    await Deno.writeTextFile(`${dir}/zero.csv`, withField("points", "0"));
    await Deno.writeTextFile(`${dir}/past.csv`, withField("point", "999"));
    const json = (f: string) => escape(f) + ": not JSON: ";
    const cases: [string, string[], RegExp][] = [
      // Issue 23: uncaught RangeErrors with a stack.
      ["budget", ["--budget", "0", "--out", `${out}.csv`], /^error: --budget: 0 is not a budget/],
      [
        "budget",
        ["--budget", "1K,0", "--out", `${out}.csv`],
        /^error: --budget: 0 is not a budget/,
      ],
      // The same budget, alias or seed out of range: one row twice, or a seed cut to 32 bits.
      [
        "budget",
        ["--budget", "1K,1024", "--out", `${out}.csv`],
        /^error: --budget: "1K" and "1024" are the same value$/,
      ],
      ["budget", ["--alias", "0,0", "--out", `${out}.csv`], /^error: --alias: "0" and "0" are/],
      [
        "budget",
        ["--seed", "4294967296", "--out", `${out}.csv`],
        /^error: --seed: .*0\.\.4294967295$/,
      ],
      // A boolean flag given a value, in every task (`--help` is everyone's).
      ...Object.keys(TASKS).map((name): [string, string[], RegExp] => [
        name,
        ["--help=maybe"],
        /^error: --help takes no value \(see --help\)$/,
      ]),
      [
        "merge",
        ["--out", `${out}.csv`, "--quiet=maybe", "results/sweep.csv"],
        /--quiet takes no value/,
      ],
      [
        "merge",
        ["--out", `${out}.csv`, "--force=yes", "results/sweep.csv"],
        /--force takes no value/,
      ],
      ["sweep", ["--quiet=maybe", "--dry-run"], /^error: --quiet takes no value/],
      ["replay", [REPRO_MIN, "--json=false"], /^error: --json takes no value/],
      ["cases", ["--json=1"], /^error: --json takes no value/],
      // A file that is not JSON: where it stops being JSON, on one full line.
      [
        "replay",
        [notJson],
        new RegExp(`^error: ${json(notJson)}line 1, column 1: expected a value, found "h"$`),
      ],
      [
        "selftest",
        [notJson, "--out", `${out}.c`],
        new RegExp(`^error: ${json(notJson)}line 1, column 1: `),
      ],
      [
        "timeline",
        [notJson, "--out", out],
        new RegExp(`^error: ${json(notJson)}line 1, column 1: `),
      ],
      [
        "cases",
        ["--dir", `${dir}/cases`],
        new RegExp(`^error: ${json(`${dir}/cases/not.json`)}line 1, column 1: `),
      ],
      [
        "replay",
        [comma],
        new RegExp(
          `^error: ${
            json(comma)
          }line 4, column 1: expected a property name in double quotes, found "}"$`,
        ),
      ],
      // Misspelled keys.
      [
        "replay",
        [writeable],
        new RegExp(
          `^error: ${
            escape(writeable)
          }: events\\[0\\]: unknown key "writeable" \\(did you mean "writable"\\?\\)$`,
        ),
      ],
      [
        "selftest",
        [vcpu, "--out", `${out}.c`],
        new RegExp(
          `^error: ${escape(vcpu)}: config: unknown key "vcpu" \\(did you mean "vcpus"\\?\\)$`,
        ),
      ],
      ["timeline", [writeable, "--out", out], /events\[0\]: unknown key "writeable"/],
      // Lists of names: none, one twice, a misspelled one (not blamed on the trace file).
      ["timeline", ["--strategy", ",", "--out", out], /^error: --strategy names no strategy$/],
      [
        "timeline",
        ["--strategy", "full-walk,full-walk", "--out", out],
        /^error: --strategy: strategy "full-walk" is named twice$/,
      ],
      ["cases", ["--case", "flush,flush"], /^error: --case: case "flush" is named twice$/],
      [
        "replay",
        [REPRO_MIN, "--strategy", "maple-v3"],
        /^error: --strategy: unknown strategy "maple-v3" \(did you mean "maple-v2"\?\)$/,
      ],
      ["replay", [REPRO_MIN, "--strategy", "maple-v2,rmap"], /^error: --strategy: one strategy/],
      ["selftest", [REPRO_MIN, "--strategy", "rmapp", "--out", `${out}.c`], /did you mean "rmap"/],
      // Outputs: a program name make and the shell cannot take; the trace itself.
      ["selftest", [REPRO_MIN, "--out", `${dir}/a b.c`], /"a b" is not a program name/],
      [
        "replay",
        [`${dir}/repro.json`, "--strategy", "maple-v2", "--minimize", `${dir}/repro.json`],
        /^error: --minimize: .* is the trace itself; give another file$/,
      ],
      [
        "timeline",
        [REPRO_MIN, "--out", `${dir}/an-existing-dir`],
        /an-existing-dir is a directory/,
      ],
      // Merge: rows dropped silently before.
      [
        "merge",
        ["--out", `${out}.csv`, `${dir}/zero.csv`],
        /points "0" is not a positive whole number$/,
      ],
      [
        "merge",
        ["--out", `${out}.csv`, `${dir}/past.csv`],
        /row 1: point "999" is not one of the grid's 0\.\.143$/,
      ],
    ];
    const before = filesUnder(dir);
    const reproText = await Deno.readTextFile(`${dir}/repro.json`);
    for (const [name, args, re] of cases) {
      const r = await task(name, args);
      badInput(`${name} ${args.join(" ")}`, r, re);
      assert(!r.stderr.includes("Uncaught"), r.stderr);
    }
    assertEquals(filesUnder(dir), before, "nothing written");
    assertEquals(await Deno.readTextFile(`${dir}/repro.json`), reproText, "the trace kept");
    assert(filesUnder(dir).every((f) => !f.startsWith("an-existing-dir.")));
    await Deno.remove(dir, { recursive: true });
  },
});
