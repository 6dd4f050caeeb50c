/**
 * The exported selftest as a patch against `tools/testing/selftests/kvm` that a maintainer
 * can apply (`git am`, `git apply`, `patch -p1`): the program under `arm64/` as a
 * `TEST_GEN_PROGS_EXTENDED_arm64` target, its wrapper `arm64/NAME.sh` in
 * `TEST_PROGS_arm64`, and the host side `arm64/NAME.host.sh` (run on L0, so not
 * installed), the way `x86/nx_huge_pages_test` and its wrapper sit in Makefile.kvm.
 *
 * Makefile.kvm has no arm64 entry in either list: the two lines go after the x86 ones, and
 * the hunks carry three lines of context and the line numbers of Makefile.kvm at
 * torvalds/linux @ {@linkcode MAKEFILE_KVM_COMMIT} (`git apply` and `patch` find the context
 * at an offset in other trees). No Signed-off-by: whoever submits the patch adds theirs.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { addedFile } from "./emit_patch.ts";
 * assertEquals(addedFile("a/x.sh", "echo\n", true).split("\n").slice(1, 5), [
 *   "new file mode 100755", "--- /dev/null", "+++ b/a/x.sh", "@@ -0,0 +1 @@",
 * ]);
 * ```
 * @module
 */

import { wrap } from "./format.ts";
import type { Expectation } from "./expect.ts";
import type { SelftestMeta } from "./header.ts";

/** The directory of the KVM selftests in a kernel tree. */
export const KVM_SELFTESTS = "tools/testing/selftests/kvm";

/** The torvalds/linux commit whose Makefile.kvm the hunks' context and line numbers are. */
export const MAKEFILE_KVM_COMMIT = "052ca584bd7c51de0de96e684631570459d46cda";

/** One insertion into Makefile.kvm: after `before`, ahead of `after`, at `line` (1-based). */
interface MakefileHunk {
  /** Line number of the hunk's first context line at {@linkcode MAKEFILE_KVM_COMMIT}. */
  line: number;
  /** The three lines before the insertion. */
  before: readonly string[];
  /** The three lines after it. */
  after: readonly string[];
  /** The line to insert, for program `name`. */
  add: (name: string) => string;
}

/** Makefile.kvm's two lists, as they are at {@linkcode MAKEFILE_KVM_COMMIT}. */
const MAKEFILE_HUNKS: readonly MakefileHunk[] = [
  {
    line: 54,
    before: ["", "# Non-compiled test targets", "TEST_PROGS_x86 += x86/nx_huge_pages_test.sh"],
    after: [
      "",
      "# Compiled test targets valid on all architectures with libkvm support",
      "TEST_GEN_PROGS_COMMON = demand_paging_test",
    ],
    add: (name) => `TEST_PROGS_arm64 += arm64/${name}.sh`,
  },
  {
    line: 160,
    before: [
      "",
      "# Compiled outputs used by test targets",
      "TEST_GEN_PROGS_EXTENDED_x86 += x86/nx_huge_pages_test",
    ],
    after: [
      "",
      "TEST_GEN_PROGS_arm64 = $(TEST_GEN_PROGS_COMMON)",
      "TEST_GEN_PROGS_arm64 += arm64/aarch32_id_regs",
    ],
    add: (name) => `TEST_GEN_PROGS_EXTENDED_arm64 += arm64/${name}`,
  },
];

/** The files of the patch. */
export interface PatchFiles {
  /** The program. */
  c: string;
  /** The wrapper (L1). */
  wrapper: string;
  /** The host script (L0). */
  host: string;
}

/** A git diff that adds `path` with `text` (which ends with a newline). */
export function addedFile(path: string, text: string, executable: boolean): string {
  const body = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
  return [
    `diff --git a/${path} b/${path}`,
    `new file mode ${executable ? "100755" : "100644"}`,
    "--- /dev/null",
    `+++ b/${path}`,
    body.length === 1 ? "@@ -0,0 +1 @@" : `@@ -0,0 +1,${body.length} @@`,
    ...body.map((l) => `+${l}`),
    ...(text.endsWith("\n") ? [] : ["\\ No newline at end of file"]),
  ].join("\n") + "\n";
}

/** The Makefile.kvm diff for program `name`. */
function makefileDiff(name: string): string {
  const path = `${KVM_SELFTESTS}/Makefile.kvm`;
  const out = [`diff --git a/${path} b/${path}`, `--- a/${path}`, `+++ b/${path}`];
  MAKEFILE_HUNKS.forEach((h, k) => {
    const n = h.before.length + h.after.length;
    out.push(
      `@@ -${h.line},${n} +${h.line + k},${n + 1} @@`,
      ...h.before.map((l) => ` ${l}`),
      `+${h.add(name)}`,
      ...h.after.map((l) => ` ${l}`),
    );
  });
  return out.join("\n") + "\n";
}

/** The commit message: what the test shows, how it runs, where it comes from. */
function message(x: Expectation, meta: SelftestMeta): string[] {
  const name = meta.name;
  const f = x.unfixed.firstStale;
  const noun: Record<string, string> = {
    "migrate": "page migration",
    "swap-out": "swap-out",
    "numa-scan": "NUMA-balancing scan",
    "thp-split": "THP split",
  };
  const ops = [
    ...new Set(x.plan.actions.flatMap((a) => (a.kind === "host" ? [noun[a.op]] : []))),
  ];
  const paras = [
    `${name} runs in L1, a guest hypervisor on an arm64 host with nested virtualization, ` +
    `and checks that a ${ops.join(" or ") || "host unmap"} on the host (L0) leaves no ` +
    "shadow stage-2 entry behind: after each host stage L1 rewrites the page and L2 must " +
    "read the new value through every L2 IPA that maps it.",
    f
      ? `A kvm_nested_s2_unmap() that misses an alias the way s2lab's model of ${x.strategy} ` +
        `does fails at step ${f.action.step}; upstream's walk of every shadow MMU passes.`
      : `s2lab's model expects it to pass with ${x.strategy} and with upstream's walk of ` +
        "every shadow MMU.",
    `The program is a TEST_GEN_PROGS_EXTENDED target: arm64/${name}.sh runs it in L1 ` +
    `and exits with KSFT_SKIP unless its host side, arm64/${name}.host.sh, runs on L0 ` +
    "(as root, with --watch) or the test is run from a terminal.",
    `Generated by s2lab (deno task selftest) from ${meta.traceFile}; regenerate rather ` +
    "than edit. Not signed off: whoever submits it adds their Signed-off-by.",
  ];
  return [
    ...paras.flatMap((p, i) => [...(i ? [""] : []), ...wrap(p, 72)]),
    `sha256 ${meta.sha256}`,
  ];
}

/** The patch, in `git format-patch` form (its author line names s2lab). */
export function emitPatch(files: PatchFiles, x: Expectation, meta: SelftestMeta): string {
  const dir = `${KVM_SELFTESTS}/arm64`;
  return [
    "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001",
    "From: s2lab <s2lab@localhost>",
    `Subject: [PATCH] KVM: arm64: selftests: Add ${meta.name} (nested shadow stage-2 unmap)`,
    "",
    ...message(x, meta),
    "---",
    "",
  ].join("\n") + makefileDiff(meta.name) +
    addedFile(`${dir}/${meta.name}.c`, files.c, false) +
    addedFile(`${dir}/${meta.name}.host.sh`, files.host, true) +
    addedFile(`${dir}/${meta.name}.sh`, files.wrapper, true) +
    "-- \ns2lab\n";
}
