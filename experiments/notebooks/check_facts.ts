/**
 * `deno run --allow-read experiments/notebooks/check_facts.ts NOTEBOOK.ipynb...`: check
 * that the takeaways of executed notebooks agree with their data (issue #12). Every
 * takeaway cell carries its numbers as facts (`application/vnd.s2lab.facts+json`, see
 * lib/plots/takeaway.ts): a file, a row filter, a column, an aggregate, the value and the
 * text the sentence shows. This checker shares no code with the notebooks' library: it
 * reads each fact's CSV with @std/csv, filters and reduces it itself, and fails when a
 * value differs, when the sentence does not contain the fact's text, when a ratio is not
 * the quotient of its facts, or when a notebook has no takeaway at all.
 *
 * Exit status: 0 every fact holds, 1 a fact does not (one line each), 2 bad input.
 *
 * @module
 */

import { parse } from "@std/csv";

type Cell = string;
type Row = Record<string, Cell>;
type Want = string | number | (string | number)[];

interface Fact {
  id: string;
  file: string;
  where: Record<string, Want>;
  column: string;
  agg: string;
  columns?: string[];
  value: number | null;
  shown: string;
}

interface Ratio {
  id: string;
  num: string;
  den: string;
  value: number | null;
  shown: string;
}

const MIME = "application/vnd.s2lab.facts+json";
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

/** Problems of one executed notebook (empty: every fact holds); `count` facts checked. */
export function checkNotebook(path: string): { problems: string[]; facts: number } {
  const nb = JSON.parse(Deno.readTextFileSync(path));
  const name = path.split("/").pop();
  const problems: string[] = [];
  let facts = 0;
  nb.cells.forEach((
    c: { cell_type: string; outputs?: unknown[]; metadata?: { tags?: string[] } },
    i: number,
  ) => {
    if (c.cell_type !== "code") return;
    const outs = (c.outputs ?? []) as { data?: Record<string, unknown> }[];
    if ((c.metadata?.tags ?? []).includes("takeaway") && !outs.some((o) => o.data?.[MIME])) {
      problems.push(`${name} cell ${i}: a takeaway cell shows no facts (${MIME})`);
    }
    for (const o of (c.outputs ?? []) as { data?: Record<string, unknown> }[]) {
      const payload = o.data?.[MIME] as { facts: Fact[]; ratios: Ratio[] } | undefined;
      if (!payload) continue;
      const md = o.data?.["text/markdown"];
      const text = Array.isArray(md) ? md.join("") : String(md ?? "");
      const got = new Map<string, number>();
      for (const f of payload.facts) {
        facts++;
        let v: number;
        try {
          v = recompute(f);
        } catch (e) {
          problems.push(`${name} cell ${i}: fact ${f.id}: ${(e as Error).message}`);
          continue;
        }
        got.set(f.id, v);
        if (Number.isNaN(v)) {
          // A sentence about rows that are not there states nothing true.
          problems.push(
            `${name} cell ${i}: fact ${f.id} selects no row of ${f.file} ` +
              `(${f.agg} of ${f.column} where ${JSON.stringify(f.where)})`,
          );
          continue;
        }
        const claimed = f.value === null ? NaN : f.value; // JSON has no NaN
        if (!close(claimed, v)) {
          problems.push(
            `${name} cell ${i}: fact ${f.id} says ${f.value}, ${f.file} gives ${v} ` +
              `(${f.agg} of ${f.column} where ${JSON.stringify(f.where)})`,
          );
        }
        if (!statesNumber(text, f.shown)) {
          problems.push(`${name} cell ${i}: fact ${f.id} (${f.shown}) is not in its takeaway`);
        }
      }
      for (const r of payload.ratios ?? []) {
        facts++;
        const q = (got.get(r.num) ?? NaN) / (got.get(r.den) ?? NaN);
        const claimed = r.value === null ? NaN : r.value;
        if (!close(claimed, q) && !(Math.abs(claimed - q) <= 1e-9 * Math.abs(q))) {
          problems.push(`${name} cell ${i}: ratio ${r.id} says ${r.value}, its facts give ${q}`);
        }
        if (!statesNumber(text, r.shown)) {
          problems.push(`${name} cell ${i}: ratio ${r.id} (${r.shown}) is not in its takeaway`);
        }
        const printed = Number(r.shown.replace(/,/g, ""));
        if (Number.isFinite(printed) && !(Math.abs(printed - q) <= 0.01 * Math.abs(q) + 0.005)) {
          problems.push(`${name} cell ${i}: ratio ${r.id} prints ${r.shown}, its facts give ${q}`);
        }
      }
    }
  });
  if (facts === 0) problems.push(`${name}: no takeaway with facts`);
  return { problems, facts };
}

if (import.meta.main) {
  if (Deno.args.length === 0) {
    console.error("usage: check_facts.ts NOTEBOOK.ipynb...");
    Deno.exit(2);
  }
  let failed = false;
  for (const p of Deno.args) {
    let res;
    try {
      res = checkNotebook(p);
    } catch (e) {
      console.error(`error: ${p}: ${(e as Error).message}`);
      Deno.exit(2);
    }
    for (const line of res.problems) console.error(line);
    console.log(
      `${p.split("/").pop()}: ${res.facts} fact(s) recomputed from the CSVs${
        res.problems.length ? `, ${res.problems.length} FAILED` : ", all hold"
      }`,
    );
    failed ||= res.problems.length > 0;
  }
  if (failed) Deno.exit(1);
}
