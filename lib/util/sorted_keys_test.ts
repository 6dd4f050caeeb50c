import { assertEquals } from "@std/assert";
import { Prng } from "./prng.ts";
import { SORTED_KEYS_BLOCK, SortedKeys } from "./sorted_keys.ts";

/**
 * Random inserts (or puts), removals, neighbour and range queries against a sorted array
 * and a Map. `high`: half the keys near 2^52 (the set turns to doubles at the first);
 * else page keys below 2^44 (it stays 32-bit frames).
 */
function walk(withValues: boolean, high: boolean): void {
  const rng = new Prng(17);
  const s = new SortedKeys(withValues);
  let ref: number[] = [];
  const val = new Map<number, number>();
  // Enough keys to split blocks many times.
  const universe = Array.from(
    { length: 6 * SORTED_KEYS_BLOCK },
    (_, i) => (i % 2 && high ? 2 ** 52 - 4096 * i : 4096 * i),
  );
  const lower = (k: number) => {
    let i = 0;
    while (i < ref.length && ref[i] < k) i++;
    return i;
  };
  let top = high ? 2 ** 52 : 2 ** 43;
  for (let step = 0; step < 12000; step++) {
    // A run of keys above every other now and then (the append path), else any key.
    const k = step % 1000 < 700 ? universe[rng.int(universe.length)] : (top += 4096);
    const i = lower(k);
    const present = ref[i] === k;
    const pred = i > 0 ? ref[i - 1] : NaN;
    const succ = (present ? ref[i + 1] : ref[i]) ?? NaN;
    const searched = s.neighbors(k);
    assertEquals([s.pred, s.succ], [pred, succ], `neighbors(${k}) at step ${step}`);
    // Mostly inserts at first, mostly removals later: blocks split, then empty out.
    if (rng.chance(step < 8000 ? 0.8 : 0.2)) {
      const size = s.size;
      if (withValues) {
        const v = rng.int(1000);
        assertEquals(s.put(k, v), val.get(k) ?? -1, `put(${k})`);
        if (!present) assertEquals(s.lastSteps, size > 0 ? searched : 1, `steps of put(${k})`);
        val.set(k, v);
      } else {
        // An insert's steps are its search's, whichever way it finds the place.
        const steps = s.insert(k);
        if (size > 0) assertEquals(steps, searched, `steps of insert(${k})`);
      }
      if (!present) ref.splice(i, 0, k);
    } else {
      s.remove(k);
      val.delete(k);
      if (present) ref.splice(i, 1);
    }
    assertEquals([s.pred, s.succ], [pred, succ], `neighbours of ${k} at step ${step}`);
    assertEquals(s.size, ref.length);
    if (step % 211 === 0) {
      assertEquals(s.keys(), ref, `keys at step ${step}`);
      const from = universe[rng.int(universe.length)] + (rng.chance(0.5) ? 1 : 0);
      const to = from + 2 ** rng.int(52);
      const seen: [number, number][] = [];
      s.forRange(from, to, (x, v) => seen.push([x, v]));
      const want = ref.filter((x) => x >= from && x < to);
      assertEquals(seen, want.map((x) => [x, withValues ? val.get(x)! : 0]), `range at ${step}`);
      if (withValues) {
        for (const x of universe.slice(0, 50)) assertEquals(s.get(x), val.get(x) ?? -1);
        const all: [number, number][] = [];
        s.forEach((x, v) => all.push([x, v]));
        assertEquals(all, ref.map((x) => [x, val.get(x)!]));
      }
    }
  }
  s.clear();
  ref = [];
  assertEquals([s.size, s.keys()], [0, []]);
  s.insert(5);
  assertEquals(s.keys(), [5]);
}

Deno.test("SortedKeys agrees with a sorted array: members, neighbours, ranges, steps, over splits, appends and emptied blocks", () => {
  walk(false, true);
  walk(false, false);
});

Deno.test("SortedKeys with values agrees with a sorted array and a Map (32-bit frames and doubles)", () => {
  walk(true, false);
  walk(true, true);
});
