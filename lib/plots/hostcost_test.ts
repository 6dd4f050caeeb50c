import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { checkNotebook } from "../../experiments/notebooks/check_facts.ts";
import { BASE_CSV, manyDimensionCsv } from "../../test/notebook_grid.ts";
import {
  contendedShare,
  fullyPopulated,
  hostContentionFigure,
  hostMemoryShareFigure,
  leafBytes,
  memoryShare,
} from "./hostcost.ts";
import { hostScaleRows } from "./hostscale.ts";
import { num, parseSweep, type SweepRecord } from "./results.ts";
import { type Figure, JUPYTER_DISPLAY } from "./svg.ts";

/** Rows with a working set of CI's notebook grid (one working set, two vCPU counts). */
const ciRows = () => hostScaleRows(parseSweep(Deno.readTextFileSync(BASE_CSV), BASE_CSV));

/** The figure's text, as a reader sees it (every <text>, joined). */
function textOf(f: Figure): string {
  return [...f.svg.matchAll(/<text[^>]*>([\s\S]*?)<\/text>/g)]
    .map((m) => m[1].replace(/<[^>]+>/g, " ").replace(/&#39;/g, "'").replace(/&amp;/g, "&"))
    .join(" ").replace(/\s+/g, " ");
}

/** Where every dot of a figure sits, in the figure's pixels (panel offset + dot offset). */
function dotCentres(f: Figure): [number, number][] {
  const out: [number, number][] = [];
  for (const layer of f.svg.split('<g aria-label="dot">').slice(1)) {
    const body = layer.split('<g aria-label="')[0];
    for (
      const panel of body.matchAll(
        /<g transform="translate\(([-\d.]+),([-\d.]+)\)"[^>]*>(.*?)<\/g>/g,
      )
    ) {
      for (const d of panel[3].matchAll(/transform="translate\(([-\d.]+),([-\d.]+)\)"/g)) {
        out.push([Number(panel[1]) + Number(d[1]), Number(panel[2]) + Number(d[2])]);
      }
    }
  }
  return out;
}

/** Every problem the notebooks' checker finds in a notebook showing these figures. */
function checkerProblems(figures: Figure[]): string[] {
  const dir = Deno.makeTempDirSync({ prefix: "s2lab-hostcost-" });
  try {
    const cells = figures.map((f) => ({
      cell_type: "code",
      metadata: { tags: ["plot"] },
      outputs: [{ output_type: "display_data", data: f[JUPYTER_DISPLAY]() }],
    }));
    Deno.writeTextFileSync(`${dir}/05.ipynb`, JSON.stringify({ cells }));
    return checkNotebook(`${dir}/05.ipynb`).problems;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** The designs a figure draws a line of. */
const drawnStrategies = (f: Figure) =>
  new Set(
    f.record.drawn.flatMap((d) => d.lines.flatMap((l) => l.points.flat().map((r) => r.strategy))),
  );

Deno.test("a contended share is the inserts contended under the design's own lock over its inserts", () => {
  const rows = ciRows();
  let checked = 0;
  for (const r of rows) {
    const lock = String(r.insert_lock);
    if (lock === "none") {
      assertEquals(contendedShare(r), null, `${r.strategy} takes no insert lock`);
      continue;
    }
    const own = Number((r as Record<string, unknown>)[`inserts_contended_${lock}`]);
    assertEquals(contendedShare(r), own / num(r, "inserts_total"), `${r.strategy} (${lock})`);
    checked++;
  }
  assert(checked > 0);
  // A design under a per-chunk lock is not charged the VM-wide lock's contention.
  const r = { insert_lock: "chunk", inserts_total: 100, inserts_contended: 3 };
  assertEquals(
    contendedShare({ ...r, inserts_contended_vm: 90, inserts_contended_chunk: 3 }),
    0.03,
  );
  assertEquals(contendedShare({ ...r, inserts_total: 0, inserts_contended: 0 }), null);
});

Deno.test("index memory's share is its bytes over the guest memory its peak shadow leaves map", () => {
  // 10 leaves of 64 KiB pages map 640 KiB; an index of 6,553.6 B is 1 % of that.
  const r = { granule: "64K", backing: "page", peak_memory_bytes: 6553.6, peak_shadow_entries: 10 };
  assertEquals(memoryShare(r), 0.01);
  assertEquals(memoryShare({ ...r, granule: "4K" }), 6553.6 / (10 * 4096));
  // The CSV does not size the leaves of other backings, nor is there a share of no leaf.
  assertEquals(leafBytes({ ...r, backing: "thp" }), null);
  assertEquals(memoryShare({ ...r, backing: "hugetlb:2M" }), null);
  assertEquals(memoryShare({ ...r, peak_shadow_entries: 0 }), null);
  // Populated: every context's working set in pages, and one page per L1 mapping.
  const p = { ...r, contexts: 3, working_set_bytes: 2 * 65536, l1_mappings: 4 };
  assertEquals(fullyPopulated({ ...p, peak_shadow_entries: 3 * 2 + 4 }), true);
  assertEquals(fullyPopulated({ ...p, peak_shadow_entries: 3 * 2 + 3 }), false);
});

Deno.test("the contention figure draws every design that takes an insert lock and names the others", () => {
  const rows = ciRows();
  for (const alias of [0, 0.5]) {
    const f = hostContentionFigure(rows, alias);
    const text = textOf(f);
    const drawn = drawnStrategies(f);
    const at = rows.filter((r) => num(r, "alias") === alias);
    for (const s of new Set(at.map((r) => r.strategy))) {
      const locks = new Set(at.filter((r) => r.strategy === s).map((r) => r.insert_lock));
      if (locks.has("none")) {
        assert(!drawn.has(s), `${s} takes no insert lock but is drawn`);
        assertStringIncludes(text, `${s} takes no insert lock`);
      } else if (!drawn.has(s)) {
        // Not drawn only because another design's line would cover it, and then named.
        assert(
          new RegExp(`Not drawn: ${s} coincides with \\S+ at all`).test(text),
          `${s}: ${text}`,
        );
      }
    }
    assert(drawn.size > 0);
    assertEquals(checkerProblems([f]), []);
  }
});

Deno.test("the memory-share figure draws every design with an index and names the one without", () => {
  const rows = ciRows();
  const f = hostMemoryShareFigure(rows, 0.5);
  const text = textOf(f);
  const drawn = drawnStrategies(f);
  for (const s of new Set(rows.map((r) => r.strategy))) {
    const none = rows.every((r) => r.strategy !== s || num(r, "peak_memory_bytes") === 0);
    // A design with an index is drawn, or named as another's line point for point.
    const named = new RegExp(`Not drawn: ${s} coincides with \\S+ at all`).test(text);
    assertEquals(drawn.has(s) || named, !none, s);
    if (none) assertStringIncludes(text, `${s} keeps no index (0 B)`);
  }
  assertStringIncludes(text, "Share = peak_memory_bytes ÷ (peak_shadow_entries × 4 KiB");
  assertStringIncludes(text, "when every context has touched its whole working set");
  assertEquals(checkerProblems([f]), []);
  // A point whose peak is not its populated working set is named, and the claim dropped.
  const short = rows.map((r): SweepRecord => ({
    ...r,
    peak_shadow_entries: num(r, "peak_shadow_entries") - 1,
  }));
  const g = textOf(hostMemoryShareFigure(short, 0.5));
  assert(!g.includes("when every context has touched"), g);
  assertStringIncludes(g, "not every working set is live at once");
});

Deno.test("no design's marks hide under another's in either figure", () => {
  for (const [name, rows] of [["CI grid", ciRows()]] as const) {
    for (const alias of [0, 0.5]) {
      for (const f of [hostContentionFigure(rows, alias), hostMemoryShareFigure(rows, alias)]) {
        const c = dotCentres(f);
        assert(c.length >= drawnStrategies(f).size, `${f.name}: dots`);
        for (let i = 0; i < c.length; i++) {
          for (let j = i + 1; j < c.length; j++) {
            const d = Math.hypot(c[i][0] - c[j][0], c[i][1] - c[j][1]);
            assert(d >= 9, `${name} ${f.name} alias ${alias}: dots ${c[i]} and ${c[j]} overlap`);
          }
        }
      }
    }
  }
});

Deno.test("neither figure joins rows that differ in a dimension other than vCPUs", () => {
  const dir = Deno.makeTempDirSync({ prefix: "s2lab-hostcost-" });
  try {
    const path = `${dir}/many.csv`;
    const text = manyDimensionCsv().text;
    Deno.writeTextFileSync(path, text);
    const rows = hostScaleRows(parseSweep(text, path));
    const figures = [0, 0.5].flatMap((a) => [
      hostContentionFigure(rows, a),
      hostMemoryShareFigure(rows, a),
    ]);
    for (const f of figures) {
      const lines = f.record.drawn.flatMap((d) => d.lines);
      assert(lines.some((l) => l.points.length > 1), `${f.name} draws no line`);
      assert(lines.every((l) => l.x === "vcpus"));
    }
    // The notebooks' checker re-reads the CSV: no line joins two configurations, and every
    // number the figures' text states holds.
    assertEquals(checkerProblems(figures), []);
    // The grid has rows backed otherwise than by pages: not drawn, and said.
    assertStringIncludes(textOf(figures[1]), "Rows with backing thp are not drawn");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
