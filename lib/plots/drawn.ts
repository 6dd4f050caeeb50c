/**
 * What a figure drew, row by row, so that a checker that never runs the drawing code can
 * hold it to its rules (experiments/notebooks/check_facts.ts): each line as its points in
 * order, each point as the CSV rows behind it (a ratio has two), and every row drawn by any
 * mark. A row is named by its grid id, point index and strategy, which are unique in a
 * sweep CSV. A figure carries this in its Jupyter bundle as {@linkcode FIGURE_MIME}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { DrawnBook } from "./drawn.ts";
 * const r = (point: number) => ({ grid_id: "g", point, strategy: "rmap", vcpus: point });
 * const book = new DrawnBook("results/sweep.csv");
 * book.line("vcpus", [[r(1)], [r(2)]]);
 * assertEquals(book.drawn().lines[0].points, [[{ grid_id: "g", point: 1, strategy: "rmap" }],
 *   [{ grid_id: "g", point: 2, strategy: "rmap" }]]);
 * assertEquals(book.drawn().rows.length, 2);
 * ```
 * @module
 */

import { displayPath } from "./results.ts";

/** MIME type of what a figure states and drew (JSON: {@linkcode FigureRecord}). */
export const FIGURE_MIME = "application/vnd.s2lab.figure+json";

/** A CSV row, by what names it. */
export interface RowKey {
  /** Grid id. */
  grid_id: string;
  /** Point index in the grid. */
  point: number;
  /** Strategy (design). */
  strategy: string;
}

/** One line: its x column and its points in drawing order, each the rows behind it. */
export interface DrawnLine {
  /** The column on x. */
  x: string;
  /** Points, each the rows it is computed from. */
  points: RowKey[][];
}

/** What a figure drew from one CSV. */
export interface Drawn {
  /** The CSV (relative to the repository root when inside it). */
  file: string;
  /** Every row drawn by any mark. */
  rows: RowKey[];
  /** The lines. */
  lines: DrawnLine[];
}

type Row = Record<string, string | number>;

/** The key of a sweep row. */
export function rowKey(r: Row): RowKey {
  return { grid_id: String(r.grid_id), point: Number(r.point), strategy: String(r.strategy) };
}

/** Collects what a figure draws (see the module doc). */
export class DrawnBook {
  private readonly file: string;
  private readonly keys = new Map<string, RowKey>();
  private readonly lines: DrawnLine[] = [];

  /** A book for rows of the CSV at `path`. */
  constructor(path: string) {
    this.file = displayPath(path);
  }

  /** Rows drawn by a mark (dots, bars, cells). */
  rows(rows: readonly Row[]): void {
    for (const r of rows) {
      const k = rowKey(r);
      this.keys.set(JSON.stringify(k), k);
    }
  }

  /** A line through points (each the rows behind it), in drawing order, with x `x`. */
  line(x: string, points: readonly (readonly Row[])[]): void {
    if (points.length === 0) return;
    for (const p of points) this.rows(p);
    this.lines.push({ x, points: points.map((p) => p.map(rowKey)) });
  }

  /** What was drawn. */
  drawn(): Drawn {
    return { file: this.file, rows: [...this.keys.values()], lines: this.lines };
  }
}
