/**
 * `deno task bench` (first part): the simulator's per-fault speed as a ratio to a C
 * reference of the same work (`bench/radix_ref.c`: walk L1's stage-2, fault the canonical
 * stage-2, install the shadow leaf, append a reverse-map record), measured in the same
 * session. Builds the C with `cc -O2` where `cc` exists; runs the C's own loop transcribed to
 * TypeScript (`bench/radix_ref.ts`: what plain TypeScript reaches for the C's work here, the
 * ceiling for a model that does more); prints one table, then what a fresh page costs here
 * (`bench/page_touch.c`). Each simulator figure comes from a fresh process, as the C's does.
 * Timings are reported, never asserted.
 *
 *     deno run --allow-read --allow-write --allow-run --allow-env bench/c_ratio.ts [N ...]
 *
 * @module
 */

import { l2Access } from "../lib/kvm/arm.ts";
import { kvmCreateVm } from "../lib/kvm/kvm_main.ts";
import { BUILT_IN_DESIGNS, makeStrategy, STRATEGY_NAMES, UPSTREAM } from "../lib/strategies/mod.ts";
import { faultAll, faultVm } from "./fixtures.ts";
import { drawPages, RADIX_REF_MEM, transcribedFaults } from "./radix_ref.ts";

const G = 2 ** 30;

/** Random 4K shadow faults over 256 GiB, as the C does: faults per second. */
function simRandom(strategy: string, n: number): number {
  const kvm = kvmCreateVm(
    {
      hostGranule: "4K",
      paBits: 48,
      vcpus: 1,
      memslots: [{ id: 0, base: G, size: RADIX_REF_MEM, backing: "page" }],
    },
    makeStrategy(strategy),
  );
  kvm.l1.createContext({ id: 1, vmid: 1, granule: "4K", ipaBits: 48 });
  const { s, c } = drawPages(n);
  const seen = new Set<number>();
  const l2: number[] = [];
  for (let i = 0; i < n; i++) {
    if (seen.has(s[i])) continue; // the C overwrites; the model refuses a double map
    seen.add(s[i]);
    kvm.l1.map(1, 2 ** 40 + s[i], 4096, G + c[i], true);
    l2.push(2 ** 40 + s[i]);
  }
  const t0 = performance.now();
  for (const a of l2) l2Access(kvm, 0, 1, a, true);
  return l2.length / ((performance.now() - t0) / 1000);
}

/** Consecutive 4K faults (one table serves 512): faults per second. */
function simConsecutive(strategy: string, n: number): number {
  const kvm = faultVm(strategy, 1, 1, n);
  const t0 = performance.now();
  const done = faultAll(kvm, 1, n, 1);
  return done / ((performance.now() - t0) / 1000);
}

/**
 * Build `bench/<name>.c` with `cc -O2` and run it with `args`; the number after `key=` in
 * its output, or null where there is no `cc` (or no such number).
 */
async function runC(name: string, args: string[], key: string): Promise<number | null> {
  const dir = await Deno.makeTempDir();
  try {
    const src = new URL(`./${name}.c`, import.meta.url).pathname;
    const bin = `${dir}/${name}`;
    let cc: Deno.CommandOutput;
    try {
      cc = await new Deno.Command("cc", { args: ["-O2", "-o", bin, src] }).output();
    } catch {
      return null; // no cc here
    }
    if (!cc.success) throw new Error(`cc failed: ${new TextDecoder().decode(cc.stderr)}`);
    const out = await new Deno.Command(bin, { args }).output();
    const m = new RegExp(`${key}=([0-9.]+)`).exec(new TextDecoder().decode(out.stdout));
    return m ? Number(m[1]) : null;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The C reference's faults per second over `n` random faults. */
const cRef = (n: number) => runC("radix_ref", [String(n)], "faults_per_s");

/**
 * One measurement in a fresh process (`--one random|consecutive|transcribed STRATEGY N`; the
 * transcription ignores the strategy): a run must not inherit the heap an earlier one left
 * (the random runs leave gigabytes).
 */
async function fresh(kind: string, strategy: string, n: number): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", import.meta.filename!, "--one", kind, strategy, String(n)],
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || !/^[0-9.e+]+$/.test(text)) throw new Error(`bench run failed: ${text}`);
  return Number(text);
}

if (Deno.args[0] === "--one") {
  const [, kind, strategy, n] = Deno.args;
  const rate = kind === "random"
    ? simRandom(strategy, Number(n))
    : kind === "transcribed"
    ? transcribedFaults(Number(n))
    : simConsecutive(strategy, Number(n));
  console.log(rate);
} else {
  const sizes = Deno.args.length > 0 ? Deno.args.map(Number) : [100_000, 1_000_000];
  const fmt = (x: number) => `${(x / 1e6).toFixed(3)} M/s`;
  // A consecutive figure is also given as a ratio to the engine alone (the full walk) in the
  // same run: what a design adds to a fault, whatever the VM's speed of the moment.
  const rows: string[][] = [["faults", "layout", "what", "rate", "ratio to C", "ratio to engine"]];
  for (const n of sizes) {
    const c = await cRef(n);
    rows.push([
      String(n),
      "random 4K / 256 GiB",
      "C reference (cc -O2)",
      c ? fmt(c) : "no cc",
      "1",
      "-",
    ]);
    const t = await fresh("transcribed", "-", n);
    rows.push([
      String(n),
      "random 4K / 256 GiB",
      "the C in TypeScript",
      fmt(t),
      c ? (t / c).toFixed(2) : "-",
      "-",
    ]);
    // Upstream's walk is the engine alone; ours are the designs the C ratio targets.
    for (
      const s of [
        UPSTREAM,
        ...BUILT_IN_DESIGNS.filter((d) => d.role === "ours").map((d) => d.name),
      ]
    ) {
      const r = await fresh("random", s, n);
      rows.push([
        String(n),
        "random 4K / 256 GiB",
        s === UPSTREAM ? `engine only (${UPSTREAM})` : s,
        fmt(r),
        c ? (r / c).toFixed(2) : "-",
        "-",
      ]);
    }
    let engine = NaN;
    for (const s of [UPSTREAM, ...STRATEGY_NAMES.filter((x) => x !== UPSTREAM)]) {
      const r = await fresh("consecutive", s, n);
      if (s === UPSTREAM) engine = r;
      rows.push([String(n), "consecutive 4K", s, fmt(r), "-", (r / engine).toFixed(2)]);
    }
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((x, i) => x.padEnd(w[i])).join("  "));
  // What the machine charges for a fresh page now: most of the C's fault on a VM whose
  // guest memory is not yet backed, and a reason two sessions' figures differ.
  const touch = await runC("page_touch", ["256"], "us_per_page");
  if (touch !== null) {
    console.log(
      `first write to a fresh 4K page (bench/page_touch.c, 256 MiB): ${touch.toFixed(1)} µs`,
    );
  }
}
