/**
 * How far the symbols Observable Plot draws reach: the box an SVG path spans
 * ({@linkcode pathExtent}), and a symbol's reach from its centre at a radius
 * ({@linkcode symbolReach}), so that a figure can keep symbols of different shapes apart
 * and a test can measure the dots of a drawn SVG.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { pathExtent, symbolReach } from "./symbol.ts";
 * assertEquals(pathExtent("M-2,-2h4v4h-4Z"), [-2, -2, 2, 2]);
 * assertEquals(symbolReach("circle", 4), 4);
 * ```
 * @module
 */

import * as Plot from "@observablehq/plot";
import { type DomElement, plotDocument } from "./svg.ts";

const reaches = new Map<string, number>();

/**
 * How far (px) an Observable Plot symbol drawn at radius `r` reaches from its centre along
 * either axis: a circle `r`, a star about 1.7 `r` (Plot sizes a symbol by the area of its
 * circle, and its stroked symbols not quite in proportion): measured on the path Plot
 * draws for it.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { symbolReach } from "./symbol.ts";
 * assertEquals(symbolReach("circle", 5), 5);
 * assert(symbolReach("star", 10) > 16 && symbolReach("square", 10) < 9);
 * ```
 */
export function symbolReach(symbol: string, r: number): number {
  const key = JSON.stringify([symbol, r]);
  const known = reaches.get(key);
  if (known !== undefined) return known;
  const svg = Plot.plot({
    document: plotDocument(),
    axis: null,
    marks: [Plot.dot([0], { x: 0, y: 0, r, symbol: () => symbol })],
    symbol: { type: "identity" },
    r: { type: "identity" },
  } as Plot.PlotOptions) as unknown as DomElement;
  const [dot] = svg.querySelectorAll('g[aria-label="dot"] path, g[aria-label="dot"] circle');
  const d = dot?.getAttribute("d");
  const reach = d ? Math.max(...pathExtent(d).map(Math.abs)) : Number(dot?.getAttribute("r") ?? r);
  reaches.set(key, reach);
  return reach;
}

/**
 * The box an SVG path of M, L, H, V, Z and A commands (absolute or relative) spans, as
 * [x0, y0, x1, y1]: an arc as the circle of its radius around its end point's centre
 * (the symbols Plot draws close each circle with two half arcs).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { pathExtent } from "./symbol.ts";
 * assertEquals(pathExtent("M-2,-2h4v4h-4Z"), [-2, -2, 2, 2]);
 * assertEquals(pathExtent("M0,-3L2,1L-2,1Z"), [-2, -3, 2, 1]);
 * ```
 */
export function pathExtent(d: string): [number, number, number, number] {
  let x = 0;
  let y = 0;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [, cmd, args] of d.matchAll(/([MLHVZAmlhvza])([^MLHVZAmlhvza]*)/g)) {
    const a = (args.match(/-?\d*\.?\d+(?:e-?\d+)?/g) ?? []).map(Number);
    const rel = cmd === cmd.toLowerCase();
    const up = cmd.toUpperCase();
    const step = up === "A" ? 7 : up === "H" || up === "V" ? 1 : up === "Z" ? 0 : 2;
    for (let i = 0; step > 0 && i + step <= a.length; i += step) {
      const [x0, y0] = [x, y];
      if (up === "H") x = (rel ? x : 0) + a[i];
      else if (up === "V") y = (rel ? y : 0) + a[i];
      else {
        x = (rel ? x : 0) + a[i + step - 2];
        y = (rel ? y : 0) + a[i + step - 1];
      }
      if (up === "A") {
        // A half arc between opposite points of a circle: its centre is their middle.
        const [cx, cy, r] = [(x0 + x) / 2, (y0 + y) / 2, a[i]];
        xs.push(cx - r, cx + r);
        ys.push(cy - r, cy + r);
      }
      xs.push(x);
      ys.push(y);
    }
  }
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}
