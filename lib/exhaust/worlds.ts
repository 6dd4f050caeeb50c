/**
 * The small worlds the exhaustive checker enumerates. A world is a trace (`trace.ts`):
 * its `config` is the fixed initial VM, and its `events` are not a sequence but the
 * *alphabet*: every event sequence over them, up to a depth, is a trace the checker runs.
 * An event that cannot happen in a state (an access to a context L1 has not mapped, a
 * memslot already deleted) is simply not a successor there. Any trace file is a world
 * (`--world FILE`); the built-in ones are documented, with what their bounds leave out, in
 * `docs/exhaust.md`.
 *
 * Both built-in worlds have one vCPU, so S2_MMU_PER_VCPU gives two shadow MMUs for three
 * L1 contexts: running a third context recycles an MMU (and a context switch back
 * recycles again). Contexts 1 and 2 share VMID 1 (one TLBI by VMID reaches both MMUs, and
 * an L1 page mapped by both is an alias across MMUs); context 3 has VMID 2. Memslot 0 is
 * THP-backed (host huge pages under L1's pages), memslot 1 base pages (L1's blocks over host
 * pages); context 1 maps one L1 page at two L2 IPAs (an alias in one MMU), as a page and as a
 * block, and one `touch` faults both L2 IPAs in one event.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { WORLD_NAMES, world } from "./worlds.ts";
 * assertEquals(WORLD_NAMES, ["4k", "64k"]);
 * const w = world("4k");
 * assertEquals([w.config.vcpus, w.config.contexts.length, w.events.length], [1, 3, 31]);
 * ```
 * @module
 */

import { parseTrace, type Trace } from "../trace/trace.ts";
import { parseSize } from "../util/size.ts";

/** L2 IPAs every world uses: X and Y, aligned to the largest L1 block of both granules. */
const X = "0x100000000", Y = "0x140000000";

/** What differs between the worlds in the events both have. */
interface WorldSizes {
  /** The host and L1 page size. */
  page: string;
  /** The block (and host THP) size. */
  block: string;
  /** Q, the L1 IPA of memslot 1 (base pages under Y's block). */
  q: string;
}

/**
 * The events both worlds have, in this order: the touch that faults X and then Y (a page
 * past the start of the world's 1G stride), L1's TLBIs (by IPA without TTL, with TTL 3 and
 * TTL 2, at Y, a range over X's first page, by VMID, all), and the host's unmaps of P (the
 * THP) and of one page of Q, memslot 1's deletion, dirty logging on memslot 0, a flush.
 */
function hostAndTlbiEvents(w: WorldSizes): Record<string, unknown>[] {
  const touchSize = `0x${(2 ** 30 + parseSize(w.page)).toString(16)}`;
  return [
    { op: "touch", vcpu: 0, ctx: 1, l2ipa: X, size: touchSize, stride: "1G", write: true },
    { op: "tlbi-ipa", vmid: 1, l2ipa: X, ttl: 0 },
    { op: "tlbi-ipa", vmid: 1, l2ipa: X, ttl: 3 },
    { op: "tlbi-ipa", vmid: 1, l2ipa: X, ttl: 2 },
    { op: "tlbi-ipa", vmid: 1, l2ipa: Y, ttl: 0 },
    { op: "tlbi-range", vmid: 1, l2ipa: X, size: w.page },
    { op: "tlbi-vmid", vmid: 1 },
    { op: "tlbi-vmid", vmid: 2 },
    { op: "tlbi-all" },
    { op: "migrate", l1ipa: "0x40000000", size: w.page },
    { op: "swap-out", l1ipa: "0x40000000", size: w.page },
    { op: "thp-split", l1ipa: "0x40000000", size: w.block },
    { op: "migrate", l1ipa: w.q, size: w.page },
    { op: "memslot-delete", slot: 1 },
    { op: "wp", slot: 0 },
    { op: "flush" },
  ];
}

/** Host 4K (THP 2M); L1 contexts of 4K and 64K. */
const WORLD_4K = {
  name: "exhaust world 4k",
  description:
    "Host 4K pages, one vCPU (two shadow MMUs), three L1 contexts: 1 and 2 (VMID 1, 4K), 3 " +
    "(VMID 2, 64K). Memslot 0 [1G, +2M) THP, memslot 1 [1G+2M, +2M) base pages. P = L1 " +
    "0x40000000 (THP), Q = L1 0x40200000 (pages); L2 X = 0x100000000, Y = 0x140000000.",
  config: {
    hostGranule: "4K",
    paBits: 36,
    vcpus: 1,
    memslots: [
      { id: 0, base: "0x40000000", size: "2M", backing: "thp" },
      { id: 1, base: "0x40200000", size: "2M", backing: "page" },
    ],
    contexts: [
      { id: 1, vmid: 1, granule: "4K", ipaBits: 36 },
      { id: 2, vmid: 1, granule: "4K", ipaBits: 36 },
      { id: 3, vmid: 2, granule: "64K", ipaBits: 36 },
    ],
  },
  events: [
    { op: "l1-map", ctx: 1, l2ipa: X, l1ipa: "0x40000000", size: "4K" },
    { op: "l1-map", ctx: 1, l2ipa: Y, l1ipa: "0x40000000", size: "4K" },
    { op: "l1-map", ctx: 1, l2ipa: X, l1ipa: "0x40000000", size: "2M" },
    { op: "l1-map", ctx: 1, l2ipa: Y, l1ipa: "0x40200000", size: "2M" },
    { op: "l1-map", ctx: 2, l2ipa: X, l1ipa: "0x40000000", size: "4K" },
    { op: "l1-map", ctx: 3, l2ipa: X, l1ipa: "0x40000000", size: "64K" },
    { op: "l1-unmap", ctx: 1, l2ipa: X, size: "4K" },
    { op: "l1-unmap", ctx: 1, l2ipa: Y, size: "4K" },
    { op: "l1-unmap", ctx: 2, l2ipa: X, size: "4K" },
    { op: "l1-unmap", ctx: 3, l2ipa: X, size: "64K" },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: X, write: true },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: Y, write: true },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: "0x140001000", write: true },
    { op: "access", vcpu: 0, ctx: 2, l2ipa: X, write: true },
    { op: "access", vcpu: 0, ctx: 3, l2ipa: X, write: true },
    ...hostAndTlbiEvents({ page: "4K", block: "2M", q: "0x40200000" }),
  ],
};

/** Host 64K (THP 512M); L1 contexts of 64K, one with its stage-2 off. */
const WORLD_64K = {
  name: "exhaust world 64k",
  description:
    "Host 64K pages, one vCPU (two shadow MMUs), three L1 contexts: 1 and 2 (VMID 1, 64K), 3 " +
    "(VMID 2, stage-2 off: L2 IPA = L1 IPA). Memslot 0 [1G, +512M) THP, memslot 1 " +
    "[1G+512M, +512M) base pages. P = L1 0x40000000 (THP), Q = L1 0x60000000 (pages); L2 X = " +
    "0x100000000, Y = 0x140000000.",
  config: {
    hostGranule: "64K",
    paBits: 36,
    vcpus: 1,
    memslots: [
      { id: 0, base: "0x40000000", size: "512M", backing: "thp" },
      { id: 1, base: "0x60000000", size: "512M", backing: "page" },
    ],
    contexts: [
      { id: 1, vmid: 1, granule: "64K", ipaBits: 36 },
      { id: 2, vmid: 1, granule: "64K", ipaBits: 36 },
      { id: 3, vmid: 2, granule: "64K", ipaBits: 36, s2: false },
    ],
  },
  events: [
    { op: "l1-map", ctx: 1, l2ipa: X, l1ipa: "0x40000000", size: "64K" },
    { op: "l1-map", ctx: 1, l2ipa: Y, l1ipa: "0x40000000", size: "64K" },
    { op: "l1-map", ctx: 1, l2ipa: X, l1ipa: "0x40000000", size: "512M" },
    { op: "l1-map", ctx: 1, l2ipa: Y, l1ipa: "0x60000000", size: "512M" },
    { op: "l1-map", ctx: 2, l2ipa: X, l1ipa: "0x40000000", size: "64K" },
    { op: "l1-unmap", ctx: 1, l2ipa: X, size: "64K" },
    { op: "l1-unmap", ctx: 1, l2ipa: Y, size: "64K" },
    { op: "l1-unmap", ctx: 2, l2ipa: X, size: "64K" },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: X, write: true },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: Y, write: true },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: "0x140010000", write: true },
    { op: "access", vcpu: 0, ctx: 2, l2ipa: X, write: true },
    { op: "access", vcpu: 0, ctx: 3, l2ipa: "0x40000000", write: true },
    ...hostAndTlbiEvents({ page: "64K", block: "512M", q: "0x60000000" }),
  ],
};

const WORLDS: Readonly<Record<string, unknown>> = { "4k": WORLD_4K, "64k": WORLD_64K };

/** The built-in worlds' names. */
export const WORLD_NAMES: readonly string[] = Object.keys(WORLDS);

/** A built-in world as a trace; a one-line RangeError naming the known ones otherwise. */
export function world(name: string): Trace {
  const w = WORLDS[name];
  if (!w) {
    throw new RangeError(`unknown world "${name}" (expected one of ${WORLD_NAMES.join(", ")})`);
  }
  return parseTrace(w);
}
