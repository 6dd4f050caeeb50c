/**
 * The sweep's workload generator: from one grid point's parameters and a seed, a
 * {@linkcode Trace} of an L1 with N vCPUs running L2 contexts over scattered, partly
 * aliased memory, followed by the host activity that makes KVM unmap shadow entries:
 * NUMA-balancing scans with page migrations, dirty-log write protection, a memslot
 * deletion and an L1 reboot. The same point and seed always give the same trace.
 *
 * Layout (see {@linkcode generateWorkload} for the event order):
 * - L1 memory starts at canonical IPA 1 GiB ({@linkcode RAM_BASE}), split into equal
 *   memslots with one host backing; context k owns the k-th equal share of it.
 * - A context's primary mappings are L1 pages (its granule) and a fraction of L1 blocks
 *   (its smallest block: 2M / 32M / 512M), at random distinct canonical addresses in its
 *   share and random distinct L2 IPAs: pages from L2 IPA 4 GiB, blocks from
 *   2^(l2IpaBits-2). Aliases live from 2^(l2IpaBits-1) up.
 * - An alias maps the canonical memory of a chosen primary again, in the same context or
 *   another (even odds), at the same size or the other one (a block enclosing a page, or
 *   a page inside a block), and is touched at the same canonical address.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { defaultWorkload, generateWorkload } from "./workload.ts";
 * const w = generateWorkload({ ...defaultWorkload(), vcpus: 2, l1Mem: 2 ** 32, pagesPerContext: 8 }, 1);
 * assertEquals([w.trace.config.vcpus, w.stats.contexts, w.stats.validMmus], [2, 2, 2]);
 * ```
 * @module
 */

import { parseBacking } from "../host/backing.ts";
import { granule, type GranuleName, levelSize } from "../kvm/granule.ts";
import { Prng } from "../util/prng.ts";
import { formatSize } from "../util/size.ts";
import type { TraceEvent } from "./ops.ts";
import type { Trace } from "./trace.ts";

/** Canonical IPA of the first byte of L1 memory (QEMU virt puts RAM at 1 GiB). */
export const RAM_BASE = 2 ** 30;
/** L2 IPA where a context's primary page mappings start (the reproducer's 4 GiB). */
export const L2_PAGE_BASE = 2 ** 32;
/** Version of the generator: bump when the same parameters would give another trace. */
export const WORKLOAD_VERSION = 1;

/** The parameters of one grid point's workload. */
export interface WorkloadParams {
  /** L1 online vCPUs (1..4096). */
  vcpus: number;
  /** L2 contexts per vCPU; contexts = max(1, round(vcpus x this)). */
  contextsPerVcpu: number;
  /** L1 memory in bytes. */
  l1Mem: number;
  /** Memslots the memory is split into (equal sizes). */
  memslots: number;
  /** Host backing: `page`, `thp`, `hugetlb` (PMD size) or `hugetlb:<size>`. */
  backing: string;
  /** Host granule (PAGE_SIZE; that of every shadow stage-2). */
  granule: GranuleName;
  /** Granule of L1's stage-2 tables (at least the host's). */
  l1Granule: GranuleName;
  /** kvm_get_pa_bits(): the shadow MMUs' IPA size. */
  paBits: number;
  /** Input size of L1's stage-2 tables (32..48). */
  l2IpaBits: number;
  /** Fraction of a context's primaries that get an alias (0..1). */
  alias: number;
  /** L1 mappings per context before aliases (the touched working set). */
  pagesPerContext: number;
  /** Fraction of primaries L1 maps with its smallest block (0..1), as room allows. */
  l1BlockFraction: number;
  /** Fraction of L1 memory the NUMA scans cover (0..1). */
  numaFraction: number;
  /** Bytes per NUMA scan window (one notifier unmap each). */
  numaWindow: number;
  /** Touched host pages migrated after each scan window (at most). */
  migrationsPerWindow: number;
  /**
   * Working set: bytes of L2 memory each context maps (with L1's smallest block where it
   * can) and touches page by page, then partly re-touches after every host unmap; 0 for
   * none (the default: the trace is the version-1 one).
   */
  workingSet: number;
  /** The working set as a fraction of a context's share (0..1; used when `workingSet` is 0). */
  workingSetFraction: number;
  /** Fraction of the working set each context re-touches after each host unmap (0..1). */
  retouch: number;
}

/** The sweep's defaults for everything but the grid's dimensions. */
export function defaultWorkload(): WorkloadParams {
  return {
    vcpus: 8,
    contextsPerVcpu: 1,
    l1Mem: 2 ** 32,
    memslots: 4,
    backing: "thp",
    granule: "4K",
    l1Granule: "4K",
    paBits: 48,
    l2IpaBits: 44,
    alias: 0,
    pagesPerContext: 128,
    l1BlockFraction: 0.25,
    numaFraction: 0.02,
    numaWindow: 256 * 2 ** 20,
    migrationsPerWindow: 1,
    workingSet: 0,
    workingSetFraction: 0,
    retouch: 0.1,
  };
}

/** `auto` PA size for a host granule: 48 bits for 4K and 16K, 52 (FEAT_LPA) for 64K. */
export function autoPaBits(g: GranuleName): number {
  return g === "64K" ? 52 : 48;
}

/** The backing name with its size made explicit (`hugetlb` -> `hugetlb:2M` on 4K). */
export function normalizeBacking(g: GranuleName, backing: string): string {
  if (backing !== "hugetlb") return backing;
  const pmd = levelSize(granule(g), 2);
  return `hugetlb:${formatSize(pmd)}`;
}

/** Contexts a point runs: max(1, round(vcpus x contextsPerVcpu)). */
export function contextCount(p: WorkloadParams): number {
  return Math.max(1, Math.round(p.vcpus * p.contextsPerVcpu));
}

/** What the generator made, beyond the trace. */
export interface WorkloadStats {
  /** Contexts. */
  contexts: number;
  /** L1 mappings (primaries + aliases). */
  l1Mappings: number;
  /** Alias mappings. */
  aliasMappings: number;
  /** Canonical bytes the primaries cover. */
  touchedBytes: number;
  /** Shadow MMUs valid during the host activity: min(contexts, 2 x vcpus). */
  validMmus: number;
  /** Host unmap events (numa-scan, migrate, memslot-delete). */
  unmapEvents: number;
  /** Write-protect events. */
  wpEvents: number;
  /** Bytes of working set per context (0: none). */
  workingSetBytes: number;
  /** Host pages every context touches in its working set's first touch. */
  workingSetPages: number;
  /** Touch events of the refault storms (one per context after each host unmap). */
  stormTouches: number;
}

/** A generated workload. */
export interface Workload {
  /** The trace (valid for `parseTrace`, replayable with `deno task replay`). */
  trace: Trace;
  /** Facts about it. */
  stats: WorkloadStats;
}

/**
 * Why `p` cannot be generated, as one line, or null. Checks ranges, granule order,
 * memslot and share alignment, and that the layout fits the IPA spaces.
 */
export function checkWorkload(p: WorkloadParams): string | null {
  const intIn = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  const fracIn = (v: number) => Number.isFinite(v) && v >= 0 && v <= 1;
  if (!intIn(p.vcpus, 1, 4096)) return `vcpus ${p.vcpus} is out of range (1..4096)`;
  if (!(p.contextsPerVcpu > 0) || p.contextsPerVcpu > 64) {
    return `contexts per vCPU ${p.contextsPerVcpu} is out of range (>0..64)`;
  }
  const ctxs = contextCount(p);
  if (ctxs > 65535) return `${ctxs} contexts is more than the 65535 VMIDs`;
  if (!intIn(p.memslots, 1, 512)) return `memslots ${p.memslots} is out of range (1..512)`;
  if (!intIn(p.paBits, 32, 52)) return `pa-bits ${p.paBits} is out of range (32..52)`;
  if (!intIn(p.l2IpaBits, 32, 48)) return `l2-ipa-bits ${p.l2IpaBits} is out of range (32..48)`;
  if (p.l2IpaBits > p.paBits) {
    // Every shadow MMU spans kvm_get_pa_bits(): an L2 IPA above it cannot be shadowed.
    return `l2-ipa-bits ${p.l2IpaBits} exceeds pa-bits ${p.paBits} (the shadow MMUs' IPA space)`;
  }
  if (!fracIn(p.alias)) return `alias ${p.alias} is out of range (0..1)`;
  if (!fracIn(p.l1BlockFraction)) return `l1-blocks ${p.l1BlockFraction} is out of range (0..1)`;
  if (!fracIn(p.numaFraction)) return `numa-fraction ${p.numaFraction} is out of range (0..1)`;
  if (!intIn(p.pagesPerContext, 1, 1 << 20)) {
    return `pages-per-context ${p.pagesPerContext} is out of range (1..1048576)`;
  }
  if (!intIn(p.migrationsPerWindow, 0, 4096)) {
    return `migrations ${p.migrationsPerWindow} is out of range (0..4096)`;
  }
  let hg, g1;
  try {
    hg = granule(p.granule);
    g1 = granule(p.l1Granule);
  } catch (e) {
    return (e as Error).message;
  }
  if (g1.pageSize < hg.pageSize) {
    return `L1 granule ${p.l1Granule} is smaller than the host granule ${p.granule} (KVM does not expose it)`;
  }
  let unit: number;
  try {
    unit = parseBacking(hg, normalizeBacking(p.granule, p.backing)).size;
  } catch (e) {
    return (e as Error).message;
  }
  if (!Number.isSafeInteger(p.l1Mem) || p.l1Mem <= 0) return `l1-mem ${p.l1Mem} must be positive`;
  const slot = p.l1Mem / p.memslots;
  if (!Number.isInteger(slot) || slot % unit !== 0 || slot % g1.pageSize !== 0) {
    return `l1-mem ${formatSize(p.l1Mem)} does not split into ${p.memslots} memslots of whole ` +
      `${formatSize(Math.max(unit, g1.pageSize))} host/L1 pages`;
  }
  if (RAM_BASE + p.l1Mem > 2 ** p.paBits) {
    return `l1-mem ${formatSize(p.l1Mem)} does not fit a ${p.paBits}-bit PA range above ${
      formatSize(RAM_BASE)
    }`;
  }
  const share = shareBytes(p);
  if (share < 2 * g1.pageSize) {
    return `l1-mem ${
      formatSize(p.l1Mem)
    } leaves less than two ${p.l1Granule} pages per context (${ctxs} contexts)`;
  }
  if (L2_PAGE_BASE + share > 2 ** (p.l2IpaBits - 2)) {
    return `a context's share of ${
      formatSize(share)
    } does not fit a ${p.l2IpaBits}-bit L2 IPA space (raise --l2-ipa-bits)`;
  }
  if (
    !Number.isSafeInteger(p.numaWindow) || p.numaWindow < hg.pageSize ||
    p.numaWindow % hg.pageSize !== 0
  ) {
    return `numa-window ${p.numaWindow} must be a positive multiple of ${p.granule}`;
  }
  if (!fracIn(p.retouch)) return `retouch ${p.retouch} is out of range (0..1)`;
  if (!fracIn(p.workingSetFraction)) {
    return `working-set fraction ${p.workingSetFraction} is out of range (0..1)`;
  }
  if (!Number.isSafeInteger(p.workingSet) || p.workingSet < 0) {
    return `working-set ${p.workingSet} must be a whole number of bytes`;
  }
  const ws = workingSetBytes(p);
  if (ws > 0) {
    if (ws % g1.pageSize !== 0 || ws % hg.pageSize !== 0) {
      return `working-set ${formatSize(ws)} is not a whole number of ${p.l1Granule} L1 pages`;
    }
    if (ws > share) {
      return `working-set ${formatSize(ws)} is larger than a context's share of L1 memory ` +
        `(${formatSize(share)} for each of ${ctxs} contexts)`;
    }
    if (ws > 2 ** (p.l2IpaBits - 3) || L2_PAGE_BASE + share > 2 ** (p.l2IpaBits - 3)) {
      return `a working set of ${formatSize(ws)} does not fit a ${p.l2IpaBits}-bit L2 IPA ` +
        `space beside the other mappings (raise --l2-ipa-bits)`;
    }
  }
  return null;
}

/** A context's working set in bytes (0: none), whole L1 pages. */
export function workingSetBytes(p: WorkloadParams): number {
  if (p.workingSet > 0) return p.workingSet;
  if (p.workingSetFraction <= 0) return 0;
  const pg = Math.max(granule(p.l1Granule).pageSize, granule(p.granule).pageSize);
  return Math.floor((p.workingSetFraction * shareBytes(p)) / pg) * pg;
}

/** Bytes of L1 memory each context owns (a whole number of L1 pages). */
export function shareBytes(p: WorkloadParams): number {
  const pg = granule(p.l1Granule).pageSize;
  return Math.floor(p.l1Mem / contextCount(p) / pg) * pg;
}

/** One L1 mapping and the address an L2 vCPU touches through it. */
interface Mapping {
  ctx: number; // context index (id = ctx + 1)
  l2: number; // L2 IPA of the mapping
  l1: number; // canonical IPA of the mapping
  size: number;
  off: number; // touched offset in the mapping
}

/**
 * Generate the workload of `p` with `seed` (any 32-bit integer; the trace also depends on
 * every parameter, so a point's trace does not depend on the grid around it).
 *
 * Events, in order:
 * 1. `l1-map` of every mapping (before any access, so the oracle has no shadow leaf to
 *    check after these events);
 * 2. first touch: per context, an `access` through each of its mappings (random order, half
 *    writes) on vCPU `context mod vcpus`;
 * 3. NUMA balancing: `round(numaFraction x l1Mem / numaWindow)` `numa-scan` windows (at
 *    least one when the fraction is not 0), consecutive from a random start as the scanner
 *    walks the address space; after each, up to `migrationsPerWindow` touched host pages
 *    (backing units) in the window `migrate`, and every mapping onto them is touched again;
 * 4. a second touch of every mapping (refaults of entries removed as collateral);
 * 5. dirty logging: `wp` of memslot 0, then a write through every mapping onto it;
 * 6. `memslot-delete` of the last memslot (when there are two or more);
 * 7. `l1-reboot`.
 */
export function generateWorkload(p: WorkloadParams, seed: number): Workload {
  const problem = checkWorkload(p);
  if (problem) throw new RangeError(problem);
  const rng = new Prng(`${seed >>> 0}|${workloadKey(p)}`);
  const hg = granule(p.granule);
  const g1 = granule(p.l1Granule);
  const backing = normalizeBacking(p.granule, p.backing);
  const unit = parseBacking(hg, backing).size;
  const page = g1.pageSize;
  const block = levelSize(g1, 2);
  const hostPage = hg.pageSize;
  const C = contextCount(p);
  const share = shareBytes(p);
  const slotSize = p.l1Mem / p.memslots;
  const ramEnd = RAM_BASE + p.l1Mem;
  const l2Space = 2 ** p.l2IpaBits;
  const blockBase = 2 ** (p.l2IpaBits - 2);
  const aliasBase = 2 ** (p.l2IpaBits - 1);

  const memslots = Array.from({ length: p.memslots }, (_, i) => ({
    id: i,
    base: RAM_BASE + i * slotSize,
    size: slotSize,
    backing,
  }));
  const contexts = Array.from({ length: C }, (_, k) => ({
    id: k + 1,
    vmid: k + 1,
    granule: p.l1Granule,
    ipaBits: p.l2IpaBits,
  }));

  const touchOffset = (size: number) => rng.int(size / hostPage) * hostPage;
  // The working set: at the end of each context's share, block-aligned when L1 can map it
  // with blocks; in L2 from 2^(l2IpaBits-3).
  const wsBytes = workingSetBytes(p);
  const wsBlocks = wsBytes > 0 && wsBytes % block === 0 &&
    Math.floor((RAM_BASE + share - wsBytes) / block) * block >= RAM_BASE;
  const wsSize = wsBlocks ? block : page;
  const wsStartOf = (k: number) => {
    const end = RAM_BASE + (k + 1) * share;
    const s = Math.floor((end - wsBytes) / wsSize) * wsSize;
    return s >= RAM_BASE + k * share ? s : end - wsBytes;
  };
  const wsL2 = 2 ** (p.l2IpaBits - 3);
  const inWs = (k: number, a: number, size: number) =>
    wsBytes > 0 && a < wsStartOf(k) + wsBytes && wsStartOf(k) < a + size;
  const primaries: Mapping[][] = [];
  let touchedBytes = 0;
  for (let k = 0; k < C; k++) {
    const base = RAM_BASE + k * share;
    // Blocks wholly inside the share.
    const firstBlock = Math.ceil(base / block) * block;
    const blocksIn = Math.max(0, Math.floor((base + share - firstBlock) / block));
    const nBlocks = Math.min(
      Math.round(p.l1BlockFraction * p.pagesPerContext),
      Math.floor(blocksIn / 2),
    );
    const pagesIn = share / page;
    const nPages = Math.min(p.pagesPerContext - nBlocks, Math.floor(pagesIn / 2));
    const blockSlots = rng.distinct(
      nBlocks,
      blocksIn,
      wsBytes > 0 ? (i) => inWs(k, firstBlock + i * block, block) : undefined,
    );
    const chosen = new Set(blockSlots);
    const pageSlots = rng.distinct(nPages, pagesIn, (i) => {
      const a = base + i * page;
      return (a >= firstBlock && chosen.has(Math.floor((a - firstBlock) / block))) ||
        inWs(k, a, page);
    });
    const l2Blocks = rng.distinct(
      blockSlots.length,
      Math.max(2 * blockSlots.length, Math.ceil(share / block)),
    );
    const l2Pages = rng.distinct(pageSlots.length, pagesIn);
    const list: Mapping[] = [];
    blockSlots.forEach((s, i) => {
      list.push({
        ctx: k,
        l2: blockBase + l2Blocks[i] * block,
        l1: firstBlock + s * block,
        size: block,
        off: touchOffset(block),
      });
    });
    pageSlots.forEach((s, i) => {
      list.push({
        ctx: k,
        l2: L2_PAGE_BASE + l2Pages[i] * page,
        l1: base + s * page,
        size: page,
        off: touchOffset(page),
      });
    });
    for (const m of list) touchedBytes += m.size;
    primaries.push(list);
  }

  // Aliases: bump-allocated from aliasBase in the target context, with random gaps.
  const aliasNext = new Array<number>(C).fill(aliasBase);
  const aliases: Mapping[] = [];
  for (let k = 0; k < C; k++) {
    const list = primaries[k];
    const n = Math.round(p.alias * list.length);
    for (const i of rng.distinct(n, list.length)) {
      const m = list[i];
      const target = C === 1 || rng.chance(0.5) ? k : (k + 1 + rng.int(C - 1)) % C;
      const canon = m.l1 + m.off;
      let l1 = m.l1, size = m.size;
      if (rng.chance(0.5)) {
        if (m.size === page) {
          const b = Math.floor(canon / block) * block;
          if (b >= RAM_BASE && b + block <= ramEnd) l1 = b, size = block;
        } else {
          l1 = Math.floor(canon / page) * page, size = page;
        }
      }
      const at = Math.ceil(aliasNext[target] / size) * size + rng.int(4) * size;
      if (at + size > l2Space) {
        throw new RangeError(`aliases overflow context ${target + 1}'s L2 IPA space`);
      }
      aliasNext[target] = at + size;
      aliases.push({ ctx: target, l2: at, l1, size, off: canon - l1 });
    }
  }

  // Mappings by context; the canonical touch address of each, sorted, for the host phase.
  const byCtx: Mapping[][] = primaries.map((l) => l.slice());
  for (const a of aliases) byCtx[a.ctx].push(a);
  const all: Mapping[] = byCtx.flat();
  const byCanon = all.slice().sort((a, b) =>
    a.l1 + a.off - (b.l1 + b.off) || a.ctx - b.ctx || a.l2 - b.l2
  );
  const canonOf = (m: Mapping) => m.l1 + m.off;

  const events: TraceEvent[] = [];
  const vcpuOf = (k: number) => k % p.vcpus;
  const access = (m: Mapping, write: boolean) =>
    events.push({ op: "access", vcpu: vcpuOf(m.ctx), ctx: m.ctx + 1, l2ipa: m.l2 + m.off, write });

  // 1. L1 maps everything.
  for (const list of byCtx) {
    for (const m of list) {
      events.push({
        op: "l1-map",
        ctx: m.ctx + 1,
        l2ipa: m.l2,
        l1ipa: m.l1,
        size: m.size,
        writable: true,
      });
    }
  }
  // 1b. L1 maps each context's working set.
  for (let k = 0; k < C && wsBytes > 0; k++) {
    for (let off = 0; off < wsBytes; off += wsSize) {
      events.push({
        op: "l1-map",
        ctx: k + 1,
        l2ipa: wsL2 + off,
        l1ipa: wsStartOf(k) + off,
        size: wsSize,
        writable: true,
      });
    }
  }
  // 2. First touch.
  for (const list of byCtx) for (const m of rng.shuffle(list.slice())) access(m, rng.chance(0.5));
  // 2b. Each context writes its whole working set, page by page.
  const touchWs = (k: number, stride: number, write: boolean) =>
    events.push({
      op: "touch",
      vcpu: vcpuOf(k),
      ctx: k + 1,
      l2ipa: wsL2,
      size: wsBytes,
      stride: Math.min(stride, wsBytes),
      write,
    });
  for (let k = 0; k < C && wsBytes > 0; k++) touchWs(k, hostPage, true);
  // After every host unmap, each context re-touches a fraction of its working set (every
  // 1/retouch-th host page): the refault storm.
  let stormTouches = 0;
  const stride = hostPage * Math.max(1, Math.round(1 / p.retouch));
  const storm = () => {
    if (wsBytes === 0 || p.retouch === 0) return;
    for (let k = 0; k < C; k++) {
      touchWs(k, stride, false);
      stormTouches++;
    }
  };

  // 3. NUMA balancing windows with migrations.
  let unmapEvents = 0;
  const window = Math.min(p.numaWindow, p.l1Mem);
  const slots = Math.ceil(p.l1Mem / window);
  const nWindows = p.numaFraction > 0
    ? Math.min(slots, Math.max(1, Math.round((p.numaFraction * p.l1Mem) / window)))
    : 0;
  const start = rng.int(slots);
  const lowerBound = (x: number) => {
    let lo = 0, hi = byCanon.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (canonOf(byCanon[mid]) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (let w = 0; w < nWindows; w++) {
    const ws = RAM_BASE + ((start + w) % slots) * window;
    const we = Math.min(ws + window, ramEnd);
    events.push({ op: "numa-scan", l1ipa: ws, size: we - ws });
    unmapEvents++;
    storm();
    // Touched host units in the window: under the mappings, and of the working sets.
    const units: number[] = [];
    for (let i = lowerBound(ws); i < byCanon.length && canonOf(byCanon[i]) < we; i++) {
      const u = Math.floor(canonOf(byCanon[i]) / unit) * unit;
      if (units[units.length - 1] !== u) units.push(u);
    }
    const wsUnits: number[] = [];
    for (let k = 0; k < C && wsBytes > 0; k++) {
      const a = Math.max(ws, wsStartOf(k)), b = Math.min(we, wsStartOf(k) + wsBytes);
      for (let u = Math.ceil(a / unit) * unit; u + unit <= b; u += unit) wsUnits.push(u);
    }
    const all = wsUnits.length === 0 ? units : [...units, ...wsUnits];
    for (const j of rng.distinct(Math.min(p.migrationsPerWindow, all.length), all.length)) {
      const u = all[j];
      events.push({ op: "migrate", l1ipa: u, size: unit });
      unmapEvents++;
      storm();
      for (let i = lowerBound(u); i < byCanon.length && canonOf(byCanon[i]) < u + unit; i++) {
        access(byCanon[i], false);
      }
    }
  }
  // 4. Second touch.
  for (const list of byCtx) for (const m of list) access(m, rng.chance(0.5));
  // 5. Dirty logging on memslot 0.
  events.push({ op: "wp", slot: 0 });
  for (const list of byCtx) {
    for (const m of list) if (canonOf(m) < RAM_BASE + slotSize) access(m, true);
  }
  // 6. Memslot delete.
  if (p.memslots >= 2) {
    events.push({ op: "memslot-delete", slot: p.memslots - 1 });
    unmapEvents++;
    storm();
  }
  // 7. L1 reboot.
  events.push({ op: "l1-reboot" });

  const trace: Trace = {
    name: `sweep ${workloadKey(p)} seed ${seed >>> 0}`,
    description: `s2lab sweep workload v${WORKLOAD_VERSION}: ${C} contexts on ${p.vcpus} vCPUs, ` +
      `${
        formatSize(p.l1Mem)
      } in ${p.memslots} ${backing} memslots, host ${p.granule} / L1 ${p.l1Granule}, ` +
      `alias ${p.alias}`,
    config: { hostGranule: p.granule, paBits: p.paBits, vcpus: p.vcpus, memslots, contexts },
    events,
  };
  return {
    trace,
    stats: {
      contexts: C,
      l1Mappings: all.length,
      aliasMappings: aliases.length,
      touchedBytes,
      validMmus: Math.min(C, 2 * p.vcpus),
      unmapEvents,
      wpEvents: 1,
      workingSetBytes: wsBytes,
      workingSetPages: wsBytes / hostPage,
      stormTouches,
    },
  };
}

/** A stable text key of every parameter (seeds the point's PRNG; names the trace). */
export function workloadKey(p: WorkloadParams): string {
  return [
    `v${WORKLOAD_VERSION}`,
    `vcpus=${p.vcpus}`,
    `cpv=${p.contextsPerVcpu}`,
    `mem=${formatSize(p.l1Mem)}`,
    `slots=${p.memslots}`,
    `backing=${normalizeBacking(p.granule, p.backing)}`,
    `granule=${p.granule}`,
    `l1granule=${p.l1Granule}`,
    `pa=${p.paBits}`,
    `l2ipa=${p.l2IpaBits}`,
    `alias=${p.alias}`,
    `pages=${p.pagesPerContext}`,
    `blocks=${p.l1BlockFraction}`,
    `numa=${p.numaFraction}`,
    `window=${formatSize(p.numaWindow)}`,
    `mig=${p.migrationsPerWindow}`,
    // Only with a working set: without one the key (and every draw) is the version-1 one.
    ...(workingSetBytes(p) > 0
      ? [`ws=${formatSize(workingSetBytes(p))}`, `retouch=${p.retouch}`]
      : []),
  ].join(",");
}
