import { assert, assertEquals, assertThrows } from "@std/assert";
import { JsonSyntaxError, locateJsonError, parseJson } from "./json.ts";

Deno.test("json: the locator agrees with JSON.parse on what is JSON (random edits of JSON texts)", () => {
  const bases = [
    Deno.readTextFileSync(new URL("../../experiments/scenarios/flush.json", import.meta.url)),
    '{"a":[1,-2.5e3,true,null,"x\\u00e9\\n"],"b":{}}',
    "[]",
    "0",
    '"s"',
  ];
  const alphabet = '{}[]":,-.0123456789eE+tfnul \n\t\\abx';
  let seed = 1;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor(seed / 2147483648 * n);
  };
  let errors = 0;
  for (let n = 0; n < 8000; n++) {
    let t = bases[rnd(bases.length)];
    for (let k = 1 + rnd(3); k > 0; k--) {
      const p = rnd(t.length + 1), ch = alphabet[rnd(alphabet.length)];
      const how = rnd(3);
      t = t.slice(0, p) + (how === 1 ? "" : ch) + t.slice(how === 0 ? p : p + 1);
    }
    let valid = true;
    try {
      JSON.parse(t);
    } catch {
      valid = false;
    }
    const e = locateJsonError(t);
    assertEquals(e === null, valid, JSON.stringify(t));
    if (e) {
      errors++;
      assert(!e.message.includes("\n"), "one line");
      assert(e.line >= 1 && e.column >= 1 && e.line <= t.split("\n").length, e.message);
    }
  }
  assert(errors > 2000, `${errors} of the edits broke the JSON`);
});

Deno.test("json: where and what, on one line", () => {
  const at = (text: string) => assertThrows(() => parseJson(text), JsonSyntaxError).message;
  assertEquals(at(""), "line 1, column 1: expected a value, found the end of the input");
  assertEquals(at("hello\nworld"), 'line 1, column 1: expected a value, found "h"');
  assertEquals(
    at('{\n  "a": 1,\n  "b": 2,\n}'),
    'line 4, column 1: expected a property name in double quotes, found "}"',
  );
  assertEquals(at('{"a" 1}'), 'line 1, column 6: expected ":" after the property name, found "1"');
  assertEquals(
    at("[1 2]"),
    'line 1, column 4: expected "," or "]" after the array element, found "2"',
  );
  assertEquals(
    at('{"a": "x'),
    'line 1, column 9: expected a closing " of the string, found the end of the input',
  );
  assertEquals(
    at("\ufeff{}"),
    "line 1, column 1: expected a value, found a byte-order mark (U+FEFF)",
  );
  assertEquals(
    at("{} {}"),
    'line 1, column 4: expected the end of the input after the JSON value, found "{"',
  );
  assertEquals(
    at("01"),
    'line 1, column 2: expected the end of the input after the JSON value, found "1"',
  );
});
