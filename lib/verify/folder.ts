/**
 * A `deno task verify` report folder read back for display (notebooks/06-try-a-design):
 * the verdict, the checks table and the counterexample section of `report.md` (./report.ts
 * writes them), and the figures it links, each SVG read from the folder. The wall-time
 * line and the checkout's commit at the report's end are left out, so what a notebook
 * shows depends only on the design, the plan and the code.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { readReportFolder } from "./folder.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/report.md`, [
 *   "# demo: correct on every check", "", "**Verdict: correct.** demo held.", "",
 *   "## Checks", "", "| check | result | what was checked |", "|---|---|---|",
 *   "| cases | pass | 14 cases |", "", "## Reproduce", "", "`deno task verify demo`", "",
 * ].join("\n"));
 * const r = await readReportFolder(dir);
 * assertEquals([r.design, r.correct, r.counterexample, r.figures.length], ["demo", true, null, 0]);
 * assertEquals(r.checks.split("\n").length, 3);
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */

import { Figure } from "../plots/svg.ts";

/** What a report folder shows. */
export interface ReportFolder {
  /** The folder. */
  readonly dir: string;
  /** The design verified (the report's title). */
  readonly design: string;
  /** Every check held. */
  readonly correct: boolean;
  /** The verdict paragraph (Markdown). */
  readonly verdict: string;
  /** The checks table (Markdown): one row per check, what it covered. */
  readonly checks: string;
  /** The counterexample section (Markdown: the minimized trace, the stale entry, the files). */
  readonly counterexample: string | null;
  /** The figures the report links, in its order, read from the folder's SVG files. */
  readonly figures: readonly Figure[];
  /** The command that made the report (its "Reproduce" section). */
  readonly command: string;
}

/** A report.md that is not what ./report.ts writes. */
export class ReportFolderError extends Error {
  /** One line naming the file and what is missing. */
  constructor(message: string) {
    super(message);
    this.name = "ReportFolderError";
  }
}

/** Lines from the first that starts with `start` up to (not including) the next `## `. */
function section(lines: readonly string[], start: (l: string) => boolean): string[] | null {
  const i = lines.findIndex(start);
  if (i < 0) return null;
  const end = lines.findIndex((l, j) => j > i && l.startsWith("## "));
  return lines.slice(i, end < 0 ? lines.length : end);
}

const trimBlank = (ls: readonly string[]) => ls.join("\n").trim();

/** Read `dir/report.md` and the figures it links. */
export async function readReportFolder(dir: string): Promise<ReportFolder> {
  const path = `${dir}/report.md`;
  const lines = (await Deno.readTextFile(path)).split("\n");
  const title = /^# (.+): (correct on every check|counterexample found)$/.exec(lines[0] ?? "");
  if (!title) throw new ReportFolderError(`${path}: no verdict title on its first line`);
  const verdict = lines.find((l) => l.startsWith("**Verdict"));
  if (verdict === undefined) throw new ReportFolderError(`${path}: no **Verdict** paragraph`);
  const checks = section(lines, (l) => l === "## Checks")?.filter((l) => l.startsWith("|"));
  if (!checks || checks.length < 3) throw new ReportFolderError(`${path}: no checks table`);
  const cx = section(lines, (l) => l.startsWith("**Counterexample.**"));
  const command = section(lines, (l) => l === "## Reproduce")?.find((l) => /^`.+`$/.test(l));
  if (command === undefined) throw new ReportFolderError(`${path}: no Reproduce command`);
  const figures: Figure[] = [];
  for (const l of lines) {
    const m = /^!\[(.+)\]\(([^/()]+)\.svg\)$/.exec(l);
    if (m) {
      const svg = await Deno.readTextFile(`${dir}/${m[2]}.svg`);
      figures.push(new Figure(m[2], m[1], svg, { drawnBy: "lib/verify/figures.ts" }));
    }
  }
  return {
    dir,
    design: title[1],
    correct: title[2] === "correct on every check",
    verdict,
    checks: checks.join("\n"),
    counterexample: cx ? trimBlank(cx) : null,
    figures,
    command: command.slice(1, -1),
  };
}
