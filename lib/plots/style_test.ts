import { assert, assertEquals } from "@std/assert";
import fc from "fast-check";
import { axisFormat, formatSeconds, formatTick, tickStyle } from "./style.ts";
import { mixedTickAxes } from "./readback.ts";

/** An axis of these labels, as Plot draws one. */
const axisSvg = (labels: string[]) =>
  `<svg xmlns="http://www.w3.org/2000/svg"><g aria-label="y-axis tick label">` +
  labels.map((l) => `<text>${l}</text>`).join("") + `</g></svg>`;

/** Ticks as figures give them: linear steps from 0, or powers of ten, or 1-2-5 steps. */
const ticksArb = fc.oneof(
  fc.record({
    step: fc.integer({ min: 1, max: 9 }),
    e: fc.integer({ min: -2, max: 9 }),
    n: fc.integer({ min: 2, max: 9 }),
  })
    .map(({ step, e, n }) =>
      Array.from({ length: n }, (_, i) => Number((i * step * 10 ** e).toPrecision(12)))
    ),
  fc.record({ a: fc.integer({ min: -3, max: 8 }), n: fc.integer({ min: 1, max: 10 }) })
    .map(({ a, n }) => Array.from({ length: n }, (_, i) => 10 ** (a + i))),
  fc.record({ a: fc.integer({ min: -2, max: 8 }), n: fc.integer({ min: 1, max: 3 }) })
    .map(({ a, n }) =>
      Array.from(
        { length: n },
        (_, i) => [1, 2, 5].map((s) => Number((s * 10 ** (a + i)).toPrecision(12))),
      ).flat()
    ),
);

Deno.test("axisFormat: no axis mixes 10ⁿ and plain digits, whatever its ticks", () => {
  fc.assert(fc.property(ticksArb, (ticks) => {
    const f = axisFormat(ticks);
    assertEquals(mixedTickAxes(axisSvg(ticks.map(f))), [], ticks.map(f).join(" "));
    assertEquals(mixedTickAxes(axisSvg(ticks.map(axisFormat(ticks, " B")))), []);
  }));
});

Deno.test("axisFormat: power form from 10⁶ or past three decades, digits below; each tick reads back as its value", () => {
  fc.assert(fc.property(ticksArb, (ticks) => {
    const sizes = ticks.filter((t) => t > 0);
    const power = sizes.length > 0 &&
      (Math.max(...sizes) >= 1e6 || Math.max(...sizes) / Math.min(...sizes) > 1000.0001);
    assertEquals(tickStyle(ticks), power ? "power" : "digits");
    for (const t of ticks) {
      // The label, read back as a number, is the tick to its three significant digits.
      const text = formatTick(t, tickStyle(ticks));
      const sup = "⁰¹²³⁴⁵⁶⁷⁸⁹";
      const read = (s: string) => {
        const m = /^(-?[\d.]+)?(?:×)?(?:10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+))?$/.exec(s.replace(/,/g, ""));
        assert(m, `unreadable tick label ${s}`);
        const e = m[2]
          ? Number([...m[2]].map((c) => (c === "⁻" ? "-" : String(sup.indexOf(c)))).join(""))
          : 0;
        return (m[1] === undefined ? 1 : Number(m[1])) * 10 ** e;
      };
      const v = read(text);
      assert(Math.abs(v - t) <= Math.abs(t) * 5e-3 + 5e-4, `${t} written ${text}`);
    }
  }));
});

Deno.test("formatSeconds: a duration a hair off its power of ten takes the larger unit, never 1,000 of the smaller", () => {
  fc.assert(fc.property(
    fc.integer({ min: -9, max: 1 }),
    fc.double({ min: -1e-6, max: 1e-6, noNaN: true }),
    (e, eps) => {
      const text = formatSeconds(10 ** e * (1 + eps));
      const m = /^([\d,.]+) (ns|µs|ms|s)$/.exec(text);
      assert(m, text);
      assert(m[2] === "s" || Number(m[1].replace(/,/g, "")) < 1000, text);
    },
  ));
});
