/**
 * L1 and L0 synchronize without a person: the generated host script's `--watch` mode
 * against the program's own stage code (test/selftest_harness.ts, `h DIR run`: write each
 * stage's page addresses, wait for the host's answer), through one directory that stands
 * for the directory L1 shares with L0 (S2LAB_DIR in L1 = S2LAB_HOST_DIR on L0). QEMU's
 * HMP and the Python helper are stand-ins on PATH that log what they are asked: the test
 * checks that each stage's operation gets the VMM addresses of exactly the pages the
 * program named, that the host reports L1's result, and that a stage the host cannot do,
 * or a host that never answers, makes L1 skip with the reason.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { exportSelftest, KSFT_SKIP } from "../lib/selftest/mod.ts";
import { parseTrace } from "../lib/trace/trace.ts";
import { buildHarness, has } from "./selftest_harness.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const NAME = "alias_block_and_page_test";
const READY = has("cc") && has("sh", ["-c", "true"]);
/** QEMU's answer: a VMM address of L1 GPA g is g + VMM_BASE (a stand-in's choice). */
const VMM_BASE = 0x7f00_0000_0000;

async function generated() {
  const path = `${ROOT}experiments/scenarios/alias-block-and-page.json`;
  const source = Deno.readTextFileSync(path);
  return await exportSelftest(parseTrace(JSON.parse(source)), {
    source,
    traceFile: "alias-block-and-page.json",
    name: NAME,
  });
}

/** Run `fn` with a temp directory holding the program's harness and host script. */
async function withHarness(
  fn: (dir: string, h: string, out: Awaited<ReturnType<typeof generated>>) => Promise<void>,
): Promise<void> {
  const out = await generated();
  const dir = await Deno.makeTempDir({ prefix: "s2lab-watch-" });
  try {
    Deno.mkdirSync(`${dir}/x`);
    Deno.writeTextFileSync(`${dir}/host.sh`, out.host);
    await fn(dir, await buildHarness(out, dir), out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Stand-ins for QEMU's HMP and python3, logging into `dir`. */
function standIns(dir: string): string {
  const bin = `${dir}/bin`;
  Deno.mkdirSync(bin);
  Deno.writeTextFileSync(
    `${bin}/hmp`,
    `#!/bin/sh\nset -- $1\necho "$*" >> ${dir}/hmp.log\n` +
      `printf 'Host virtual address for %s (mach-virt.ram) is %#x\\n' "$2" $(($2 + ${VMM_BASE}))\n`,
    { mode: 0o755 },
  );
  Deno.writeTextFileSync(
    `${bin}/python3`,
    `#!/bin/sh\nshift 2\necho "$*" >> ${dir}/py.log\necho "s2lab: (stand-in) $1 done"\n`,
    { mode: 0o755 },
  );
  return bin;
}

/** Start the host script's --watch, then L1's side once host-ready is there; both results. */
async function session(dir: string, h: string, host: string, env: Record<string, string>) {
  const watch = new Deno.Command("sh", {
    args: [host, "--watch"],
    env: {
      L1_PID: String(Deno.pid),
      S2LAB_HOST_DIR: `${dir}/x`,
      S2LAB_DIR: "/nonexistent-in-l0",
      S2LAB_WATCH_TIMEOUT: "30",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  for (let i = 0; i < 100; i++) {
    try {
      Deno.statSync(`${dir}/x/host-ready`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // What the wrapper does in L1: run the program unattended, leave its result.
  const l1 = await new Deno.Command(h, {
    args: [`${dir}/x`, "run"],
    env: { S2LAB_HOST_TIMEOUT: env.S2LAB_HOST_TIMEOUT ?? "30" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const l1out = dec.decode(l1.stdout) + dec.decode(l1.stderr);
  Deno.writeTextFileSync(`${dir}/x/output`, l1out);
  const verdict = l1.code === 0 ? "PASS" : l1.code === KSFT_SKIP ? "SKIP" : "FAIL";
  Deno.writeTextFileSync(`${dir}/x/result`, `${verdict} (exit ${l1.code})\n`);
  const w = await watch.output();
  return {
    l1: { code: l1.code, out: l1out },
    host: { code: w.code, out: dec.decode(w.stdout) + dec.decode(w.stderr) },
  };
}

/** Whether `path` exists. */
function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: `--watch does each stage on the pages L1 names, and reports L1's result${
    READY ? "" : " (skipped: no cc or sh)"
  }`,
  ignore: !READY,
  fn: () =>
    withHarness(async (dir, h, out) => {
      const bin = standIns(dir);
      const s = await session(dir, h, `${dir}/host.sh`, {
        QEMU_HMP: `${bin}/hmp`,
        PATH: `${bin}:${Deno.env.get("PATH")}`,
      });
      if (s.l1.code === 77) {
        console.log("  skipped: /proc/self/pagemap shows no PFNs here (needs CAP_SYS_ADMIN)");
        return;
      }
      assertEquals(s.l1.code, 0, s.l1.out + s.host.out);
      assertEquals(s.host.code, 0, s.host.out);
      assertStringIncludes(s.host.out, "s2lab: L1: PASS (exit 0)");
      // Each stage's operation got the VMM addresses of the pages in its stage-N.gpa.
      const hosts = out.expectation.plan.actions.flatMap((a) => a.kind === "host" ? [a] : []);
      const calls = Deno.readTextFileSync(`${dir}/py.log`).trim().split("\n");
      assertEquals(calls.length, hosts.length, "one operation per stage");
      hosts.forEach((a, k) => {
        const gpas = Deno.readTextFileSync(`${dir}/x/stage-${a.stage}.gpa`).trim().split("\n")
          .flatMap((l) => l.split(" ").map(Number));
        const want = gpas.map((v, i) => "0x" + (i % 2 ? v : v + VMM_BASE).toString(16));
        const op = a.op === "migrate" ? "move" : "pageout";
        assertEquals(calls[k], `${op} ${Deno.pid} ${want.join(" ")}`, `stage ${a.stage} (${a.op})`);
        assert(exists(`${dir}/x/stage-${a.stage}.done`));
        console.log(
          `  stage ${a.stage} (${a.op}): ${op} of ${want.length / 2} range(s) in the VMM`,
        );
      });
      assert(!exists(`${dir}/x/host-ready`), "the host script removes host-ready when done");
    }),
});

Deno.test({
  name: `a stage the host cannot do makes L1 skip with the host's reason${
    READY ? "" : " (skipped: no cc or sh)"
  }`,
  ignore: !READY,
  fn: () =>
    withHarness(async (dir, h) => {
      // No QEMU_HMP: the host has no way to find the pages, and does not act on all of L1.
      const s = await session(dir, h, `${dir}/host.sh`, { PATH: Deno.env.get("PATH")! });
      if (s.l1.code === 77) return;
      assertEquals(s.l1.code, KSFT_SKIP, s.l1.out);
      assertMatch(
        s.l1.out,
        /skip: - the host could not do stage 1: s2lab: stage 1: QEMU_HMP is not set/,
      );
      assertEquals(s.host.code, KSFT_SKIP, s.host.out);
      assertStringIncludes(s.host.out, "s2lab: L1: SKIP (exit 4)");
    }),
});

Deno.test({
  name: `L1 skips when no host answers in S2LAB_HOST_TIMEOUT${READY ? "" : " (skipped: no cc)"}`,
  ignore: !READY,
  fn: () =>
    withHarness(async (dir, h) => {
      const l1 = await new Deno.Command(h, {
        args: [`${dir}/x`, "run"],
        env: { S2LAB_HOST_TIMEOUT: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (l1.code === 77) return;
      assertEquals(l1.code, KSFT_SKIP);
      assertMatch(new TextDecoder().decode(l1.stderr), /the host did not do stage 1 within 1 s/);
    }),
});
