import { assert, assertEquals, assertMatch } from "@std/assert";
import { parseTrace, type Trace } from "../trace/trace.ts";
import {
  addCoverage,
  type Coverage,
  COVERAGE_DIMENSIONS,
  coverageGaps,
  emptyCoverage,
  formatCoverage,
  traceCoverage,
} from "./coverage.ts";

/** A 4K-host trace with `memslots`, `contexts` and `events` (JSON as a trace file has it). */
function trace(
  events: unknown[],
  memslots: unknown[] = [{ id: 0, base: "1G", size: "1G", backing: "page" }],
  contexts: unknown[] = [{ id: 1, vmid: 5, granule: "4K", ipaBits: 40 }],
  hostGranule = "4K",
): Trace {
  return parseTrace({
    name: "t",
    config: { hostGranule, paBits: 40, vcpus: 1, memslots, contexts },
    events,
  });
}

/** The non-zero counts of one dimension. */
function seen(c: Coverage, dim: string): Record<string, number> {
  return Object.fromEntries(Object.entries(c.counts[dim]).filter(([, n]) => n > 0));
}

Deno.test("coverage: every value of every dimension starts at zero and is a gap until counted", () => {
  const c = emptyCoverage();
  const values = COVERAGE_DIMENSIONS.flatMap((d) => d.values.map((v) => `${d.name}: ${v}`));
  assertEquals(coverageGaps(c), values);
  assertEquals(new Set(values).size, values.length, "a value listed twice");
  for (const d of COVERAGE_DIMENSIONS) assert(d.values.length > 1, d.name);
});

Deno.test("coverage: ops are counted per event, with the trace's PA size", () => {
  const c = traceCoverage(trace([
    { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
    { op: "l1-map", ctx: 1, l2ipa: "5G", l1ipa: "1G", size: "4K" },
    { op: "touch", vcpu: 0, ctx: 1, l2ipa: "4G", size: "8K", stride: "4K" },
  ]));
  assertEquals([c.traces, c.events], [1, 3]);
  assertEquals(seen(c, "op"), { "l1-map": 2, touch: 1 });
  assertEquals(seen(c, "PA bits"), { "40": 1 });
  assert(coverageGaps(c).includes("op: access"));
});

Deno.test("coverage: an l1-map counts the granule pair and leaf of the context live at that point", () => {
  const c = traceCoverage(trace(
    [
      { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "32M" },
      { op: "l1-map", ctx: 2, l2ipa: "4G", l1ipa: "1G", size: "64K" },
      // Context 1 is destroyed and created again with another granule.
      { op: "ctx-destroy", ctx: 1 },
      { op: "ctx-create", context: { id: 1, vmid: 5, granule: "64K", ipaBits: 36 } },
      { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "512M" },
    ],
    undefined,
    [
      { id: 1, vmid: 5, granule: "16K", ipaBits: 40 },
      { id: 2, vmid: 6, granule: "64K", ipaBits: 32, s2: false },
    ],
    "16K",
  ));
  assertEquals(seen(c, "granules host/L1"), { "16K/16K": 1, "16K/64K": 2 });
  assertEquals(seen(c, "L1 leaf"), { "16K 32M block": 1, "64K page": 1, "64K 512M block": 1 });
  assertEquals(seen(c, "L1 IPA bits"), { "32": 1, "36": 1, "40": 1 });
  // The recreated context 1 keeps its VMID: no other context shares it.
  assertEquals(seen(c, "context"), { "stage 2 on": 2, "stage 2 off": 1 });
});

Deno.test("coverage: a context whose VMID another context has shares a VMID", () => {
  const c = traceCoverage(trace(
    [{ op: "ctx-create", context: { id: 3, vmid: 5, granule: "4K", ipaBits: 40 } }],
    undefined,
    [{ id: 1, vmid: 5, granule: "4K", ipaBits: 40 }, {
      id: 2,
      vmid: 6,
      granule: "4K",
      ipaBits: 40,
    }],
  ));
  assertEquals(seen(c, "context"), { "stage 2 on": 3, "shares a VMID": 1 });
});

Deno.test("coverage: where an L1 leaf lands, against the memslots live when L1 writes it", () => {
  const slots = [
    { id: 0, base: "1G", size: "1M", backing: "page" },
    { id: 1, base: "0x40100000", size: "1M", backing: "page" }, // right after slot 0
    { id: 2, base: "4G", size: "1G", backing: "page" },
  ];
  const map = (l1ipa: string, size: string) => ({ op: "l1-map", ctx: 1, l2ipa: "8G", l1ipa, size });
  const c = traceCoverage(trace(
    [
      map("0x40000000", "4K"), // in slot 0
      map("0x40000000", "2M"), // slots 0 and 1, nothing else
      map("4G", "1G"), // slot 2, all of it
      map("5G", "1G"), // past slot 2: MMIO
      { op: "memslot-delete", slot: 1 },
      map("0x40000000", "2M"), // slot 0, then MMIO where slot 1 was
      { op: "memslot-add", memslot: { id: 1, base: "0x40100000", size: "1M", backing: "thp" } },
      map("0x40100000", "4K"), // slot 1 again
    ],
    slots,
  ));
  assertEquals(seen(c, "L1 leaf lands"), {
    "in one memslot": 3,
    "across memslots": 1,
    "part MMIO": 1,
    "all MMIO": 1,
  });
});

Deno.test("coverage: memslot layouts by size, base alignment, backing and huge pages cut by their ends", () => {
  const c = traceCoverage(trace(
    [
      // A slot added later: counted like the configuration's; an id added again counts once
      // in the number of memslots.
      { op: "memslot-add", memslot: { id: 3, base: "16G", size: "2G", backing: "hugetlb:1G" } },
      { op: "memslot-delete", slot: 3 },
      { op: "memslot-add", memslot: { id: 3, base: "16G", size: "2G", backing: "page" } },
    ],
    [
      { id: 0, base: "1G", size: "1G", backing: "thp" }, // aligned at both ends
      { id: 1, base: "0x80200000", size: "0x201000", backing: "hugetlb:2M" }, // cut at end
      { id: 2, base: "0x90003000", size: "0x2000", backing: "thp" }, // cut at both ends
      { id: 4, base: "0xa0001000", size: "0x1ff000", backing: "thp" }, // cut at start only
    ],
  ));
  assertEquals(seen(c, "memslots"), { "4+": 1 });
  assertEquals(seen(c, "memslot size"), {
    "1G": 1,
    "not a PMD multiple": 1,
    "below PMD": 2,
    "other PMD multiple": 2,
  });
  assertEquals(seen(c, "memslot base"), { "1G": 3, "PMD, not 1G": 1, "page, not PMD": 2 });
  assertEquals(seen(c, "memslot backing"), {
    page: 1,
    thp: 3,
    "hugetlb PMD": 1,
    "hugetlb PUD": 1,
  });
  assertEquals(seen(c, "huge page vs memslot"), {
    "both ends aligned": 2,
    "huge page cut at start": 2,
    "huge page cut at end": 2,
  });
});

Deno.test("coverage: host ranges by size against the host page and PMD, and whether they leave the memslots", () => {
  const c = traceCoverage(trace(
    [
      { op: "migrate", l1ipa: "1G", size: "4K" },
      { op: "swap-out", l1ipa: "0x40001000", size: "12K" },
      { op: "numa-scan", l1ipa: "0x401ff000", size: "2M" }, // a THP's worth across a boundary
      { op: "thp-split", l1ipa: "0x7fe00000", size: "4M" }, // past the slot's end
    ],
    [{ id: 0, base: "1G", size: "1G", backing: "thp" }],
  ));
  assertEquals(seen(c, "host range"), {
    "one page": 1,
    "pages below PMD": 1,
    PMD: 1,
    "above PMD": 1,
  });
  assertEquals(seen(c, "host range lands"), { "in one memslot": 3, "part outside": 1 });
});

Deno.test("coverage: TLBI forms, and the state of the VMID each names before it acts", () => {
  const c = traceCoverage(trace(
    [
      { op: "tlbi-ipa", vmid: 5, l2ipa: "4G" }, // live; no TTL
      { op: "tlbi-ipa", vmid: 6, l2ipa: "4G", ttl: 1 }, // 16K: TTL 1 is reserved
      { op: "tlbi-ipa", vmid: 6, l2ipa: "4G", ttl: 2 }, // 16K: level 2
      { op: "tlbi-ipa", vmid: 5, l2ipa: "4G", ttl: 1 }, // 4K: level 1
      { op: "ctx-destroy", ctx: 2 },
      { op: "tlbi-range", vmid: 6, l2ipa: "4G", size: "64K" }, // destroyed, pending
      { op: "tlbi-ipa", vmid: 6, l2ipa: "4G", ttl: 1 }, // still reserved: ctx 2 is kept
      { op: "tlbi-vmid", vmid: 6 }, // destroyed, then forgotten
      { op: "tlbi-ipa", vmid: 6, l2ipa: "4G", ttl: 2 }, // forgotten
      { op: "tlbi-vmid", vmid: 77 }, // never used
      { op: "ctx-create", context: { id: 3, vmid: 5, granule: "4K", ipaBits: 40 } },
      { op: "ctx-destroy", ctx: 1 },
      { op: "tlbi-ipa", vmid: 5, l2ipa: "4G", ttl: 3 }, // ctx 3 live, ctx 1 destroyed
      { op: "tlbi-all" }, // forgets ctx 1
      { op: "tlbi-range", vmid: 5, l2ipa: "4G", size: "4K" }, // live again
      { op: "l1-reboot" }, // everything destroyed and forgotten
      { op: "tlbi-vmid", vmid: 5 },
    ],
    undefined,
    [{ id: 1, vmid: 5, granule: "4K", ipaBits: 40 }, {
      id: 2,
      vmid: 6,
      granule: "16K",
      ipaBits: 40,
    }],
  ));
  assertEquals(seen(c, "TLBI"), {
    "ipa, no TTL": 1,
    "ipa, TTL 1": 1,
    "ipa, TTL 1 reserved (16K)": 2,
    "ipa, TTL 2": 2,
    "ipa, TTL 3": 1,
    range: 2,
    vmid: 3,
    all: 1,
  });
  assertEquals(seen(c, "TLBI VMID"), {
    "live context": 5,
    "live and destroyed contexts": 1,
    "destroyed contexts only": 3,
    "forgotten contexts only": 2,
    "never used": 1,
  });
});

Deno.test("coverage: adding sums every count and keeps values outside a dimension's list", () => {
  const a = traceCoverage(trace([{ op: "flush" }]));
  const b = traceCoverage(trace([{ op: "flush" }, { op: "tlbi-all" }]));
  const odd = emptyCoverage();
  odd.counts["PA bits"]["37"] = 2;
  const sum = addCoverage(addCoverage(addCoverage(emptyCoverage(), a), b), odd);
  assertEquals([sum.traces, sum.events], [2, 3]);
  assertEquals(seen(sum, "op"), { flush: 2, "tlbi-all": 1 });
  assertEquals(seen(sum, "PA bits"), { "40": 2, "37": 2 });
});

Deno.test("coverage as text: every value with its count, zeros included, then the gaps", () => {
  const c = traceCoverage(trace([{ op: "flush" }]));
  const text = formatCoverage(c);
  assertMatch(text, /^coverage of 1 traces \(1 events\)/);
  assertMatch(text, /op \[events\] +l1-map 0 · l1-unmap 0 · /);
  assertMatch(text, /flush 1/);
  for (const line of text.split("\n")) assert(line.length <= 100, line);
  assertMatch(text, /gaps \(never covered\): +op: l1-map; /);
  // Wrapped lines lose nothing: every gap is printed.
  const printed = text.slice(text.indexOf("gaps")).replace(/\s+/g, " ");
  for (const g of coverageGaps(c)) assert(printed.includes(g), g);
  // Nothing missing: no gaps.
  const full = emptyCoverage();
  for (const values of Object.values(full.counts)) for (const v in values) values[v] = 1;
  assertMatch(formatCoverage(full), /no gaps: every value was covered$/);
});
