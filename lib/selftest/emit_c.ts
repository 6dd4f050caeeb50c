/**
 * The C program of an exported selftest, in the style of `tools/testing/selftests/kvm`,
 * to run inside L1: it creates one L2 VM per trace context with `__vm_create_with_vcpus()`,
 * the memslots over one memfd (`kvm_memfd_alloc()`, `vm_set_user_memory_region()`), an
 * identity stage-1 map of the L2 pages `guest_code` touches (`virt_pg_map()`), and runs
 * the vCPUs step by step (`GUEST_SYNC(step)`), each pinned to the trace's L1 vCPU. At
 * each host event it writes the L1 physical addresses of the event's pages for the host
 * script ({@linkcode LOCATE_C}) and waits for it, unattended (`S2LAB_UNATTENDED=1`: the
 * host script's answer file, with a timeout) or from a terminal; after a migration or
 * swap-out, L1 rewrites the page through its own mapping of the memfd and L2 reads it
 * back: a stale shadow entry shows as L2 reading what was there before the host event.
 * A slot of PMD blocks must be backed by PMD-mapped huge pages (smaps' ShmemPmdMapped),
 * else the test is skipped.
 *
 * Every block carries a comment naming the trace event it comes from.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { guestAccess } from "./emit_c.ts";
 * assertEquals(guestAccess({ event: 3, l2ipa: 2 ** 32, write: true }),
 *   "WRITE_ONCE(*(u64 *)0x100000000ul, S2_MARK(3));");
 * ```
 * @module
 */

import { cComment, cHex, cSafe, cString, eventLine, hex, sizeText } from "./format.ts";
import type { Expectation } from "./expect.ts";
import { headerLines, markText, type SelftestMeta } from "./header.ts";
import type { Action, GuestOp, Plan, PlanVcpu, PlanVm } from "./plan.ts";

/** First 12 hex digits of the trace hash name the program's directory in L1. */
export const DIR_HASH_DIGITS = 12;

/** The C statement of one guest access: a marker write or a read. */
export function guestAccess(op: GuestOp): string {
  return op.write
    ? `WRITE_ONCE(*(u64 *)${cHex(op.l2ipa)}, S2_MARK(${op.event}));`
    : `(void)READ_ONCE(*(u64 *)${cHex(op.l2ipa)});`;
}

const vmVar = (vm: PlanVm) => `vm${vm.index}`;
const vcpuVar = (v: PlanVcpu) => `vm${v.vm.index}_vcpu[${v.index}]`;
const guestFn = (v: PlanVcpu) => `guest_vm${v.vm.index}_vcpu${v.index}`;

/**
 * The memfd helpers: L1's canonical mapping of the memfd and the mapping of a range at an
 * alignment (the slots' mappings are made the same way).
 */
export const MEMFD_C = String
  .raw`/* L1's own mapping of the memfd: the canonical side of every alias. */
static u8 *canon;
static const char *s2lab_dir;

/* Map memfd [off, off + size) at an address aligned to align (a block needs PMD alignment). */
static void *map_memfd(int fd, u64 off, u64 size, u64 align, int advice)
{
	u8 *area, *p;

	area = mmap(NULL, size + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(area != MAP_FAILED, "mmap() failed, errno %d", errno);
	p = (u8 *)(((uintptr_t)area + align - 1) & ~(uintptr_t)(align - 1));
	p = mmap(p, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, off);
	TEST_ASSERT(p != MAP_FAILED, "mmap(memfd, %#lx, %#lx) failed, errno %d", off, size, errno);
	/* MADV_NOHUGEPAGE fails without THP in L1, where pages are small anyway. */
	if (madvise(p, size, advice) && advice == MADV_HUGEPAGE)
		TEST_FAIL("madvise(MADV_HUGEPAGE) failed, errno %d", errno);
	return p;
}
`;

/**
 * The page-locating code: the L1 physical addresses of a stage's memfd pages, written to
 * `<dir>/stage-N.gpa` for the host. /proc/self/pagemap reports a page only where this
 * process maps it (fs/proc/task_mmu.c pte_to_pagemap_entry(), torvalds/linux @
 * 2135a6ec3eb9: a PTE that is not present reads as 0), and L2's accesses fault the memfd's
 * pages into the slots' mappings, not into `canon`: the stage's range is populated in
 * `canon` first (MADV_POPULATE_READ), so that every page of the stage is found there, and
 * a page that cannot be located, or a stage without pages, fails the test.
 * test/selftest_stage_test.ts compiles this text with the host cc and runs it against a
 * memfd mapped twice.
 */
export const LOCATE_C = String.raw`/*
 * L1 physical address of the page mapped at hva (/proc/self/pagemap), or 0 when no page
 * is mapped there. Bit 63: present; bits 0-54: the PFN, shown to CAP_SYS_ADMIN only.
 */
static u64 l1_gpa(void *hva)
{
	long psz = getpagesize();
	u64 entry = 0;
	ssize_t n;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY);
	TEST_ASSERT(fd >= 0, "cannot open /proc/self/pagemap, errno %d", errno);
	n = pread(fd, &entry, sizeof(entry), (uintptr_t)hva / psz * sizeof(entry));
	TEST_ASSERT(n == sizeof(entry), "cannot read /proc/self/pagemap, errno %d", errno);
	close(fd);
	if (!(entry >> 63))
		return 0;
	return (entry & ((1ul << 55) - 1)) * psz;
}

/*
 * <dir>/stage-N.gpa: "gpa len" lines of the L1 pages behind the stage's memfd ranges, for
 * the host, written whole (renamed into place). L2's accesses faulted the pages into the
 * slots' mappings only, and pagemap shows a page where this process maps it: the ranges
 * are populated in canon first (MADV_POPULATE_READ also allocates a page nothing touched
 * yet), so every page of the stage has an address here. Without one the host would act on
 * other pages than the trace's: the test stops.
 */
static void write_stage_gpas(int stage, const u64 ranges[][2], int nr)
{
	u64 start = 0, len = 0, lo, hi, off, gpa, pages = 0;
	char path[PATH_MAX], tmp[PATH_MAX + 4];
	FILE *f;
	int i;

	TEST_ASSERT(nr > 0, "stage %d names no memfd range: nothing for the host to act on", stage);
	snprintf(path, sizeof(path), "%s/stage-%d.gpa", s2lab_dir, stage);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	TEST_ASSERT(f, "cannot write %s, errno %d", tmp, errno);
	for (i = 0; i < nr; i++) {
		lo = ranges[i][0] & ~(L1_PAGE_SIZE - 1);
		hi = (ranges[i][0] + ranges[i][1] + L1_PAGE_SIZE - 1) & ~(L1_PAGE_SIZE - 1);
		TEST_ASSERT(lo < hi && hi <= MEMFD_SIZE, "stage %d: memfd range [%#lx, +%#lx) is empty or outside the memfd",
			    stage, ranges[i][0], ranges[i][1]);
		TEST_ASSERT(!madvise(canon + lo, hi - lo, MADV_POPULATE_READ),
			    "stage %d: MADV_POPULATE_READ of memfd [%#lx, %#lx) failed, errno %d",
			    stage, lo, hi, errno);
		for (off = lo; off < hi; off += L1_PAGE_SIZE) {
			gpa = l1_gpa(canon + off);
			TEST_ASSERT(gpa, "stage %d: pagemap gives memfd page %#lx no L1 physical address (not mapped in canon, or no CAP_SYS_ADMIN)",
				    stage, off);
			pages++;
			if (len && gpa == start + len) {
				len += L1_PAGE_SIZE;
				continue;
			}
			if (len)
				fprintf(f, "%#lx %#lx\n", start, len);
			start = gpa;
			len = L1_PAGE_SIZE;
		}
	}
	fprintf(f, "%#lx %#lx\n", start, len);
	TEST_ASSERT(!fclose(f) && !rename(tmp, path), "cannot write %s, errno %d", path, errno);
	pr_info("s2lab: stage %d: %lu L1 page%s in %s\n", stage, pages, pages > 1 ? "s" : "", path);
}
`;

/** Waiting for the host: interactive (Enter, or the `.done` file) or unattended (files only). */
export const SYNC_C = String
  .raw`/* S2LAB_UNATTENDED=1 (set by the wrapper): the host script watches s2lab_dir; no terminal. */
static bool unattended;
static bool stdin_open = true;

/* <dir>/stage-N.<what> exists. */
static bool stage_file(int stage, const char *what, char *path, size_t size)
{
	snprintf(path, size, "%s/stage-%d.%s", s2lab_dir, stage, what);
	return !access(path, F_OK);
}

/*
 * Wait until the host has done stage N: <dir>/stage-N.done appears (the host script does
 * that, or the user), or Enter on stdin when interactive. <dir>/stage-N.skip means the host
 * could not do the stage (its reason inside): the test is skipped. Unattended, the wait
 * ends after S2LAB_HOST_TIMEOUT seconds (default 300) with a skip.
 */
static void wait_host(int stage, const char *what, const u64 ranges[][2], int nr)
{
	struct pollfd in = { .fd = 0, .events = POLLIN };
	const char *env = getenv("S2LAB_HOST_TIMEOUT");
	long timeout_ms = (env ? atol(env) : 300) * 1000, waited = 0;
	char done[PATH_MAX], skip[PATH_MAX], why[256] = "";
	FILE *f;
	char c;

	write_stage_gpas(stage, ranges, nr);
	pr_info("s2lab: stage %d: %s\n", stage, what);
	if (unattended) {
		pr_info("s2lab:   waiting up to %ld s for the host (%s --watch on L0)\n",
			timeout_ms / 1000, HOST_SCRIPT);
	} else {
		pr_info("s2lab:   on the host (L0), as root: L1_PID=<pid of the L1 VMM> ./%s %d\n",
			HOST_SCRIPT, stage);
		pr_info("s2lab:   then press Enter here, or create %s/stage-%d.done\n", s2lab_dir, stage);
	}
	fflush(stdout);
	while (!stage_file(stage, "done", done, sizeof(done))) {
		if (stage_file(stage, "skip", skip, sizeof(skip))) {
			f = fopen(skip, "r");
			if (f) {
				if (!fgets(why, sizeof(why), f))
					why[0] = 0;
				fclose(f);
			}
			__TEST_REQUIRE(false, "the host could not do stage %d: %s", stage, why);
		}
		if (unattended || !stdin_open) {
			__TEST_REQUIRE(!unattended || waited < timeout_ms,
				       "the host did not do stage %d within %ld s", stage, timeout_ms / 1000);
			usleep(200000);
			waited += 200;
			continue;
		}
		if (poll(&in, 1, 200) <= 0)
			continue;
		if (read(0, &c, 1) != 1)
			stdin_open = false;
		else if (c == '\n')
			break;
	}
}
`;

/** Slots, steps and checks: the KVM side of the program. */
const KVM_C = String.raw`/*
 * A memslot of L2 GPA [gpa, gpa + size) over memfd [off, off + size): L1's KVM maps it
 * at stage 2 in pages (MADV_NOHUGEPAGE) or, for the trace's blocks, in PMD blocks, whose
 * huge pages must exist before anything touches the range through a small mapping.
 */
static void add_slot(struct kvm_vm *vm, u32 slot, u64 gpa, u64 size, int fd, u64 off,
		     bool huge, bool ro)
{
	void *hva = map_memfd(fd, off, size, huge ? L1_PMD_SIZE : L1_PAGE_SIZE,
			      huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	u64 pmd_mapped;

	if (huge) {
		TEST_ASSERT(!madvise(hva, size, MADV_POPULATE_WRITE),
			    "MADV_POPULATE_WRITE failed, errno %d", errno);
		pmd_mapped = shmem_pmd_mapped(hva);
		__TEST_REQUIRE(pmd_mapped == size,
			       "slot %u: L1 maps %#lx of its %#lx bytes with PMD blocks: no huge pages for it (try echo 1 > /proc/sys/vm/compact_memory)",
			       slot, pmd_mapped, size);
	}
	vm_set_user_memory_region(vm, slot, ro ? KVM_MEM_READONLY : 0, gpa, size, hva);
}

/* L1's KVM unmaps the slot from its stage-2 for L2 and invalidates it (TLBI) itself. */
static void delete_slot(struct kvm_vm *vm, u32 slot, u64 gpa)
{
	vm_set_user_memory_region(vm, slot, 0, gpa, 0, NULL);
}

/*
 * Run an L2 vCPU on L1 CPU cpu to its next ucall: the command, read from get_ucall()'s
 * return once it has filled uc; a guest assertion is reported.
 */
static u64 run_to_ucall(struct kvm_vcpu *vcpu, int cpu, struct ucall *uc)
{
	u64 cmd;

	pin_self_to_cpu(cpu);
	vcpu_run(vcpu);
	cmd = get_ucall(vcpu, uc);
	if (cmd == UCALL_ABORT)
		REPORT_GUEST_ASSERT(*uc);
	return cmd;
}

/* Run an L2 vCPU up to GUEST_SYNC(step); returns the value it reports. */
static u64 run_step(struct kvm_vcpu *vcpu, int cpu, u64 step)
{
	struct ucall uc;
	u64 cmd = run_to_ucall(vcpu, cpu, &uc);

	TEST_ASSERT(cmd == UCALL_SYNC, "step %lu: unexpected ucall %lu", step, cmd);
	TEST_ASSERT(uc.args[1] == step, "expected step %lu, got %lu", step, uc.args[1]);
	return uc.args[2];
}

/* Run an L2 vCPU to its GUEST_DONE. */
static void finish(struct kvm_vcpu *vcpu, int cpu)
{
	struct ucall uc;
	u64 cmd = run_to_ucall(vcpu, cpu, &uc);

	TEST_ASSERT(cmd == UCALL_DONE, "expected GUEST_DONE, got ucall %lu", cmd);
}

/* L2 reads back what L1 wrote after the host event: anything else is a stale shadow entry. */
static void check(struct kvm_vcpu *vcpu, int cpu, u64 step, u64 fresh, u64 old,
		  const char *what)
{
	u64 got = run_step(vcpu, cpu, step);

	if (got == fresh) {
		pr_info("s2lab: step %lu: %s reads %#lx, L1's fresh marker: ok\n", step, what, got);
		return;
	}
	TEST_FAIL("step %lu: %s reads %#lx%s, not L1's fresh marker %#lx: a stale shadow stage-2 entry",
		  step, what, got, got == old ? " (what was there before the host event)" : "",
		  fresh);
}
`;

/** Whether L1 maps a slot with PMD blocks (add_slot() checks every block slot). */
const SHMEM_PMD_C = String.raw`/*
 * Bytes of the mapping that starts at hva that L1 maps with PMD blocks: its ShmemPmdMapped
 * in /proc/self/smaps. A memfd's huge page is swap-backed, so smaps counts its PMD mapping
 * there, not in FilePmdMapped (fs/proc/task_mmu.c smaps_pmd_entry(), torvalds/linux @
 * 2135a6ec3eb9). L1's KVM maps a PMD block at stage 2 only over such a mapping.
 */
static u64 shmem_pmd_mapped(void *hva)
{
	unsigned long start, end, kb = 0;
	bool here = false;
	char line[512];
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	TEST_ASSERT(f, "cannot read /proc/self/smaps, errno %d", errno);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			here = start == (uintptr_t)hva;
		else if (here && sscanf(line, "ShmemPmdMapped: %lu kB", &kb) == 1)
			break;
	}
	fclose(f);
	return here ? (u64)kb * 1024 : 0;
}
`;

/** For programs whose trace maps blocks: shmem THP must be on in L1. */
const SHMEM_THP_C = String
  .raw`/* The trace's blocks: L1's KVM maps PMD blocks only over huge pages of the memfd. */
static void require_shmem_thp(void)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	__TEST_REQUIRE(strstr(buf, "[always]") || strstr(buf, "[advise]") ||
		       strstr(buf, "[within_size]") || strstr(buf, "[force]"),
		       "shmem THP is off in L1: echo advise > /sys/kernel/mm/transparent_hugepage/shmem_enabled");
}
`;

/** The guest functions, one per L2 vCPU, and guest_code dispatching on the vCPU's id. */
function guestCode(plan: Plan): string[] {
  const t = plan.trace;
  const out: string[] = [
    "/*",
    " * guest_code: L2's side. One function per L2 vCPU runs the trace's accesses of that",
    " * vCPU in order; each step ends with GUEST_SYNC(step), a check with",
    " * GUEST_SYNC_ARGS(step, value read, ...). Addresses are L2 IPAs (identity-mapped VAs).",
    " */",
  ];
  for (const vm of plan.vms) {
    for (const v of vm.vcpus) {
      out.push(
        ...cComment(
          `VM ${vm.index} (trace context ${vm.ctx}), vCPU ${v.index}: the trace's vCPU ${v.l1Cpu}, run on L1 CPU ${v.l1Cpu}`,
          0,
        ),
        `static void ${guestFn(v)}(void)`,
        "{",
      );
      for (const a of plan.actions) {
        if (a.kind === "step" && a.vcpu === v) {
          const tags = a.ops.map((op) => eventLine(op.event, t.events[op.event]));
          if (a.ops.length === 1) {
            out.push(...cComment(`step ${a.step} (stage ${a.stage}): ${tags[0]}`, 1));
            out.push(`\t${guestAccess(a.ops[0])}`);
          } else {
            out.push(...cComment(`step ${a.step} (stage ${a.stage})`, 1));
            a.ops.forEach((op, k) => out.push(...cComment(tags[k], 1), `\t${guestAccess(op)}`));
          }
          out.push(`\tGUEST_SYNC(${a.step}ul);`);
        } else if (a.kind === "check" && a.vcpu === v) {
          out.push(
            ...cComment(
              `step ${a.step} (stage ${a.stage}): check after event #${a.event} (${
                t.events[a.event].op
              }): read L2 ${hex(a.l2ipa)} back`,
              1,
            ),
            `\tGUEST_SYNC_ARGS(${a.step}ul, READ_ONCE(*(u64 *)${cHex(a.l2ipa)}), 0ul, 0ul, 0ul);`,
          );
        }
      }
      out.push("}", "");
    }
  }
  out.push("static void guest_code(u64 id)", "{", "\tswitch (id) {");
  for (const vm of plan.vms) {
    for (const v of vm.vcpus) {
      out.push(`\tcase ${v.id}:`, `\t\t${guestFn(v)}();`, "\t\tbreak;");
    }
  }
  out.push("\t}", "\tGUEST_DONE();", "}", "");
  return out;
}

/** Stage-1 pages (the VM's page size, L1's) guest_code touches in a VM. */
function guestPages(plan: Plan, vm: PlanVm): number[] {
  const pages = new Set<number>();
  for (const a of plan.actions) {
    if (a.kind === "step" && a.vcpu.vm === vm) {
      for (const op of a.ops) pages.add(Math.floor(op.l2ipa / plan.page) * plan.page);
    } else if (a.kind === "check" && a.vcpu.vm === vm) {
      pages.add(Math.floor(a.l2ipa / plan.page) * plan.page);
    }
  }
  return [...pages].sort((a, b) => a - b);
}

function slotCall(plan: Plan, slot: Plan["layout"]["slots"][number]): string {
  const vm = plan.vms.find((v) => v.ctx === slot.ctx)!;
  return `add_slot(${vmVar(vm)}, ${slot.id}, ${cHex(slot.gpa)}, ${cHex(slot.size)}, fd, ${
    cHex(slot.fdOffset)
  }, ${slot.huge}, ${slot.readonly});`;
}

function slotComment(plan: Plan, slot: Plan["layout"]["slots"][number]): string[] {
  const t = plan.trace;
  const ms = slot.mappings;
  const first = eventLine(ms[0].event, t.events[ms[0].event]);
  const more = ms.length > 1 ? ` and ${ms.length - 1} more mapping${ms.length > 2 ? "s" : ""}` : "";
  return cComment(
    `slot ${slot.id}: L2 [${hex(slot.gpa)}, +${sizeText(slot.size)}) -> memfd [${
      hex(slot.fdOffset)
    }, +${sizeText(slot.size)}), ${slot.huge ? "PMD blocks" : "pages"}: ${first}${more}`,
    1,
  );
}

/** main(): VMs, slots, identity maps, then the actions in trace order. */
function mainCode(plan: Plan): string[] {
  const t = plan.trace;
  const out: string[] = [];
  // Stage range tables (file scope).
  for (const a of plan.actions) {
    if (a.kind !== "host") continue;
    out.push(
      ...cComment(
        `stage ${a.stage}: the memfd ranges of ${eventLine(a.event, t.events[a.event])}`,
        0,
      ),
      `static const u64 stage${a.stage}_ranges[][2] = {`,
      ...a.ranges.map(([o, n]) => `\t{ ${cHex(o)}, ${cHex(n)} },`),
      "};",
      "",
    );
  }
  out.push("int main(int argc, char *argv[])", "{");
  for (const vm of plan.vms) {
    out.push(`\tstruct kvm_vcpu *${vmVar(vm)}_vcpu[${vm.vcpus.length}];`);
  }
  out.push(`\tstruct kvm_vm *${plan.vms.map(vmVar).join(", *")};`, "\tint fd;", "");
  out.push(
    '\ts2lab_dir = getenv("S2LAB_DIR") ?: S2LAB_DEFAULT_DIR;',
    '\tunattended = getenv("S2LAB_UNATTENDED") && !strcmp(getenv("S2LAB_UNATTENDED"), "1");',
    '\tTEST_ASSERT(!mkdir(s2lab_dir, 0755) || errno == EEXIST, "mkdir %s, errno %d", s2lab_dir, errno);',
    "\t__TEST_REQUIRE(getpagesize() == L1_PAGE_SIZE, \"L1's kernel has %d-byte pages, the trace's L1 %lu\",",
    "\t\t       getpagesize(), L1_PAGE_SIZE);",
  );
  if (plan.layout.slots.some((s) => s.huge)) out.push("\trequire_shmem_thp();");
  out.push(
    "",
    "\t/* One memfd for every slot: aliases share its pages (kvm_memfd_alloc() punches it sparse). */",
    "\tfd = kvm_memfd_alloc(MEMFD_SIZE, false);",
    "\tcanon = map_memfd(fd, 0, MEMFD_SIZE, L1_PAGE_SIZE, MADV_NOHUGEPAGE);",
    "",
  );
  for (const vm of plan.vms) {
    const cpus = vm.vcpus.map((v) => v.l1Cpu).join(", ");
    out.push(
      ...cComment(
        `VM ${vm.index}: trace context ${vm.ctx} (VMID ${vm.vmid} in the trace; L1's KVM picks the real one), ${vm.ipaBits}-bit L2 IPA${
          vm.modeBits !== vm.ipaBits ? ` (kvm_util mode: ${vm.modeBits} bits)` : ""
        }`,
        1,
      ),
      `\t${
        vmVar(vm)
      } = __vm_create_with_vcpus(VM_SHAPE(${vm.mode}), ${vm.vcpus.length}, EXTRA_PT_PAGES,`,
      `\t\t\t\t     guest_code, ${vmVar(vm)}_vcpu);`,
      `\t/* its vCPUs run the trace's vCPU${vm.vcpus.length > 1 ? "s" : ""} ${cpus} */`,
      ...vm.vcpus.map((v) => `\tvcpu_args_set(${vcpuVar(v)}, 1, ${v.id}ul);`),
    );
    for (const s of plan.layout.slots) {
      if (s.ctx === vm.ctx && !s.volatile) {
        out.push(...slotComment(plan, s), `\t${slotCall(plan, s)}`);
      }
    }
    out.push("\t/* guest_code's stage-1: an identity map of the L2 pages it touches */");
    for (const p of guestPages(plan, vm)) {
      out.push(`\tvirt_pg_map(${vmVar(vm)}, ${cHex(p)}, ${cHex(p)});`);
    }
    out.push("");
  }
  out.push("\t/* ---- stage 0 ---- */");
  for (const a of plan.actions) out.push(...actionCode(plan, a));
  out.push("", "\t/* every L2 vCPU runs to its GUEST_DONE */");
  for (const vm of plan.vms) {
    for (const v of vm.vcpus) out.push(`\tfinish(${vcpuVar(v)}, ${v.l1Cpu});`);
  }
  for (const vm of plan.vms) out.push(`\tkvm_vm_free(${vmVar(vm)});`);
  out.push(
    '\tpr_info("PASS: every L2 read after a host event saw L1\'s fresh marker\\n");',
    "\treturn 0;",
    "}",
  );
  return out;
}

function actionCode(plan: Plan, a: Action): string[] {
  const t = plan.trace;
  const tag = (i: number) => eventLine(i, t.events[i]);
  const note = (text: string) => cComment(text, 1);
  switch (a.kind) {
    case "step":
      return [
        ...note(`step ${a.step}: ${a.ops.map((o) => tag(o.event)).join("; ")}`),
        `\trun_step(${vcpuVar(a.vcpu)}, ${a.vcpu.l1Cpu}, ${a.step});`,
      ];
    case "comment":
      return note(`${tag(a.event)}: ${a.text}`);
    case "slot-add":
      return [
        ...note(`${tag(a.event)}: L1 adds its memslot`),
        ...slotComment(plan, a.slot),
        `\t${slotCall(plan, a.slot)}`,
      ];
    case "slot-delete": {
      return [
        ...note(`${tag(a.event)}: L1 deletes the memslot${a.slots.length > 1 ? "s" : ""}`),
        ...a.slots.map((s) =>
          `\tdelete_slot(${vmVar(plan.vms.find((v) => v.ctx === s.ctx)!)}, ${s.id}, ${
            cHex(s.gpa)
          });`
        ),
      ];
    }
    case "l1-access":
      return [
        ...note(`${tag(a.event)}: L1 touches the page through its own mapping`),
        a.write
          ? `\tWRITE_ONCE(*(u64 *)(canon + ${cHex(a.fdOffset)}), S2_MARK(${a.event}));`
          : `\t(void)READ_ONCE(*(u64 *)(canon + ${cHex(a.fdOffset)}));`,
      ];
    case "host":
      return [
        "",
        ...note(`---- stage ${a.stage}: ${tag(a.event)} (host) ----`),
        `\twait_host(${a.stage}, "${
          cString(tag(a.event))
        }", stage${a.stage}_ranges, ${a.ranges.length});`,
      ];
    case "rewrite":
      return [
        ...note(
          `after event #${a.event}: L1 writes S2_MARK(${a.event}) through its own mapping, then L2 reads back`,
        ),
        ...a.fdOffsets.map((o) =>
          `\tWRITE_ONCE(*(u64 *)(canon + ${cHex(o)}), S2_MARK(${a.event}));`
        ),
      ];
    case "check": {
      const what = `VM ${a.vcpu.vm.index} L2 ${hex(a.l2ipa)} after event #${a.event} (${
        t.events[a.event].op
      })`;
      return [
        `\tcheck(${vcpuVar(a.vcpu)}, ${a.vcpu.l1Cpu}, ${a.step}, S2_MARK(${a.event}), ${
          markText(a.old)
        },`,
        `\t      "${cString(what)}");`,
      ];
    }
  }
}

/** The whole C program. */
export function emitC(plan: Plan, x: Expectation, meta: SelftestMeta): string {
  const maxPages = Math.max(...plan.vms.map((vm) => guestPages(plan, vm).length));
  const lines = [
    "// SPDX-License-Identifier: GPL-2.0-only",
    "/*",
    ...headerLines(plan, x, meta).map((l) => (l ? ` * ${cSafe(l)}` : " *")),
    " */",
    "#include <limits.h>",
    "#include <poll.h>",
    "#include <stdint.h>",
    "#include <sys/mman.h>",
    "#include <sys/stat.h>",
    "",
    '#include "kvm_util.h"',
    '#include "test_util.h"',
    '#include "ucall_common.h"',
    "",
    '/* The value L2 writes at trace event #e, or L1 after host event #e: "S2" and e. */',
    "#define S2_MARK(e)\t\t(0x5332000000000000ul | (u64)(e))",
    `#define MEMFD_SIZE\t\t${cHex(plan.layout.memfdSize)}`,
    `#define L1_PAGE_SIZE\t\t${cHex(plan.page)}`,
    `#define L1_PMD_SIZE\t\t${cHex(plan.pmd)}`,
    "/* kvm_util's page-table pages for guest_code's identity map (3 levels per page, spare) */",
    `#define EXTRA_PT_PAGES\t\t${3 * maxPages + 8}`,
    `#define S2LAB_DEFAULT_DIR\t"/tmp/s2lab-${meta.sha256.slice(0, DIR_HASH_DIGITS)}"`,
    `#define HOST_SCRIPT\t\t"${meta.name}.host.sh"`,
    "",
    MEMFD_C,
    LOCATE_C,
    SYNC_C,
    SHMEM_PMD_C,
    ...(plan.layout.slots.some((s) => s.huge) ? [SHMEM_THP_C] : []),
    KVM_C.trimEnd(),
    "",
    ...guestCode(plan),
    ...mainCode(plan),
  ];
  return lines.join("\n") + "\n";
}
