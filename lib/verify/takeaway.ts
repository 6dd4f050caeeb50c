/**
 * The takeaways of a verify report folder (notebooks/06-try-a-design), each number
 * computed from the folder's CSVs and carried as a fact (lib/plots/takeaway.ts) that
 * experiments/notebooks/check_facts.ts recomputes: what the correctness checks covered
 * (`cases.csv`, `exhaust.csv`, `fuzz.csv`) and what the design costs beside the reference
 * designs at the grid's largest vCPU count and at the populated point (`cost.csv`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { checksTakeaway } from "./takeaway.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/cases.csv`, "case,ok,violations\na,1,0\nb,0,2\n");
 * const t = await checksTakeaway(dir);
 * assertEquals(t.text, "- **Cases**: 1 of 2 held the expectation of a correct design.");
 * assertEquals(t.facts.map((f) => f.value), [1, 2]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */

import { FactBook, formatRatio, type Takeaway } from "../plots/takeaway.ts";
import { formatSize } from "../util/size.ts";
import { parseCsv } from "../util/csv.ts";

/** A CSV of the folder as a fact book, or null when the check did not run. */
async function book(dir: string, file: string): Promise<FactBook | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/${file}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const rows = parseCsv(text).rows;
  return rows.length === 0 ? null : new FactBook(`${dir}/${file}`, rows);
}

/** A count in full, with separators: kernel developers compare exact iterations. */
const exact = (v: number) => v.toLocaleString("en-US");

const distinctValues = (
  fb: FactBook,
  col: string,
) => [...new Set(fb.rows.map((r) => String(r[col])))];

/** What the cases, the exhaustive search and the fuzz campaign covered, in numbers. */
export async function checksTakeaway(dir: string): Promise<Takeaway> {
  const lines: string[] = [];
  const cases = await book(dir, "cases.csv");
  const sink = cases ?? new FactBook(`${dir}/cases.csv`, []);
  if (cases) {
    const held = cases.fact("cases.held", { ok: 1 }, "ok", "count");
    const all = cases.fact("cases.all", {}, "ok", "count");
    lines.push(
      `- **Cases**: ${held.shown} of ${all.shown} held the expectation of a correct design.`,
    );
  }
  const ex = await book(dir, "exhaust.csv");
  if (ex) {
    const exf = sink.other(ex.file, ex.rows);
    const worlds = distinctValues(ex, "world").map((w) => {
      const done = { world: w, complete: 1 };
      const depth = exf.fact(`exhaust.${w}.depth`, done, "depth", "max");
      const states = exf.fact(`exhaust.${w}.states`, done, "new_distinct", "sum");
      return `world ${w} every sequence of up to ${depth.shown} event${
        depth.value === 1 ? "" : "s"
      } (${states.shown} distinct states)`;
    });
    lines.push(`- **Exhaustive search**: ${worlds.join("; ")}.`);
  }
  const fz = await book(dir, "fuzz.csv");
  if (fz) {
    const fzf = sink.other(fz.file, fz.rows);
    const traces = fzf.fact("fuzz.traces", {}, "seed", "count");
    const events = fzf.fact("fuzz.events", {}, "events", "sum");
    const clean = fzf.fact("fuzz.clean", { violations: 0 }, "seed", "count");
    lines.push(
      `- **Fuzz**: ${traces.shown} random trace${traces.value === 1 ? "" : "s"} ` +
        `(${events.shown} events), ${clean.shown} of them without a stale entry.`,
    );
  }
  return sink.takeaway(lines.join("\n"));
}

/**
 * The design's worst host unmap beside each reference design at the grid's largest vCPU
 * count (per granule and alias density), and its index memory and insert-lock contention
 * at the populated point; null when the cost check did not run.
 */
export async function costTakeaway(dir: string, design: string): Promise<Takeaway | null> {
  const cost = await book(dir, "cost.csv");
  if (!cost) return null;
  const others = distinctValues(cost, "strategy").filter((s) => s !== design);
  const grid = cost.rows.filter((r) => Number(r.working_set_bytes) === 0);
  const lines: string[] = [];
  if (grid.length > 0) {
    const vcpus = Math.max(...grid.map((r) => Number(r.vcpus)));
    for (const granule of [...new Set(grid.map((r) => r.granule))]) {
      for (const alias of [...new Set(grid.map((r) => r.alias))]) {
        const at = { vcpus, granule, alias, working_set_bytes: 0 };
        const worst = (s: string) =>
          cost.fact(
            `${s}.${granule}.${alias}`,
            { ...at, strategy: s },
            "unmap_iterations_max",
            "max",
            exact,
          );
        const mine = worst(design);
        const refs = others.map((s) => {
          const f = worst(s);
          const times = mine.value > 0 && f.value > mine.value
            ? ` (${cost.ratio(`${s}.${granule}.${alias}.x`, f, mine).shown}× the iterations)`
            : "";
          return `${s} ${f.shown}${times}`;
        });
        lines.push(
          `- ${vcpus} vCPUs, ${granule} host pages, alias ${alias}: ${design}'s worst host ` +
            `unmap takes **${mine.shown}** iterations; ${refs.join(", ")}.`,
        );
      }
    }
  }
  const ws = Math.max(0, ...cost.rows.map((r) => Number(r.working_set_bytes)));
  const pop = cost.rows.find((r) => r.strategy === design && Number(r.working_set_bytes) === ws);
  if (ws > 0 && pop) {
    const at = { working_set_bytes: ws };
    const bytes = (s: string) =>
      cost.fact(
        `${s}.bytes_per_entry`,
        { ...at, strategy: s },
        "memory_bytes_per_shadow_entry",
        "max",
        formatRatio,
      );
    const mine = bytes(design);
    const contended = cost.fact(
      "inserts.contended",
      { ...at, strategy: design },
      "inserts_contended",
      "max",
    );
    const total = cost.fact("inserts.total", { ...at, strategy: design }, "inserts_total", "max");
    lines.push(
      `- Populated point (${pop.vcpus} vCPUs, ${formatSize(ws)} working set per L2 context): ` +
        `${design}'s index takes **${mine.shown}** bytes per shadow entry (` +
        others.map((s) => `${s} ${bytes(s).shown}`).join(", ") +
        `); ${contended.shown} of its ${total.shown} inserts found the ${pop.insert_lock} ` +
        "lock taken.",
    );
  }
  return cost.takeaway(lines.join("\n"));
}
