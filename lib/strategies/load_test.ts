import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { parseTrace } from "../trace/trace.ts";
import { replay } from "../trace/replay.ts";
import { DesignError } from "./design.ts";
import { loadDesignFile } from "./load.ts";
import { clearRegisteredDesigns, designNamed, makeStrategy } from "./registry.ts";
import { oneContextConfig } from "../../test/fixtures/one_context.ts";

const FIXTURES = "test/fixtures/designs";

/** Two aliases of one canonical page in one L2, then a migration of that page. */
const ALIASES = parseTrace({
  name: "two aliases",
  config: oneContextConfig(),
  events: [
    { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
    { op: "l1-map", ctx: 1, l2ipa: "6G", l1ipa: "1G", size: "4K" },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G" },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: "6G" },
    { op: "migrate", l1ipa: "1G", size: "4K" },
  ],
});

Deno.test("a correct design from a file loads, registers and replays clean", async () => {
  try {
    const d = await loadDesignFile(`${FIXTURES}/canonical_filter.ts`);
    assertEquals([d.name, d.role, designNamed("canonical-filter").insertLock], [
      "canonical-filter",
      "user",
      "vm",
    ]);
    const r = replay(ALIASES, makeStrategy("canonical-filter"));
    assertEquals(r.violations, 0);
    // The filter hit: one whole walk of the one MMU.
    assert(r.events[4].iterations > 0);
  } finally {
    clearRegisteredDesigns();
  }
});

Deno.test("a broken design from a file leaves the stale entry the oracle names", async () => {
  try {
    await loadDesignFile(`${FIXTURES}/one_alias.ts`);
    const r = replay(ALIASES, makeStrategy("one-alias"));
    assertEquals([r.violations, r.firstSeen[0].kind], [1, "not-invalidated"]);
  } finally {
    clearRegisteredDesigns();
  }
});

Deno.test("a callback that throws is one DesignError line naming the file and the callback", async () => {
  try {
    await loadDesignFile(`${FIXTURES}/throws.ts`);
    const e = assertThrows(() => replay(ALIASES, makeStrategy("throws")), DesignError);
    assertEquals(
      e.message,
      `${FIXTURES}/throws.ts: shadowMapped() threw: TypeError: ` +
        "Cannot read properties of undefined (reading 'push')",
    );
  } finally {
    clearRegisteredDesigns();
  }
});

Deno.test("design files that do not hold together: one line naming the file and the problem", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s2lab-design-" });
  try {
    await Deno.writeTextFile(`${dir}/syntax.ts`, 'export default { name: "x", ;\n');
    await Deno.writeTextFile(`${dir}/notes.txt`, "a design\n");
    const cases: [string, string][] = [
      [
        `${FIXTURES}/misspelled.ts`,
        'design: unknown key "insertlock" (did you mean "insertLock"?)',
      ],
      [`${FIXTURES}/no_source.ts`, "design.source: missing"],
      [`${dir}/syntax.ts`, "does not load: "],
      [`${dir}/notes.txt`, "not a TypeScript or JavaScript module"],
      [`${dir}/absent.ts`, "no such file"],
      [dir, "not a file"],
    ];
    for (const [file, problem] of cases) {
      const e = await assertRejects(() => loadDesignFile(file), DesignError);
      assert(e.message.startsWith(`${file}: ${problem}`), e.message);
      assert(!e.message.includes("\n"), e.message);
    }
    await loadDesignFile(`${FIXTURES}/wrong_name.ts`);
    assertThrows(
      () => makeStrategy("wrong-name"),
      DesignError,
      `${FIXTURES}/wrong_name.ts: design.make() built an instance named "full-walk"`,
    );
  } finally {
    clearRegisteredDesigns();
    await Deno.remove(dir, { recursive: true });
  }
});
