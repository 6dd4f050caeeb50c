/**
 * From counterexample to hardware: export a trace as a KVM selftest that runs inside L1
 * (a C program in the style of `tools/testing/selftests/kvm`) and a companion shell
 * script for what only the host (L0) can do. The program shows a stale shadow stage-2
 * entry as L2 reading what a page held before the host moved it; its header names the
 * trace, its SHA-256, the strategy whose failure it shows and the expected outcome on an
 * unfixed and a fixed kernel, computed by replaying the program's events under the
 * oracle. Same trace, same bytes.
 *
 * - {@linkcode planSelftest} (plan.ts): trace -> VMs, memslots, steps, stages, checks;
 * - {@linkcode expectSelftest} (expect.ts): the replays behind the expected outcome;
 * - {@linkcode emitC} (emit_c.ts), {@linkcode emitHost} (emit_host.ts),
 *   {@linkcode emitWrapper} (emit_wrapper.ts): the program, its host side and its wrapper;
 * - {@linkcode emitPatch} (emit_patch.ts): the three as a patch against
 *   tools/testing/selftests/kvm.
 *
 * @example
 * ```ts
 * import { assertEquals, assertMatch } from "@std/assert";
 * import { parseTrace } from "../trace/trace.ts";
 * import { exportSelftest } from "./mod.ts";
 * const source = JSON.stringify({
 *   name: "alias", config: { hostGranule: "4K", paBits: 40, vcpus: 1,
 *     memslots: [{ id: 0, base: "1G", size: "1G", backing: "page" }],
 *     contexts: [{ id: 1, vmid: 1, granule: "4K", ipaBits: 40 }] },
 *   events: [{ op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
 *            { op: "l1-map", ctx: 1, l2ipa: "6G", l1ipa: "1G", size: "4K" },
 *            { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G", write: true },
 *            { op: "access", vcpu: 0, ctx: 1, l2ipa: "6G", write: true },
 *            { op: "migrate", l1ipa: "1G", size: "4K" }] });
 * const out = await exportSelftest(parseTrace(JSON.parse(source)), {
 *   source, traceFile: "alias.json", name: "alias_test",
 * });
 * assertMatch(out.c, /unfixed kernel \(maple-v2\): FAIL at step 2/);
 * assertEquals(out.host.startsWith("#!/bin/sh"), true);
 * assertMatch(out.patch, /\+TEST_GEN_PROGS_EXTENDED_arm64 \+= arm64\/alias_test\n/);
 * assertEquals(out.notes, []);
 * ```
 * @module
 */

import type { Trace } from "../trace/trace.ts";
import { emitC } from "./emit_c.ts";
import { emitHost } from "./emit_host.ts";
import { emitPatch } from "./emit_patch.ts";
import { emitWrapper } from "./emit_wrapper.ts";
import { type Expectation, expectSelftest } from "./expect.ts";
import { eventLine } from "./format.ts";

export { emitC } from "./emit_c.ts";
export { emitHost } from "./emit_host.ts";
export { emitPatch, KVM_SELFTESTS, MAKEFILE_KVM_COMMIT } from "./emit_patch.ts";
export { emitWrapper, KSFT_SKIP } from "./emit_wrapper.ts";
export { defaultStrategy, type Expectation, expectSelftest, FIXED_STRATEGY } from "./expect.ts";
export { headerLines, type SelftestMeta } from "./header.ts";
export { type Plan, planSelftest, SelftestError } from "./plan.ts";

/** Input of {@linkcode exportSelftest}. */
export interface ExportOptions {
  /** The trace file's text, hashed into the header (sha256sum of the file). */
  source: string;
  /** The trace file as named on the command line. */
  traceFile: string;
  /** The program's base name (`FILE` of `FILE.c`; the scripts are `FILE.host.sh`, `FILE.sh`). */
  name: string;
  /** Strategy whose failure to show (default: the first that fails on the trace, else maple-v2). */
  strategy?: string;
}

/** The files and what to tell the user. */
export interface SelftestExport {
  /** The C program. */
  c: string;
  /** The host script (L0). */
  host: string;
  /** The wrapper that runs the program in L1. */
  wrapper: string;
  /** The three as a patch against tools/testing/selftests/kvm. */
  patch: string;
  /** Lines for stderr: events not reproduced, a failure the program will not show. */
  notes: string[];
  /** The plan and the replays behind the header. */
  expectation: Expectation;
}

/** SHA-256 of a text's UTF-8 bytes, lower-case hex. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Export `trace` as a selftest. Throws SelftestError for a trace that cannot be exported,
 * TraceError for one that does not replay, RangeError for an unknown strategy.
 */
export async function exportSelftest(
  trace: Trace,
  opts: ExportOptions,
): Promise<SelftestExport> {
  const x = expectSelftest(trace, opts.strategy);
  const meta = { traceFile: opts.traceFile, sha256: await sha256Hex(opts.source), name: opts.name };
  const plan = x.plan;
  const notes: string[] = [];
  if (plan.notes.length > 0) {
    notes.push(
      `${plan.notes.length} event${plan.notes.length > 1 ? "s" : ""} cannot be produced from L1 ` +
        `userspace or an L0 shell and ${
          plan.notes.length > 1 ? "are" : "is"
        } listed at the top of ${opts.name}.c: ${
          plan.notes.map((n) => eventLine(n.event, trace.events[n.event])).join("; ")
        }`,
    );
  }
  if (x.traceFindings.length > 0 && !x.unfixed.firstStale) {
    notes.push(
      `the program will not show ${x.strategy}'s failure: ${
        plan.notes.length > 0
          ? "it depends on events the program cannot reproduce"
          : "no check after a migration or swap-out reads the stale entry"
      }`,
    );
  }
  if (x.traceFindings.length === 0) {
    notes.push(`${x.strategy} leaves no stale shadow entry on this trace: the program should pass`);
  }
  const files = {
    c: emitC(plan, x, meta),
    host: emitHost(plan, x, meta),
    wrapper: emitWrapper(plan, meta),
  };
  return { ...files, patch: emitPatch(files, x, meta), notes, expectation: x };
}
