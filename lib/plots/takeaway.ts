/**
 * Takeaways computed from the data: the sentences under a figure are built
 * from numbers a {@linkcode FactBook} computes from the rows it was given, and each number
 * goes out with the sentence as a machine-readable fact: the file, the row filter, the
 * column, the aggregate, the value and the text the sentence shows it as. A takeaway
 * shows itself in Jupyter as Markdown plus {@linkcode FACTS_MIME} (JSON, which a notebook
 * front end does not display), so that a checker that never runs this code
 * (experiments/notebooks/check_facts.ts) can recompute every number from the CSV and find
 * its text in the sentence.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { FactBook } from "./takeaway.ts";
 * const rows = [{ strategy: "rmap", it: 5 }, { strategy: "rmap", it: 9 }, { strategy: "x", it: 1 }];
 * const fb = new FactBook("results/t.csv", rows);
 * const worst = fb.fact("rmap.worst", { strategy: "rmap" }, "it", "max");
 * assertEquals([worst.value, worst.shown], [9, "9"]);
 * const t = fb.takeaway(`rmap's worst is ${worst.shown}.`);
 * assertEquals(t.facts.length, 1);
 * ```
 * @module
 */

import { displayPath } from "./results.ts";
import { formatCount } from "./style.ts";
import { JUPYTER_DISPLAY } from "./svg.ts";

/** MIME type of the facts a takeaway carries (a JSON object `{ facts, ratios }`). */
export const FACTS_MIME = "application/vnd.s2lab.facts+json";

/** How a fact reduces the rows its filter keeps. */
export type Aggregate = "max" | "min" | "sum" | "count" | "distinct";

/** A row filter: a column equals a value, or is one of a list of values. */
export type Where = Record<string, string | number | readonly (string | number)[]>;

/** One number a takeaway states, with how to recompute it from its file. */
export interface Fact {
  /** Name, unique within the takeaway. */
  id: string;
  /** CSV it comes from: relative to the repository root when inside it. */
  file: string;
  /** The rows it is computed over. */
  where: Where;
  /** The column reduced (for `count` and `distinct`, the first column of `columns`). */
  column: string;
  /** The reduction; `distinct` counts distinct tuples of `columns`. */
  agg: Aggregate;
  /** Columns whose distinct tuples `distinct` counts. */
  columns?: string[];
  /** The value. */
  value: number;
  /** How the sentence shows it (the checker finds this text in the sentence). */
  shown: string;
}

/** A quotient of two facts that a takeaway states ("X times fewer"). */
export interface Ratio {
  /** Name. */
  id: string;
  /** Fact id of the numerator. */
  num: string;
  /** Fact id of the denominator. */
  den: string;
  /** num / den. */
  value: number;
  /** How the sentence shows it. */
  shown: string;
}

/**
 * A number a sentence states that is not computed from the data: a kernel constant or a
 * definition, with where it comes from. The checker accepts a number in a sentence only
 * when a fact, a ratio or a constant shows it.
 */
export interface Constant {
  /** How the sentence shows it. */
  shown: string;
  /** Where it comes from (a kernel file and commit, a definition). */
  source: string;
}

/** What a takeaway or a figure's text states, as the checker reads it. */
export interface Stated {
  /** Facts. */
  facts: Fact[];
  /** Ratios of facts. */
  ratios: Ratio[];
  /** Constants. */
  constants: Constant[];
}

/** A computed sentence (Markdown) and the facts behind its numbers. */
export class Takeaway {
  /** Markdown. */
  readonly text: string;
  /** The numbers it states. */
  readonly facts: Fact[];
  /** The ratios it states. */
  readonly ratios: Ratio[];
  /** The constants it states. */
  readonly constants: Constant[];
  /** A takeaway from its parts. */
  constructor(text: string, facts: Fact[], ratios: Ratio[], constants: Constant[] = []) {
    this.text = text;
    this.facts = facts;
    this.ratios = ratios;
    this.constants = constants;
  }
  /** Markdown for people, the facts as JSON for the checker. */
  [JUPYTER_DISPLAY](): Record<string, unknown> {
    return {
      "text/markdown": this.text,
      "text/plain": this.text,
      [FACTS_MIME]: { facts: this.facts, ratios: this.ratios, constants: this.constants },
    };
  }
  /** The Markdown. */
  toString(): string {
    return this.text;
  }
}

function matches(v: string | number, want: string | number): boolean {
  if (v === want) return true;
  const a = Number(v), b = Number(want);
  return String(v).trim() !== "" && String(want).trim() !== "" && Number.isFinite(a) &&
    Number.isFinite(b) && a === b;
}

/** Rows that pass a filter. */
export function filterRows<R extends Record<string, string | number>>(
  rows: readonly R[],
  where: Where,
): R[] {
  return rows.filter((r) =>
    Object.entries(where).every(([c, w]) =>
      Array.isArray(w) ? w.some((x) => matches(r[c], x)) : matches(r[c], w as string | number)
    )
  );
}

/** Reduce rows as a fact does (`count` and `distinct` of no row are 0; max/min of none NaN). */
export function aggregate(
  rows: readonly Record<string, string | number>[],
  column: string,
  agg: Aggregate,
  columns?: readonly string[],
): number {
  if (agg === "count") return rows.length;
  if (agg === "distinct") {
    const cols = columns ?? [column];
    return new Set(rows.map((r) => JSON.stringify(cols.map((c) => String(r[c]))))).size;
  }
  const vs = rows.map((r) => Number(r[column]));
  if (agg === "sum") return vs.reduce((a, b) => a + b, 0);
  if (vs.length === 0) return NaN;
  return agg === "max" ? Math.max(...vs) : Math.min(...vs);
}

/**
 * Facts over one file's rows: each {@linkcode fact} computes a number (with the book's
 * base filter, the notebook's parameters, added to its own), remembers it, and returns its
 * value and text; {@linkcode takeaway} then wraps a sentence and the facts it used.
 */
export class FactBook {
  /** The file, as facts name it. */
  readonly file: string;
  /** The file's rows. */
  readonly rows: readonly Record<string, string | number>[];
  /** Filter added to every fact (the parameters' selection). */
  readonly base: Where;
  private sink: Stated;

  /** A book over `rows` read from `path`, every fact filtered by `base` too. */
  constructor(path: string, rows: readonly Record<string, string | number>[], base: Where = {}) {
    this.file = displayPath(path);
    this.rows = rows;
    this.base = base;
    this.sink = { facts: [], ratios: [], constants: [] };
  }

  /** A book over another file whose facts go into this book's next takeaway. */
  other(
    path: string,
    rows: readonly Record<string, string | number>[],
    base: Where = {},
  ): FactBook {
    const b = new FactBook(path, rows, base);
    b.sink = this.sink;
    return b;
  }

  private get facts(): Fact[] {
    return this.sink.facts;
  }
  private set facts(v: Fact[]) {
    this.sink.facts = v;
  }
  private get ratios(): Ratio[] {
    return this.sink.ratios;
  }
  private set ratios(v: Ratio[]) {
    this.sink.ratios = v;
  }

  /** Compute, remember and return a fact (shown with `format`, default thousands separators). */
  fact(
    id: string,
    where: Where,
    column: string,
    agg: Aggregate,
    format: (v: number) => string = formatCount,
    columns?: string[],
  ): Fact {
    const w = { ...this.base, ...where };
    const value = aggregate(filterRows(this.rows, w), column, agg, columns);
    const f: Fact = {
      id,
      file: this.file,
      where: w,
      column,
      agg,
      ...(columns ? { columns } : {}),
      value,
      shown: format(value),
    };
    this.facts = [...this.facts.filter((x) => x.file !== f.file || x.id !== id), f];
    return f;
  }

  /** A fact's value without recording it (to choose what to say before saying it). */
  peek(where: Where, column: string, agg: Aggregate, columns?: string[]): number {
    return aggregate(filterRows(this.rows, { ...this.base, ...where }), column, agg, columns);
  }

  /** A ratio of two facts (shown with `format`, default 3 significant digits). */
  ratio(
    id: string,
    num: Fact,
    den: Fact,
    format: (v: number) => string = (v) => formatRatio(v),
  ): Ratio {
    const value = num.value / den.value;
    const r: Ratio = { id, num: num.id, den: den.id, value, shown: format(value) };
    this.ratios = this.ratios.filter((x) => x.id !== id);
    this.ratios.push(r);
    return r;
  }

  /** A constant the next sentence states (see {@linkcode Constant}); returns `shown`. */
  constant(shown: string, source: string): string {
    if (!this.sink.constants.some((c) => c.shown === shown && c.source === source)) {
      this.sink.constants.push({ shown, source });
    }
    return shown;
  }

  /** Every fact, ratio and constant stated since the last call, and forget them. */
  collect(): Stated {
    const out = { ...this.sink };
    this.sink.facts = [];
    this.sink.ratios = [];
    this.sink.constants = [];
    return out;
  }

  /** The sentence(s) and every fact, ratio and constant stated since the last takeaway. */
  takeaway(text: string): Takeaway {
    const s = this.collect();
    return new Takeaway(text, s.facts, s.ratios, s.constants);
  }
}

/** A ratio in prose: 3 significant digits with separators ("1,960", "2.51", "0.398"). */
export function formatRatio(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
  return Number(v.toPrecision(3)).toLocaleString("en-US", { maximumFractionDigits: 6 });
}
