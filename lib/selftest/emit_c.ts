/**
 * The C program of an exported selftest, in the style of `tools/testing/selftests/kvm`,
 * to run inside L1: it creates one L2 VM per trace context with `__vm_create_with_vcpus()`,
 * the memslots over one memfd (`kvm_memfd_alloc()`, `vm_set_user_memory_region()`), an
 * identity stage-1 map of the L2 pages `guest_code` touches (`virt_pg_map()`), and runs
 * the vCPUs step by step (`GUEST_SYNC(step)`), each pinned to the trace's L1 vCPU. At
 * each host event it waits for the host script; after a migration or swap-out, L1
 * rewrites the page through its own mapping of the memfd and L2 reads it back: a stale
 * shadow entry shows as L2 reading what was there before the host event.
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

/** The fixed helpers every program has (memfd mapping, steps, host stages, checks). */
const HELPERS = String.raw`/* L1's own mapping of the memfd: the canonical side of every alias. */
static u8 *canon;
static const char *s2lab_dir;
static bool stdin_open = true;

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

/*
 * A memslot of L2 GPA [gpa, gpa + size) over memfd [off, off + size): L1's KVM maps it
 * at stage 2 in pages (MADV_NOHUGEPAGE) or, for the trace's blocks, in PMD blocks, whose
 * huge pages must exist before anything touches the range through a small mapping.
 */
static void add_slot(struct kvm_vm *vm, u32 slot, u64 gpa, u64 size, int fd, u64 off,
		     bool huge, bool ro)
{
	void *hva = map_memfd(fd, off, size, huge ? L1_PMD_SIZE : L1_PAGE_SIZE,
			      huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);

	if (huge)
		TEST_ASSERT(!madvise(hva, size, MADV_POPULATE_WRITE),
			    "MADV_POPULATE_WRITE failed, errno %d", errno);
	vm_set_user_memory_region(vm, slot, ro ? KVM_MEM_READONLY : 0, gpa, size, hva);
}

/* L1's KVM unmaps the slot from its stage-2 for L2 and invalidates it (TLBI) itself. */
static void delete_slot(struct kvm_vm *vm, u32 slot, u64 gpa)
{
	vm_set_user_memory_region(vm, slot, 0, gpa, 0, NULL);
}

/* Run an L2 vCPU on L1 CPU cpu up to GUEST_SYNC(step); returns the value it reports. */
static u64 run_step(struct kvm_vcpu *vcpu, int cpu, u64 step)
{
	struct ucall uc;

	pin_self_to_cpu(cpu);
	vcpu_run(vcpu);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == step, "expected step %lu, got %lu", step, uc.args[1]);
		return uc.args[2];
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		TEST_FAIL("step %lu: unexpected ucall %lu", step, uc.cmd);
	}
	return 0;
}

/* Run an L2 vCPU to its GUEST_DONE. */
static void finish(struct kvm_vcpu *vcpu, int cpu)
{
	struct ucall uc;

	pin_self_to_cpu(cpu);
	vcpu_run(vcpu);
	TEST_ASSERT(get_ucall(vcpu, &uc) == UCALL_DONE, "expected GUEST_DONE, got ucall %lu",
		    uc.cmd);
}

/* L1 physical address of a page of the canonical view (/proc/self/pagemap; needs root). */
static u64 l1_gpa(void *hva)
{
	long psz = getpagesize();
	u64 entry = 0;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return 0;
	if (pread(fd, &entry, sizeof(entry), (uintptr_t)hva / psz * sizeof(entry)) != sizeof(entry))
		entry = 0;
	close(fd);
	/* Bit 63: present; bits 0-54: the PFN. */
	if (!(entry >> 63))
		return 0;
	return (entry & ((1ul << 55) - 1)) * psz;
}

/* <dir>/stage-N.gpa: "gpa len" lines of the L1 pages behind memfd ranges, for the host. */
static void write_stage_gpas(int stage, const u64 ranges[][2], int nr)
{
	u64 start = 0, len = 0, off, gpa;
	char path[PATH_MAX];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/stage-%d.gpa", s2lab_dir, stage);
	f = fopen(path, "w");
	TEST_ASSERT(f, "cannot write %s, errno %d", path, errno);
	for (i = 0; i < nr; i++) {
		for (off = ranges[i][0]; off < ranges[i][0] + ranges[i][1]; off += L1_PAGE_SIZE) {
			gpa = l1_gpa(canon + off);
			if (gpa && len && gpa == start + len) {
				len += L1_PAGE_SIZE;
				continue;
			}
			if (len)
				fprintf(f, "%#lx %#lx\n", start, len);
			start = gpa;
			len = gpa ? L1_PAGE_SIZE : 0;
		}
	}
	if (len)
		fprintf(f, "%#lx %#lx\n", start, len);
	fclose(f);
}

/* Wait until the host has done stage N: Enter on stdin, or <dir>/stage-N.done appears. */
static void wait_host(int stage, const char *what, const u64 ranges[][2], int nr)
{
	struct pollfd in = { .fd = 0, .events = POLLIN };
	char done[PATH_MAX];
	char c;

	write_stage_gpas(stage, ranges, nr);
	snprintf(done, sizeof(done), "%s/stage-%d.done", s2lab_dir, stage);
	pr_info("s2lab: stage %d: %s\n", stage, what);
	pr_info("s2lab:   on the host (L0), as root: L1_PID=<pid of the L1 VMM> ./%s %d\n",
		HOST_SCRIPT, stage);
	pr_info("s2lab:   (the L1 GPAs of its pages are in %s/stage-%d.gpa)\n", s2lab_dir, stage);
	pr_info("s2lab:   then press Enter here, or create %s\n", done);
	fflush(stdout);
	while (access(done, F_OK)) {
		if (!stdin_open) {
			usleep(200000);
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

const SHMEM_THP = String.raw`
/* The trace's blocks: L1's KVM maps PMD blocks only over huge pages of the memfd. */
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
    '\tTEST_ASSERT(!mkdir(s2lab_dir, 0755) || errno == EEXIST, "mkdir %s, errno %d", s2lab_dir, errno);',
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
    HELPERS.trimEnd(),
    ...(plan.layout.slots.some((s) => s.huge) ? [SHMEM_THP.trimEnd()] : []),
    "",
    ...guestCode(plan),
    ...mainCode(plan),
  ];
  return lines.join("\n") + "\n";
}
