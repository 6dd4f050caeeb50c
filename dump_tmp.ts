import { gridProblems, runNotebookCells } from "./test/notebook_grid_test.ts";
import { parseCsv } from "./lib/util/csv.ts";
const [nb, csv, outDir] = Deno.args;
const shown = await runNotebookCells(nb, { S2LAB_WORKING_SET_CSV: csv, S2LAB_SWEEP_CSV: csv });
Deno.mkdirSync(outDir, { recursive: true });
for (const s of shown) {
  const it = s.item as any;
  if (it.svg) Deno.writeTextFileSync(`${outDir}/${it.name}.svg`, it.svg);
  else if (it.text || it.toString) console.log(`--- cell ${s.cell}\n${String(it).slice(0, 800)}`);
}
for (const p of gridProblems(shown, (f) => parseCsv(Deno.readTextFileSync(f.startsWith("/") ? f : "./" + f)).rows)) console.log("PROBLEM", p);
