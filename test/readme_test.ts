import { assert, assertEquals } from "@std/assert";
import { designTableMarkdown, STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import { schemaMarkdown, TIMING_COLUMNS } from "../lib/sweep/columns.ts";
import { TRACE_OPS } from "../lib/trace/ops.ts";

const ROOT = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, ROOT));

/** README.md and every Markdown file under docs/, by path from the repository root. */
function documents(): Map<string, string> {
  const docs = new Map([["README.md", read("README.md")]]);
  for (const entry of Deno.readDirSync(new URL("docs/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".md")) {
      docs.set(`docs/${entry.name}`, read(`docs/${entry.name}`));
    }
  }
  return docs;
}

/** The lines between `<!-- schema:TAG -->` and `<!-- /schema:TAG -->`. */
function schemaSection(text: string, tag: string): string {
  const m = new RegExp(`<!-- schema:${tag} -->\\n([\\s\\S]*?)\\n<!-- /schema:${tag} -->`).exec(
    text,
  );
  assert(m, `docs/schema.md has a ${tag} schema section`);
  return m[1].trim();
}

/** deno fmt pads Markdown tables: compare cell text, not spacing. */
const cells = (table: string) =>
  table.split("\n").filter((l) => !/^\|[-| ]+\|$/.test(l)).map((l) =>
    l.split("|").map((c) => c.trim())
  );

/** The first cell of every body row of the first table whose header's first cell is `header`. */
function firstColumn(text: string, header: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("|") && l.split("|")[1].trim() === header);
  assert(start >= 0, `a table with first column "${header}"`);
  const rows: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.split("|")[1].trim());
  }
  return rows;
}

/** The names in backticks in a cell: "`ctx-create` / `ctx-destroy`" -> both. */
const codeSpans = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replaceAll(" ", "-");

Deno.test("docs/schema.md's CSV schema is the one lib/sweep/columns.ts writes", () => {
  const schema = read("docs/schema.md");
  assertEquals(cells(schemaSection(schema, "sweep")), cells(schemaMarkdown()));
  assertEquals(cells(schemaSection(schema, "timing")), cells(schemaMarkdown(TIMING_COLUMNS)));
});

Deno.test("docs/model.md's design table is the one the design records make", () => {
  const m = /<!-- designs -->\n([\s\S]*?)\n<!-- \/designs -->/.exec(read("docs/model.md"));
  assert(m, "docs/model.md has a designs section");
  assertEquals(cells(m[1].trim()), cells(designTableMarkdown()));
  const listed = firstColumn(read("docs/model.md"), "name").flatMap(codeSpans);
  assertEquals(listed.toSorted(), [...STRATEGY_NAMES].sort());
});

Deno.test("docs/trace-format.md's op table lists exactly the trace operations", () => {
  const listed = firstColumn(read("docs/trace-format.md"), "op").flatMap(codeSpans);
  assertEquals(listed.toSorted(), [...TRACE_OPS].sort());
});

Deno.test("README's task table has a row for every task in deno.json, and no other task", () => {
  const tasks = Object.keys(JSON.parse(read("deno.json")).tasks);
  const listed = firstColumn(read("README.md"), "command")
    .flatMap((cell) => [...cell.matchAll(/`deno task ([\w:-]+)/g)].map((m) => m[1]));
  assertEquals(listed.toSorted(), tasks.toSorted());
});

Deno.test("README gives the two set-up commands", () => {
  const readme = read("README.md");
  assert(readme.includes("npx -y deno@2.9.6 task sweep"));
  assert(readme.includes("npx -y deno@2.9.6 task test"));
});

Deno.test("every relative link in README.md and docs/ names a file and heading that exist", () => {
  const docs = documents();
  for (const [from, text] of docs) {
    const dir = new URL(from, ROOT);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split("#");
      const file = path === "" ? dir : new URL(path, dir);
      const where = `${from}: (${target})`;
      assert(Deno.statSync(file).isFile, where);
      if (anchor === undefined) continue;
      const headings = Deno.readTextFileSync(file).split("\n").filter((l) => /^#+ /.test(l))
        .map((l) => slug(l.replace(/^#+ /, "")));
      assert(headings.includes(anchor), `${where}: no heading with that anchor`);
    }
  }
});

Deno.test("README.md and docs/ keep no history of rounds and name no look-up tools", () => {
  const banned = /this round|the round before|rounds? before|read_file|find_string/i;
  for (const [path, text] of documents()) {
    const line = text.split("\n").findIndex((l) => banned.test(l));
    assertEquals(line, -1, `${path}:${line + 1}: ${text.split("\n")[line]}`);
  }
});
