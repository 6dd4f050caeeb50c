/**
 * The marks of one design's series, in its style (./style.ts): a line in its colour and
 * dash, and its symbol at each point (hollow where the design's style says so, or where the
 * symbol is a stroke: cross, times, wye). Channels name the fields of the data.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as Plot from "@observablehq/plot";
 * import { strategyLineDots } from "./marks.ts";
 * import { countMarks, composeFigure, plotDocument } from "./svg.ts";
 * const d = [{ x: 1, y: 2 }, { x: 2, y: 3 }];
 * const chart = Plot.plot({ document: plotDocument(), symbol: { type: "identity" },
 *   marks: strategyLineDots(d, { x: "x", y: "y" }, "rmap") });
 * const fig = composeFigure({ name: "t", title: "t", chart: chart as never, legend: [] });
 * assertEquals([countMarks(fig.svg).line, countMarks(fig.svg).dot], [1, 2]);
 * ```
 * @module
 */

import * as Plot from "@observablehq/plot";
import { strategyStyle } from "./style.ts";

/**
 * Fields of the data a series reads: x, y, and optionally the panel (fx) and line split (z).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { SeriesChannels } from "./marks.ts";
 * const c: SeriesChannels = { x: "vcpus", y: "v", fx: "ws", z: "ws" };
 * assertEquals(c.fx, c.z);
 * ```
 */
export interface SeriesChannels {
  /** Field on x. */
  x: string;
  /** Field on y. */
  y: string;
  /** Field of the panel. */
  fx?: string;
  /** Field that splits the line (one line per value). */
  z?: string;
}

/** Symbols drawn as strokes: their dots are filled white so the stroke shows. */
const STROKE_SYMBOLS = new Set(["cross", "times", "wye"]);

/**
 * One design's line and dots in its style (see the module doc).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { strategyLineDots } from "./marks.ts";
 * assertEquals(strategyLineDots([{ x: 1, y: 1 }], { x: "x", y: "y" }, "rmap").length, 2);
 * ```
 */
export function strategyLineDots(
  data: readonly object[],
  channels: SeriesChannels,
  strategy: string,
  width = 2,
): Plot.Markish[] {
  const st = strategyStyle(strategy);
  return [
    Plot.line(data, {
      ...channels,
      stroke: st.color,
      strokeWidth: width,
      strokeDasharray: st.dash || undefined,
    }),
    Plot.dot(data, {
      x: channels.x,
      y: channels.y,
      fx: channels.fx,
      symbol: () => st.symbol,
      r: 4.5,
      fill: st.hollow || STROKE_SYMBOLS.has(st.symbol) ? "white" : st.color,
      stroke: st.color,
      strokeWidth: 1.8,
    }),
  ];
}
