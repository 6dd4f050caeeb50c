import { assertEquals } from "@std/assert";
import { Prng } from "./prng.ts";
import { SORTED_KEYS_BLOCK, SortedKeys } from "./sorted_keys.ts";

Deno.test("SortedKeys agrees with a sorted array: members, neighbours, ranges, steps, over splits, appends and emptied blocks", () => {
  const rng = new Prng(17);
  const s = new SortedKeys();
  let ref: number[] = [];
  // Enough keys to split blocks many times; 52-bit keys on both ends of the space.
  const universe = Array.from(
    { length: 6 * SORTED_KEYS_BLOCK },
    (_, i) => (i % 2 ? 2 ** 52 - 4096 * i : 4096 * i),
  );
  const lower = (k: number) => {
    let i = 0;
    while (i < ref.length && ref[i] < k) i++;
    return i;
  };
  let top = 2 ** 52;
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
      // An insert's steps are its search's, whichever way it finds the place.
      if (s.size > 0) assertEquals(s.insert(k), searched, `steps of insert(${k})`);
      else s.insert(k);
      if (!present) ref.splice(i, 0, k);
    } else {
      s.remove(k);
      if (present) ref.splice(i, 1);
    }
    assertEquals([s.pred, s.succ], [pred, succ], `neighbours of ${k} at step ${step}`);
    assertEquals(s.size, ref.length);
    if (step % 211 === 0) {
      assertEquals(s.keys(), ref, `keys at step ${step}`);
      const from = universe[rng.int(universe.length)];
      const to = from + 2 ** rng.int(52);
      const seen: number[] = [];
      s.forRange(from, to, (x) => seen.push(x));
      assertEquals(seen, ref.filter((x) => x >= from && x < to), `range at step ${step}`);
    }
  }
  s.clear();
  ref = [];
  assertEquals([s.size, s.keys()], [0, []]);
  s.insert(5);
  assertEquals(s.keys(), [5]);
});
