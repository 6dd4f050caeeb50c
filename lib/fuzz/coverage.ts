/**
 * What a set of traces covered, counted from the traces alone (no replay): operations,
 * (host, L1) granule pairs, L1 leaf sizes and where they land (a memslot, MMIO), PA and L1
 * IPA sizes, memslot layouts (count, size, base alignment, backing, huge pages cut by a
 * slot's ends), host range sizes, and TLBI forms with the state of the VMID they name
 * (live, destroyed and not yet invalidated, or forgotten). Every dimension lists its whole
 * domain, so that what no trace covered shows as a zero ({@linkcode coverageGaps}).
 *
 * The counter follows the trace's state as the model does (memslots added and deleted;
 * contexts created, destroyed, and forgotten at a TLBI of their VMID or at ALLE1IS), so
 * that an event is classed by the state it meets.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { coverageGaps, traceCoverage } from "./coverage.ts";
 * import { parseTrace } from "../trace/trace.ts";
 * const t = parseTrace({
 *   name: "one page", config: { hostGranule: "4K", paBits: 36, vcpus: 1,
 *     memslots: [{ id: 0, base: "1G", size: "1G", backing: "thp" }],
 *     contexts: [{ id: 1, vmid: 1, granule: "16K", ipaBits: 36 }] },
 *   events: [{ op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "16K" }],
 * });
 * const c = traceCoverage(t);
 * assertEquals(c.counts["granules host/L1"]["4K/16K"], 1);
 * assertEquals(c.counts["PA bits"]["36"], 1);
 * assertEquals(coverageGaps(c).includes("op: touch"), true);
 * ```
 * @module
 */

import { granule, GRANULE_NAMES, type GranuleName, leafSizes, levelSize } from "../kvm/granule.ts";
import { type MemslotSpec, parseBacking } from "../host/memory.ts";
import type { L1ContextSpec } from "../guest/l1.ts";
import { TRACE_OPS, type TraceEvent } from "../trace/ops.ts";
import type { Trace } from "../trace/trace.ts";
import { isAligned } from "../util/size.ts";
import { GRANULE_PAIRS, L1_IPA_BITS, leafName, PA_RANGE_BITS } from "./domain.ts";

/** What a set of traces covered: per dimension, per value, how many times. */
export interface Coverage {
  /** Traces counted. */
  traces: number;
  /** Events counted. */
  events: number;
  /** Per dimension (in {@linkcode COVERAGE_DIMENSIONS} order), per value, a count. */
  counts: Record<string, Record<string, number>>;
}

/** One dimension of coverage: its name, what one count is, and its values. */
export interface CoverageDimension {
  /** Name, as printed. */
  readonly name: string;
  /** What one count is (`events`, `l1-maps`, `traces`, ...). */
  readonly unit: string;
  /** Every value it can take, in the order printed. */
  readonly values: readonly string[];
}

const G = 2 ** 30;

/** Where an L1 leaf's output range lands, against the memslots live when it is written. */
const REACH = ["in one memslot", "across memslots", "part MMIO", "all MMIO"] as const;
/** A memslot's size against the host PMD size. */
const SLOT_SIZE = ["1G", "other PMD multiple", "not a PMD multiple", "below PMD"] as const;
/** The largest of 1G, the host PMD and the host page a memslot base is aligned to. */
const SLOT_BASE = ["1G", "PMD, not 1G", "page, not PMD"] as const;
/** A huge-page-backed memslot's ends against its huge page size. */
const SLOT_ENDS = ["both ends aligned", "huge page cut at start", "huge page cut at end"] as const;
/** A host range operation's size against the host page and PMD sizes. */
const HOST_SIZE = ["one page", "pages below PMD", "PMD", "above PMD"] as const;
/** The state of the VMID a TLBI names, before the TLBI. */
const VMID_STATE = [
  "live context",
  "live and destroyed contexts",
  "destroyed contexts only",
  "forgotten contexts only",
  "never used",
] as const;
const TLBI_FORMS = [
  "ipa, no TTL",
  "ipa, TTL 1",
  "ipa, TTL 1 reserved (16K)",
  "ipa, TTL 2",
  "ipa, TTL 3",
  "range",
  "vmid",
  "all",
] as const;

/** Every dimension, in the order printed. */
export const COVERAGE_DIMENSIONS: readonly CoverageDimension[] = [
  { name: "op", unit: "events", values: TRACE_OPS },
  {
    name: "granules host/L1",
    unit: "l1-maps",
    values: GRANULE_PAIRS.map((p) => `${p.host}/${p.l1}`),
  },
  {
    name: "L1 leaf",
    unit: "l1-maps",
    values: GRANULE_NAMES.flatMap((g) => leafSizes(granule(g)).map((s) => leafName(g, s))),
  },
  { name: "L1 leaf lands", unit: "l1-maps", values: REACH },
  { name: "PA bits", unit: "traces", values: PA_RANGE_BITS.map(String) },
  { name: "L1 IPA bits", unit: "contexts", values: L1_IPA_BITS.map(String) },
  { name: "context", unit: "contexts", values: ["stage 2 on", "stage 2 off", "shares a VMID"] },
  { name: "memslots", unit: "traces", values: ["1", "2", "3", "4+"] },
  { name: "memslot size", unit: "memslots", values: SLOT_SIZE },
  { name: "memslot base", unit: "memslots", values: SLOT_BASE },
  {
    name: "memslot backing",
    unit: "memslots",
    values: ["page", "thp", "hugetlb PMD", "hugetlb PUD"],
  },
  { name: "huge page vs memslot", unit: "memslots", values: SLOT_ENDS },
  { name: "host range", unit: "host ranges", values: HOST_SIZE },
  {
    name: "host range lands",
    unit: "host ranges",
    values: ["in one memslot", "part outside"],
  },
  { name: "TLBI", unit: "TLBIs", values: TLBI_FORMS },
  { name: "TLBI VMID", unit: "TLBIs", values: VMID_STATE },
];

/** A coverage with every value of every dimension at zero. */
export function emptyCoverage(): Coverage {
  const counts: Record<string, Record<string, number>> = {};
  for (const d of COVERAGE_DIMENSIONS) {
    counts[d.name] = Object.fromEntries(d.values.map((v) => [v, 0]));
  }
  return { traces: 0, events: 0, counts };
}

/** Add `from` into `into` (values outside a dimension's domain are kept too); returns `into`. */
export function addCoverage(into: Coverage, from: Coverage): Coverage {
  into.traces += from.traces;
  into.events += from.events;
  for (const [dim, values] of Object.entries(from.counts)) {
    const to = into.counts[dim] ??= {};
    for (const [v, n] of Object.entries(values)) to[v] = (to[v] ?? 0) + n;
  }
  return into;
}

/** Every value no trace covered, as `dimension: value`, in table order. */
export function coverageGaps(c: Coverage): string[] {
  const out: string[] = [];
  for (const [dim, values] of Object.entries(c.counts)) {
    for (const [v, n] of Object.entries(values)) if (n === 0) out.push(`${dim}: ${v}`);
  }
  return out;
}

/** One context as the counter follows it. */
interface CtxState {
  id: number;
  vmid: number;
  granule: GranuleName;
  destroyed: boolean;
}

/** The counter's walk over one trace: the state it follows and the counts it makes. */
class CoverageWalk {
  readonly cov = emptyCoverage();
  private readonly host: GranuleName;
  private readonly page: number;
  private readonly pmd: number;
  private readonly slots = new Map<number, MemslotSpec>();
  private readonly slotIds = new Set<number>();
  /** Live contexts and destroyed ones not yet forgotten (as L1Hypervisor keeps them). */
  private contexts: CtxState[] = [];
  /** Every VMID a context ever had. */
  private readonly vmidsSeen = new Set<number>();
  /** Every (context id, VMID) declared, to tell a shared VMID. */
  private readonly declared: { id: number; vmid: number }[] = [];

  constructor(t: Trace) {
    this.host = t.config.hostGranule as GranuleName;
    const g = granule(this.host);
    this.page = g.pageSize;
    this.pmd = levelSize(g, 2);
    this.cov.traces = 1;
    this.cov.events = t.events.length;
    this.count("PA bits", String(t.config.paBits));
    for (const m of t.config.memslots) this.addSlot(m);
    for (const c of t.config.contexts) this.createContext(c);
    for (const e of t.events) this.event(e);
    const n = this.slotIds.size;
    this.count("memslots", n >= 4 ? "4+" : String(n));
  }

  private count(dim: string, value: string): void {
    const d = this.cov.counts[dim] ??= {};
    d[value] = (d[value] ?? 0) + 1;
  }

  private addSlot(m: MemslotSpec): void {
    this.slots.set(m.id, m);
    this.slotIds.add(m.id);
    const pmd = this.pmd;
    this.count(
      "memslot size",
      m.size === G
        ? "1G"
        : m.size < pmd
        ? "below PMD"
        : isAligned(m.size, pmd)
        ? "other PMD multiple"
        : "not a PMD multiple",
    );
    this.count(
      "memslot base",
      isAligned(m.base, G) ? "1G" : isAligned(m.base, pmd) ? "PMD, not 1G" : "page, not PMD",
    );
    const b = parseBacking(granule(this.host), m.backing);
    this.count(
      "memslot backing",
      b.kind !== "hugetlb" ? b.kind : b.size === this.pmd ? "hugetlb PMD" : "hugetlb PUD",
    );
    const huge = b.size;
    if (b.kind !== "page") {
      const atStart = !isAligned(m.base, huge), atEnd = !isAligned(m.base + m.size, huge);
      if (atStart) this.count("huge page vs memslot", "huge page cut at start");
      if (atEnd) this.count("huge page vs memslot", "huge page cut at end");
      if (!atStart && !atEnd) this.count("huge page vs memslot", "both ends aligned");
    }
  }

  private createContext(c: L1ContextSpec): void {
    this.contexts.push({
      id: c.id,
      vmid: c.vmid,
      granule: c.granule as GranuleName,
      destroyed: false,
    });
    this.vmidsSeen.add(c.vmid);
    this.count("L1 IPA bits", String(c.ipaBits));
    this.count("context", c.s2 === false ? "stage 2 off" : "stage 2 on");
    if (this.declared.some((d) => d.vmid === c.vmid && d.id !== c.id)) {
      this.count("context", "shares a VMID");
    }
    this.declared.push({ id: c.id, vmid: c.vmid });
  }

  private live(id: number): CtxState | undefined {
    return this.contexts.find((c) => c.id === id && !c.destroyed);
  }

  /** Bytes of [a, a + size) in live memslots, and how many memslots they are in. */
  private landing(a: number, size: number): string {
    let bytes = 0, slots = 0;
    for (const s of this.slots.values()) {
      const lo = Math.max(a, s.base), hi = Math.min(a + size, s.base + s.size);
      if (lo < hi) bytes += hi - lo, slots++;
    }
    return bytes === 0
      ? "all MMIO"
      : bytes < size
      ? "part MMIO"
      : slots > 1
      ? "across memslots"
      : "in one memslot";
  }

  /** Forget destroyed contexts `match` selects (a TLBI of their VMID, or ALLE1IS). */
  private forget(match: (c: CtxState) => boolean): void {
    this.contexts = this.contexts.filter((c) => !(c.destroyed && match(c)));
  }

  private vmidState(vmid: number): string {
    const mine = this.contexts.filter((c) => c.vmid === vmid);
    const live = mine.some((c) => !c.destroyed), dead = mine.some((c) => c.destroyed);
    if (live) return dead ? "live and destroyed contexts" : "live context";
    if (dead) return "destroyed contexts only";
    return this.vmidsSeen.has(vmid) ? "forgotten contexts only" : "never used";
  }

  private event(e: TraceEvent): void {
    this.count("op", e.op);
    switch (e.op) {
      case "l1-map": {
        const c = this.live(e.ctx);
        if (c) {
          this.count("granules host/L1", `${this.host}/${c.granule}`);
          this.count("L1 leaf", leafName(c.granule, e.size));
        }
        this.count("L1 leaf lands", this.landing(e.l1ipa, e.size));
        break;
      }
      case "migrate":
      case "swap-out":
      case "numa-scan":
      case "thp-split": {
        const { page, pmd } = this;
        this.count(
          "host range",
          e.size <= page
            ? "one page"
            : e.size < pmd
            ? "pages below PMD"
            : e.size === pmd
            ? "PMD"
            : "above PMD",
        );
        const lands = this.landing(e.l1ipa, e.size);
        this.count("host range lands", lands === "in one memslot" ? lands : "part outside");
        break;
      }
      case "tlbi-ipa": {
        const reserved = e.ttl === 1 &&
          this.contexts.some((c) => c.vmid === e.vmid && c.granule === "16K");
        this.count(
          "TLBI",
          e.ttl === 0
            ? "ipa, no TTL"
            : reserved
            ? "ipa, TTL 1 reserved (16K)"
            : `ipa, TTL ${e.ttl}`,
        );
        this.count("TLBI VMID", this.vmidState(e.vmid));
        break;
      }
      case "tlbi-range":
        this.count("TLBI", "range");
        this.count("TLBI VMID", this.vmidState(e.vmid));
        break;
      case "tlbi-vmid":
        this.count("TLBI", "vmid");
        this.count("TLBI VMID", this.vmidState(e.vmid));
        this.forget((c) => c.vmid === e.vmid);
        break;
      case "tlbi-all":
        this.count("TLBI", "all");
        this.forget(() => true);
        break;
      case "ctx-create":
        this.createContext(e.context);
        break;
      case "ctx-destroy": {
        const c = this.live(e.ctx);
        if (c) c.destroyed = true;
        break;
      }
      case "memslot-add":
        this.addSlot(e.memslot);
        break;
      case "memslot-delete":
        this.slots.delete(e.slot);
        break;
      case "l1-reboot":
        for (const c of this.contexts) c.destroyed = true;
        this.forget(() => true);
        break;
    }
  }
}

/** What one trace covers. */
export function traceCoverage(t: Trace): Coverage {
  return new CoverageWalk(t).cov;
}

/**
 * The coverage as text, `width` columns wide: per dimension, what one count is and its
 * `value count` pairs (zeros included); then the values no trace covered, or that there are none.
 */
export function formatCoverage(c: Coverage, width = 100): string {
  const unit = new Map(COVERAGE_DIMENSIONS.map((d) => [d.name, d.unit]));
  const head = (dim: string) => `  ${dim} [${unit.get(dim) ?? "count"}]`;
  const pad = Math.max(...Object.keys(c.counts).map((d) => head(d).length)) + 2;
  const lines = [
    `coverage of ${c.traces.toLocaleString("en-US")} traces ` +
    `(${c.events.toLocaleString("en-US")} events), per value:`,
  ];
  /** `head` then `cells` joined by `sep`, wrapped under the first cell. */
  const wrap = (head: string, cells: string[], sep: string) => {
    let line = head;
    cells.forEach((cell, i) => {
      const piece = (i < cells.length - 1 ? cell + sep : cell).trimEnd();
      if (line.length > pad && line.length + piece.length > width) {
        lines.push(line.trimEnd());
        line = " ".repeat(pad);
      }
      line += i < cells.length - 1 ? cell + sep : cell;
    });
    lines.push(line.trimEnd());
  };
  for (const [dim, values] of Object.entries(c.counts)) {
    const cells = Object.entries(values).map(([v, n]) => `${v} ${n.toLocaleString("en-US")}`);
    wrap(head(dim).padEnd(pad), cells, " · ");
  }
  const gaps = coverageGaps(c);
  if (gaps.length === 0) lines.push("  no gaps: every value was covered");
  else wrap("  gaps (never covered):".padEnd(pad), gaps, "; ");
  return lines.join("\n");
}
