/**
 * The design record: everything the lab knows about one shadow-unmap design, in one
 * place. Every table, figure, selftest header and scheduler estimate reads it; a design
 * brought from a file outside `lib/` (`--design FILE`) is the same record, checked field by
 * field by {@linkcode checkDesign}.
 *
 * @example A minimal record, checked
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { checkDesign, DesignError } from "./design.ts";
 * import { FullWalk } from "./full_walk.ts";
 * const mine = {
 *   name: "my-walk",
 *   label: "my-walk (mine)",
 *   summary: "the full walk again, as a template",
 *   role: "user",
 *   knownBroken: false,
 *   reference: false,
 *   insertLock: "none",
 *   leafBytes: 130,
 *   description: "Walks every shadow MMU whole, like upstream.",
 *   source: "docs/designs.md",
 *   make: () => Object.assign(new FullWalk(), { name: "my-walk" }),
 * };
 * assertEquals(checkDesign(mine, "my.ts").name, "my-walk");
 * assertThrows(() => checkDesign({ ...mine, role: "ours!" }, "my.ts"), DesignError,
 *   'my.ts: design.role: "ours!" is not a role (expected one of upstream, rejected, proposal, series, ours, user)');
 * ```
 * @module
 */

import type { InsertLock, ReverseMapStrategy } from "../kvm/strategy.ts";
import { unknownKeys } from "../util/keys.ts";

/**
 * Whose design it is, as tables and legends group them:
 * - `upstream`: what the kernel does today;
 * - `rejected`: a posted patch that review turned down (kept for its bugs);
 * - `proposal`: a design proposed in review but never posted as code (the model's reading);
 * - `series`: a public patch series under review or merged;
 * - `ours`: s2lab's own designs;
 * - `user`: a design brought from a file with `--design`.
 */
export type DesignRole = "upstream" | "rejected" | "proposal" | "series" | "ours" | "user";

/** Every role, in the order legends list them. */
export const DESIGN_ROLES: readonly DesignRole[] = [
  "upstream",
  "rejected",
  "proposal",
  "series",
  "ours",
  "user",
];

/** Every insert lock a design may name (see {@linkcode InsertLock}). */
export const INSERT_LOCKS: readonly InsertLock[] = ["vm", "mmu", "chunk", "none"];

/** How a design is drawn in every figure (the same everywhere, so a reader learns it once). */
export interface DesignStyle {
  /** Line and dot colour (CSS colour). */
  readonly color: string;
  /** SVG stroke-dasharray of its lines ("" = solid). */
  readonly dash: string;
  /** Observable Plot symbol of its dots. */
  readonly symbol: string;
  /** Dots drawn hollow (so that a design drawn on top of another still shows). */
  readonly hollow: boolean;
}

/** Observable Plot's named symbols, which {@linkcode DesignStyle.symbol} must be one of. */
export const PLOT_SYMBOLS: readonly string[] = [
  "asterisk",
  "circle",
  "cross",
  "diamond",
  "diamond2",
  "hexagon",
  "plus",
  "square",
  "square2",
  "star",
  "times",
  "triangle",
  "triangle2",
  "wye",
];

/** One shadow-unmap design: its facts and its factory. */
export interface Design {
  /** The name `--strategy` selects it by and every CSV row carries: `[a-z0-9][a-z0-9-]*`. */
  readonly name: string;
  /** Legend label: the name and whose design it is, e.g. `rmap (ours)`. */
  readonly label: string;
  /** One line saying what it is (tables, the selftest header). */
  readonly summary: string;
  /** Whose design it is. */
  readonly role: DesignRole;
  /**
   * Known to leave stale shadow entries (the rejected patch): its violations are the
   * expected result of a sweep or a fuzz run; anyone else's are a finding.
   */
  readonly knownBroken: boolean;
  /**
   * A reference design: `deno task verify` draws a new design's costs beside every
   * reference (upstream, the series under review, our best).
   */
  readonly reference: boolean;
  /** The lock its index insert takes in a kernel port (contention columns). */
  readonly insertLock: InsertLock;
  /**
   * Process bytes per populated working-set leaf while the design replays, all state
   * included (tables, index, oracle and runtime): what the sweep's scheduler budgets for
   * it. Over-estimate when unsure.
   */
  readonly leafBytes: number;
  /** One paragraph: how it finds the shadow leaves of a canonical range. */
  readonly description: string;
  /** Where it comes from: a patch (list, date, subject), a document, a file. */
  readonly source: string;
  /** Figure style; a design brought from a file may leave it out and get one of its own. */
  readonly style?: DesignStyle;
  /** A fresh instance, with options such as `budget` (bytes). */
  make(opts: Record<string, number>): ReverseMapStrategy;
}

/** A design record that does not hold together: `where: problem`, one line. */
export class DesignError extends Error {
  /** Where the record came from: a file, or a built-in's name. */
  readonly where: string;
  /** `where: problem`. */
  constructor(where: string, problem: string) {
    super(`${where}: ${problem}`);
    this.where = where;
    this.name = "DesignError";
  }
}

/** The keys a record may hold, each with the check of its value. */
const FIELDS: Readonly<Record<keyof Design, { optional?: boolean; check(v: unknown): string }>> = {
  name: {
    check: (v) =>
      typeof v === "string" && /^[a-z0-9][a-z0-9-]{0,39}$/.test(v)
        ? ""
        : `${
          JSON.stringify(v)
        } is not a design name (lower-case letters, digits and "-", at most 40)`,
  },
  label: { check: (v) => line(v, 80) },
  summary: { check: (v) => line(v, 120) },
  role: {
    check: (v) =>
      DESIGN_ROLES.includes(v as DesignRole)
        ? ""
        : `${JSON.stringify(v)} is not a role (expected one of ${DESIGN_ROLES.join(", ")})`,
  },
  knownBroken: { check: (v) => typeof v === "boolean" ? "" : "expected true or false" },
  reference: { check: (v) => typeof v === "boolean" ? "" : "expected true or false" },
  insertLock: {
    check: (v) =>
      INSERT_LOCKS.includes(v as InsertLock)
        ? ""
        : `${JSON.stringify(v)} is not an insert lock (expected one of ${INSERT_LOCKS.join(", ")})`,
  },
  leafBytes: {
    check: (v) =>
      typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 1 << 20
        ? ""
        : `${JSON.stringify(v)} is not a byte count per leaf (an integer, 1..1048576)`,
  },
  description: { check: (v) => typeof v === "string" && v.trim() !== "" ? "" : "expected text" },
  source: { check: (v) => line(v, 300) },
  style: { optional: true, check: checkStyle },
  make: { check: (v) => typeof v === "function" ? "" : "expected a function (opts) => design" },
};

function line(v: unknown, max: number): string {
  if (typeof v !== "string" || v.trim() === "") return "expected one line of text";
  if (v.includes("\n")) return "expected one line of text, got several";
  return v.length <= max ? "" : `${v.length} characters (at most ${max})`;
}

function checkStyle(v: unknown): string {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    return "expected { color, dash, symbol, hollow }";
  }
  const s = v as Record<string, unknown>;
  const extra = unknownKeys(s, ["color", "dash", "symbol", "hollow"]);
  if (extra.length > 0) return extra[0].problem;
  if (typeof s.color !== "string" || !/^#[0-9a-fA-F]{6}$/.test(s.color)) {
    return `color ${JSON.stringify(s.color)} is not a colour like "#1f77b4"`;
  }
  if (typeof s.dash !== "string" || !/^(\d+(,\d+)*)?$/.test(s.dash)) {
    return `dash ${JSON.stringify(s.dash)} is not a dash array like "5,3" ("" for solid)`;
  }
  if (typeof s.symbol !== "string" || !PLOT_SYMBOLS.includes(s.symbol)) {
    return `symbol ${JSON.stringify(s.symbol)} is not one of ${PLOT_SYMBOLS.join(", ")}`;
  }
  if (typeof s.hollow !== "boolean") return "hollow: expected true or false";
  return "";
}

/**
 * `value` as a {@linkcode Design}, or a {@linkcode DesignError} at `where` naming the
 * first field that is missing, unknown (with the nearest valid one) or malformed.
 * `requireStyle`: built-in designs must give their style.
 */
export function checkDesign(value: unknown, where: string, requireStyle = false): Design {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DesignError(where, "the design record is not an object");
  }
  const rec = value as Record<string, unknown>;
  const extra = unknownKeys(rec, Object.keys(FIELDS));
  if (extra.length > 0) throw new DesignError(where, `design: ${extra[0].problem}`);
  for (const [key, f] of Object.entries(FIELDS)) {
    const v = rec[key];
    if (v === undefined) {
      if (f.optional && !(requireStyle && key === "style")) continue;
      throw new DesignError(where, `design.${key}: missing`);
    }
    const problem = f.check(v);
    if (problem !== "") throw new DesignError(where, `design.${key}: ${problem}`);
  }
  return rec as unknown as Design;
}
