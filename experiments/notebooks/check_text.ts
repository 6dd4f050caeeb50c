/**
 * `deno run --allow-read experiments/notebooks/check_text.ts NOTEBOOK.ipynb...`: check that
 * every figure of executed notebooks reads as drawn: no text box overlaps another and none
 * reaches outside the figure, measured from the SVG with the font's advance widths
 * (lib/plots/textbox.ts), as a PNG 1200 px wide shows it.
 *
 * Exit status: 0 every figure reads, 1 a figure does not (one line per overlap), 2 bad input.
 *
 * @module
 */

import { overlappingText, textOutside } from "../../lib/plots/textbox.ts";

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
    }
  });
  return { problems, figures };
}

if (import.meta.main) {
  if (Deno.args.length === 0) {
    console.error("usage: check_text.ts NOTEBOOK.ipynb...");
    Deno.exit(2);
  }
  let failed = false;
  for (const p of Deno.args) {
    let res;
    try {
      res = textProblems(p);
    } catch (e) {
      console.error(`error: ${p}: ${(e as Error).message}`);
      Deno.exit(2);
    }
    for (const line of res.problems) console.error(line);
    console.log(
      `${p.split("/").pop()}: ${res.figures} figure(s)${
        res.problems.length ? `, ${res.problems.length} text problem(s)` : ", no text overlaps"
      }`,
    );
    failed ||= res.problems.length > 0;
  }
  if (failed) Deno.exit(1);
}
