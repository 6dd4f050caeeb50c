import { assert, assertEquals, assertThrows } from "@std/assert";
import { checkDesign, type Design, DESIGN_ROLES, DesignError } from "./design.ts";
import {
  BUILT_IN_DESIGNS,
  clearRegisteredDesigns,
  designNamed,
  designNames,
  KNOWN_BROKEN,
  makeStrategy,
  registerDesign,
  STRATEGY_NAMES,
  UPSTREAM,
} from "./registry.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("every built-in design record has every field, its style included", () => {
  const fields = [
    "name",
    "label",
    "summary",
    "role",
    "knownBroken",
    "reference",
    "insertLock",
    "leafBytes",
    "description",
    "source",
    "style",
    "make",
  ];
  for (const d of BUILT_IN_DESIGNS) {
    assertEquals(Object.keys(d).sort(), [...fields].sort(), d.name);
    checkDesign(d, d.name, true);
    // The factory builds the design it describes.
    assertEquals(d.make({}).name, d.name);
  }
});

Deno.test("a record that lacks any field, or holds an unknown one, is one DesignError line", () => {
  const full = BUILT_IN_DESIGNS[0];
  for (const key of Object.keys(full)) {
    const lacking: Record<string, unknown> = { ...full };
    delete lacking[key];
    const e = assertThrows(() => checkDesign(lacking, "mine.ts", true), DesignError);
    assertEquals(e.message, `mine.ts: design.${key}: missing`);
    assert(!e.message.includes("\n"));
  }
  // A design brought from a file may leave its style out.
  const { style: _, ...noStyle } = full;
  assertEquals(checkDesign(noStyle, "mine.ts").name, full.name);
  assertThrows(
    () => checkDesign({ ...full, insertlock: "vm" }, "mine.ts"),
    DesignError,
    'mine.ts: design: unknown key "insertlock" (did you mean "insertLock"?)',
  );
  assertThrows(
    () => checkDesign({ ...full, leafBytes: "lots" }, "mine.ts"),
    DesignError,
    "design.leafBytes:",
  );
  assertThrows(
    () => checkDesign({ ...full, style: { ...full.style, symbol: "blob" } }, "mine.ts"),
    DesignError,
    'design.style: symbol "blob" is not one of',
  );
});

Deno.test("roles: one upstream design, the rejected patch known broken, every role named", () => {
  assertEquals(UPSTREAM, "full-walk");
  assertEquals(KNOWN_BROKEN, ["maple-v2"]);
  for (const d of BUILT_IN_DESIGNS) assert(DESIGN_ROLES.includes(d.role), d.name);
  assertEquals(BUILT_IN_DESIGNS.filter((d) => d.role === "user"), []);
  // verify compares with upstream, the series under review and at least one of ours.
  const refs = BUILT_IN_DESIGNS.filter((d) => d.reference);
  for (const role of ["upstream", "series", "ours"]) {
    assert(refs.some((d) => d.role === role), role);
  }
  assert(refs.every((d) => !d.knownBroken));
});

Deno.test("built-in styles: no two designs share a colour, a symbol or a dash", () => {
  for (const k of ["color", "symbol", "dash"] as const) {
    const v = BUILT_IN_DESIGNS.map((d) => d.style![k]);
    assertEquals(new Set(v).size, v.length, k);
  }
});

Deno.test("registered designs are known to every lookup, names are unique", () => {
  const base = BUILT_IN_DESIGNS.find((d) => d.name === "rmap")!;
  const mine: Design = { ...base, name: "mine", role: "user", make: () => makeNamed("mine") };
  try {
    registerDesign(mine, "mine.ts");
    registerDesign(mine, "mine.ts"); // the same file again: a no-op
    assertEquals(designNames().at(-1), "mine");
    assertEquals(designNamed("mine").insertLock, "vm");
    assertEquals(makeStrategy("mine").name, "mine");
    assertThrows(() => registerDesign(mine, "other.ts"), DesignError, "already taken by mine.ts");
    assertThrows(
      () => registerDesign({ ...mine, name: "rmap" }, "other.ts"),
      DesignError,
      "a built-in design's name",
    );
  } finally {
    clearRegisteredDesigns();
  }
  assertEquals(designNames(), [...STRATEGY_NAMES]);
  assertThrows(() => makeStrategy("mine"), RangeError, 'unknown strategy "mine"');
});

Deno.test("a factory that builds another design is a DesignError", () => {
  const base = BUILT_IN_DESIGNS[0];
  try {
    registerDesign({ ...base, name: "liar", role: "user" }, "liar.ts");
    assertThrows(
      () => makeStrategy("liar"),
      DesignError,
      'liar.ts: design.make() built an instance named "full-walk", not "liar"',
    );
  } finally {
    clearRegisteredDesigns();
  }
});

function makeNamed(name: string) {
  return Object.assign(BUILT_IN_DESIGNS.find((d) => d.name === "rmap")!.make({}), { name });
}

/**
 * The registry is the one list of designs: a module elsewhere that names two or more
 * designs in string literals keeps a list of its own (a table of labels, colours, byte
 * estimates, a preference order), which goes stale when a design is added. Naming one
 * design for a purpose only it serves (the budget sweep of rmap-bounded) is allowed.
 * Doc comments and tests are not scanned.
 */
Deno.test("no module outside lib/strategies keeps its own list of design names", async () => {
  const offenders: string[] = [];
  const names = new Set(STRATEGY_NAMES);
  for (const dir of ["lib", "experiments", "bench"]) {
    for await (const file of walkTs(new URL(`${dir}/`, ROOT), `${dir}/`)) {
      if (file.startsWith("lib/strategies/") || file.endsWith("_test.ts")) continue;
      const text = await Deno.readTextFile(new URL(file, ROOT));
      const code = text.split("\n").filter((l) => !/^\s*(\*|\/\*\*|\/\/)/.test(l)).join("\n");
      const found = new Set<string>();
      for (const m of code.matchAll(/["']([a-z0-9-]+)["']/g)) if (names.has(m[1])) found.add(m[1]);
      if (found.size >= 2) offenders.push(`${file}: ${[...found].join(", ")}`);
    }
  }
  assertEquals(offenders, []);
});

async function* walkTs(dir: URL, rel: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) yield* walkTs(new URL(`${e.name}/`, dir), `${rel}${e.name}/`);
    else if (e.name.endsWith(".ts")) yield `${rel}${e.name}`;
  }
}
