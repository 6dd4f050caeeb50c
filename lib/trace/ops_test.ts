/**
 * The op table: every operation's keys (each accepted; a misspelling of each rejected with
 * the key it was meant to be), and the per-op behaviours the table holds for the rest of
 * the lab (the class of a guest access and the range it touches, shadow-neutrality, how a
 * selftest produces the op).
 */
import { assert, assertEquals, assertThrows } from "@std/assert";
import { type Json, TraceError } from "./fields.ts";
import { FULL_EVENTS, misspellings, renamed } from "./testing.ts";
import {
  guestAccessEnd,
  isGuestAccess,
  opClass,
  opKeys,
  parseEvent,
  selftestRole,
  SHADOW_NEUTRAL,
  TRACE_OPS,
} from "./ops.ts";

const CFG = { hostGranule: "4K", paBits: 40, vcpus: 2, memslots: [], contexts: [] };

Deno.test("op table: every operation accepts each of its keys and nothing else", () => {
  for (const op of TRACE_OPS) {
    const full = FULL_EVENTS[op];
    assertEquals(Object.keys(full), opKeys(op), `${op}: the sample holds every key`);
    const e = parseEvent(full, "events[0]", CFG);
    assertEquals(Object.keys(e), opKeys(op), `${op}: every key read`);
    // The same event without each optional key still parses.
    for (const key of opKeys(op)) {
      const { [key]: _, ...rest } = full;
      try {
        parseEvent(rest, "events[0]", CFG);
      } catch (err) {
        assert(err instanceof TraceError, String(err));
        assertEquals(err.problem, "missing", `${op}.${key}: ${err.message}`);
      }
    }
  }
});

Deno.test("op table: a misspelling of any key is one error naming the event and the key meant", () => {
  let checked = 0;
  for (const op of TRACE_OPS) {
    for (const key of opKeys(op)) {
      for (const bad of misspellings(key)) {
        assert(!opKeys(op).includes(bad), `${op}: ${bad} is a key of its own`);
        const err = assertThrows(
          () => parseEvent(renamed(FULL_EVENTS[op], key, bad), "events[3]", CFG),
          TraceError,
        );
        assertEquals(
          err.message,
          `events[3]: unknown key "${bad}" (did you mean "${key}"?)`,
          `${op}.${key}`,
        );
        checked++;
      }
    }
  }
  assertEquals(checked, 2 * TRACE_OPS.reduce((n, op) => n + opKeys(op).length, 0));
});

Deno.test("op table: misspelled keys (writeable, wirte), and unknown keys far from any", () => {
  const bad = (e: Json, message: string) =>
    assertEquals(assertThrows(() => parseEvent(e, "events[3]", CFG), TraceError).message, message);
  bad(
    { ...FULL_EVENTS["l1-map"], writable: undefined, writeable: false },
    'events[3]: unknown key "writeable" (did you mean "writable"?)',
  );
  bad(
    { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G", wirte: true },
    'events[3]: unknown key "wirte" (did you mean "write"?)',
  );
  bad(
    { op: "flush", colour: "blue" },
    'events[3]: unknown key "colour" (expected one of op)',
  );
  bad(
    { op: "migrat", l1ipa: "1G", size: "4K" },
    'events[3].op: unknown operation "migrat" (did you mean "migrate"?)',
  );
  bad({ l1ipa: "1G", size: "4K" }, "events[3].op: missing");
});

Deno.test("op table: guest accesses are the l2-access class, and say what range they touch", () => {
  for (const op of TRACE_OPS) {
    const e = parseEvent(FULL_EVENTS[op], "events[0]", CFG);
    assertEquals(isGuestAccess(e), opClass(op) === "l2-access", op);
    if (!isGuestAccess(e)) continue;
    assertEquals(e.vcpu, 1, op);
    const end = guestAccessEnd(e);
    assertEquals(end, e.l2ipa + (e.op === "touch" ? e.size : 1), op);
  }
});

Deno.test("op table: shadow-neutral classes are those that change no shadow leaf and no host page", () => {
  const neutral = TRACE_OPS.filter((op) => SHADOW_NEUTRAL[opClass(op)]);
  // L1's own tables and contexts, L1's canonical accesses, a new memslot.
  assertEquals(neutral, [
    "l1-map",
    "l1-unmap",
    "l1-access",
    "ctx-create",
    "ctx-destroy",
    "memslot-add",
  ]);
});

Deno.test("op table: how a selftest in L1 produces each operation", () => {
  const by = (role: string) => TRACE_OPS.filter((op) => selftestRole(op).by === role);
  assertEquals(by("l1"), ["l1-map", "l1-unmap", "access", "l1-access", "ctx-create"]);
  assertEquals(by("host"), ["migrate", "swap-out", "numa-scan", "thp-split"]);
  // Content checks follow the host events that give the memory a new page.
  assertEquals(
    by("host").filter((op) => {
      const r = selftestRole(op);
      return r.by === "host" && r.newPage;
    }),
    ["migrate", "swap-out"],
  );
  for (const op of by("none")) {
    const r = selftestRole(op);
    assert(r.by === "none" && r.why.length > 10 && !r.why.includes("\n"), op);
  }
});
