/**
 * Exhaustive small-scope checking (lib/exhaust/, `deno task exhaust`): counts on a world
 * enumerated by hand, soundness of merging states, the shortest counterexample, snapshots
 * that restore exactly, workers that change nothing, and bad input. Every run here takes
 * seconds; the full built-in worlds run only with S2LAB_EXHAUST_LONG=1.
 *
 * @module
 */

import { assert, assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import {
  auditMerges,
  exhaust,
  Expander,
  GraphSnapshot,
  loadDesign,
  STATUS_OK,
  world,
  WORLD_NAMES,
  worldKey,
} from "../lib/exhaust/mod.ts";
import type { ReverseMapStrategy, ShadowOps } from "../lib/kvm/strategy.ts";
import { makeStrategy, STRATEGY_NAMES } from "../lib/strategies/mod.ts";
import { loadDesignFile } from "../lib/strategies/load.ts";
import { applyEvent, describeEvent } from "../lib/trace/ops.ts";
import { buildKvm, replay } from "../lib/trace/replay.ts";
import { parseTrace, type Trace, traceToJson } from "../lib/trace/trace.ts";
import { grown, pool } from "../lib/util/growable.ts";
import { runScript } from "./cli.ts";

const X = "0x100000000", P = "0x40000000";

/**
 * A world small enough to enumerate by hand: one 4K page P in a page-backed memslot, one
 * context, and three events: a = L1 maps L2 X -> P, b = vCPU 0 writes X, c = the host
 * migrates P.
 */
const TINY: Trace = parseTrace({
  name: "tiny",
  config: {
    hostGranule: "4K",
    paBits: 36,
    vcpus: 1,
    memslots: [{ id: 0, base: P, size: "4K", backing: "page" }],
    contexts: [{ id: 1, vmid: 1, granule: "4K", ipaBits: 36 }],
  },
  events: [
    { op: "l1-map", ctx: 1, l2ipa: X, l1ipa: P, size: "4K" },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: X, write: true },
    { op: "migrate", l1ipa: P, size: "4K" },
  ],
});

/** The 4k world cut to the events maple-v2's bug and its neighbours need (13 of 31). */
function smallWorld(): Trace {
  const w = world("4k");
  return {
    ...w,
    name: "4k, 13 events",
    events: [0, 1, 2, 4, 10, 11, 13, 15, 16, 23, 24, 25, 26].map((i) => w.events[i]),
  };
}

Deno.test("exhaust: the tiny world's states per depth, derived by hand", async () => {
  // A state is (L1 map: none / mapped / mapped again, so L1's old leaf is pending),
  // (the vCPU has loaded shadow MMU 0), (host page P present), (shadow leaf X -> P). Every
  // event is enabled everywhere (an access to an unmapped X is an L1 fault, which loads the
  // MMU; a migration with nothing present changes nothing); a migration moves P to a new
  // PA, the same state up to the PA's name. Breadth first, in event order a, b, c:
  // depth 0: R = (none, -, -, -)                                                1 state
  // depth 1: a -> A (mapped); b -> B (none, MMU); c -> R (old)         3 explored, 2 new
  // depth 2: A·a -> C (mapped again); A·b -> D (mapped, MMU, P, leaf); A·c -> A;
  //          B·a -> E (mapped, MMU); B·b, B·c -> B                     6 explored, 3 new
  // depth 3: C·a -> C; C·b -> F (again, MMU, P, leaf); C·c -> C; D·a -> F; D·b -> D (hit);
  //          D·c -> G (mapped, MMU, P, no leaf); E·a -> H (again, MMU); E·b -> D; E·c -> E
  //                                                                    9 explored, 3 new
  // depth 4: F·a -> F; F·b -> F; F·c -> I (again, MMU, P, no leaf); G·a -> I; G·b -> D;
  //          G·c -> G (P moved again); H·a -> H; H·b -> F; H·c -> H    9 explored, 1 new
  // depth 5: I·a -> I; I·b -> F; I·c -> I                              3 explored, 0 new
  for (const strategy of ["full-walk", "rmap", "maple-v2"]) {
    const r = await exhaust({ design: { strategy }, world: TINY, depth: 10 });
    assertEquals(
      r.perDepth.map((d) => [d.depth, d.explored, d.distinct]),
      [[0, 1, 1], [1, 3, 2], [2, 6, 3], [3, 9, 3], [4, 9, 1], [5, 3, 0]],
      strategy,
    );
    assertEquals([r.stopped, r.distinct, r.explored, r.depthCompleted], ["exhausted", 10, 31, 5]);
  }
});

Deno.test("exhaust: without encodeState no two event histories are merged", async () => {
  const plain = () => {
    const d = makeStrategy("full-walk"); // correct, and without an encoding:
    Object.defineProperty(d, "encodeState", { value: undefined });
    return d;
  };
  const r = await exhaust({ design: { strategy: "plain" }, factory: plain, world: TINY, depth: 3 });
  assertEquals(r.scheme, "history");
  // 3 events, every one enabled: 3^d histories of length d, all distinct.
  assertEquals(r.perDepth.map((d) => [d.explored, d.distinct]), [[1, 1], [3, 3], [9, 9], [27, 27]]);
});

/** full-walk that forgets to unmap after its first host unmap: `counted` says whether its
 * encodeState() tells the checker so. */
function forgetful(counted: boolean): () => ReverseMapStrategy {
  return () => {
    let ops!: ShadowOps;
    const d = {
      name: "forgetful",
      insertLock: "none" as const,
      unmaps: 0,
      attach: (o: ShadowOps) => void (ops = o),
      shadowMapped: () => {},
      shadowRemoved: () => {},
      mmuReset: () => {},
      unmapCanonical: () => {
        if (d.unmaps++ > 0) return;
        for (const m of ops.mmus) if (m.valid) ops.unmapShadowRange(m, 0, m.pgt.geom.ipaSize);
      },
      wpCanonical: () => {},
      flushCanonical: () => {},
      memoryBytes: () => 0,
      fallbacks: () => 0,
      encodeState: () => counted ? String(Math.min(d.unmaps, 1)) : "",
    };
    return d;
  };
}

Deno.test("exhaust: states of one world but different design states are not merged", async () => {
  // maple-v2 keeps its tree entry after L1's TLBI removed the shadow leaf (it has no removal
  // hook), and drops it at TLBI ALLE1IS: map X -> P, fault X, then either TLBI: the same
  // world, two design states, two fingerprints.
  const w = world("4k");
  const [tlbiIpa, tlbiAll] = [16, 23];
  assertEquals([w.events[tlbiIpa].op, w.events[tlbiAll].op], ["tlbi-ipa", "tlbi-all"]);
  const keys = [tlbiIpa, tlbiAll].map((last) => {
    const kvm = buildKvm(w, makeStrategy("maple-v2"));
    for (const j of [0, 10, last]) applyEvent(kvm, w.events[j]);
    const { key, names } = worldKey(kvm);
    return { world: key, design: kvm.strategy.encodeState!(names.name) };
  });
  assertEquals(keys[0].world, keys[1].world);
  assertNotEquals(keys[0].design, keys[1].design);
  const make = await loadDesign({ strategy: "maple-v2" });
  const fp = (last: number) =>
    Expander.fingerprintByReplay(w, make, "design", new Uint8Array([0, 10, last])).join();
  assertNotEquals(fp(tlbiIpa), fp(tlbiAll));

  // A design whose state decides a later step: a migration with nothing present uses up
  // the forgetful design's only unmap, so [a, c, b, c] leaves a stale leaf. Merged by the
  // world alone (an encodeState() that hides the count), every state after the spent unmap
  // that has a shadow leaf is one seen before it was spent: the bug is never found.
  const honest = await exhaust({
    design: { strategy: "forgetful" },
    factory: forgetful(true),
    world: TINY,
    depth: 6,
  });
  assertEquals(honest.counterexample?.trace.events.map((e) => e.op), [
    "l1-map",
    "migrate",
    "access",
    "migrate",
  ]);
  const lying = await exhaust({
    design: { strategy: "forgetful" },
    factory: forgetful(false),
    world: TINY,
    depth: 6,
  });
  assertEquals(lying.counterexample, null);
  // The audit of merges catches the lying encoding, and passes the honest one.
  const audit = (counted: boolean) =>
    auditMerges(TINY, forgetful(counted), { depth: 2, pairs: 10, continuations: 3, length: 4 });
  assert(audit(false).disagreements.length > 0);
  assertEquals(audit(true).disagreements, []);
});

Deno.test("exhaust: the built-in designs' encodings pass the audit of merges", async () => {
  for (const strategy of STRATEGY_NAMES) {
    const opts: Record<string, number> = strategy === "rmap-bounded" ? { budget: 200 } : {};
    const r = auditMerges(smallWorld(), await loadDesign({ strategy, opts }), {
      depth: 2,
      pairs: 8,
      continuations: 2,
      length: 4,
    });
    assert(r.merges > 0, strategy);
    assertEquals(r.disagreements, [], strategy);
  }
});

Deno.test("exhaust: maple-v2's shortest counterexample, and none shorter", async () => {
  const w = smallWorld();
  // With single accesses: map both aliases, fault both, migrate: five events, none shorter.
  const single = { ...w, events: w.events.filter((e) => e.op !== "touch") };
  const clean = await exhaust({ design: { strategy: "maple-v2" }, world: single, depth: 4 });
  assertEquals([clean.counterexample, clean.depthCompleted], [null, 4]);
  const five = await exhaust({ design: { strategy: "maple-v2" }, world: single, depth: 5 });
  assertEquals(five.counterexample?.trace.events.map((e) => e.op), [
    "l1-map",
    "l1-map",
    "access",
    "access",
    "migrate",
  ]);
  // A touch faults both aliases in one event: four.
  const r = await exhaust({ design: { strategy: "maple-v2" }, world: w, depth: 5 });
  const c = r.counterexample!;
  assertEquals([r.depthCompleted, r.stopped], [3, "counterexample"]);
  assertEquals(c.trace.events.map((e) => e.op), ["l1-map", "l1-map", "touch", "migrate"]);
  assertEquals(c.violations.map((v) => v.kind), ["not-invalidated"]);
  // The trace stands on its own: replay finds it, upstream's full walk does not.
  const t = parseTrace(JSON.parse(traceToJson(c.trace)));
  assert(replay(t, makeStrategy("maple-v2")).violations > 0);
  assertEquals(replay(t, makeStrategy("full-walk")).violations, 0);
  // Every correct design holds over the same states.
  for (const strategy of ["rmap", "span-unknown"]) {
    const ok = await exhaust({ design: { strategy }, world: w, depth: 5 });
    assertEquals(ok.counterexample, null, strategy);
  }
});

Deno.test("exhaust: workers change no count and no counterexample", async () => {
  const w = smallWorld();
  const strip = (r: Awaited<ReturnType<typeof exhaust>>) => ({
    perDepth: r.perDepth.map((d) => [d.explored, d.distinct]),
    trace: r.counterexample ? traceToJson(r.counterexample.trace) : null,
  });
  const one = await exhaust({ design: { strategy: "maple-v2" }, world: w, depth: 5, batch: 7 });
  const two = await exhaust({
    design: { strategy: "maple-v2" },
    world: w,
    depth: 5,
    jobs: 2,
    batch: 7,
  });
  assertEquals(strip(two), strip(one));
});

Deno.test("exhaust: a state reached through snapshots is the state its history replays to", async () => {
  // Random walks through the world; at each step some successors' fingerprints, computed on
  // the one VM restored from snapshots, against a VM built afresh and replayed.
  const w = world("4k");
  for (const strategy of STRATEGY_NAMES) {
    const make = await loadDesign({
      strategy,
      opts: strategy === "rmap-bounded" ? { budget: 200 } : {},
    });
    const x = new Expander(w, make, "design");
    let seed = 7;
    const rnd = (n: number) => (seed = (Math.imul(seed, 48271) >>> 0) % 2147483647) % n;
    const history: number[] = [];
    for (let d = 0; d < 5; d++) {
      const r = x.expand(new Uint8Array(history), history.length, 1);
      const ok = [...r.status.keys()].filter((j) => r.status[j] === STATUS_OK);
      for (let k = 0; k < 3; k++) {
        const j = ok[rnd(ok.length)];
        const fresh = Expander.fingerprintByReplay(
          w,
          make,
          "design",
          new Uint8Array([...history, j]),
        );
        assertEquals(
          [...r.fingerprints.slice(j * 4, j * 4 + 4)],
          [...fresh],
          `${strategy} ${history} ${j}`,
        );
      }
      history.push(ok[rnd(ok.length)]);
    }
  }
});

Deno.test("exhaust: a snapshot restores what changed, and refuses what it cannot see", () => {
  class Box {
    n = 1;
    pool = pool(Uint32Array, 4);
    list: number[] = [1];
    tags = new Set(["a"]);
  }
  const b = new Box();
  b.pool[3] = 7;
  const s = new GraphSnapshot();
  s.take([b]);
  b.n = 2;
  b.pool = grown(b.pool); // grows in place (a resizable buffer), then is written past the old end
  b.pool[3] = 8;
  b.pool[1000] = 9;
  b.list.push(2);
  b.tags.add("b");
  s.restore();
  assertEquals([b.n, b.pool.length, b.pool[3], b.list, [...b.tags]], [1, 4, 7, [1], ["a"]]);
  assertThrows(() => s.take([{ hidden: new WeakMap() }]), TypeError, "WeakMap");
});

Deno.test({
  name: "exhaust: maple-v2 over the whole 4k world (S2LAB_EXHAUST_LONG=1)",
  ignore: !Deno.env.get("S2LAB_EXHAUST_LONG"),
  fn: async () => {
    const r = await exhaust({ design: { strategy: "maple-v2" }, depth: 6, jobs: 2 });
    assertEquals(r.counterexample?.trace.events.length, 4);
    assertEquals(r.depthCompleted, 3); // depth 3 was checked whole, and was clean
  },
});

Deno.test("docs/exhaust.md lists each built-in world's alphabet as worlds.ts has it", () => {
  const doc = Deno.readTextFileSync(new URL("../docs/exhaust.md", import.meta.url));
  for (const name of WORLD_NAMES) {
    const from = doc.indexOf(`### \`${name}\``);
    assert(from >= 0, `docs/exhaust.md has a section for world ${name}`);
    const section = doc.slice(from, doc.indexOf("\n### ", from + 1));
    const w = world(name);
    w.events.forEach((e, i) =>
      assert(section.includes(`| ${i} | \`${e.op}\` | ${describeEvent(e)} |`), `${name} #${i}`)
    );
    assertEquals(section.split("\n").filter((l) => /^\| \d+ \|/.test(l)).length, w.events.length);
  }
});

const PERMS = ["--allow-read", "--allow-write"];

/** `deno task exhaust ARGS` over {@linkcode smallWorld}: it must exit 1; its output and the
 * counterexample it wrote. */
async function counterexampleOfSmallWorld(
  args: string[],
): Promise<{ stdout: string; trace: Trace }> {
  const dir = await Deno.makeTempDir();
  try {
    const worldFile = `${dir}/world.json`, out = `${dir}/cx.json`;
    await Deno.writeTextFile(worldFile, traceToJson(smallWorld()));
    const r = await runScript("exhaust.ts", PERMS, [
      ...[...args, "--world", worldFile, "--out", out, "--quiet"],
    ]);
    assertEquals(r.code, 1, r.stderr);
    return { stdout: r.stdout, trace: parseTrace(JSON.parse(await Deno.readTextFile(out))) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("exhaust CLI: a counterexample is written and replays", async () => {
  const r = await counterexampleOfSmallWorld(["--strategy", "maple-v2", "--jobs", "1"]);
  assert(r.stdout.includes("COUNTEREXAMPLE, 4 events"), r.stdout);
  assert(replay(r.trace, makeStrategy("maple-v2")).violations > 0);
});

Deno.test("exhaust CLI: --design runs a broken design from a file, in every worker", async () => {
  // one-alias keeps one shadow leaf per canonical page: two aliases of one page, both
  // faulted (one `touch`), then a migration leave the first alias stale. Two workers:
  // each must load the file to know the name.
  const file = "test/fixtures/designs/one_alias.ts";
  const r = await counterexampleOfSmallWorld(["--design", file, "--jobs", "2"]);
  assert(r.stdout.includes("exhaust: one-alias over world world"), r.stdout);
  assert(r.stdout.includes("COUNTEREXAMPLE, 4 events"), r.stdout);
  assertEquals(r.trace.events.map((e) => e.op), ["l1-map", "l1-map", "touch", "migrate"]);
  await loadDesignFile(file);
  assert(replay(r.trace, makeStrategy("one-alias")).violations > 0);
});

Deno.test("exhaust CLI: --design runs a correct design from a file: clean", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The worked example: every sequence of up to 3 events of the 4k world, two workers.
    const r = await runScript("exhaust.ts", PERMS, [
      ...[
        "--strategy",
        "guest-s2-tracking",
        "--design",
        "experiments/designs/guest_s2_tracking.ts",
      ],
      ...["--depth", "3", "--out", `${dir}/none.json`, "--jobs", "2", "--quiet"],
    ]);
    assertEquals(r.code, 0, r.stderr);
    assert(r.stdout.includes("exhaust: guest-s2-tracking over world 4k"), r.stdout);
    assert(r.stdout.includes("depth 3 completed (stopped by the depth asked)"), r.stdout);
    await assertRejectsNotFound(`${dir}/none.json`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exhaust CLI: bad input is one line, exit 2, nothing written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bad = `${dir}/bad.json`, out = `${dir}/out.json`;
    await Deno.writeTextFile(
      bad,
      JSON.stringify({ ...JSON.parse(traceToJson(TINY)), events: [{ op: "migrat" }] }),
    );
    const cases: [string[], string][] = [
      [[], "--strategy is required"],
      [["--strategy", "rmapp"], 'unknown strategy "rmapp"'],
      [["--strategy", "rmap", "--depth", "0"], "--depth: 0 is out of range"],
      [["--strategy", "rmap", "--opt", "budget"], '--opt: "budget" is not KEY=NUMBER'],
      [["--strategy", "rmap", "--world", "8k"], '--world: "8k" is neither'],
      [["--strategy", "rmap", "--world", `${dir}/none.json`], "no such file"],
      [["--strategy", "rmap", "--world", bad], "events[0].op: unknown operation"],
      [["--strategy", "rmap", "--dedup", "fast"], '--dedup: "fast" is not one of'],
      [["--design", `${dir}/none.ts`], `${dir}/none.ts: no such file`],
      [["--design", "test/fixtures/designs/misspelled.ts"], "misspelled.ts"],
      [["--strategy", "one-alia", "--design", "test/fixtures/designs/one_alias.ts"], '"one-alia"'],
    ];
    for (const [args, msg] of cases) {
      const r = await runScript("exhaust.ts", PERMS, [...args, "--out", out, "--quiet"]);
      assertEquals(r.code, 2, `${args}: ${r.stderr}`);
      assertEquals(r.stderr.trim().split("\n").length, 1, `${args}: ${r.stderr}`);
      assert(r.stderr.includes(msg), `${args}: ${r.stderr}`);
      assertEquals(r.stdout, "");
    }
    await assertRejectsNotFound(out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function assertRejectsNotFound(path: string): Promise<void> {
  let found = true;
  try {
    await Deno.stat(path);
  } catch (e) {
    found = !(e instanceof Deno.errors.NotFound);
  }
  assertEquals(found, false, `${path} was written`);
}
