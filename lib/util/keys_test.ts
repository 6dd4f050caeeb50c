import { assertEquals } from "@std/assert";
import { editDistance, nearestKey, unknownKeys } from "./keys.ts";

Deno.test("editDistance: insertions, deletions, substitutions and adjacent swaps cost one", () => {
  assertEquals(editDistance("write", "write"), 0);
  assertEquals(editDistance("wirte", "write"), 1); // swap
  assertEquals(editDistance("writeable", "writable"), 1); // deletion
  assertEquals(editDistance("paBit", "paBits"), 1); // insertion
  assertEquals(editDistance("vmid", "vnid"), 1); // substitution
  assertEquals(editDistance("", "abc"), 3);
  assertEquals(editDistance("ctx", "size"), 4);
});

Deno.test("nearestKey: suggests a close key, never a far one", () => {
  const trace = ["op", "vcpu", "ctx", "l2ipa", "write"];
  assertEquals(nearestKey("wirte", trace), "write");
  assertEquals(nearestKey("L2IPA", trace), "l2ipa");
  assertEquals(nearestKey("l2-ipa", trace), "l2ipa");
  // Too far from every key: no suggestion.
  assertEquals(nearestKey("backing", trace), undefined);
  // A one-letter key is not "one edit" from every other one-letter key.
  assertEquals(nearestKey("x", ["y"]), undefined);
});

Deno.test("unknownKeys: every key the schema does not name, in order, valid keys pass", () => {
  const valid = ["hostGranule", "paBits", "vcpus", "memslots", "contexts"];
  assertEquals(unknownKeys({ hostGranule: "4K", paBits: 40, vcpus: 1 }, valid), []);
  assertEquals(unknownKeys({ vcpu: 1, paBit: 40, zzz: 0 }, valid).map((u) => u.problem), [
    'unknown key "vcpu" (did you mean "vcpus"?)',
    'unknown key "paBit" (did you mean "paBits"?)',
    'unknown key "zzz" (expected one of hostGranule, paBits, vcpus, memslots, contexts)',
  ]);
});
