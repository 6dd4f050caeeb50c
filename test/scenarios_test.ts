/**
 * The scenario files of experiments/scenarios/: each parses and replays; every registered
 * strategy gets the verdict its file expects (its own entry, else "*"), with the oracle
 * naming the violation the case was built for; the test-only broken designs listed under
 * each file's `broken` key leave exactly the stale entries the file says; and
 * `deno task cases --json` prints the results as JSON.
 *
 * The verdicts use the comparisons of lib/trace/expectation.ts (tested on their own in
 * cases_test.ts); the rest of each verdict is asserted here.
 */
import {
  assert,
  assertEquals,
  AssertionError,
  assertNotEquals,
  assertThrows,
  fail,
} from "@std/assert";
import type { ShadowMmu } from "../lib/kvm/s2_mmu.ts";
import type { ReverseMapStrategy, ShadowOps } from "../lib/kvm/strategy.ts";
import { makeStrategy, STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import type { TraceEvent } from "../lib/trace/ops.ts";
import { replay } from "../lib/trace/replay.ts";
import type { ReplayReport } from "../lib/trace/replay.ts";
import { compare, type Expectation, parseComparison } from "../lib/trace/expectation.ts";
import { listScenarios, loadScenario, type Scenario } from "../lib/trace/scenario.ts";
import { parseTrace, parseTraceFile, traceToJson } from "../lib/trace/trace.ts";
import { defaultWorkload, generateWorkload, type WorkloadParams } from "../lib/trace/workload.ts";
import { generateFuzzTrace } from "../lib/fuzz/generate.ts";

const ROOT = new URL("../", import.meta.url);
const hex = (n: number | null) => (n === null ? "null" : "0x" + n.toString(16));

/** The cases the issue asks for, by file name. */
const REQUIRED = [
  "reproducer",
  "alias-across-mmus",
  "alias-within-mmu",
  "alias-block-and-page",
  "alias-l1-64k-over-host-4k",
  "alias-host-thp-over-l1-4k",
  "partial-overlap",
  "tlbi-remap",
  "mmu-recycling",
  "l1-reboot",
  "memslot-delete",
  "wp-dirty-logging",
  "flush",
];

const NAMES = listScenarios();
const SCENARIOS: Scenario[] = NAMES.map((n) => loadScenario(n));

function sum(r: ReplayReport, key: "removedNeeded" | "removedCollateral"): number {
  return r.events.reduce((a, e) => a + e[key], 0);
}

/** Assert that `r` is what `e` expects; `label` names the case and design. */
function assertVerdict(r: ReplayReport, e: Expectation, label: string): void {
  const seen = r.firstSeen;
  const first = seen[0];
  const detail = first
    ? ` (first: ${first.kind} at shadow ${hex(first.shadowIpa)} canonical ${
      hex(first.canonicalIpa)
    }, event ${first.event})`
    : "";
  const v = e.metrics.violations;
  if (v) {
    assert(
      compare(r.violations, v),
      `${label}: ${r.violations} violations, expected ${v.op}${v.value}${detail}`,
    );
  }
  const n = e.metrics.removedNeeded;
  if (n) {
    assertEquals(n.op, ">", `${label}: this test only reads removedNeeded ">N"`);
    assert(
      sum(r, "removedNeeded") > n.value,
      `${label}: removedNeeded ${sum(r, "removedNeeded")}, expected >${n.value}`,
    );
  }
  const kinds = new Set(seen.map((x) => x.kind));
  for (const k of e.kinds ?? []) {
    assert(
      kinds.has(k),
      `${label}: no ${k} violation; reported ${[...kinds].join(", ") || "none"}${detail}`,
    );
  }
  if (e.shadowIpa !== undefined || e.canonicalIpa !== undefined) {
    const hit = seen.find((x) =>
      (e.shadowIpa === undefined || x.shadowIpa === e.shadowIpa) &&
      (e.canonicalIpa === undefined || x.canonicalIpa === e.canonicalIpa) &&
      (!e.kinds || (e.kinds as string[]).includes(x.kind))
    );
    const at = seen.slice(0, 8).map((x) => `${x.kind}@${hex(x.shadowIpa)}/${hex(x.canonicalIpa)}`)
      .join(", ");
    assert(
      hit,
      `${label}: no violation at shadow ${hex(e.shadowIpa ?? null)} canonical ${
        hex(e.canonicalIpa ?? null)
      }; saw ${at || "none"}`,
    );
  }
}

// --- test-only broken designs --------------------------------------------------------------

interface Rec {
  start: number;
  end: number;
  mmu: number;
  shadow: number;
  size: number;
}

/**
 * A canonical-range index (maple-v2's idea without its loop bugs): a store overwrites
 * what it overlaps, keeping the remaining pieces (`dropWhole`: dropping overlapped
 * entries whole); an unmap visits every piece in range. One index per MMU, or one for
 * the whole VM (`global`). wp is a full walk, or goes through the index (`treeWp`).
 */
class CanonicalIndex implements ReverseMapStrategy {
  readonly insertLock = "mmu" as const;
  private ops!: ShadowOps;
  private recs: Rec[] = [];
  constructor(
    readonly name: string,
    private readonly o: { global?: boolean; dropWhole?: boolean; treeWp?: boolean } = {},
  ) {}
  attach(ops: ShadowOps): void {
    this.ops = ops;
  }
  shadowMapped(mmu: ShadowMmu, shadowIpa: number, canonicalIpa: number, size: number): void {
    const start = Math.floor(canonicalIpa / size) * size, end = start + size;
    const out: Rec[] = [];
    for (const r of this.recs) {
      if ((!this.o.global && r.mmu !== mmu.id) || r.end <= start || r.start >= end) {
        out.push(r);
        continue;
      }
      if (this.o.dropWhole) continue;
      if (r.start < start) out.push({ ...r, end: start });
      if (r.end > end) out.push({ ...r, start: end });
    }
    out.push({ start, end, mmu: mmu.id, shadow: Math.floor(shadowIpa / size) * size, size });
    this.recs = out;
  }
  shadowRemoved(): void {}
  mmuReset(mmu: ShadowMmu): void {
    this.recs = this.recs.filter((r) => r.mmu !== mmu.id);
  }
  unmapCanonical(start: number, end: number): void {
    const hit = new Set(this.recs.filter((r) => r.start < end && r.end > start));
    this.recs = this.recs.filter((r) => !hit.has(r));
    for (const r of hit) {
      const mmu = this.ops.mmus[r.mmu];
      if (mmu.valid) this.ops.unmapShadowRange(mmu, r.shadow, r.size);
    }
  }
  wpCanonical(start: number, end: number): void {
    if (this.o.treeWp) {
      for (const r of this.recs) {
        if (r.start < end && r.end > start) {
          this.ops.wpShadowRange(this.ops.mmus[r.mmu], r.shadow, r.size);
        }
      }
      return;
    }
    for (const m of this.ops.mmus) if (m.valid) this.ops.wpShadowRange(m, 0, m.pgt.geom.ipaSize);
  }
  flushCanonical(): void {
    for (const m of this.ops.mmus) if (m.valid) this.ops.flushShadowRange(m, 0, m.pgt.geom.ipaSize);
  }
  memoryBytes(): number {
    return this.recs.length * 32;
  }
  fallbacks(): number {
    return 0;
  }
}

/**
 * A shadow-IPA-keyed index that keeps the first canonical range it learns for a shadow
 * IPA and never forgets (no hook on TLBI, reset or removal): stale after a remap.
 */
class StickyIndex implements ReverseMapStrategy {
  readonly name = "sticky-index";
  readonly insertLock = "vm" as const;
  private ops!: ShadowOps;
  private readonly recs = new Map<string, Rec>();
  attach(ops: ShadowOps): void {
    this.ops = ops;
  }
  shadowMapped(mmu: ShadowMmu, shadowIpa: number, canonicalIpa: number, size: number): void {
    const shadow = Math.floor(shadowIpa / size) * size;
    const key = `${mmu.id}:${shadow}`;
    if (this.recs.has(key)) return;
    const start = Math.floor(canonicalIpa / size) * size;
    this.recs.set(key, { start, end: start + size, mmu: mmu.id, shadow, size });
  }
  shadowRemoved(): void {}
  mmuReset(): void {}
  unmapCanonical(start: number, end: number): void {
    for (const r of this.recs.values()) {
      const mmu = this.ops.mmus[r.mmu];
      if (mmu.valid && r.start < end && r.end > start) {
        this.ops.unmapShadowRange(mmu, r.shadow, r.size);
      }
    }
  }
  wpCanonical(): void {
    for (const m of this.ops.mmus) if (m.valid) this.ops.wpShadowRange(m, 0, m.pgt.geom.ipaSize);
  }
  flushCanonical(): void {
    for (const m of this.ops.mmus) if (m.valid) this.ops.flushShadowRange(m, 0, m.pgt.geom.ipaSize);
  }
  memoryBytes(): number {
    return this.recs.size * 32;
  }
  fallbacks(): number {
    return 0;
  }
}

/** The broken designs a scenario's `broken` key may name. */
const BROKEN: Record<string, () => ReverseMapStrategy> = {
  "lossy-index": () => new CanonicalIndex("lossy-index"),
  "lossy-index-whole": () => new CanonicalIndex("lossy-index-whole", { dropWhole: true }),
  "lossy-index-wp": () => new CanonicalIndex("lossy-index-wp", { treeWp: true }),
  "global-index": () => new CanonicalIndex("global-index", { global: true }),
  "sticky-index": () => new StickyIndex(),
};

// --- tests --------------------------------------------------------------------------------

Deno.test("scenarios: every case the issue asks for has a file", () => {
  for (const r of REQUIRED) {
    assert(NAMES.includes(r), `experiments/scenarios/${r}.json is missing`);
  }
});

Deno.test("scenarios: every file parses, says what it tests and has a fallback expectation", async (t) => {
  for (const name of NAMES) {
    await t.step(name, () => {
      const json = JSON.parse(
        Deno.readTextFileSync(new URL(`experiments/scenarios/${name}.json`, ROOT)),
      );
      const trace = parseTrace(json);
      assertNotEquals(trace.name, "unnamed", `${name}: no name`);
      assert(trace.description.length > 80, `${name}: the description must say what it tests`);
      assert(
        /0x[0-9a-f]+/.test(trace.description),
        `${name}: the description must give L2/L1 addresses`,
      );
      assert(trace.events.length > 0, `${name}: no events`);
      const s = SCENARIOS.find((x) => x.name === name)!;
      assert(s.expect["*"], `${name}: no "*" expectation`);
      for (const [k, e] of Object.entries(s.expect)) {
        assert(e.metrics.violations, `${name}: expect.${k} must say how many violations`);
        if (e.metrics.violations.op !== "=" || e.metrics.violations.value !== 0) {
          assert(
            e.kinds?.length && e.shadowIpa !== undefined && e.canonicalIpa !== undefined,
            `${name}: expect.${k} expects violations, so it must name kinds, shadowIpa and canonicalIpa`,
          );
        }
      }
    });
  }
});

/** Every committed JSON file holding a trace (scenarios and test fixtures), relative to ROOT. */
function committedTraces(dir = "", out: string[] = []): string[] {
  for (const e of Deno.readDirSync(new URL(dir || ".", ROOT))) {
    const path = `${dir}${e.name}`;
    if (e.isDirectory && !/^(\.|vendor$|node_modules$|results$|notebooks$)/.test(e.name)) {
      committedTraces(`${path}/`, out);
    } else if (e.isFile && e.name.endsWith(".json")) {
      const json = JSON.parse(Deno.readTextFileSync(new URL(path, ROOT)));
      if (json && typeof json === "object" && "events" in json) out.push(path);
    }
  }
  return out.sort();
}

Deno.test("traces: every committed trace and every trace the lab writes parses under the strict schemas", () => {
  const committed = committedTraces();
  // The scenarios, the test fixtures and the selftest's minimized reproducer, at least.
  assert(committed.length >= NAMES.length + 2, committed.join(", "));
  for (const path of committed) {
    const json = JSON.parse(Deno.readTextFileSync(new URL(path, ROOT)));
    const t = parseTraceFile(json);
    assert(t.events.length > 0, path);
  }
  // What `deno task fuzz` writes (traceToJson of a generated, possibly minimized, trace).
  for (let seed = 1; seed <= 40; seed++) {
    const t = generateFuzzTrace(seed);
    assertEquals(parseTrace(JSON.parse(traceToJson(t))), t, `fuzz seed ${seed}`);
  }
  // What `deno task sweep --emit-trace` writes (JSON.stringify of a workload's trace), with
  // and without a working set, over granules and backings.
  const variants: Partial<WorkloadParams>[] = [
    {},
    { workingSet: 2 ** 22, retouch: 0.5 },
    { granule: "16K", l1Granule: "64K", backing: "page", alias: 0.5 },
    { granule: "64K", l1Granule: "64K", backing: "hugetlb", vcpus: 2 },
  ];
  for (const v of variants) {
    const w = generateWorkload({ ...defaultWorkload(), pagesPerContext: 16, ...v }, 1);
    const t = parseTrace(JSON.parse(JSON.stringify(w.trace)));
    assertEquals(t.events.length, w.trace.events.length, JSON.stringify(v));
  }
});

Deno.test("scenarios: every registered strategy gets the verdict its case expects", async (t) => {
  for (const s of SCENARIOS) {
    for (const strategy of STRATEGY_NAMES) {
      await t.step(`${s.name} / ${strategy}`, () => {
        const r = replay(s.trace, makeStrategy(strategy));
        const e = s.expect[strategy] ?? s.expect["*"];
        assertVerdict(
          r,
          e,
          `${s.name} / ${strategy} (expect ${s.expect[strategy] ? strategy : "*"})`,
        );
      });
    }
  }
});

Deno.test("scenarios: the broken designs leave the stale entries each case names", async (t) => {
  let checked = 0;
  for (const s of SCENARIOS) {
    for (const [design, e] of Object.entries(s.broken)) {
      await t.step(`${s.name} / ${design}`, () => {
        assert(
          BROKEN[design],
          `${s.name}: unknown broken design "${design}" (known: ${Object.keys(BROKEN).join(", ")})`,
        );
        const r = replay(s.trace, BROKEN[design]());
        assertVerdict(r, e, `${s.name} / ${design}`);
        // Where the design is expected to fail, the case's "*" expectation must reject it.
        if (e.metrics.violations?.op === ">") {
          assertThrows(() => assertVerdict(r, s.expect["*"], "*"), AssertionError);
        }
      });
      checked++;
    }
  }
  // Every broken design is exercised by at least one case where it fails.
  for (const d of Object.keys(BROKEN)) {
    assert(
      SCENARIOS.some((s) => s.broken[d]?.metrics.violations?.op === ">"),
      `no case shows that ${d} is broken`,
    );
  }
  assert(checked >= Object.keys(BROKEN).length);
});

Deno.test("scenarios: maple-v2 is expected to break on aliases inside one MMU, not across MMUs", () => {
  const withStale = SCENARIOS.filter((s) => s.expect["maple-v2"]?.metrics.violations?.op === ">")
    .map((s) => s.name);
  for (
    const n of [
      "reproducer",
      "alias-within-mmu",
      "alias-block-and-page",
      "alias-l1-64k-over-host-4k",
    ]
  ) {
    assert(withStale.includes(n), `${n} must expect maple-v2 to leave stale entries`);
  }
  for (const n of ["alias-across-mmus", "alias-block-and-page-across-mmus"]) {
    const e = SCENARIOS.find((s) => s.name === n)!.expect["maple-v2"];
    assertEquals(
      e?.metrics.violations,
      { op: "=", value: 0 },
      `${n}: one tree per MMU, no stale entry`,
    );
  }
});

Deno.test("scenarios: the reproducer is the published one", () => {
  const s = SCENARIOS.find((x) => x.name === "reproducer")!;
  const c = s.trace.config;
  assertEquals(c.hostGranule, "4K");
  assert(c.vcpus >= 2);
  assertEquals(c.contexts.length, 1, "one L2");
  const G = 2 ** 30, SLOT = 128 * 2 ** 20;
  const maps = s.trace.events.filter((e): e is Extract<TraceEvent, { op: "l1-map" }> =>
    e.op === "l1-map"
  );
  const slot1 = new Map<number, number>(), slot2 = new Map<number, number>();
  for (const m of maps) {
    if (m.l2ipa >= 4 * G && m.l2ipa < 4 * G + SLOT) slot1.set(m.l2ipa - 4 * G, m.l1ipa);
    else if (m.l2ipa >= 6 * G && m.l2ipa < 6 * G + SLOT) slot2.set(m.l2ipa - 6 * G, m.l1ipa);
    else fail(`L2 ${hex(m.l2ipa)} is in neither memslot`);
  }
  assert(slot1.size > 1000, "the guest touches a sample of slot 1");
  assertEquals(
    [...slot2].sort((a, b) => a[0] - b[0]),
    [...slot1].sort((a, b) => a[0] - b[0]),
    "4G+x and 6G+x map the same L1 IPA",
  );
  const l1 = [...slot1.values()];
  const lo = Math.min(...l1), hi = Math.max(...l1) + 4096;
  const migrated = s.trace.events.filter((e) => e.op === "migrate") as {
    l1ipa: number;
    size: number;
  }[];
  const covered = migrated.reduce((a, m) => a + m.size, 0);
  assert(
    migrated.every((m) => m.l1ipa >= lo && m.l1ipa + m.size <= lo + SLOT) && covered >= hi - lo,
    "migratepages covers the memfd",
  );
  const last = s.trace.events.slice(-10);
  assert(
    last.every((e) => e.op === "access" && e.l2ipa < 4 * G + SLOT && e.write),
    "the guest keeps writing slot 1",
  );
});

Deno.test("cases: `deno task cases --json` prints one JSON object per strategy and case", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "experiments/cases.ts", "--json"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  const rows = JSON.parse(new TextDecoder().decode(out.stdout));
  assert(Array.isArray(rows));
  assertEquals(rows.length, STRATEGY_NAMES.length * NAMES.length);
  for (const r of rows) {
    for (
      const k of [
        "strategy",
        "case",
        "violations",
        "iterations",
        "removedNeeded",
        "removedCollateral",
        "memoryBytes",
      ]
    ) {
      assert(k in r, `row ${JSON.stringify(r).slice(0, 80)} lacks ${k}`);
    }
    assert(STRATEGY_NAMES.includes(r.strategy) && NAMES.includes(r.case));
    assertEquals(typeof r.violations, "number");
    assert(r.iterations === null || typeof r.iterations === "number");
  }
  const failed = rows.filter((r: { ok: boolean | null }) => r.ok === false);
  assertEquals(out.code, failed.length ? 1 : 0, stderr);
  assertEquals(failed.length, 0, `expectations broken: ${stderr}`);
  // The violations it reports are the replay's.
  const rep = rows.find((r: { case: string; strategy: string }) =>
    r.case === "alias-within-mmu" && r.strategy === "full-walk"
  );
  assertEquals(
    rep.violations,
    replay(SCENARIOS.find((s) => s.name === "alias-within-mmu")!.trace, makeStrategy("full-walk"))
      .violations,
  );
  assertEquals(parseComparison(">0"), { op: ">", value: 0 });
});
