import { assert, assertEquals } from "@std/assert";
import { STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import { schemaMarkdown, TIMING_COLUMNS } from "../lib/sweep/columns.ts";
import { TRACE_OPS } from "../lib/trace/ops.ts";

const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));

function section(tag: string): string {
  const m = new RegExp(`<!-- schema:${tag} -->\\n([\\s\\S]*?)\\n<!-- /schema:${tag} -->`).exec(
    readme,
  );
  assert(m, `README has a ${tag} schema section`);
  return m[1].trim();
}

/** deno fmt pads Markdown tables: compare cell text, not spacing. */
const cells = (table: string) =>
  table.split("\n").filter((l) => !/^\|[-| ]+\|$/.test(l)).map((l) =>
    l.split("|").map((c) => c.trim())
  );

Deno.test("README's CSV schema is the one lib/sweep/schema.ts writes", () => {
  assertEquals(cells(section("sweep")), cells(schemaMarkdown()));
  assertEquals(cells(section("timing")), cells(schemaMarkdown(TIMING_COLUMNS)));
});

Deno.test("README documents every strategy and every trace operation", () => {
  for (const s of STRATEGY_NAMES) assert(readme.includes(`| \`${s}\``), s);
  for (const op of TRACE_OPS) assert(readme.includes(`\`${op}\``), op);
});

Deno.test("README gives the two set-up commands", () => {
  assert(readme.includes("npx -y deno@2.9.6 task sweep"));
  assert(readme.includes("npx -y deno@2.9.6 task test"));
});
