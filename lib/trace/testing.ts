/**
 * Test data for the trace schemas: one event of each operation holding every key it may
 * hold, and the misspellings a test feeds in for each key.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { FULL_EVENTS, misspellings, renamed } from "./testing.ts";
 * assertEquals(misspellings("writable"), ["writabel", "Writable"]);
 * assertEquals(Object.keys(renamed(FULL_EVENTS["wp"], "slot", "slto")), ["op", "slto"]);
 * ```
 * @module
 */

import type { Json } from "./fields.ts";
import type { TraceOp } from "./ops.ts";

/** One event of each operation, holding every key the operation may hold. */
export const FULL_EVENTS: { readonly [O in TraceOp]: Json } = {
  "l1-map": { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K", writable: false },
  "l1-unmap": { op: "l1-unmap", ctx: 1, l2ipa: "4G", size: "4K" },
  "access": { op: "access", vcpu: 1, ctx: 1, l2ipa: "4G", write: true },
  "touch": {
    op: "touch",
    vcpu: 1,
    ctx: 1,
    l2ipa: "4G",
    size: "64K",
    stride: "16K",
    write: true,
  },
  "l1-access": { op: "l1-access", l1ipa: "1G", write: true },
  "tlbi-ipa": { op: "tlbi-ipa", vmid: 1, l2ipa: "4G", ttl: 3 },
  "tlbi-range": { op: "tlbi-range", vmid: 1, l2ipa: "4G", size: "2M" },
  "tlbi-vmid": { op: "tlbi-vmid", vmid: 1 },
  "tlbi-all": { op: "tlbi-all" },
  "ctx-create": {
    op: "ctx-create",
    context: { id: 2, vmid: 2, granule: "16K", ipaBits: 40, s2: true, baddr: "0x80000000" },
  },
  "ctx-destroy": { op: "ctx-destroy", ctx: 1 },
  "migrate": { op: "migrate", l1ipa: "1G", size: "2M" },
  "swap-out": { op: "swap-out", l1ipa: "1G", size: "4K" },
  "numa-scan": { op: "numa-scan", l1ipa: "1G", size: "4K" },
  "thp-split": { op: "thp-split", l1ipa: "1G", size: "2M" },
  "memslot-delete": { op: "memslot-delete", slot: 0 },
  "memslot-add": {
    op: "memslot-add",
    memslot: { id: 1, base: "2G", size: "1G", backing: "thp" },
  },
  "wp": { op: "wp", slot: 0 },
  "flush": { op: "flush" },
  "l1-reboot": { op: "l1-reboot" },
};

/** Misspellings of `key`: two adjacent letters swapped, and the first letter's case flipped. */
export function misspellings(key: string): string[] {
  const n = key.length;
  const swapped = key[n - 1] !== key[n - 2]
    ? key.slice(0, n - 2) + key[n - 1] + key[n - 2]
    : key[1] + key[0] + key.slice(2);
  const first = key[0] === key[0].toUpperCase() ? key[0].toLowerCase() : key[0].toUpperCase();
  return [swapped, first + key.slice(1)];
}

/** `o` with `key` renamed to `to`, in place (the order of the other keys kept). */
export function renamed(o: Json, key: string, to: string): Json {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k === key ? to : k, v]));
}
