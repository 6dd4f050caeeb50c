/**
 * The trace file's schemas besides the events' (those are in ops_test.ts): the file's own
 * keys, its configuration, memslots, L1 contexts and expectations. Each key is accepted
 * wherever its object appears, and a misspelling of each is one error naming the object
 * and the key meant.
 */
import { assertEquals, assertThrows } from "@std/assert";
import { EXPECT_FIELDS } from "./expectation.ts";
import {
  CONFIG_FIELDS,
  CONTEXT_FIELDS,
  type Json,
  MEMSLOT_FIELDS,
  schemaKeys,
  TraceError,
} from "./fields.ts";
import { misspellings, renamed } from "./testing.ts";
import { parseTrace, parseTraceFile, TRACE_FILE_FIELDS } from "./trace.ts";

const MEMSLOT = { id: 0, base: "1G", size: "1G", backing: "page" };
const CONTEXT = { id: 1, vmid: 1, granule: "4K", ipaBits: 40, s2: true, baddr: "0x80000000" };
const EXPECTATION = {
  violations: 0,
  iterations: ">0",
  removedNeeded: ">=1",
  removedCollateral: "<=4",
  memoryBytes: "<1000000",
  kinds: ["stale-pa"],
  shadowIpa: "4G",
  canonicalIpa: "1G",
  why: "every key",
};

/** A trace file holding every key of every schema, with `at` replaced by `put` where given. */
function file(put: Partial<Record<Place, Json>> = {}): Json {
  return put.file ?? {
    name: "every key",
    description: "each schema's keys, all of them",
    config: put.config ?? {
      hostGranule: "4K",
      paBits: 40,
      vcpus: 1,
      memslots: [put.memslot ?? MEMSLOT],
      contexts: [put.context ?? CONTEXT],
    },
    events: [
      { op: "memslot-add", memslot: put.addedMemslot ?? { ...MEMSLOT, id: 1, base: "2G" } },
      { op: "ctx-create", context: put.createdContext ?? { ...CONTEXT, id: 2, vmid: 2 } },
    ],
    expect: { "*": put.expect ?? EXPECTATION },
    broken: { "lossy": put.broken ?? EXPECTATION },
  };
}

type Place =
  | "file"
  | "config"
  | "memslot"
  | "addedMemslot"
  | "context"
  | "createdContext"
  | "expect"
  | "broken";

/** Each place an object of a schema appears: its keys, a full sample, its path in errors. */
const PLACES: [Place, string[], Json, string][] = [
  ["file", schemaKeys(TRACE_FILE_FIELDS), file(), ""],
  ["config", schemaKeys(CONFIG_FIELDS), file().config as Json, "config"],
  ["memslot", schemaKeys(MEMSLOT_FIELDS), MEMSLOT, "config.memslots[0]"],
  ["addedMemslot", schemaKeys(MEMSLOT_FIELDS), MEMSLOT, "events[0].memslot"],
  ["context", schemaKeys(CONTEXT_FIELDS), CONTEXT, "config.contexts[0]"],
  ["createdContext", schemaKeys(CONTEXT_FIELDS), CONTEXT, "events[1].context"],
  ["expect", schemaKeys(EXPECT_FIELDS), EXPECTATION, "expect.*"],
  ["broken", schemaKeys(EXPECT_FIELDS), EXPECTATION, "broken.lossy"],
];

Deno.test("trace file: every key of the file, its config, memslots, contexts and expectations is read", () => {
  const t = parseTraceFile(file());
  assertEquals(Object.keys(t), schemaKeys(TRACE_FILE_FIELDS));
  assertEquals(Object.keys(t.config), schemaKeys(CONFIG_FIELDS));
  assertEquals(Object.keys(t.config.memslots[0]), schemaKeys(MEMSLOT_FIELDS));
  assertEquals(Object.keys(t.config.contexts[0]), schemaKeys(CONTEXT_FIELDS));
  assertEquals(
    [...Object.keys(t.expect["*"].metrics), ...Object.keys(t.expect["*"]).slice(1)],
    schemaKeys(EXPECT_FIELDS),
  );
  for (const [place, keys, sample] of PLACES) {
    assertEquals(Object.keys(sample), keys, `${place}: the sample holds every key`);
  }
  // A trace is the file without its expectations.
  assertEquals(Object.keys(parseTrace(file())), ["name", "description", "config", "events"]);
});

Deno.test("trace file: a misspelling of any key, wherever its object sits, names the object and the key meant", () => {
  let checked = 0;
  for (const [place, keys, sample, path] of PLACES) {
    for (const key of keys) {
      for (const bad of misspellings(key)) {
        const err = assertThrows(
          () => parseTraceFile(file({ [place]: renamed(sample, key, bad) })),
          TraceError,
        );
        const problem = `unknown key "${bad}" (did you mean "${key}"?)`;
        assertEquals(err.message, path ? `${path}: ${problem}` : problem, `${place}.${key}`);
        checked++;
      }
    }
  }
  assertEquals(checked, 2 * PLACES.reduce((n, [, keys]) => n + keys.length, 0));
});

Deno.test("trace file: misspelled config keys (vcpu, paBit) are errors, not ignored", () => {
  const config = file().config as Json;
  for (const [bad, meant] of [["vcpu", "vcpus"], ["paBit", "paBits"]]) {
    const err = assertThrows(
      () => parseTrace(file({ config: renamed(config, meant, bad) })),
      TraceError,
    );
    assertEquals(err.message, `config: unknown key "${bad}" (did you mean "${meant}"?)`);
  }
  // A key near none: the valid ones are listed.
  assertEquals(
    assertThrows(() => parseTrace({ ...file(), comment: "x" }), TraceError).message,
    'unknown key "comment" (expected one of name, description, config, events, expect, broken)',
  );
});

Deno.test("trace file: a field of the wrong type is named", () => {
  const bad = (f: unknown, message: string) =>
    assertEquals(assertThrows(() => parseTrace(f), TraceError).message, message);
  bad({ ...file(), name: 7 }, "name: expected a string");
  bad({ ...file(), config: undefined }, "config: missing");
  bad({ ...file(), events: {} }, "events: expected an array");
  bad([], "expected an object");
});
