/**
 * The cover-letter figure on the committed sweep: readable as a mail attachment (a PNG
 * 1200 px wide: no text drawn over other text, none outside the figure, no text smaller than
 * 11 px at that width), its thresholds in colours no series uses, its cast read from the
 * design records.
 */

import { assert, assertEquals } from "@std/assert";
import { BUILT_IN_DESIGNS } from "../strategies/registry.ts";
import { coverCast, coverFigure } from "./cover.ts";
import { loadSweep } from "./results.ts";
import { GREYED_COLOR, LOCKUP_COLOR, STRICT_COLOR, userStyleColors } from "./style.ts";
import { overlappingText, textBoxes, textOutside } from "./textbox.ts";
import { parseSvg } from "./svg.ts";

const CSV = decodeURIComponent(new URL("../../results/sweep.csv", import.meta.url).pathname);
const PNG_WIDTH = 1200;

Deno.test("the cover figure reads at 1200 px: no overlapping text, none outside, none under 11 px", async () => {
  const fig = coverFigure(await loadSweep(CSV));
  const root = parseSvg(fig.svg);
  const width = Number(root.getAttribute("width"));
  assert(width <= PNG_WIDTH, `${width} px wide: a 1200 px PNG would shrink it`);
  assertEquals(overlappingText(fig.svg).map(([a, b]) => `${a.text} / ${b.text}`), []);
  assertEquals(textOutside(fig.svg).map((b) => b.text), []);
  const scale = PNG_WIDTH / width;
  const small = textBoxes(fig.svg).filter((b) => (b.y1 - b.y0) * scale < 11);
  assertEquals(small.map((b) => b.text), []);
});

Deno.test("the overlap check finds a label drawn over the cover figure's title", async () => {
  const fig = coverFigure(await loadSweep(CSV));
  const end = fig.svg.lastIndexOf("</svg>");
  const over = fig.svg.slice(0, end) +
    '<text x="40" y="30" font-size="14">soft lockup</text></svg>';
  const found = overlappingText(over).map(([a, b]) => [a.text, b.text].sort().join(" / "));
  assertEquals(found, [["soft lockup", fig.title].sort().join(" / ")]);
});

/** CIE76 distance of two sRGB colours (#rrggbb). */
function deltaE(a: string, b: string): number {
  const lab = (hex: string) => {
    const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
      .map((v) => (v > 0.04045 ? ((v + 0.055) / 1.055) ** 2.4 : v / 12.92));
    const xyz = [
      (0.4124 * c[0] + 0.3576 * c[1] + 0.1805 * c[2]) / 0.95047,
      0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2],
      (0.0193 * c[0] + 0.1192 * c[1] + 0.9505 * c[2]) / 1.08883,
    ].map((v) => (v > 0.008856 ? Math.cbrt(v) : 7.787 * v + 16 / 116));
    return [116 * xyz[1] - 16, 500 * (xyz[0] - xyz[1]), 200 * (xyz[1] - xyz[2])];
  };
  const [p, q] = [lab(a), lab(b)];
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}

Deno.test("threshold lines use colours no series uses (30 CIE76 units from each)", () => {
  const series = [
    ...BUILT_IN_DESIGNS.flatMap((d) => (d.style ? [d.style.color] : [])),
    ...userStyleColors(),
    GREYED_COLOR,
  ];
  for (const line of [LOCKUP_COLOR, STRICT_COLOR]) {
    const near = series.filter((c) => deltaE(line, c) < 30);
    assertEquals(near, [], `${line} is near ${near.join(", ")}`);
  }
  assert(deltaE(LOCKUP_COLOR, STRICT_COLOR) >= 30);
});

Deno.test("the cover cast comes from the design records: upstream, series, ours, rejected", async () => {
  const rows = await loadSweep(CSV);
  const cast = coverCast(rows);
  const role = (n: string) => BUILT_IN_DESIGNS.find((d) => d.name === n)!;
  assertEquals(role(cast.upstream!).role, "upstream");
  assert(cast.series.length > 0 && cast.series.every((s) => role(s).role === "series"));
  assertEquals(role(cast.ours!).role, "ours");
  assert(!role(cast.ours!).knownBroken);
  assert(cast.rejected.length > 0 && cast.rejected.every((s) => role(s).knownBroken));
  // Ours is the best of ours: no other design of ours has a shorter worst unmap at the most vCPUs.
  const vmax = Math.max(...rows.map((r) => Number(r.vcpus)));
  const worst = (s: string) =>
    Math.max(
      ...rows.filter((r) => r.strategy === s && Number(r.vcpus) === vmax).map((r) =>
        Number(r.unmap_est_ns_max)
      ),
    );
  for (const d of BUILT_IN_DESIGNS.filter((d) => d.role === "ours" && !d.knownBroken)) {
    assert(worst(cast.ours!) <= worst(d.name), `${d.name} is better than ${cast.ours}`);
  }
  // The rejected patch is drawn grey, not in its own colour.
  const fig = coverFigure(rows);
  assert(fig.svg.includes(`stroke="${GREYED_COLOR}"`));
  for (const r of cast.rejected) {
    const own = BUILT_IN_DESIGNS.find((d) => d.name === r)!.style!.color;
    assert(!fig.svg.includes(`stroke="${own}"`), `${r} drawn in its own colour ${own}`);
  }
});
