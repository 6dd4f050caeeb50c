/**
 * Notebook 05, what our designs cost at host scale, drawn: the share of each design's index
 * inserts that contend under the lock it takes ({@linkcode hostContentionFigure}), and its
 * index memory as a share of the guest memory its live shadow leaves map, at the populated
 * working set ({@linkcode hostMemoryShareFigure}). Both against L1 vCPUs, a panel per
 * working set, on the rows the other figures of notebook 05 draw (./hostscale.ts).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { contendedShare } from "./hostcost.ts";
 * const r = { insert_lock: "vm", inserts_total: 200, inserts_contended: 50 };
 * assertEquals(contendedShare(r), 0.25);
 * ```
 * @module
 */

import { parseBacking } from "../host/backing.ts";
import { granule } from "../kvm/granule.ts";
import { SWEEP_COLUMNS } from "../sweep/columns.ts";
import { formatBytes } from "../util/size.ts";
import type { Coincident } from "./cost.ts";
import { DODGE_NOTE } from "./dodge.ts";
import { type HostPoint, vcpuPanels } from "./hostpanels.ts";
import { hostScaleSection } from "./hostscale.ts";
import { num, type SweepRecord } from "./results.ts";
import { pow10Ticks, strategyOrder } from "./style.ts";
import { composeFigure, type Figure, strategyLegend } from "./svg.ts";

type Row = Readonly<Record<string, string | number>>;

/**
 * The share (0..1) of a row's index inserts that are contended under the lock its design
 * takes (`inserts_contended` ÷ `inserts_total`, both of `insert_lock`); null for a design
 * that takes no insert lock (`none`: no index) or a row with no insert.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { contendedShare } from "./hostcost.ts";
 * assertEquals(contendedShare({ insert_lock: "chunk", inserts_total: 4, inserts_contended: 1 }), 0.25);
 * assertEquals(contendedShare({ insert_lock: "none", inserts_total: 4, inserts_contended: 0 }), null);
 * ```
 */
export function contendedShare(r: Row): number | null {
  const total = Number(r.inserts_total);
  if (r.insert_lock === "none" || !(total > 0)) return null;
  return Number(r.inserts_contended) / total;
}

/**
 * What a lock domain is, in the words of its column (`inserts_contended_<lock>` in
 * lib/sweep/columns.ts): "one lock per VM"; the lock's own name when it has no column.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { lockWords } from "./hostcost.ts";
 * assertEquals(lockWords("vm"), "one lock per VM");
 * assertEquals(lockWords("none"), "none");
 * ```
 */
export function lockWords(lock: string): string {
  const c = SWEEP_COLUMNS.find((c) => c.name === `inserts_contended_${lock}`);
  return c ? c.description.replace(/^the same with /, "") : lock;
}

/**
 * Bytes of guest memory one live shadow leaf of the row maps: one host page of its granule
 * when guest memory is backed by pages (a shadow leaf is never larger than the host mapping
 * it copies, nor smaller than a page); null for other backings, whose leaves the CSV does
 * not size.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { leafBytes } from "./hostcost.ts";
 * assertEquals(leafBytes({ granule: "4K", backing: "page" }), 4096);
 * assertEquals(leafBytes({ granule: "64K", backing: "page" }), 65536);
 * assertEquals(leafBytes({ granule: "4K", backing: "thp" }), null);
 * ```
 */
export function leafBytes(r: Row): number | null {
  if (r.backing !== "page") return null;
  return parseBacking(granule(String(r.granule)), "page").size;
}

/**
 * A row's index memory as a share (0..1) of the guest memory it indexes at its peak:
 * `peak_memory_bytes` ÷ (`peak_shadow_entries` × {@linkcode leafBytes}); null when the leaf
 * size is unknown or the row has no leaf.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { memoryShare } from "./hostcost.ts";
 * const r = { granule: "4K", backing: "page", peak_memory_bytes: 4096, peak_shadow_entries: 100 };
 * assertEquals(memoryShare(r), 0.01);
 * ```
 */
export function memoryShare(r: Row): number | null {
  const leaf = leafBytes(r);
  const leaves = Number(r.peak_shadow_entries);
  if (leaf === null || !(leaves > 0)) return null;
  return Number(r.peak_memory_bytes) / (leaves * leaf);
}

/**
 * Whether the row's peak holds every context's whole working set and the one page touched
 * through each of its trace's L1 mappings, and nothing else: `peak_shadow_entries` =
 * `contexts` × `working_set_bytes` ÷ leaf + `l1_mappings`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { fullyPopulated } from "./hostcost.ts";
 * const r = { granule: "4K", backing: "page", contexts: 2, working_set_bytes: 8192,
 *   l1_mappings: 3, peak_shadow_entries: 7 };
 * assertEquals(fullyPopulated(r), true);
 * assertEquals(fullyPopulated({ ...r, peak_shadow_entries: 6 }), false);
 * ```
 */
export function fullyPopulated(r: Row): boolean {
  const leaf = leafBytes(r);
  if (leaf === null) return false;
  const ws = Number(r.contexts) * Number(r.working_set_bytes) / leaf;
  return Number(r.peak_shadow_entries) === ws + Number(r.l1_mappings);
}

/** A panel's title: its working set, and its host pages when the panels' granules differ. */
function wsTitle(points: readonly HostPoint[]): (ws: number) => string {
  const granules = (ps: readonly HostPoint[]) => [...new Set(ps.map((p) => String(p.row.granule)))];
  const many = granules(points).length > 1;
  return (ws) =>
    `working set ${formatBytes(ws)} per context` +
    (many ? `, ${granules(points.filter((p) => p.p === ws)).join("/")} pages` : "");
}

/** The notes naming each series a chart does not draw, equal to another's in `what`. */
function notDrawn(coincident: readonly Coincident[], what: string): string[] {
  return coincident.map((c) =>
    `Not drawn: ${c.strategy} coincides with ${c.same} at all ${c.points} points (the same ` +
    `${what}); its line would hide under ${c.same}'s.`
  );
}

/**
 * A share (0..1) as a percentage to 3 significant digits, with more where those would
 * round a share short of 1 up to "100 %".
 */
function pct(v: number): string {
  let digits = 3;
  while (v < 1 && Number((100 * v).toPrecision(digits)) >= 100 && digits < 8) digits++;
  return `${Number((100 * v).toPrecision(digits))} %`;
}

/** A count as the CSV has it, with thousands separators. */
const exact = (v: number) => v.toLocaleString("en-US");

/** "a, b and c". */
function listed(xs: readonly string[]): string {
  return xs.length <= 1 ? xs.join("") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`;
}

/**
 * Insert-lock contention per design: the share of its index inserts that land in a lock
 * domain another vCPU inserted into in the same phase, under the lock the design takes,
 * against L1 vCPUs, a panel per working set (linear axis, 0 to 100 %). A design that
 * takes no insert lock is named in a note, a design whose every point is another's too is
 * named instead of drawn under it, and marks that sit on each other are spread along x.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { hostContentionFigure } from "./hostcost.ts";
 * import type { SweepRecord } from "./results.ts";
 * const row = (strategy: string, insert_lock: string, vcpus: number, inserts_contended: number) =>
 *   ({ grid_id: "g", point: vcpus, strategy, vcpus, alias: 0, working_set_bytes: 2 ** 20,
 *     granule: "4K", insert_lock, inserts_total: 100, inserts_contended });
 * const rows = [row("rmap", "vm", 1, 0), row("rmap", "vm", 8, 99), row("full-walk", "none", 8, 0)];
 * const f = hostContentionFigure(rows as unknown as SweepRecord[], 0);
 * assertEquals(f.record.drawn[0].lines.map((l) => l.points.length), [2]);
 * assert(f.svg.includes("full-walk takes no insert lock"));
 * ```
 */
export function hostContentionFigure(rows: readonly SweepRecord[], alias: number): Figure {
  const sec = hostScaleSection(rows, alias);
  const text = sec.text;
  const unlocked = strategyOrder(
    sec.rows.filter((r) => r.insert_lock === "none").map((r) => r.strategy),
  );
  const all: HostPoint[] = sec.rows.flatMap((r) => {
    const v = contendedShare(r);
    return v === null ? [] : [{
      row: r,
      strategy: r.strategy,
      p: num(r, "working_set_bytes"),
      x: num(r, "vcpus"),
      v,
    }];
  });
  const panel = vcpuPanels(all, sec.drawn, {
    ticks: [0, 0.25, 0.5, 0.75, 1],
    text: (v) => `${100 * v} %`,
    label: "↑ inserts contended under the design's own lock",
    type: "linear",
    domain: [-0.06, 1.06],
  }, wsTitle(all));
  const hidden = new Set(panel.coincident.map((c) => c.strategy));
  // Per lock, the least and most contended point of its designs, each as a ratio of facts;
  // the most contended lock first.
  const locks = [...new Set(all.map((p) => String(p.row.insert_lock)))];
  const most = (lock: string) =>
    Math.max(...all.filter((p) => p.row.insert_lock === lock).map((p) => p.v));
  const byLock: string[] = [];
  for (const lock of locks.sort((a, b) => most(b) - most(a))) {
    const ps = all.filter((p) => p.row.insert_lock === lock).sort((a, b) => a.v - b.v);
    const said = (p: HostPoint, end: string) => {
      const w = {
        strategy: p.strategy,
        vcpus: p.x,
        working_set_bytes: p.p,
        granule: String(p.row.granule),
      };
      const id = `${lock}.${end}`;
      const c = text.fact(`${id}.contended`, w, "inserts_contended", "max", exact);
      const t = text.fact(`${id}.inserts`, w, "inserts_total", "max", exact);
      return { share: text.ratio(`${id}.share`, c, t, pct).shown, of: `${c.shown} of ${t.shown}` };
    };
    const lo = said(ps[0], "least"), hi = said(ps[ps.length - 1], "most");
    const designs = listed(strategyOrder(ps.map((p) => p.strategy)));
    const words = lockWords(lock).replace(/ \(.*\)$/, "");
    byLock.push(
      `${designs} (${words}): ` +
        (lo.share === hi.share
          ? `${lo.share} at every point (${lo.of} to ${hi.of}).`
          : `${lo.share} (${lo.of}) to ${hi.share} (${hi.of}).`),
    );
  }
  const strategies = strategyOrder(all.map((p) => p.strategy)).filter((s) => !hidden.has(s));
  return composeFigure({
    name: "05-host-contention",
    title: "Insert-lock contention per design",
    subtitle: `Share of each design's index inserts (inserts_total, shadow leaves installed ` +
      `by nested faults) that land in a lock domain another vCPU also inserted into in the ` +
      `same phase, under the lock the design takes (insert_lock); alias density ${alias}. ` +
      `Linear axis.` + sec.pinSentence(),
    chart: panel.chart,
    legend: strategyLegend(strategies),
    notes: [
      "Inserts contended under each design's own lock, least and most over the points drawn:",
      ...byLock,
      ...notDrawn(panel.coincident, "share"),
      ...(unlocked.length === 0 ? [] : [
        `${listed(unlocked)} ${unlocked.length === 1 ? "takes" : "take"} no insert lock ` +
        `(insert_lock none: no index to insert into) and ${
          unlocked.length === 1 ? "is" : "are"
        } not drawn.`,
      ]),
      ...(panel.moved ? [DODGE_NOTE] : []),
    ],
    stated: text.collect(),
    drawn: [sec.drawn.drawn()],
  });
}

/**
 * Index memory as a share of the guest memory it indexes, at the populated working set:
 * `peak_memory_bytes` ÷ (`peak_shadow_entries` × the guest memory one shadow leaf maps),
 * against L1 vCPUs, a panel per working set (log axis). Rows whose leaf size the CSV does
 * not give (a backing other than pages) and designs that keep no index are named in notes.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { hostMemoryShareFigure } from "./hostcost.ts";
 * import type { SweepRecord } from "./results.ts";
 * // One context of 1 MiB (256 pages of 4 KiB) and 4 L1 mappings: 260 leaves at the peak.
 * const row = (strategy: string, vcpus: number, peak_memory_bytes: number) =>
 *   ({ grid_id: "g", point: vcpus, strategy, vcpus, contexts: vcpus, alias: 0,
 *     working_set_bytes: 2 ** 20, granule: "4K", backing: "page", l1_mappings: 4 * vcpus,
 *     peak_shadow_entries: 260 * vcpus, peak_memory_bytes });
 * const rows = [row("rmap", 1, 13_000), row("rmap", 2, 26_000), row("full-walk", 2, 0)];
 * const f = hostMemoryShareFigure(rows as unknown as SweepRecord[], 0);
 * assertEquals(f.record.drawn[0].lines.map((l) => l.points.length), [2]);
 * assert(f.svg.includes("full-walk keeps no index"));
 * assert(f.svg.includes("Every point's peak is its populated working set"));
 * ```
 */
export function hostMemoryShareFigure(rows: readonly SweepRecord[], alias: number): Figure {
  const paged = rows.filter((r) => leafBytes(r) !== null);
  const others = [...new Set(rows.filter((r) => leafBytes(r) === null).map((r) => r.backing))];
  if (paged.length === 0) {
    throw new Error(
      `no row is backed by pages (backing ${listed(others.map(String))}): the CSV does not ` +
        "size their shadow leaves",
    );
  }
  const sec = hostScaleSection(paged, alias);
  const text = sec.text;
  const noIndex = strategyOrder(
    [...new Set(sec.rows.map((r) => r.strategy))].filter((s) =>
      sec.rows.every((r) => r.strategy !== s || num(r, "peak_memory_bytes") === 0)
    ),
  );
  const points: HostPoint[] = sec.rows.flatMap((r) => {
    const v = memoryShare(r);
    return v === null || v <= 0 ? [] : [{
      row: r,
      strategy: r.strategy,
      p: num(r, "working_set_bytes"),
      x: num(r, "vcpus"),
      v,
    }];
  });
  const vs = points.map((p) => p.v);
  // Whole decades, ticks at 1 and 3 of each.
  const lo = 10 ** Math.floor(Math.log10(Math.min(...vs) / 1.3));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...vs) * 1.3));
  const panel = vcpuPanels(points, sec.drawn, {
    ticks: pow10Ticks(lo, hi).flatMap((t) => [t, 3 * t]).filter((t) => t <= hi),
    text: pct,
    label: "↑ index bytes ÷ guest memory its shadow leaves map",
    type: "log",
    domain: [lo, hi],
  }, wsTitle(points));
  const hidden = new Set(panel.coincident.map((c) => c.strategy));
  // The leaf size of the rows drawn (one host page of their granule).
  const leafShown = listed(
    [...new Set(points.map((p) => String(p.row.granule)))].map((g) =>
      text.constant(
        formatBytes(leafBytes({ granule: g, backing: "page" })!),
        `one host page of granule ${g} (lib/kvm/granule.ts): with backing page a shadow ` +
          "leaf maps one host page",
      )
    ),
  ).replace(/ and /g, " or ");
  // The peak the formula reads: at the first point drawn that is not fully populated, or
  // else at the most populated one.
  const populated = points.every((p) => fullyPopulated(p.row));
  const shown = points.find((p) => !fullyPopulated(p.row))?.row ??
    points.reduce((a, b) =>
      num(b.row, "peak_shadow_entries") > num(a.row, "peak_shadow_entries") ? b : a
    ).row;
  const w = {
    strategy: shown.strategy,
    vcpus: num(shown, "vcpus"),
    working_set_bytes: num(shown, "working_set_bytes"),
    granule: String(shown.granule),
  };
  const peak = text.fact("peak.leaves", w, "peak_shadow_entries", "max", exact);
  const ctx = text.fact("peak.contexts", w, "contexts", "max", exact);
  const wsb = text.fact("peak.ws", w, "working_set_bytes", "max", formatBytes);
  const maps = text.fact("peak.l1_mappings", w, "l1_mappings", "max", exact);
  const page = formatBytes(leafBytes(shown)!);
  const at = `At ${text.fact("peak.vcpus", w, "vcpus", "max").shown} vCPUs and ${wsb.shown} ` +
    `(${shown.strategy}),`;
  const peakNote = populated
    ? `Every point's peak is its populated working set: peak_shadow_entries = contexts × ` +
      `working_set_bytes ÷ ${leafShown} + l1_mappings (one page touched through each L1 ` +
      `mapping of the trace). ${at} ${peak.shown} = ${ctx.shown} × ${wsb.shown} ÷ ${page} + ` +
      `${maps.shown}.`
    : `${at} the peak is ${peak.shown} leaves, not ${ctx.shown} contexts × ${wsb.shown} ÷ ` +
      `${page} + ${maps.shown} l1_mappings: not every working set is live at once.`;
  const strategies = strategyOrder(points.map((p) => p.strategy)).filter((s) => !hidden.has(s));
  return composeFigure({
    name: "05-host-memory-share",
    title: "Index memory as a share of the guest memory it indexes",
    subtitle: `Peak modeled kernel bytes of each design's index for the whole VM, over the ` +
      `guest memory its live shadow leaves map at their peak` +
      (populated ? ", when every context has touched its whole working set" : "") +
      `; alias density ${alias}. Log axis.` + sec.pinSentence(),
    chart: panel.chart,
    legend: strategyLegend(strategies),
    notes: [
      `Share = peak_memory_bytes ÷ (peak_shadow_entries × ${leafShown}); an alias leaf ` +
      "counts again, as the index holds it again.",
      peakNote,
      ...(noIndex.length === 0 ? [] : [
        `${listed(noIndex)} ${noIndex.length === 1 ? "keeps" : "keep"} no index (0 B): not ` +
        "drawn.",
      ]),
      ...(others.length === 0 ? [] : [
        `Rows with backing ${listed(others.map(String))} are not drawn: the CSV does not ` +
        "give the size of their shadow leaves.",
      ]),
      ...notDrawn(panel.coincident, "share"),
      ...(panel.moved ? [DODGE_NOTE] : []),
    ],
    stated: text.collect(),
    drawn: [sec.drawn.drawn()],
  });
}
