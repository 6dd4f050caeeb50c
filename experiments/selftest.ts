/**
 * `deno task selftest <trace.json> [--out FILE.c] [--strategy NAME]`: export a trace (a
 * minimized counterexample, a case from `experiments/scenarios/`, a fuzz finding from
 * `results/fuzz/`) as a KVM selftest that runs inside L1, `FILE.c`, the host's side of
 * it, `FILE.host.sh`, the wrapper that runs it in L1, `FILE.sh`, and the three as a patch
 * against tools/testing/selftests/kvm, `FILE.patch` (lib/selftest/emit_patch.ts). Events
 * nothing in L1 userspace or an L0 shell can produce are listed at the top of `FILE.c` and
 * named on stderr.
 *
 * Exit status 0 when the files are written; 2 for bad input (an unreadable or malformed
 * trace, a trace with no L2 access, an event the program cannot express, an unknown
 * strategy, an output path that cannot be written, checked before any work), with one
 * line on stderr and nothing written: the files go to temporary names first and are
 * renamed at the end. Missing directories of `--out` are created.
 *
 * @module
 */

import { exportSelftest, SelftestError } from "../lib/selftest/mod.ts";
import { DesignError, designNames, STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import { FALLBACK_STRATEGY } from "../lib/selftest/expect.ts";
import { DESIGN_USAGE, designFlag } from "./designs.ts";
import { parseTrace, type Trace } from "../lib/trace/trace.ts";
import { TraceError } from "../lib/trace/fields.ts";
import {
  checkOutputFile,
  describeFsError,
  fail,
  nameList,
  parseCli,
  parseJsonInput,
  readTextInput,
} from "./cli.ts";

const USAGE =
  `usage: deno task selftest <trace.json> [--out FILE.c] [--strategy NAME] [--design FILE]
  --out FILE.c      the program (default results/selftest/<trace name>.c); next to it
                    FILE.host.sh (L0), FILE.sh (the wrapper in L1) and FILE.patch
                    (the three for tools/testing/selftests/kvm: git am FILE.patch)
  --strategy NAME   the strategy whose failure the header states: one of
                    ${STRATEGY_NAMES.join(", ")}, or a --design's (default: the one
                    --design, else the first that leaves a stale entry on the trace, else
                    ${FALLBACK_STRATEGY})
${DESIGN_USAGE}
exit status: 0 written, 2 bad input (one line; nothing written)`;

const basename = (p: string) => p.split("/").at(-1)!;
const dirname = (p: string) => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) || "/" : ".");

async function main(): Promise<void> {
  const { values: args, positionals } = parseCli(USAGE, {
    out: { type: "string" },
    strategy: { type: "string" },
    design: { type: "string" },
  }, true);
  if (positionals.length !== 1) fail("expected one trace file (see --help)");
  const path = positionals[0];
  const designs = await designFlag(args.design);
  const asked = args.strategy ?? (designs.names.length === 1 ? designs.names[0] : undefined);
  if (asked?.includes(",")) fail("--strategy: one strategy (see --help)");
  const strategy = asked === undefined
    ? undefined
    : nameList("--strategy", asked, designNames(), "strategy")[0];
  const source = await readTextInput(path, "JSON trace");
  const json = parseJsonInput(path, source);
  let trace: Trace;
  try {
    trace = parseTrace(json);
  } catch (e) {
    if (e instanceof TraceError) fail(`${path}: ${e.message}`);
    throw e;
  }
  let out = args.out;
  if (out === undefined) {
    const stem = basename(path).replace(/\.json$/, "").replace(/[^A-Za-z0-9_]+/g, "_");
    out = `results/selftest/${stem}.c`;
  }
  if (!/\.c$/.test(out) || basename(out) === ".c") fail(`--out ${out}: expected a FILE.c path`);
  const name = basename(out).slice(0, -2);
  // The name goes in Makefile.kvm, a C string and a shell command line.
  if (!/^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(name)) {
    fail(`--out ${out}: "${name}" is not a program name (letters, digits, "_" and "-" only)`);
  }
  const stem = out.slice(0, -2);
  const paths = { host: `${stem}.host.sh`, wrapper: `${stem}.sh`, patch: `${stem}.patch` };
  for (const p of [out, ...Object.values(paths)]) checkOutputFile("--out", p, { replace: true });
  let result;
  try {
    result = await exportSelftest(trace, {
      source,
      traceFile: basename(path),
      name,
      strategy,
    });
  } catch (e) {
    if (e instanceof DesignError) fail(e.message);
    if (e instanceof SelftestError || e instanceof TraceError || e instanceof RangeError) {
      fail(`${path}: ${e.message}`);
    }
    throw e;
  }
  // All files or none: temporary names first, renamed at the end.
  const files = [
    [out, result.c, 0o644],
    [paths.host, result.host, 0o755],
    [paths.wrapper, result.wrapper, 0o755],
    [paths.patch, result.patch, 0o644],
  ] as const;
  const written: string[] = [];
  try {
    await Deno.mkdir(dirname(out), { recursive: true });
    for (const [file, text, mode] of files) {
      written.push(`${file}.tmp`);
      await Deno.writeTextFile(`${file}.tmp`, text, { mode });
    }
    for (const [file] of files) {
      await Deno.rename(`${file}.tmp`, file);
      written.push(file);
    }
  } catch (e) {
    for (const f of written) await Deno.remove(f).catch(() => {});
    fail(`--out: cannot write ${dirname(out)}/: ${describeFsError(e)}`);
  }
  for (const n of result.notes) console.error(`note: ${n}`);
  const x = result.expectation;
  const f = x.unfixed.firstStale;
  console.error(
    `wrote ${out}, ${paths.host}, ${paths.wrapper} and ${paths.patch}: ` +
      `${x.plan.vms.length} VM${x.plan.vms.length > 1 ? "s" : ""}, ` +
      `${x.plan.layout.slots.length} memslot${x.plan.layout.slots.length > 1 ? "s" : ""}, ` +
      `${x.plan.steps} steps, ${x.plan.stages} host stage${x.plan.stages === 1 ? "" : "s"}; ` +
      (f
        ? `expected: ${x.strategy} fails at step ${f.action.step}, full-walk passes`
        : `expected: no check fails with ${x.strategy}`),
  );
}

await main();
