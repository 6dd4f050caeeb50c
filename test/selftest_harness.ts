/**
 * A host-side harness around a generated program's own code: its memfd helpers, its
 * page-locating code and its wait for the host (lib/selftest/emit_c.ts `MEMFD_C`,
 * `LOCATE_C`, `SYNC_C`), with the program's sizes and stage tables, compiled with the host
 * cc. No KVM: it maps the memfd twice as the program does (`canon` and a slot's mapping,
 * through which L2's accesses fault the pages in) and runs the stages.
 *
 * `h DIR locate`: touch each stage's pages through the slot's mapping (the last page of
 * each range not at all), write every stage-N.gpa, print "N offset gpa" for every page of
 * every stage as the slot's mapping sees it. `h DIR empty`: a stage with no range.
 * `h DIR run`: what the program does at its stages, unattended: touch, write stage-N.gpa,
 * wait for the host's answer. Exit 77 when pagemap shows no PFNs here.
 */
import { assertEquals } from "@std/assert";
import { LOCATE_C, MEMFD_C, SYNC_C } from "../lib/selftest/emit_c.ts";
import type { SelftestExport } from "../lib/selftest/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const FIXTURES = `${ROOT}test/fixtures/selftest`;

/** The host cc's flags for generated C: the fixture headers, warnings as errors. */
export const CC_FLAGS = ["-std=gnu11", "-Wall", "-Werror", "-D_GNU_SOURCE", "-I", FIXTURES];

/** Whether `cmd args` (default `--version`) runs and succeeds. */
export function has(cmd: string, args = ["--version"]): boolean {
  try {
    return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Run a command; its exit status and output. */
export async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The program's stage tables (`static const u64 stageN_ranges[][2] = {...};`) and numbers. */
export function stageTables(c: string): { stages: number[]; tables: string[] } {
  const found = [
    ...c.matchAll(/^static const u64 stage(\d+)_ranges\[\]\[2\] = \{\n(?:\t.*\n)*\};$/gm),
  ];
  return { stages: found.map((t) => Number(t[1])), tables: found.map((t) => t[0]) };
}

function source(c: string): string {
  const defines = c.split("\n").filter((l) =>
    /^#define (MEMFD_SIZE|L1_PAGE_SIZE|L1_PMD_SIZE|HOST_SCRIPT)\t/.test(l)
  );
  assertEquals(defines.length, 4, "the program's sizes and host script name");
  const { stages, tables } = stageTables(c);
  const each = (body: (k: number) => string) => stages.map(body).join("\n");
  return String.raw`#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "test_util.h"

void test_assert(bool exp, const char *exp_str, const char *file, unsigned int line,
		 const char *fmt, ...)
{
	va_list ap;

	if (exp)
		return;
	fprintf(stderr, "==== Test Assertion Failure ====\n  %s:%u: %s\n  ", file, line, exp_str);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void ksft_exit_skip(const char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	fputs("skip: ", stderr);
	vfprintf(stderr, msg, ap);
	va_end(ap);
	exit(4);
}

${defines.join("\n")}

${MEMFD_C}
${LOCATE_C}
${SYNC_C}
${tables.join("\n\n")}

/* Where the page mapped at hva is: the harness's own pagemap reader. */
static u64 page_at(void *hva)
{
	u64 e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || pread(fd, &e, 8, (uintptr_t)hva / getpagesize() * 8) != 8)
		exit(2);
	close(fd);
	return (e >> 63) ? (e & ((1ul << 55) - 1)) * getpagesize() : 0;
}

#define NR(t) (int)(sizeof(t) / sizeof(t[0]))
#define EACH_PAGE(t, i, off, skip_last)                                                  \
	for (i = 0; i < NR(t); i++)                                                       \
		for (off = t[i][0] & ~(L1_PAGE_SIZE - 1);                                 \
		     off + (skip_last ? L1_PAGE_SIZE : 0) < t[i][0] + t[i][1]; off += L1_PAGE_SIZE)

int main(int argc, char *argv[])
{
	u64 off;
	u8 *slot;
	int fd, i;

	if (argc != 3)
		return 2;
	s2lab_dir = argv[1];
	unattended = true;
	fd = memfd_create("s2lab-harness", 0);
	if (fd < 0 || ftruncate(fd, MEMFD_SIZE))
		return 3;
	canon = map_memfd(fd, 0, MEMFD_SIZE, L1_PAGE_SIZE, MADV_NOHUGEPAGE);
	slot = map_memfd(fd, 0, MEMFD_SIZE, L1_PAGE_SIZE, MADV_NOHUGEPAGE);
	slot[0] = 1;
	if (!page_at(slot))
		return 77;
	if (!strcmp(argv[2], "empty")) {
		write_stage_gpas(99, NULL, 0);
		return 0;
	}
	if (!strcmp(argv[2], "run")) {
${
    each((k) =>
      `\t\tEACH_PAGE(stage${k}_ranges, i, off, 1)\n\t\t\tslot[off] = 1;\n\t\twait_host(${k}, "stage ${k}", stage${k}_ranges, NR(stage${k}_ranges));`
    )
  }
		pr_info("PASS: every stage done by the host\n");
		return 0;
	}
	/* locate: L2's accesses fault the pages in through the slot's mapping only. */
${each((k) => `\tEACH_PAGE(stage${k}_ranges, i, off, 1)\n\t\tslot[off] = 1;`)}
${each((k) => `\twrite_stage_gpas(${k}, stage${k}_ranges, NR(stage${k}_ranges));`)}
${
    each((k) =>
      `\tEACH_PAGE(stage${k}_ranges, i, off, 0) {\n\t\t(void)*(volatile u8 *)(slot + off);\n\t\tprintf("${k} %#lx %#lx\\n", off, page_at(slot + off));\n\t}`
    )
  }
	return 0;
}
`;
}

/** Compile the harness of a generated program into `dir/h`; returns its path. */
export async function buildHarness(out: SelftestExport, dir: string): Promise<string> {
  Deno.writeTextFileSync(`${dir}/h.c`, source(out.c));
  const cc = await run("cc", [...CC_FLAGS, "-o", `${dir}/h`, `${dir}/h.c`]);
  assertEquals(cc.code, 0, `the harness does not compile:\n${cc.stderr}`);
  return `${dir}/h`;
}
