import { assertEquals } from "@std/assert";
import fc from "fast-check";
import { propertyOptions } from "../../test/property.ts";
import { FramePool } from "./frame_pool.ts";

Deno.test("frame pool: reads back every address set, across growth and the turn to doubles", () => {
  // Page-aligned addresses below 2^44 fit a frame; the others (past 16 TiB, off a page)
  // turn the pool wide, and every address set before or after reads back exactly.
  const addr = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((f) => f * 4096) },
    { weight: 1, arbitrary: fc.integer({ min: 2 ** 32, max: 2 ** 40 }).map((f) => f * 4096) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 52 }) },
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(5000), addr), { maxLength: 200 }), (sets) => {
      const p = new FramePool();
      const want = new Map<number, number>();
      for (const [i, x] of sets) {
        while (i >= p.length) p.grow();
        p.set(i, x);
        want.set(i, x);
      }
      for (const [i, x] of want) assertEquals(p.get(i), x);
      const fits = [...want.values()].every((x) => x % 4096 === 0 && x / 4096 < 2 ** 32);
      assertEquals(p.wide, !fits);
    }),
    propertyOptions(300),
  );
});
