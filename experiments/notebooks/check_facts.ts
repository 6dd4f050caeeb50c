/**
 * `deno run --allow-read experiments/notebooks/check_facts.ts NOTEBOOK.ipynb...`: check
 * that the takeaways of executed notebooks agree with their data. Every
 * takeaway cell carries its numbers as facts (`application/vnd.s2lab.facts+json`, see
 * lib/plots/takeaway.ts): a file, a row filter, a column, an aggregate, the value and the
 * text the sentence shows. This checker shares no code with the notebooks' library: it
 * reads each fact's CSV with @std/csv, filters and reduces it itself, and fails when a
 * value differs, when the sentence does not contain the fact's text, when a ratio is not
 * the quotient of its facts, or when a notebook has no takeaway at all. Figures carry what
 * they drew and state (`application/vnd.s2lab.figure+json`, lib/plots/drawn.ts): each line
 * must join points of one configuration (they differ only in the x axis), the facts of
 * the takeaway under a figure must read only rows it drew, and the facts a figure's own
 * text states (the subtitle's pins) must hold and stand in that text.
 *
 * Exit status: 0 every fact holds, 1 a fact does not (one line each), 2 bad input.
 *
 * @module
 */

import { parse } from "@std/csv";
import { DIMENSIONS } from "../../lib/sweep/grid.ts";
import { COST_FLAGS } from "../../lib/sweep/spec.ts";
import { runChecker } from "./checker.ts";

type Cell = string;
type Row = Record<string, Cell>;
type Want = string | number | (string | number)[];

export interface Fact {
  id: string;
  file: string;
  where: Record<string, Want>;
  column: string;
  agg: string;
  columns?: string[];
  value: number | null;
  shown: string;
}

export interface Ratio {
  id: string;
  num: string;
  den: string;
  value: number | null;
  shown: string;
}

const MIME = "application/vnd.s2lab.facts+json";
/** What a figure drew and states (lib/plots/drawn.ts FIGURE_MIME). */
const FIGURE_MIME = "application/vnd.s2lab.figure+json";
const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

const cache = new Map<string, Row[]>();
function rowsOf(file: string): Row[] {
  const path = file.startsWith("/") ? file : ROOT + file;
  let rows = cache.get(path);
  if (!rows) {
    const text = Deno.readTextFileSync(path);
    rows = parse(text, { skipFirstRow: true }) as Row[];
    cache.set(path, rows);
  }
  return rows;
}

function same(cell: Cell | undefined, want: string | number): boolean {
  if (cell === undefined) return false;
  if (cell === String(want)) return true;
  const a = Number(cell), b = Number(want);
  return cell.trim() !== "" && Number.isFinite(a) && Number.isFinite(b) && a === b;
}

/** Recompute a fact from its CSV. */
export function recompute(f: Fact): number {
  const kept = rowsOf(f.file).filter((r) =>
    Object.entries(f.where).every(([c, w]) =>
      Array.isArray(w) ? w.some((x) => same(r[c], x)) : same(r[c], w)
    )
  );
  switch (f.agg) {
    case "count":
      return kept.length;
    case "distinct":
      return new Set(kept.map((r) => (f.columns ?? [f.column]).map((c) => r[c]).join("\u0000")))
        .size;
    case "sum":
      return kept.reduce((s, r) => s + Number(r[f.column]), 0);
    case "max":
    case "min": {
      if (kept.length === 0) return NaN;
      const vs = kept.map((r) => Number(r[f.column]));
      return f.agg === "max" ? Math.max(...vs) : Math.min(...vs);
    }
    default:
      throw new Error(`unknown aggregate ${f.agg}`);
  }
}

/**
 * `shown` stands in `text` as a number of its own: not inside a longer number ("0" is not
 * found in "1,024", "5" not in "2.5").
 */
export function statesNumber(text: string, shown: string): boolean {
  let i = text.indexOf(shown);
  while (i >= 0) {
    const before = text.slice(Math.max(0, i - 2), i);
    const after = text.slice(i + shown.length, i + shown.length + 2);
    const digitBefore = /\d$/.test(before) || /\d[.,]$/.test(before);
    const digitAfter = /^\d/.test(after) || /^[.,]\d/.test(after);
    if (!digitBefore && !digitAfter) return true;
    i = text.indexOf(shown, i + 1);
  }
  return false;
}

const close = (a: number, b: number) =>
  (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

interface Stated {
  facts: Fact[];
  ratios?: Ratio[];
}

interface RowKey {
  grid_id: string;
  point: number;
  strategy: string;
}

/** What a figure (or table) drew and states (lib/plots/drawn.ts, as its bundle carries it). */
export interface FigureRecord {
  name: string;
  stated?: Stated;
  drawn: { file: string; rows: RowKey[]; lines: { x: string; points: RowKey[][] }[] }[];
  /** A picture drawn elsewhere (a verify report's SVG), shown as it is: no rows recorded. */
  drawnBy?: string;
}

/**
 * Figures of a CSV that is not a sweep's (no grid id or point names its rows): 04's
 * timeline of one trace. (03's budget sweep, `deno task budget`, names its rows as a sweep
 * does and records the same configuration columns.)
 */
const NOT_A_SWEEP = new Set(["04-reproducer-timeline"]);

/**
 * Check stated facts and ratios against their CSVs and the text that states them; returns
 * how many were checked. `where` names the output in each problem.
 */
function checkStated(
  payload: Stated,
  text: string,
  where: string,
  problems: string[],
  noun = "takeaway",
): number {
  let n = 0;
  const got = new Map<string, number>();
  for (const f of payload.facts) {
    n++;
    let v: number;
    try {
      v = recompute(f);
    } catch (e) {
      problems.push(`${where}: fact ${f.id}: ${(e as Error).message}`);
      continue;
    }
    got.set(f.id, v);
    if (Number.isNaN(v)) {
      // A sentence about rows that are not there states nothing true.
      problems.push(
        `${where}: fact ${f.id} selects no row of ${f.file} ` +
          `(${f.agg} of ${f.column} where ${JSON.stringify(f.where)})`,
      );
      continue;
    }
    const claimed = f.value === null ? NaN : f.value; // JSON has no NaN
    if (!close(claimed, v)) {
      problems.push(
        `${where}: fact ${f.id} says ${f.value}, ${f.file} gives ${v} ` +
          `(${f.agg} of ${f.column} where ${JSON.stringify(f.where)})`,
      );
    }
    if (!statesNumber(text, f.shown)) {
      problems.push(`${where}: fact ${f.id} (${f.shown}) is not in its ${noun}`);
    }
  }
  for (const r of payload.ratios ?? []) {
    n++;
    const q = (got.get(r.num) ?? NaN) / (got.get(r.den) ?? NaN);
    const claimed = r.value === null ? NaN : r.value;
    if (!close(claimed, q) && !(Math.abs(claimed - q) <= 1e-9 * Math.abs(q))) {
      problems.push(`${where}: ratio ${r.id} says ${r.value}, its facts give ${q}`);
    }
    if (!statesNumber(text, r.shown)) {
      problems.push(`${where}: ratio ${r.id} (${r.shown}) is not in its ${noun}`);
    }
    const printed = Number(r.shown.replace(/,/g, ""));
    if (Number.isFinite(printed) && !(Math.abs(printed - q) <= 0.01 * Math.abs(q) + 0.005)) {
      problems.push(`${where}: ratio ${r.id} prints ${r.shown}, its facts give ${q}`);
    }
  }
  return n;
}

const keyOf = (k: RowKey | Row) => `${k.grid_id}|${k.point}|${k.strategy}`;

/**
 * The configuration of a sweep row: every grid dimension (lib/sweep/grid.ts), the contexts
 * per vCPU, the seed and the cost model, each by its column; a dimension that does not
 * apply to the row (retouch without a working set) is null.
 */
function configuration(r: Row): Record<string, string | null> {
  const c: Record<string, string | null> = {};
  for (const d of DIMENSIONS) {
    if (!d.column) {
      c.contexts_per_vcpu = String(Number(r.contexts) / Number(r.vcpus));
      continue;
    }
    c[d.column] = d.column === "retouch" && Number(r.working_set_bytes) === 0 ? null : r[d.column];
  }
  c.seed = r.seed;
  for (const f of COST_FLAGS) c[f.column] = r[f.column];
  return c;
}

/**
 * Problems of what a figure drew: a record with no row, a row its CSV has not, and a line
 * whose points differ in a dimension other than its x (an x that several dimensions make,
 * such as populated shadow leaves, names them joined by "+") or in their designs.
 */
export function drawnProblems(rec: FigureRecord, where: string): string[] {
  const problems: string[] = [];
  if (
    !rec.drawn.some((d) => d.rows.length > 0) && !NOT_A_SWEEP.has(rec.name) &&
    rec.drawnBy === undefined
  ) {
    problems.push(`${where} ${rec.name}: the figure records no drawn row`);
  }
  for (const d of rec.drawn) {
    const byKey = new Map(rowsOf(d.file).map((r) => [keyOf(r), r]));
    for (const [li, line] of d.lines.entries()) {
      const rows: Row[] = [];
      for (const k of line.points.flat()) {
        const r = byKey.get(keyOf(k));
        if (r) rows.push(r);
        else problems.push(`${where} ${rec.name}: drew ${keyOf(k)}, which ${d.file} has not`);
      }
      const configs = rows.map(configuration);
      const xs = line.x.split("+");
      const differ = Object.keys(configs[0] ?? {}).filter((k) =>
        !xs.includes(k) && new Set(configs.map((c) => c[k])).size > 1
      );
      const designs = new Set(line.points.map((p) => p.map((k) => k.strategy).sort().join("+")));
      if (designs.size > 1) differ.push("strategy");
      if (differ.length > 0) {
        problems.push(
          `${where} ${rec.name}: line ${li} (x ${line.x}) joins points that differ in ` +
            differ.map((k) =>
              k === "strategy"
                ? `strategy (${[...designs].join(", ")})`
                : `${k} (${[...new Set(configs.map((c) => c[k]))].join(", ")})`
            ).join(", "),
        );
      }
    }
  }
  return problems;
}

/** Problems of a takeaway's facts that read rows the figure above it (`rec`) did not draw. */
export function undrawnProblems(rec: FigureRecord, facts: Fact[], where: string): string[] {
  const problems: string[] = [];
  for (const d of rec.drawn) {
    const drawn = new Set(d.rows.map(keyOf));
    for (const f of facts.filter((f) => f.file === d.file)) {
      const read = rowsOf(d.file).filter((r) =>
        Object.entries(f.where).every(([c, w]) =>
          Array.isArray(w) ? w.some((x) => same(r[c], x)) : same(r[c], w)
        )
      );
      const extra = read.filter((r) => !drawn.has(keyOf(r)));
      if (extra.length > 0) {
        const cfg = configuration(extra[0]);
        problems.push(
          `${where}: fact ${f.id} reads ${extra.length} row(s) ${rec.name} did not draw (e.g. ` +
            `${extra[0].strategy} at ${
              Object.entries(cfg).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`)
                .join(" ")
            })`,
        );
      }
    }
  }
  return problems;
}

/** The text an SVG shows (every <text>, tags and entities removed). */
function svgText(svg: string): string {
  return [...svg.matchAll(/<text[^>]*>([\s\S]*?)<\/text>/g)]
    .map((m) =>
      m[1].replace(/<[^>]+>/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&")
    ).join(" ");
}

const str = (v: unknown) => (Array.isArray(v) ? v.join("") : String(v ?? ""));

/**
 * Problems of one executed notebook (empty: every rule holds); `facts` checked. A takeaway's
 * facts must hold, stand in its sentence and read only rows the figure (or table) above it
 * drew; a figure's stated facts (its subtitle's pins) must hold and stand in its text; a
 * figure's lines must each join one configuration.
 */
export function checkNotebook(path: string): { problems: string[]; facts: number } {
  const nb = JSON.parse(Deno.readTextFileSync(path));
  const name = path.split("/").pop();
  const problems: string[] = [];
  let facts = 0;
  let last: FigureRecord | undefined;
  nb.cells.forEach((
    c: { cell_type: string; outputs?: unknown[]; metadata?: { tags?: string[] } },
    i: number,
  ) => {
    if (c.cell_type !== "code") return;
    const tags = c.metadata?.tags ?? [];
    const outs = (c.outputs ?? []) as { data?: Record<string, unknown> }[];
    const where = `${name} cell ${i}`;
    if (tags.includes("takeaway") && !outs.some((o) => o.data?.[MIME])) {
      problems.push(`${where}: a takeaway cell shows no facts (${MIME})`);
    }
    for (const o of outs) {
      const rec = o.data?.[FIGURE_MIME] as FigureRecord | undefined;
      if (rec) {
        last = rec;
        problems.push(...drawnProblems(rec, where));
        const text = o.data?.["image/svg+xml"] !== undefined
          ? svgText(str(o.data["image/svg+xml"]))
          : str(o.data?.["text/markdown"]);
        if (rec.stated) {
          facts += checkStated(rec.stated, text, `${where} ${rec.name}`, problems, "figure's text");
        }
      }
      const payload = o.data?.[MIME] as Stated | undefined;
      if (!payload) continue;
      facts += checkStated(payload, str(o.data?.["text/markdown"]), where, problems);
      if (tags.includes("takeaway") && last) {
        problems.push(...undrawnProblems(last, payload.facts, where));
      }
    }
  });
  if (facts === 0) problems.push(`${name}: no takeaway with facts`);
  return { problems, facts };
}

if (import.meta.main) {
  runChecker("check_facts.ts NOTEBOOK.ipynb...", (p) => {
    const res = checkNotebook(p);
    return {
      problems: res.problems,
      summary: `${p.split("/").pop()}: ${res.facts} fact(s) recomputed from the CSVs${
        res.problems.length ? `, ${res.problems.length} FAILED` : ", all hold"
      }`,
    };
  });
}
