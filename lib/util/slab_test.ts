import { assertEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { propertyOptions } from "../../test/property.ts";
import { Slab, SLAB_FIRST_BYTES, SLAB_MAX_BYTES } from "./slab.ts";

Deno.test("slab: regions taken never overlap while held; a region given back is taken again first", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 600 }), fc.nat()), {
        maxLength: 200,
      }),
      (ops) => {
        const slab = new Slab();
        // Held regions: buffer, offset, bytes, and a tag written into every byte.
        const held: { buf: ArrayBuffer; at: number; bytes: number; tag: number }[] = [];
        let tag = 0;
        for (const [take, words, pick] of ops) {
          if (take || held.length === 0) {
            const bytes = words * 8;
            slab.take(bytes);
            assertEquals(slab.offset % 8, 0);
            const r = { buf: slab.buffer, at: slab.offset, bytes, tag: ++tag % 251 };
            new Uint8Array(r.buf, r.at, bytes).fill(r.tag);
            held.push(r);
          } else {
            const [r] = held.splice(pick % held.length, 1);
            slab.give(r.buf, r.at, r.bytes);
            // The next region of that size is the one just given back.
            slab.take(r.bytes);
            assertEquals([slab.buffer === r.buf, slab.offset], [true, r.at]);
            slab.give(r.buf, r.at, r.bytes);
          }
          // Every held region still holds its own tag: no two overlap.
          for (const h of held) {
            const v = new Uint8Array(h.buf, h.at, h.bytes);
            assertEquals(v.every((x) => x === h.tag), true);
          }
        }
      },
    ),
    propertyOptions(100),
  );
});

Deno.test("slab: buffers grow with what it made, within their bounds; reset forgets all", () => {
  const slab = new Slab();
  slab.take(8);
  assertEquals(slab.bytesMade, SLAB_FIRST_BYTES);
  for (let i = 0; i < 200_000; i++) slab.take(4104);
  // Each buffer leaves less than one region unused at its end, and the last is at most
  // SLAB_MAX_BYTES: what was made is within 1% of what was taken, plus one buffer.
  const taken = 8 + 200_000 * 4104;
  assertEquals(slab.bytesMade >= taken, true);
  assertEquals(slab.bytesMade <= taken * 1.01 + SLAB_MAX_BYTES, true);
  assertEquals(slab.buffer.byteLength, SLAB_MAX_BYTES);
  slab.take(3 * SLAB_MAX_BYTES); // larger than a buffer: one of its own
  assertEquals([slab.buffer.byteLength, slab.offset], [3 * SLAB_MAX_BYTES, 0]);
  slab.reset();
  assertEquals(slab.bytesMade, 0);
  slab.take(16);
  assertEquals([slab.bytesMade, slab.offset], [SLAB_FIRST_BYTES, 0]);
  assertThrows(() => slab.take(12), RangeError);
  assertThrows(() => slab.take(0), RangeError);
});
