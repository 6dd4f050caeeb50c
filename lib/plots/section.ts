/**
 * What a figure and the takeaway under it share: the rows the figure draws (the
 * parameters' rows, sliced to one configuration per line: ./slice.ts), a fact book for the
 * numbers its title, subtitle, legend and notes state, a fact book for its takeaway (both
 * filtered to the drawn rows, so that a sentence cannot speak of a point the figure does
 * not show), and a record of what it drew (./drawn.ts).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { section } from "./section.ts";
 * const rows = [1, 8].flatMap((vcpus) => [4, 2].map((memslots) =>
 *   ({ grid_id: "g", point: vcpus * 10 + memslots, strategy: "rmap", vcpus, memslots })));
 * const s = section(rows, { x: "vcpus" });
 * assertEquals(s.rows.length, 2);
 * assertEquals(s.pinsText(), "--memslots 2");
 * ```
 * @module
 */

import {
  CONFIG_KEYS,
  configKey,
  pinFlags,
  type Slice,
  sliceRows,
  type SliceSpec,
} from "./slice.ts";
import { DrawnBook } from "./drawn.ts";
import { selectionWhere, sourceOf, type SweepRecord } from "./results.ts";
import { FactBook, type Where } from "./takeaway.ts";

type Row = Record<string, string | number>;

/** A figure's rows, books and record (see the module doc). */
export interface Section<R extends Row> {
  /** The CSV the rows come from. */
  readonly path: string;
  /** The rows drawn. */
  readonly rows: R[];
  /** The slice that kept them. */
  readonly slice: Slice<R>;
  /** Facts of the figure's text (filter: the drawn rows). */
  readonly text: FactBook;
  /** Facts of the takeaway (the same filter). */
  readonly takeaway: FactBook;
  /** What the figure drew. */
  readonly drawn: DrawnBook;
  /** The filter that selects the drawn rows. */
  readonly where: Where;
  /**
   * The pins as flags ("--l1-mem 256G, --alias 0.5"), each value stated as a fact of the
   * figure's text; "" when nothing was pinned.
   */
  pinsText(panelText?: (panel: Readonly<Record<string, string | number>>) => string): string;
  /** The pins as a subtitle's sentence (" The CSV varies more ... it draws --l1-mem 4G."), or "". */
  pinSentence(): string;
}

/** The columns a notebook's parameters filter on, and every configuration column. */
const SELECTION_COLUMNS = [
  "strategy",
  ...new Set(CONFIG_KEYS.map((k) => k.column)),
];

/** The section of a figure that shows `spec` of `rows` (see the module doc). */
export function section<R extends Row>(
  rows: readonly R[],
  spec: SliceSpec,
  extra: Where = {},
): Section<R> {
  const path = sourceOf(rows)?.path ?? "";
  const slice = sliceRows(rows, spec);
  const where: Where = {
    ...selectionWhere(rows as unknown as SweepRecord[], SELECTION_COLUMNS),
    ...slice.where,
    ...extra,
  };
  const text = new FactBook(path, sourceRows(rows), where);
  const takeaway = new FactBook(path, sourceRows(rows), where);
  return {
    path,
    rows: slice.rows,
    slice,
    text,
    takeaway,
    drawn: new DrawnBook(path),
    where,
    pinsText(panelText) {
      const flags = pinFlags(slice as unknown as Slice<Row>, panelText);
      return flags.map((f) => {
        const k = configKey(f.key);
        const ps = slice.pins.filter((p) => p.key === f.key);
        for (const p of ps) {
          // A text value (a backing, a granule) is a name, not a number the checker reads.
          if (typeof p.value !== "number") continue;
          if (k.key === "contexts_per_vcpu") {
            text.constant(k.format(p.value), "contexts ÷ vcpus of the rows drawn");
          } else {
            text.fact(
              `pin.${f.key}.${JSON.stringify(p.panel)}`,
              { ...p.panel, [k.column]: p.value },
              k.column,
              "max",
              (v) => k.format(v),
            );
          }
        }
        return f.text;
      }).join(", ");
    },
    pinSentence() {
      const pins = this.pinsText();
      return pins === "" ? "" : ` The CSV varies more than this figure shows: it draws ${pins}.`;
    },
  };
}

/** The rows of the file `rows` came from (the rows themselves when made in code). */
function sourceRows(rows: readonly Row[]): readonly Row[] {
  return (sourceOf(rows)?.rows ?? rows) as unknown as readonly Row[];
}
