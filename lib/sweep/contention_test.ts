import { assertEquals } from "@std/assert";
import { InsertContention } from "./contention.ts";

Deno.test("contention: only vCPUs of the same phase contend; one vCPU never contends with itself", () => {
  const c = new InsertContention();
  const M = 2 ** 21;
  // Phase 1: vCPU 0 alone, many inserts in one chunk: no contention anywhere.
  for (let i = 0; i < 10; i++) c.insert(0, 0, 2 ** 40 + i * 4096, 4096);
  c.endPhase();
  // Phase 2: vCPU 1 inserts into the same chunk as phase 1, but alone in this phase.
  c.insert(1, 1, 2 ** 40, 4096);
  c.endPhase();
  assertEquals([c.inserts, c.contended.vm, c.contended.mmu, c.contended.chunk], [11, 0, 0, 0]);
  // Phase 3: vCPUs 2 and 3 on one MMU (one L2 context), chunks apart; a 2M leaf's chunk is
  // 1G wide, so its neighbour 2M away shares it.
  c.insert(2, 5, 0, M);
  c.insert(3, 5, M, M);
  c.insert(3, 5, 2 ** 30, M);
  c.endPhase();
  assertEquals([c.contended.vm, c.contended.mmu, c.contended.chunk], [3, 3, 2]);
  // Leaves of another size never share a chunk domain.
  c.insert(0, 0, 0, 4096);
  c.insert(1, 1, 0, M);
  c.endPhase();
  assertEquals([c.contended.vm, c.contended.mmu, c.contended.chunk], [5, 3, 2]);
});
