/** The brute-force model: a plain list of disjoint ranges, rebuilt on every change. */
import { assert, assertEquals, assertThrows } from "@std/assert";
import { propertyOptions } from "../../test/property.ts";
import fc from "fast-check";
import { MAPLE_NODE_BYTES, MAX_RANGE_KEY, type RangeEntry, RangeMap } from "./range_map.ts";

class Model {
  list: RangeEntry[] = [];
  store(
    s: number,
    e: number,
    v: number | null,
  ): { removed: number[]; split: number | undefined; trimmed: number[] } {
    const out: RangeEntry[] = [];
    const removed: number[] = [];
    const trimmed: number[] = [];
    let split: number | undefined;
    for (const r of this.list) {
      if (r.end <= s || r.start >= e) {
        out.push(r);
        continue;
      }
      const l = r.start < s, rt = r.end > e;
      if (l) out.push({ start: r.start, end: s, value: r.value });
      if (rt) out.push({ start: e, end: r.end, value: r.value });
      if (l && rt) split = r.value;
      else if (!l && !rt) removed.push(r.value);
      else trimmed.push(r.value);
    }
    if (v !== null) out.push({ start: s, end: e, value: v });
    out.sort((a, b) => a.start - b.start);
    this.list = out;
    return { removed, split, trimmed };
  }
  find(s: number, max: number): RangeEntry | undefined {
    return this.list.find((r) => r.end > s && r.start < max && s < max);
  }
  eraseAt(i: number): RangeEntry | undefined {
    const r = this.list.find((r) => r.start <= i && i < r.end);
    if (r) this.list = this.list.filter((x) => x !== r);
    return r;
  }
  slots(): number {
    if (this.list.length === 0) return 0;
    let n = this.list.length + 1 + (this.list[0].start > 0 ? 1 : 0);
    for (let i = 1; i < this.list.length; i++) if (this.list[i - 1].end !== this.list[i].start) n++;
    return n;
  }
}

type Op =
  | { k: "store"; s: number; e: number; v: number }
  | { k: "erase"; s: number; e: number }
  | { k: "eraseAt"; i: number }
  | { k: "find"; s: number; m: number }
  | { k: "destroy" };

/** Keys from a small grid, optionally shifted next to 2^52 to check exactness there. */
function opArb(base: number, scale: number): fc.Arbitrary<Op> {
  const key = fc.integer({ min: 0, max: 40 }).map((x) => base + x * scale);
  const range = fc.tuple(key, key).filter(([a, b]) => a !== b).map((
    [a, b],
  ) => [Math.min(a, b), Math.max(a, b)]);
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.tuple(range, fc.nat(5)).map(([[s, e], v]): Op => ({ k: "store", s, e, v })),
    },
    { weight: 2, arbitrary: range.map(([s, e]): Op => ({ k: "erase", s, e })) },
    { weight: 2, arbitrary: key.map((i): Op => ({ k: "eraseAt", i })) },
    { weight: 3, arbitrary: fc.tuple(key, key).map(([s, m]): Op => ({ k: "find", s, m })) },
    { weight: 1, arbitrary: fc.constant<Op>({ k: "destroy" }) },
  );
}

function runAgainstModel(ops: Op[], blockSize: number, valueUnit = 1): RangeMap {
  const m = new RangeMap({ blockSize, valueUnit });
  const ref = new Model();
  for (const op of ops) {
    switch (op.k) {
      case "store": {
        const got = m.store(op.s, op.e, op.v);
        const want = ref.store(op.s, op.e, op.v);
        assertEquals(got.removed, want.removed);
        assertEquals(got.split, want.split);
        assertEquals(got.trimmed, want.trimmed);
        break;
      }
      case "erase": {
        const got = m.erase(op.s, op.e);
        const want = ref.store(op.s, op.e, null);
        assertEquals(got.removed, want.removed);
        assertEquals(got.split, want.split);
        assertEquals(got.trimmed, want.trimmed);
        break;
      }
      case "eraseAt":
        assertEquals(m.eraseAt(op.i), ref.eraseAt(op.i));
        break;
      case "find": {
        assertEquals(m.find(op.s, op.m), ref.find(op.s, op.m));
        // collect() finds what forEach() visits, for the same steps.
        const visited: RangeEntry[] = [];
        const s0 = m.steps;
        m.forEach(op.s, op.m, (e) => visited.push(e), false);
        const s1 = m.steps;
        assertEquals(m.collect(op.s, op.m), visited);
        assertEquals(m.steps - s1, s1 - s0);
        break;
      }
      case "destroy":
        m.destroy();
        ref.list = [];
        break;
    }
    m.validate();
    assertEquals(m.toArray(), ref.list);
    assertEquals(m.size, ref.list.length);
    assertEquals(m.slots, ref.slots());
    const seen: RangeEntry[] = [];
    m.forEach(0, MAX_RANGE_KEY, (e) => seen.push(e));
    assertEquals(seen, ref.list);
  }
  return m;
}

Deno.test("range map: random operation sequences match the brute-force model", () => {
  fc.assert(
    fc.property(
      fc.array(opArb(0, 0x1000), { maxLength: 120 }),
      fc.constantFrom(2, 3, 256),
      (ops, bs) => {
        runAgainstModel(ops, bs);
      },
    ),
    propertyOptions(1000),
  );
});

Deno.test("range map: 32-bit words while keys and values fit, doubles from the first that does not", () => {
  const page = fc.integer({ min: 0, max: 40 }).map((x) => x * 0x1000);
  const range = fc.tuple(page, page).filter(([a, b]) => a !== b)
    .map(([a, b]) => [Math.min(a, b), Math.max(a, b)]);
  // Values as the strategies store them: page-aligned IPAs up to 2^44 and -1 (UNKNOWN_IPA).
  const ipa = fc.oneof(
    fc.constant(-1),
    fc.integer({ min: 0, max: 2 ** 32 - 2 }).map((x) => x * 0x1000),
  );
  const store = fc.tuple(range, ipa).map(([[s, e], v]): Op => ({ k: "store", s, e, v }));
  const other = opArb(0, 0x1000).map((op) => op.k === "store" ? { ...op, v: op.v * 0x1000 } : op);
  const ops = fc.array(fc.oneof(store, other), { maxLength: 60 });
  // What turns a map wide: a key off a page, a value off the unit or past 2^32 - 2 units, a
  // key past 2^32 - 1 pages.
  const wide = fc.constantFrom<Op>(
    { k: "store", s: 0x800, e: 0x3000, v: 1 << 12 },
    { k: "store", s: 0x2000, e: 0x3000, v: 0x1800 },
    { k: "store", s: 0x2000, e: 0x3000, v: (2 ** 32 - 1) * 0x1000 },
    { k: "erase", s: 0x2000, e: 2 ** 52 },
  );
  fc.assert(
    fc.property(ops, wide, ops, fc.constantFrom(2, 3, 256), (before, w, after, bs) => {
      const m = runAgainstModel(before, bs, 0x1000);
      assert(m.narrow);
      runAgainstModel([...before, w, ...after], bs, 0x1000);
      const n = runAgainstModel([...before, w], bs, 0x1000);
      assert(!n.narrow);
      n.destroy();
      assert(n.narrow, "an emptied map is narrow again");
    }),
    propertyOptions(300),
  );
  assertThrows(() => new RangeMap({ valueUnit: 0.5 }), RangeError, "valueUnit");
});

Deno.test("range map: keys next to 2^52 stay exact", () => {
  fc.assert(
    fc.property(
      fc.array(opArb(MAX_RANGE_KEY - 41, 1), { maxLength: 60 }),
      (ops) => void runAgainstModel(ops, 2),
    ),
    propertyOptions(200),
  );
});

Deno.test("range map: a partly covered range keeps both pieces with the old value", () => {
  const BLOCK = 1, PAGE = 2, BIG = 3;
  const m = new RangeMap();
  m.store(0, 0x20_0000, BLOCK);
  const d = m.store(0x1000, 0x2000, PAGE);
  assertEquals(d.split, BLOCK);
  assertEquals(d.removed, []);
  assertEquals(m.toArray().map((r) => [r.start, r.end, r.value]), [
    [0, 0x1000, BLOCK],
    [0x1000, 0x2000, PAGE],
    [0x2000, 0x20_0000, BLOCK],
  ]);
  // mas_erase() at an index removes the whole piece holding it, not a range.
  assertEquals(m.eraseAt(0), { start: 0, end: 0x1000, value: BLOCK });
  assertEquals(m.find(0, 0x1000), undefined);
  assertEquals(m.find(0, 0x1001)?.value, PAGE);
  // A covering store removes everything under it.
  assertEquals(m.store(0, 0x40_0000, BIG).removed, [PAGE, BLOCK]);
  assertEquals(m.size, 1);
});

Deno.test("range map: bad ranges are refused", () => {
  const m = new RangeMap();
  assertThrows(() => m.store(5, 5, 1), RangeError);
  assertThrows(() => m.store(0, MAX_RANGE_KEY + 1, 1), RangeError);
  assertThrows(() => m.store(0.5, 2, 1), RangeError);
  assertThrows(() => m.erase(-1, 2), RangeError);
});

Deno.test("range map: cost model charges the height plus entries touched", () => {
  const charged: number[] = [];
  const m = new RangeMap({ onSteps: (n) => charged.push(n) });
  assertEquals(m.nodes, 0);
  m.store(0, 0x1000, 1); // empty tree: walk of 1 + the new entry
  assertEquals(charged, [2]);
  // 1 range + the trailing gap = 2 slots: one leaf.
  assertEquals(m.slots, 2);
  assertEquals(m.nodes, 1);
  assertEquals(m.memoryBytes, MAPLE_NODE_BYTES);
  // 1000 sparse ranges after it: 1001 ranges, 1000 gaps between, 1 trailing gap.
  for (let i = 1; i <= 1000; i++) m.store(i * 0x4000, i * 0x4000 + 0x1000, i);
  assertEquals(m.slots, 1001 + 1000 + 1);
  // Leaves of round(16 * 0.7) = 11 slots: 182 leaves -> 17 -> 2 -> 1.
  assertEquals(m.height, 4);
  assertEquals(m.nodes, 182 + 17 + 2 + 1);
  charged.length = 0;
  m.find(0x4000 * 500, MAX_RANGE_KEY);
  assertEquals(charged, [4 + 1]);
  charged.length = 0;
  // Overwrite 3 ranges with one: height + 3 removed + 1 written.
  const d = m.store(0x4000, 0x4000 * 4, 0);
  assertEquals(d.removed, [1, 2, 3]);
  assertEquals(charged, [4 + 3 + 1]);
  // mt_for_each restarts from the root per entry; mas_for_each does not.
  const h = m.height;
  charged.length = 0;
  const n = m.forEach(0, 0x4000 * 11, () => {});
  assertEquals(n, 9); // [0, 0x1000), the new [0x4000, 0x10000), then ranges 4..10
  assertEquals(charged, [h + n * (h + 1)]);
  charged.length = 0;
  m.forEach(0, 0x4000 * 11, () => {}, false);
  assertEquals(charged, [h + n]);
  charged.length = 0;
  const nodes = m.nodes;
  m.destroy();
  assertEquals(charged, [nodes]);
  assertEquals(m.size, 0);
  assertEquals(m.memoryBytes, 0);
  // Contiguous ranges need no gap slots; an allocation-range tree has 10-slot internals.
  const c = new RangeMap({ allocRange: true });
  for (let i = 0; i < 1000; i++) c.store(i * 0x1000, (i + 1) * 0x1000, i);
  assertEquals(c.slots, 1001);
  assertEquals(c.nodes, 91 + 13 + 2 + 1); // leaves of 11 slots, internals of 7 children
});

Deno.test("range map: 100k entries in random order stay fast", () => {
  const m = new RangeMap();
  const n = 100_000;
  const keys = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [keys[i], keys[j]] = [keys[j], keys[i]];
  }
  const t0 = performance.now();
  for (const k of keys) m.store(k * 0x2000, k * 0x2000 + 0x1000, k);
  for (const k of keys) assertEquals(m.find(k * 0x2000, MAX_RANGE_KEY)?.value, k);
  for (const k of keys) assertEquals(m.eraseAt(k * 0x2000)?.value, k);
  const ms = performance.now() - t0;
  assertEquals(m.size, 0);
  assert(ms < 5000, `300k operations took ${ms.toFixed(0)} ms`);
});
