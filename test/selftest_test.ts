/**
 * `deno task selftest`: golden outputs (program, host script, wrapper) for the published
 * reproducer (minimized) and two alias cases, the generated C compiled against the
 * kvm_util declarations in test/fixtures/selftest/, the scripts checked by `sh -n`, the
 * fixes the hardware runs asked for, and bad input.
 *
 * Regenerate the goldens with `S2LAB_UPDATE_GOLDEN=1 deno task test`.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { minimizeTrace } from "../lib/trace/minimize.ts";
import { exportSelftest, planSelftest, SelftestError } from "../lib/selftest/mod.ts";
import { makeStrategy, STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import { parseTrace, type Trace } from "../lib/trace/trace.ts";
import { CC_FLAGS } from "./selftest_harness.ts";
import { eventLine } from "../lib/selftest/format.ts";
import { selftestRole, TRACE_OPS } from "../lib/trace/ops.ts";
import { replay } from "../lib/trace/replay.ts";
import { oneContextConfig } from "./fixtures/one_context.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const FIXTURES = `${ROOT}test/fixtures/selftest`;
const UPDATE = Deno.env.get("S2LAB_UPDATE_GOLDEN") === "1";

/** The golden cases: trace file -> program name. */
const GOLDEN: [string, string][] = [
  [`${FIXTURES}/reproducer-min.json`, "reproducer_test"],
  [`${ROOT}experiments/scenarios/alias-within-mmu.json`, "alias_within_mmu_test"],
  [`${ROOT}experiments/scenarios/alias-block-and-page.json`, "alias_block_and_page_test"],
];

const load = (path: string) => {
  const source = Deno.readTextFileSync(path);
  return { source, trace: parseTrace(JSON.parse(source)) };
};

async function generate(path: string, name: string, strategy?: string) {
  const { source, trace } = load(path);
  return await exportSelftest(trace, {
    source,
    traceFile: path.split("/").at(-1)!,
    name,
    strategy,
  });
}

async function run(cmd: string, args: string[], cwd = ROOT) {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** `cc -fsyntax-only` against the fixture headers, warnings as errors. */
async function compiles(file: string): Promise<void> {
  const r = await run("cc", ["-fsyntax-only", ...CC_FLAGS, file]);
  assertEquals(r.code, 0, `${file} does not compile:\n${r.stderr}`);
}

async function shellChecks(file: string, wrapper?: string): Promise<void> {
  for (const f of [file, ...(wrapper ? [wrapper] : [])]) {
    const r = await run("sh", ["-n", f]);
    assertEquals(r.code, 0, `${f}: sh -n:\n${r.stderr}`);
  }
  const py = /S2LAB_PY='([^']*)'/.exec(Deno.readTextFileSync(file))?.[1];
  assert(py, "the host script carries its Python helper");
  const p = await run("python3", ["-c", "import sys; compile(sys.argv[1], 'helper', 'exec')", py])
    .catch(() => null);
  if (p) assertEquals(p.code, 0, `the Python helper does not compile:\n${p.stderr}`);
}

for (const [path, name] of GOLDEN) {
  Deno.test(`selftest golden: ${name}`, async () => {
    const out = await generate(path, name);
    const c = `${FIXTURES}/${name}.c`;
    const host = `${FIXTURES}/${name}.host.sh`;
    const wrapper = `${FIXTURES}/${name}.sh`;
    if (UPDATE) {
      Deno.writeTextFileSync(c, out.c);
      Deno.writeTextFileSync(host, out.host, { mode: 0o755 });
      Deno.writeTextFileSync(wrapper, out.wrapper, { mode: 0o755 });
    }
    assertEquals(out.c, Deno.readTextFileSync(c), `${c} changed (S2LAB_UPDATE_GOLDEN=1)`);
    assertEquals(out.host, Deno.readTextFileSync(host), `${host} changed`);
    assertEquals(out.wrapper, Deno.readTextFileSync(wrapper), `${wrapper} changed`);
    await compiles(c);
    await shellChecks(host, wrapper);
  });
}

Deno.test("the reproducer fixture is the published reproducer, minimized for maple-v2", () => {
  const full = load(`${ROOT}experiments/scenarios/reproducer.json`).trace;
  const small = minimizeTrace(full, () => makeStrategy("maple-v2"));
  assertEquals(load(`${FIXTURES}/reproducer-min.json`).trace.events, small.events);
});

Deno.test("the reproducer's export is the seed thread's program", async () => {
  const out = await generate(`${FIXTURES}/reproducer-min.json`, "reproducer_test");
  const x = out.expectation;
  // Two 128 MiB memslots at L2 IPA 4G and 6G over the same memfd offset, one memfd.
  assertEquals(
    x.plan.layout.slots.map((s) => [s.gpa, s.size, s.fdOffset]),
    [[2 ** 32, 2 ** 27, 0], [6 * 2 ** 30, 2 ** 27, 0]],
  );
  assertStringIncludes(out.c, "fd = kvm_memfd_alloc(MEMFD_SIZE, false);");
  assertStringIncludes(out.c, "add_slot(vm1, 1, 0x100000000ul, 0x8000000ul, fd, 0x0ul");
  assertStringIncludes(out.c, "add_slot(vm1, 2, 0x180000000ul, 0x8000000ul, fd, 0x0ul");
  assertStringIncludes(out.c, "__vm_create_with_vcpus(VM_SHAPE(VM_MODE_P40V48_4K), 2,");
  // The host moves the stage's pages; all of L1 (as the seed did) only when asked to.
  assertStringIncludes(out.host, "stage_1() {\n\t# event #4: migrate L1 0x57e00000 +0x200000");
  assertMatch(
    out.host,
    /elif s2lab_whole_l1 "migrate all of L1[^"]*"; then\n\t\tif [^\n]*\n\t\t\tmigratepages "\$L1_PID" "\$NODE_A" "\$NODE_B"/,
  );
  assertMatch(out.c, /stage 1: event #4: migrate L1 0x57e00000 \+0x200000 \(host\)/);
  // Header: trace, hash, strategy, outcome on both kernels.
  const sha = (await run("sha256sum", [`${FIXTURES}/reproducer-min.json`])).stdout.split(" ")[0];
  assertStringIncludes(out.c, `sha256:  ${sha}`);
  assertStringIncludes(out.c, "shows:   maple-v2");
  assertMatch(out.c, /unfixed kernel \(maple-v2\): FAIL at step 3/);
  assertMatch(out.c, /fixed kernel \(full-walk.*\): every\s+\*\s+check reads the fresh marker/);
  assertEquals(x.unfixed.firstStale?.action.l2ipa, 0x107fc0000);
  assertEquals(x.fixed.firstStale, null);
  assertEquals(out.notes, []);
});

Deno.test("only maple-v2 fails the reproducer's program; the default strategy is the first that fails", async () => {
  for (const s of STRATEGY_NAMES) {
    const out = await generate(`${FIXTURES}/reproducer-min.json`, "r", s);
    assertEquals(out.expectation.unfixed.firstStale !== null, s === "maple-v2", s);
  }
  assertEquals(
    (await generate(`${FIXTURES}/reproducer-min.json`, "r")).expectation.strategy,
    "maple-v2",
  );
});

Deno.test("every scenario exports to a program that compiles, deterministically", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (
      const entry of [...Deno.readDirSync(`${ROOT}experiments/scenarios`)].sort((a, b) =>
        a.name.localeCompare(b.name)
      )
    ) {
      const name = entry.name.replace(/\.json$/, "").replaceAll("-", "_");
      const path = `${ROOT}experiments/scenarios/${entry.name}`;
      const a = await generate(path, name);
      if (a.expectation.plan.trace.events.length < 1000) {
        const b = await generate(path, name);
        assertEquals(a.c, b.c, `${name}: same trace, same bytes`);
        assertEquals(a.host, b.host);
      }
      Deno.writeTextFileSync(`${dir}/${name}.c`, a.c);
      Deno.writeTextFileSync(`${dir}/${name}.host.sh`, a.host);
      Deno.writeTextFileSync(`${dir}/${name}.sh`, a.wrapper);
      await compiles(`${dir}/${name}.c`);
      await shellChecks(`${dir}/${name}.host.sh`, `${dir}/${name}.sh`);
      // Whatever the program cannot reproduce is listed at the top and named on stderr.
      for (const n of a.expectation.plan.notes) {
        assertStringIncludes(a.c, `event #${n.event}: ${n.op}`);
        assertStringIncludes(a.notes.join("\n"), `event #${n.event}: ${n.op}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("events no L1 program or L0 shell can produce are listed, and the outcome follows", async () => {
  const out = await generate(`${ROOT}experiments/scenarios/memslot-delete.json`, "m");
  assertEquals(out.expectation.plan.notes.map((n) => n.op), ["memslot-delete", "memslot-add"]);
  assertMatch(out.c, /Not reproduced[^\n]*\n \* {3}event #10: memslot-delete slot 1/);
  assertMatch(out.notes.join("\n"), /will not show maple-v2's failure/);
});

const base = {
  name: "t",
  config: oneContextConfig(),
};
const traceOf = (events: unknown[]): Trace => parseTrace({ ...base, events });

Deno.test("traces a selftest cannot express are one-line errors", () => {
  const cases: [unknown[], RegExp][] = [
    [[{ op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" }], /no L2 access/],
    [[{ op: "access", vcpu: 0, ctx: 1, l2ipa: "4G" }], /events\[0\] \(access\): L1 maps nothing/],
    [
      [
        { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "2M" },
        { op: "l1-unmap", ctx: 1, l2ipa: "4G", size: "4K" },
        { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G" },
      ],
      /events\[1\] \(l1-unmap\): it unmaps part of the mapping/,
    ],
    [
      [
        { op: "l1-map", ctx: 1, l2ipa: "0x10000000", l1ipa: "1G", size: "4K" },
        { op: "access", vcpu: 0, ctx: 1, l2ipa: "0x10000000" },
      ],
      /below 1 GiB/,
    ],
    [
      [
        { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K", writable: false },
        { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G", write: true },
      ],
      /read-only/,
    ],
  ];
  for (const [events, re] of cases) {
    let err: unknown;
    try {
      planSelftest(traceOf(events));
    } catch (e) {
      err = e;
    }
    assert(err instanceof SelftestError, `${re}: expected a SelftestError, got ${err}`);
    assertMatch(err.message, re);
    assert(!err.message.includes("\n"), "one line");
  }
});

/** A trace that uses every operation once, replayable and plannable. */
const EVERY_OP = traceOf([
  { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "2M", writable: true },
  { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G", write: true },
  { op: "touch", vcpu: 0, ctx: 1, l2ipa: "4G", size: "64K", stride: "16K" },
  { op: "l1-access", l1ipa: "1G", write: true },
  { op: "tlbi-ipa", vmid: 1, l2ipa: "4G", ttl: 2 },
  { op: "tlbi-range", vmid: 1, l2ipa: "4G", size: "2M" },
  { op: "tlbi-vmid", vmid: 1 },
  { op: "tlbi-all" },
  { op: "ctx-create", context: { id: 2, vmid: 2, granule: "4K", ipaBits: 40 } },
  { op: "ctx-destroy", ctx: 2 },
  { op: "migrate", l1ipa: "1G", size: "2M" },
  { op: "swap-out", l1ipa: "1G", size: "4K" },
  { op: "numa-scan", l1ipa: "1G", size: "4K" },
  { op: "thp-split", l1ipa: "1G", size: "2M" },
  { op: "memslot-add", memslot: { id: 1, base: "2G", size: "1G", backing: "page" } },
  { op: "wp", slot: 1 },
  { op: "memslot-delete", slot: 1 },
  { op: "flush" },
  { op: "l1-unmap", ctx: 1, l2ipa: "4G", size: "2M" },
  { op: "l1-reboot" },
]);

Deno.test("the selftest's comments and replay describe every operation in the same words", () => {
  assertEquals(new Set(EVERY_OP.events.map((e) => e.op)), new Set(TRACE_OPS));
  const r = replay(EVERY_OP, makeStrategy("full-walk"));
  for (const e of r.events) {
    assertEquals(
      eventLine(e.index, EVERY_OP.events[e.index]),
      `event #${e.index}: ${e.op}${e.detail ? " " + e.detail : ""}`,
    );
  }
  // Directions are said, not left to a missing word.
  assertEquals(r.events[1].detail, "vcpu 0 ctx 1 L2 0x100000000 write");
  assertEquals(r.events[2].detail, "vcpu 0 ctx 1 L2 0x100000000 +0x10000 every 0x4000 read");
});

Deno.test("the selftest drops exactly the operations the op table says it cannot produce, with its reason", () => {
  const plan = planSelftest(EVERY_OP);
  const dropped = new Map(plan.notes.map((n) => [n.op, n.why]));
  for (const op of TRACE_OPS) {
    const role = selftestRole(op);
    assertEquals(dropped.get(op), role.by === "none" ? role.why : undefined, op);
  }
  // Each host event is a stage of the host script; a content check follows those that
  // give the memory a new page.
  const hosts = plan.actions.filter((a) => a.kind === "host");
  assertEquals(hosts.map((a) => a.op), ["migrate", "swap-out", "numa-scan", "thp-split"]);
  const checked = new Set(plan.actions.flatMap((a) => a.kind === "check" ? [a.event] : []));
  assertEquals([...checked].map((i) => EVERY_OP.events[i].op), ["migrate", "swap-out"]);
});

Deno.test("the CLI: bad input is one line, exit 2, nothing written", async () => {
  const dir = await Deno.makeTempDir();
  const cli = (...args: string[]) =>
    run(Deno.execPath(), [
      "run",
      "--allow-read",
      "--allow-write",
      "experiments/selftest.ts",
      ...args,
    ]);
  try {
    const noAccess = `${dir}/no-access.json`;
    Deno.writeTextFileSync(
      noAccess,
      JSON.stringify({
        ...base,
        events: [{ op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" }],
      }),
    );
    const unmapped = `${dir}/unmapped.json`;
    Deno.writeTextFileSync(
      unmapped,
      JSON.stringify({ ...base, events: [{ op: "access", vcpu: 0, ctx: 1, l2ipa: "4G" }] }),
    );
    const repro = `${FIXTURES}/reproducer-min.json`;
    const bad: [string[], RegExp][] = [
      [[noAccess, "--out", `${dir}/a.c`], /no L2 access/],
      [[unmapped, "--out", `${dir}/a.c`], /L1 maps nothing/],
      [[repro, "--out", `${noAccess}/a.c`], /--out: cannot write .*: not a directory\n/],
      [
        [repro, "--out", "/proc/version.c"],
        /--out: cannot write \/proc\/version\.c: permission denied\n/,
      ],
      [[repro, "--out", `${dir}/a.txt`], /expected a FILE\.c path/],
      [[repro, "--out", `${dir}/a.c`, "--strategy", "nope"], /unknown strategy "nope"/],
      [[repro, "--bogus"], /unknown option "--bogus"/],
      [[`${dir}/absent.json`], /cannot read/],
      [[], /expected one trace file/],
    ];
    for (const [args, re] of bad) {
      const r = await cli(...args);
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assertMatch(r.stderr, re);
      assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "no-access.json",
      "unmapped.json",
    ]);
    // And a good run writes the four files, the scripts executable.
    const ok = await cli(repro, "--out", `${dir}/repro_test.c`);
    assertEquals(ok.code, 0, ok.stderr);
    assertMatch(ok.stderr, /maple-v2 fails at step 3, full-walk passes/);
    const want = await generate(repro, "repro_test");
    assertEquals(Deno.readTextFileSync(`${dir}/repro_test.c`), want.c);
    assertEquals(Deno.readTextFileSync(`${dir}/repro_test.sh`), want.wrapper);
    assertEquals(Deno.readTextFileSync(`${dir}/repro_test.patch`), want.patch);
    for (const f of ["repro_test.host.sh", "repro_test.sh"]) {
      assert((Deno.statSync(`${dir}/${f}`).mode! & 0o111) !== 0, `${f} executable`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The C statements of a program (split at `;`, comments and strings kept). */
const statements = (c: string) => c.split(";").map((t) => t.replace(/\s+/g, " "));

Deno.test("a ucall's command is read only after get_ucall() has filled it", async () => {
  for (const [path, name] of GOLDEN) {
    const c = (await generate(path, name)).c;
    const calls = statements(c).filter((t) => t.includes("get_ucall("));
    assert(calls.length >= 1, `${name}: the program calls get_ucall()`);
    for (const t of calls) {
      assert(!/uc\.cmd|uc\.args/.test(t), `${name}: reads uc in the get_ucall() statement: ${t}`);
    }
  }
});

Deno.test("a slot of PMD blocks requires L1 to map it with PMD-mapped huge pages", async () => {
  const out = await generate(
    `${ROOT}experiments/scenarios/alias-block-and-page.json`,
    "alias_block_and_page_test",
  );
  const huge = out.expectation.plan.layout.slots.filter((s) => s.huge);
  assert(huge.length > 0, "the case has a block slot");
  // add_slot() measures the slot's ShmemPmdMapped (a memfd's THP is swap-backed: smaps counts
  // it there, not in FilePmdMapped) after populating it, and skips unless it is all of it.
  const addSlot = /static void add_slot\([\s\S]*?\n\}/.exec(out.c)![0];
  assertMatch(
    addSlot,
    /MADV_POPULATE_WRITE[\s\S]*pmd_mapped = shmem_pmd_mapped\(hva\);\n\t\t__TEST_REQUIRE\(pmd_mapped == size,/,
  );
  assertMatch(out.c, /sscanf\(line, "ShmemPmdMapped: %lu kB", &kb\)/);
  assertMatch(out.c, /add_slot\(vm1, \d+, [^;]*, true, false\);/);
});

Deno.test("the host moves pages with MPOL_MF_MOVE_ALL and checks that each moved", async () => {
  const host = (await generate(`${FIXTURES}/reproducer-min.json`, "reproducer_test")).host;
  const py = /S2LAB_PY='([^']*)'/.exec(host)![1];
  // include/uapi/linux/mempolicy.h: MPOL_MF_MOVE (1<<1) skips pages mapped twice,
  // MPOL_MF_MOVE_ALL (1<<2) moves them.
  assertMatch(py, /MPOL_MF_MOVE_ALL, MADV_PAGEOUT = 4, 21/);
  assertMatch(py, /pages, nodes, status, L\(MPOL_MF_MOVE_ALL\)\), "move_pages"\)/);
  assertMatch(py, / if s != nodes\[k\]\]\n {4}if bad:/);
  assert(!/L\(2\)\)/.test(py), "no MPOL_MF_MOVE (2) move");
});
