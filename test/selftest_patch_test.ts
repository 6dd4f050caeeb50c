/**
 * The generated patch applies to the KVM selftests' layout: a temp copy of
 * tools/testing/selftests/kvm with Makefile.kvm as upstream has it around the two lists
 * (test/fixtures/selftest/Makefile.kvm.excerpt, torvalds/linux @ 052ca584bd7c), with
 * `git apply --check`, `git apply`, `patch -p1` and `git am`. Afterwards the program,
 * its wrapper and its host script are the generated files (the scripts executable), and
 * make sees the program in TEST_GEN_PROGS_EXTENDED and the wrapper in TEST_PROGS for
 * ARCH=arm64, and neither for x86.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { exportSelftest, KVM_SELFTESTS, MAKEFILE_KVM_COMMIT } from "../lib/selftest/mod.ts";
import { parseTrace } from "../lib/trace/trace.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const FIXTURES = `${ROOT}test/fixtures/selftest`;
const EXCERPT = Deno.readTextFileSync(`${FIXTURES}/Makefile.kvm.excerpt`);
const NAME = "reproducer_test";

function has(cmd: string): boolean {
  try {
    return new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[], cwd: string, stdin?: string) {
  const env = {
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@localhost",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@localhost",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
  };
  const child = new Deno.Command(cmd, {
    args,
    cwd,
    env,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function generated() {
  const path = `${FIXTURES}/reproducer-min.json`;
  const source = Deno.readTextFileSync(path);
  return await exportSelftest(parseTrace(JSON.parse(source)), {
    source,
    traceFile: "reproducer-min.json",
    name: NAME,
  });
}

/** A temp kernel tree with the selftests' Makefile.kvm excerpt and an arm64/ directory. */
async function tree(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-patch-" });
  await Deno.mkdir(`${dir}/${KVM_SELFTESTS}/arm64`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/${KVM_SELFTESTS}/Makefile.kvm`, EXCERPT);
  return dir;
}

/** The tree holds the generated files and the two Makefile lines in their lists. */
async function checkApplied(dir: string, out: Awaited<ReturnType<typeof generated>>) {
  const kvm = `${dir}/${KVM_SELFTESTS}`;
  assertEquals(Deno.readTextFileSync(`${kvm}/arm64/${NAME}.c`), out.c);
  assertEquals(Deno.readTextFileSync(`${kvm}/arm64/${NAME}.sh`), out.wrapper);
  assertEquals(Deno.readTextFileSync(`${kvm}/arm64/${NAME}.host.sh`), out.host);
  for (const f of [`${NAME}.sh`, `${NAME}.host.sh`]) {
    assert((Deno.statSync(`${kvm}/arm64/${f}`).mode! & 0o111) !== 0, `${f} is executable`);
  }
  const mk = Deno.readTextFileSync(`${kvm}/Makefile.kvm`);
  assertMatch(
    mk,
    /\nTEST_PROGS_x86 \+= x86\/nx_huge_pages_test\.sh\nTEST_PROGS_arm64 \+= arm64\/reproducer_test\.sh\n\n/,
  );
  assertMatch(
    mk,
    /\n# Compiled outputs used by test targets\nTEST_GEN_PROGS_EXTENDED_x86 \+= x86\/nx_huge_pages_test\nTEST_GEN_PROGS_EXTENDED_arm64 \+= arm64\/reproducer_test\n\n/,
  );
  assertEquals(mk.split("\n").length, EXCERPT.split("\n").length + 2, "two lines added");
  if (has("make")) {
    for (
      const [arch, ext, progs] of [["arm64", `arm64/${NAME}`, `arm64/${NAME}.sh`], [
        "x86",
        "x86/nx_huge_pages_test",
        "x86/nx_huge_pages_test.sh",
      ]]
    ) {
      const r = await run("make", [
        "-s",
        "-f",
        "Makefile.kvm",
        `ARCH=${arch}`,
        "--eval",
        "show: ; @echo '$(TEST_GEN_PROGS_EXTENDED)|$(TEST_PROGS)'",
        "show",
      ], kvm);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.stdout.trim(), `${ext}|${progs}`, `ARCH=${arch}`);
    }
  }
}

Deno.test("the patch names the Makefile.kvm it was made against", async () => {
  const out = await generated();
  assertMatch(out.patch, /^From 0{40} Mon Sep 17 00:00:00 2001\nFrom: s2lab <s2lab@localhost>\n/);
  assertMatch(out.patch, /\nSubject: \[PATCH\] KVM: arm64: selftests: Add reproducer_test /);
  assert(!/^Signed-off-by:/m.test(out.patch), "no Signed-off-by line in a generated patch");
  assertEquals(MAKEFILE_KVM_COMMIT, "052ca584bd7c51de0de96e684631570459d46cda");
  assertMatch(EXCERPT, new RegExp(`torvalds/linux @\n# ${MAKEFILE_KVM_COMMIT}`));
});

Deno.test({
  name: `git apply and git am put the selftest into a copy of the kvm selftests${
    has("git") ? "" : " (skipped: no git)"
  }`,
  ignore: !has("git"),
  fn: async () => {
    const out = await generated();
    const dir = await tree();
    try {
      Deno.writeTextFileSync(`${dir}/s.patch`, out.patch);
      const check = await run("git", ["apply", "--check", "-v", "s.patch"], dir);
      assertEquals(check.code, 0, check.stderr);
      console.log(`  git apply --check: ${check.stderr.trim().split("\n").join("; ")}`);
      const apply = await run("git", ["apply", "s.patch"], dir);
      assertEquals(apply.code, 0, apply.stderr);
      await checkApplied(dir, out);
      // Applying twice fails: the files exist.
      assert((await run("git", ["apply", "--check", "s.patch"], dir)).code !== 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    const repo = await tree();
    try {
      for (
        const args of [["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]]
      ) {
        const r = await run("git", args, repo);
        assertEquals(r.code, 0, r.stderr);
      }
      const am = await run("git", ["am", "-q"], repo, out.patch);
      assertEquals(am.code, 0, am.stderr);
      const log = await run("git", ["log", "-1", "--format=%an <%ae>%n%s"], repo);
      assertEquals(
        log.stdout.trim().split("\n"),
        [
          "s2lab <s2lab@localhost>",
          `KVM: arm64: selftests: Add ${NAME} (nested shadow stage-2 unmap)`,
        ],
      );
      await checkApplied(repo, out);
    } finally {
      await Deno.remove(repo, { recursive: true });
    }
  },
});

Deno.test({
  name: `patch -p1 applies the selftest${has("patch") ? "" : " (skipped: no patch)"}`,
  ignore: !has("patch"),
  fn: async () => {
    const out = await generated();
    const dir = await tree();
    try {
      const r = await run("patch", ["-p1", "--forward"], dir, out.patch);
      assertEquals(r.code, 0, r.stdout + r.stderr);
      await checkApplied(dir, out);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
