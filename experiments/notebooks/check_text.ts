/**
 * `deno run --allow-read experiments/notebooks/check_text.ts NOTEBOOK.ipynb...`: check that
 * every figure of executed notebooks reads as drawn: no text box overlaps another and none
 * reaches outside the figure, measured from the SVG with the font's advance widths
 * (lib/plots/textbox.ts), as a PNG 1200 px wide shows it; and that no axis mixes two tick
 * formats, 10ⁿ beside plain digits (lib/plots/readback.ts).
 *
 * Exit status: 0 every figure reads, 1 a figure does not (one line per overlap), 2 bad input.
 *
 * @module
 */

import { mixedTickAxes } from "../../lib/plots/readback.ts";
import { overlappingText, textOutside } from "../../lib/plots/textbox.ts";
import { runChecker } from "./checker.ts";

/** Problems of the figures of one executed notebook (empty: all read). */
export function textProblems(path: string): { problems: string[]; figures: number } {
  const nb = JSON.parse(Deno.readTextFileSync(path));
  const name = path.split("/").pop();
  const problems: string[] = [];
  let figures = 0;
  nb.cells.forEach((c: { outputs?: { data?: Record<string, unknown> }[] }, i: number) => {
    for (const o of c.outputs ?? []) {
      const svg = o.data?.["image/svg+xml"];
      if (svg === undefined) continue;
      figures++;
      const text = Array.isArray(svg) ? svg.join("") : String(svg);
      for (const [a, b] of overlappingText(text)) {
        problems.push(`${name} cell ${i}: "${a.text}" overlaps "${b.text}"`);
      }
      for (const b of textOutside(text)) {
        problems.push(`${name} cell ${i}: "${b.text}" reaches outside the figure`);
      }
      for (const a of mixedTickAxes(text)) {
        const ticks = a.labels.filter((l) => l !== "").join(" ");
        problems.push(`${name} cell ${i}: chart ${a.axis} mixes tick formats (${ticks})`);
      }
    }
  });
  return { problems, figures };
}

if (import.meta.main) {
  runChecker("check_text.ts NOTEBOOK.ipynb...", (p) => {
    const res = textProblems(p);
    return {
      problems: res.problems,
      summary: `${p.split("/").pop()}: ${res.figures} figure(s)${
        res.problems.length ? `, ${res.problems.length} text problem(s)` : ", no text overlaps"
      }`,
    };
  });
}
