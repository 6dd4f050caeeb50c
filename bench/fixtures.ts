/**
 * Benchmark fixtures: VMs populated through the fault path, shared by the bench files.
 *
 * @module
 */

import { l2Access } from "../lib/kvm/arm.ts";
import type { Kvm } from "../lib/kvm/kvm.ts";
import { kvmCreateVm } from "../lib/kvm/kvm_main.ts";
import { makeStrategy } from "../lib/strategies/mod.ts";

const G = 2 ** 30;

/** A VM whose L1 maps `pages` 4K pages for each of `contexts` contexts (identity offsets). */
export function faultVm(
  strategy: string,
  vcpus: number,
  contexts: number,
  pages: number,
  paBits = 48,
): Kvm {
  const kvm = kvmCreateVm(
    {
      hostGranule: "4K",
      paBits,
      vcpus,
      memslots: [{ id: 0, base: G, size: 64 * G, backing: "page" }],
    },
    makeStrategy(strategy),
  );
  for (let c = 1; c <= contexts; c++) {
    kvm.l1.createContext({ id: c, vmid: c, granule: "4K", ipaBits: 48 });
    // L1 maps its L2 memory with 2M blocks; the host backs it with 4K pages, so every
    // 4K page is a separate shadow fault (walk L1, fault the host page, map a 4K leaf).
    const blocks = Math.ceil(pages / 512);
    for (let b = 0; b < blocks; b++) {
      kvm.l1.map(c, 2 ** 40 + b * 2 ** 21, 2 ** 21, G + ((c * 7919 + b) % 32768) * 2 ** 21, true);
    }
  }
  return kvm;
}

/** Fault `pages` pages of each context in, one vCPU per context round robin. */
export function faultAll(kvm: Kvm, contexts: number, pages: number, vcpus: number): number {
  let n = 0;
  for (let c = 1; c <= contexts; c++) {
    const v = (c - 1) % vcpus;
    for (let p = 0; p < pages; p++) {
      if (l2Access(kvm, v, c, 2 ** 40 + p * 4096, true) === "mapped") n++;
    }
  }
  return n;
}
