import { assert, assertEquals, assertThrows } from "@std/assert";
import { AddrMap, AddrSet, PageSet } from "./addr_table.ts";
import { Prng } from "./prng.ts";

Deno.test("AddrSet agrees with Set<number> over random adds and deletes (52-bit addresses)", () => {
  const rng = new Prng(7);
  const ref = new Set<number>();
  const s = new AddrSet(4);
  // A small universe makes probe runs collide and wrap: deletion must keep them findable.
  const universe = Array.from(
    { length: 300 },
    (_, i) => (i % 3 === 0 ? 2 ** 52 - 4096 * i : 4096 * i),
  );
  for (let step = 0; step < 20000; step++) {
    const a = universe[rng.int(universe.length)];
    if (rng.chance(0.55)) {
      s.add(a);
      ref.add(a);
    } else {
      assertEquals(s.delete(a), ref.delete(a), `delete ${a} at step ${step}`);
    }
    if (step % 97 === 0) {
      for (const u of universe) assertEquals(s.has(u), ref.has(u), `has ${u} at step ${step}`);
    }
    assertEquals(s.size, ref.size);
  }
  const seen: number[] = [];
  s.forEach((a) => seen.push(a));
  assertEquals(seen.sort((x, y) => x - y), [...ref].sort((x, y) => x - y));
  s.clear();
  assert(universe.every((u) => !s.has(u)));
  assertEquals(s.size, 0);
});

Deno.test("AddrSet rejects what is not an address", () => {
  const s = new AddrSet();
  for (const bad of [-1, 0.5, 2 ** 53, NaN]) assertThrows(() => s.add(bad), RangeError);
});

Deno.test("AddrMap agrees with Map<number, number> over random sets and deletes", () => {
  const rng = new Prng(11);
  const ref = new Map<number, number>();
  const m = new AddrMap(2);
  const universe = Array.from({ length: 200 }, (_, i) => (i % 2 ? 2 ** 51 + 512 * i : 65536 * i));
  for (let step = 0; step < 20000; step++) {
    const a = universe[rng.int(universe.length)];
    if (rng.chance(0.55)) {
      const v = rng.int(1000);
      m.set(a, v);
      ref.set(a, v);
    } else {
      assertEquals(m.delete(a), ref.delete(a), `delete ${a} at step ${step}`);
    }
    if (step % 89 === 0) {
      for (const u of universe) assertEquals(m.get(u), ref.get(u) ?? -1, `get ${u} at ${step}`);
    }
    assertEquals(m.size, ref.size);
  }
  const seen: [number, number][] = [];
  m.forEach((a, v) => seen.push([a, v]));
  assertEquals(seen.sort((x, y) => x[0] - y[0]), [...ref].sort((x, y) => x[0] - y[0]));
  assertThrows(() => m.set(-4096, 1), RangeError);
});

Deno.test("PageSet agrees with Set<number> over random adds, deletes and clears", () => {
  const rng = new Prng(13);
  for (const page of [4096, 65536]) {
    const ref = new Set<number>();
    const s = new PageSet(page);
    // Runs of neighbouring pages (shared regions) and far pages up to 52 bits.
    const universe = Array.from(
      { length: 1500 },
      (_, i) => i % 5 === 0 ? 2 ** 52 - page * (i + 1) : 2 ** 40 + page * (i * 37 % 2000),
    );
    for (let step = 0; step < 30000; step++) {
      const a = universe[rng.int(universe.length)];
      if (rng.chance(0.55)) {
        s.add(a);
        ref.add(a);
      } else {
        assertEquals(s.delete(a), ref.delete(a), `delete ${a} at step ${step}`);
      }
      if (step % 211 === 0) {
        for (const u of universe) assertEquals(s.has(u), ref.has(u), `has ${u} at step ${step}`);
      }
      if (step === 15000) {
        s.clear();
        ref.clear();
      }
      assertEquals(s.size, ref.size);
    }
    assertThrows(() => s.add(page / 2), RangeError);
    assertThrows(() => s.add(-page), RangeError);
  }
});
