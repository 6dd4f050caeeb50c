/**
 * A y axis in estimated time (seconds, written in µs, ms or s) with its grid, and the two
 * lines every such chart draws: the soft lockup and CFS's scheduling latency, in the
 * colours no design uses (./style.ts). The cover figure (./cover.ts) and the budget figure
 * (./memory.ts) draw their time charts with them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { secondsAxis, timeThresholds } from "./seconds.ts";
 * assertEquals(secondsAxis([1e-3, 1], "time").length, 3);
 * assertEquals(timeThresholds(20, 0.006).length, 2);
 * ```
 * @module
 */

import * as Plot from "@observablehq/plot";
import { formatSeconds, LOCKUP_COLOR, STRICT_COLOR } from "./style.ts";

/** The soft-lockup line's dash, for the chart and its legend. */
export const LOCKUP_DASH = "8,4";

/** The scheduling-latency line's dash, for the chart and its legend. */
export const STRICT_DASH = "2,3";

/**
 * A framed chart's y axis at `ticks` seconds, each written by formatSeconds, with a light
 * grid and `label` beside it (`labelOffset` px from the frame).
 */
export function secondsAxis(
  ticks: readonly number[],
  label: string,
  labelOffset = 96,
): Plot.Markish[] {
  return [
    Plot.frame({ stroke: "#ccc" }),
    Plot.gridY(ticks, { stroke: "#eee", strokeOpacity: 1 }),
    Plot.axisY(ticks, {
      text: (v: number) => formatSeconds(v),
      label,
      labelAnchor: "center",
      labelArrow: "none",
      labelOffset,
    }),
  ];
}

/** The soft-lockup and scheduling-latency lines at those times (seconds). */
export function timeThresholds(softLockupS: number, schedLatencyS: number): Plot.Markish[] {
  return [
    Plot.ruleY([softLockupS], {
      stroke: LOCKUP_COLOR,
      strokeWidth: 2,
      strokeDasharray: LOCKUP_DASH,
    }),
    Plot.ruleY([schedLatencyS], {
      stroke: STRICT_COLOR,
      strokeWidth: 1.6,
      strokeDasharray: STRICT_DASH,
    }),
  ];
}
