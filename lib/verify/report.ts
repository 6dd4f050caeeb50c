/**
 * `report.md` of a verification: the verdict first (correct on every check, or the first
 * counterexample: its minimized trace event by event, the stale entry, the files to replay
 * it and to run it as a selftest), then one line per check, the figures with a sentence each
 * computed from the rows drawn, and the design's record. Wall times are not in it (they go
 * to `timing.csv`), so the same design, mode and code give the same bytes.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { verdictOf } from "./report.ts";
 * assertEquals(verdictOf([{ check: "cases", status: "pass", summary: "", counterexample: null,
 *   rows: [], elapsedMs: 1 }]).correct, true);
 * ```
 * @module
 */

import { designFile, designNamed } from "../strategies/registry.ts";
import type { SweepRow } from "../sweep/columns.ts";
import { describeEvent } from "../trace/ops.ts";
import { formatSize, hex } from "../util/size.ts";
import type { CheckResult } from "./check.ts";
import type { Counterexample } from "./counterexample.ts";
import type { CostRows } from "./cost.ts";
import { costModelName } from "../sweep/spec.ts";
import type { VerifyPlan } from "./plan.ts";

/** The verdict of a verification. */
export interface Verdict {
  /** Every check held. */
  readonly correct: boolean;
  /** The shortest counterexample of the checks (the first in check order among equals). */
  readonly counterexample: Counterexample | null;
}

/** The verdict of `checks`: the shortest counterexample any of them found, if any. */
export function verdictOf(checks: readonly CheckResult[]): Verdict {
  let best: Counterexample | null = null;
  for (const c of checks) {
    const cx = c.counterexample;
    if (cx && (best === null || cx.trace.events.length < best.trace.events.length)) best = cx;
  }
  return { correct: checks.every((c) => c.status !== "fail"), counterexample: best };
}

/** What the report refers to. */
export interface ReportInput {
  /** The design verified. */
  readonly design: string;
  /** How thorough. */
  readonly plan: VerifyPlan;
  /** The checks, in the order they ran. */
  readonly checks: readonly CheckResult[];
  /** The cost check's rows (for the sentences under the figures). */
  readonly cost: CostRows | null;
  /** File names of the figures written beside the report, in order. */
  readonly figures: readonly { name: string; title: string }[];
  /** The command that reproduces the report. */
  readonly command: string;
  /** The command that replays the counterexample. */
  readonly replayCommand: string;
  /** Files of the counterexample beside the report (trace, selftest), when there is one. */
  readonly counterexampleFiles: readonly string[];
  /** s2lab's version and the commit of the code ("unknown" outside git). */
  readonly provenance: string;
}

const n = (x: number) =>
  x.toLocaleString("en-US", { maximumFractionDigits: Number.isInteger(x) ? 0 : 1 });

function cxSection(d: string, cx: Counterexample, files: readonly string[], cmd: string): string[] {
  const v = cx.violation;
  const last = cx.trace.events.length - 1;
  const how = cx.check === "exhaust"
    ? "shortest by breadth-first search"
    : "minimized: no event can be dropped";
  const out = [
    v
      ? `**Counterexample.** ${d} leaves a stale shadow entry after event ${v.event} of this ` +
        `${cx.trace.events.length}-event trace (found by the ${cx.check} check, ${cx.source}; ${how}).`
      : `**Counterexample.** ${d} throws at event ${last} of this ${cx.trace.events.length}-event ` +
        `trace (found by the ${cx.check} check, ${cx.source}; ${how}): ${cx.failure}.`,
    "",
    "| # | op | operands |",
    "|---|---|---|",
    ...cx.trace.events.map((e, i) => `| ${i} | \`${e.op}\` | ${describeEvent(e) || "—"} |`),
    "",
  ];
  if (v) {
    out.push(
      `After event ${v.event} (\`${v.op}\`), shadow MMU ${v.mmu} (L1 context ${v.context}) still ` +
        `holds a ${formatSize(v.size)} leaf at shadow IPA ${hex(v.shadowIpa)} -> host PA ` +
        `${hex(v.pa)}` + (v.canonicalIpa === null ? "" : `, canonical IPA ${hex(v.canonicalIpa)}`) +
        `: **${v.kind}** (${v.expected}). Kinds on this trace: ${cx.kinds.join(", ")}.`,
      "",
    );
  }
  out.push(
    cx.upstreamClean
      ? "Upstream's full walk leaves no stale entry on the same trace: the finding is the design's."
      : "Upstream's full walk is flagged on the same trace too: the finding is the model's or " +
        "the oracle's, not the design's alone; please report it.",
    "",
    "Files beside this report:",
    ...files.map((f) => `- \`${f}\``),
    "",
    "Replay it: `" + cmd + "`",
  );
  return out;
}

function costSentences(design: string, cost: CostRows, refs: readonly string[]): string[] {
  const out: string[] = [];
  const at = (rows: readonly SweepRow[], s: string) => rows.filter((r) => r.strategy === s);
  const maxV = Math.max(...cost.grid.map((r) => r.vcpus));
  for (const g of [...new Set(cost.grid.map((r) => r.granule))]) {
    for (const a of [...new Set(cost.grid.map((r) => r.alias))]) {
      const pick = (s: string) =>
        at(cost.grid, s).find((r) => r.granule === g && r.alias === a && r.vcpus === maxV);
      const mine = pick(design);
      if (!mine) continue;
      const others = refs.filter((s) => s !== design).map((s) => pick(s)).filter((r) => r);
      out.push(
        `- ${g} host pages, alias ${a}, ${maxV} vCPUs: ${design}'s worst unmap ` +
          `${n(mine.unmap_iterations_max)} iterations (≈ ${seconds(mine.unmap_est_ns_max)})` +
          (others.length
            ? "; " +
              others.map((r) =>
                `${r!.strategy} ${n(r!.unmap_iterations_max)} (≈ ${seconds(r!.unmap_est_ns_max)})`
              ).join(", ")
            : "") +
          (mine.soft_lockup ? " — **above the soft-lockup threshold**" : "") + ".",
      );
    }
  }
  const p = at(cost.populated, design)[0];
  if (p) {
    out.push(
      `- Populated point (${p.vcpus} vCPUs × ${formatSize(p.working_set_bytes)} working set): ` +
        `${n(p.unmap_leaves_destroyed_mean)} leaves destroyed per unmap on average, ` +
        `${n(p.refaults)} refaults, index ${n(p.memory_bytes_per_shadow_entry)} B per shadow ` +
        `entry, ${n(p.inserts_contended)} of ${n(p.inserts_total)} inserts contended ` +
        `(insert lock: ${p.insert_lock}).`,
    );
  }
  return out;
}

/** Which cost model the estimated times use, with its constants as the rows record them. */
function costModelSentence(cost: CostRows): string {
  const r = cost.grid[0] ?? cost.populated[0];
  const name = costModelName(cost.costModel);
  return r
    ? `Estimated times use ${name}: ${r.ns_per_iteration} ns per iteration, ` +
      `${r.ns_per_descriptor} ns per descriptor, soft lockup above ` +
      `${seconds(r.soft_lockup_threshold_ns)}.`
    : `Estimated times use ${name}.`;
}

function seconds(ns: number): string {
  const s = ns / 1e9;
  if (s >= 1) return `${s.toPrecision(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toPrecision(3)} ms`;
  return `${(s * 1e6).toPrecision(3)} µs`;
}

/** The report's Markdown. */
export function renderReport(r: ReportInput): string {
  const d = designNamed(r.design);
  const verdict = verdictOf(r.checks);
  const ran = r.checks.filter((c) => c.status === "pass" || c.status === "fail")
    .map((c) => c.check);
  const notRun = r.checks.filter((c) => c.status === "skipped").map((c) => c.check);
  const head = verdict.correct
    ? `# ${r.design}: correct on every check`
    : `# ${r.design}: counterexample found`;
  const lines = [
    head,
    "",
    verdict.correct
      ? `**Verdict: correct.** ${r.design} left no stale shadow entry in any check ` +
        `(${ran.join(", ")}; ${r.plan.mode} mode${
          notRun.length ? `; not run: ${notRun.join(", ")}` : ""
        }). What each check covered is below; a verdict holds for what was explored, not ` +
        "beyond it."
      : `**Verdict: not correct.** ${r.design} leaves a stale shadow entry.`,
    "",
  ];
  if (verdict.counterexample) {
    lines.push(
      ...cxSection(r.design, verdict.counterexample, r.counterexampleFiles, r.replayCommand),
      "",
    );
  }
  lines.push(
    "## Checks",
    "",
    "| check | result | what was checked |",
    "|---|---|---|",
    ...r.checks.map((c) => `| ${c.check} | ${c.status} | ${c.summary} |`),
    "",
  );
  if (r.cost) {
    lines.push(
      "## Cost beside " + r.plan.references.join(", "),
      "",
      costModelSentence(r.cost),
      "",
      ...costSentences(r.design, r.cost, r.plan.references),
      "",
      ...r.figures.flatMap((f) => [`![${f.title}](${f.name}.svg)`, ""]),
      "The rows behind every figure: `cost.csv` (sweep.csv's columns, docs/schema.md).",
      "",
    );
  }
  lines.push(
    "## The design",
    "",
    `- **${d.label}** — ${d.summary}`,
    `- role: ${d.role}; insert lock: ${d.insertLock}; scheduler estimate: ${d.leafBytes} B per leaf`,
    `- source: ${d.source}`,
    ...(designFile(r.design) ? [`- file: \`${designFile(r.design)}\``] : []),
    "",
    d.description,
    "",
    "## Reproduce",
    "",
    "`" + r.command + "`",
    "",
    `${r.provenance}. Wall times of each check: \`timing.csv\`.`,
    "",
  );
  return lines.join("\n");
}
