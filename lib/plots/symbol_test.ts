/**
 * A symbol's reach (./symbol.ts), from which the trade-off scatter sizes its lanes: a
 * circle reaches its radius, every design's symbol reaches farther at a larger radius, and
 * a filled symbol (sized by area) in proportion to it.
 */

import { assert, assertAlmostEquals } from "@std/assert";
import { BUILT_IN_DESIGNS } from "../strategies/registry.ts";
import { pathExtent, symbolReach } from "./symbol.ts";

const SYMBOLS = [
  ...new Set(BUILT_IN_DESIGNS.flatMap((d) => (d.style ? [d.style.symbol] : []))),
  "hexagon",
  "plus",
  "asterisk",
  "triangle2",
];

/** Plot's symbols drawn as filled shapes: their size is their area. */
const FILLED = ["circle", "square", "triangle", "diamond", "star", "wye", "cross", "hexagon"];

Deno.test("symbolReach grows with the radius, in proportion for a filled symbol", () => {
  assertAlmostEquals(symbolReach("circle", 7), 7, 1e-9);
  for (const symbol of SYMBOLS) {
    const [a, b] = [symbolReach(symbol, 3), symbolReach(symbol, 9.6)];
    assert(0 < a && a < b, `${symbol}: ${a} then ${b}`);
    if (FILLED.includes(symbol)) assertAlmostEquals(b / a, 9.6 / 3, 0.01, symbol);
  }
  // A star's points reach past its circle's radius, a square's sides stay inside it.
  assert(symbolReach("star", 10) > 15 && symbolReach("square", 10) < 9);
});

Deno.test("pathExtent: lines, relative steps and arcs", () => {
  assertAlmostEquals(pathExtent("M0,-3L2,1L-2,1Z")[1], -3);
  const [x0, y0, x1, y1] = pathExtent("M4,0A4,4,0,1,1,-4,0A4,4,0,1,1,4,0");
  assertAlmostEquals(x0, -4);
  assertAlmostEquals(y0, -4);
  assertAlmostEquals(x1, 4);
  assertAlmostEquals(y1, 4);
  const rel = pathExtent("m1,1l2,0v3h-5z");
  assertAlmostEquals(rel[0], -2);
  assertAlmostEquals(rel[3], 4);
});
