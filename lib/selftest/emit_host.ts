/**
 * The companion shell script of an exported selftest: what only the host (L0) can do,
 * one function per stage, run on L0 when the program in L1 asks for that stage.
 *
 * | trace event | on L0                                                                  |
 * | ----------- | ---------------------------------------------------------------------- |
 * | `migrate`   | `move_pages(2)` of the pages to the other NUMA node; without page addresses, `migratepages` of all of L1 (as the published reproducer did) |
 * | `swap-out`  | `process_madvise(MADV_PAGEOUT)` of the pages; without addresses, `memory.reclaim` of L1's cgroup |
 * | `thp-split` | `split_huge_pages` (debugfs) over the pages; without addresses, over all of L1 |
 * | `numa-scan` | `kernel.numa_balancing=1` until the scanner has updated PTEs again      |
 *
 * Page addresses: the program writes the L1 GPAs of each stage's pages to
 * `$S2LAB_DIR/stage-N.gpa` in L1 (from `/proc/self/pagemap`); the script fetches them with
 * `ssh $L1_SSH` (or takes `GPA:LEN` arguments) and turns them into the L1 VMM's addresses
 * with QEMU's HMP `gpa2hva` through `$QEMU_HMP`. The system calls go through a small
 * Python (ctypes) helper. When the stage is done it tells L1 (`touch` over ssh) or asks
 * the user to press Enter there.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { hostCall } from "./emit_host.ts";
 * assertEquals(hostCall("migrate", 1), 's2lab_migrate 1 "$@"');
 * ```
 * @module
 */

import { cSafe, eventLine, hex } from "./format.ts";
import { DIR_HASH_DIGITS } from "./emit_c.ts";
import type { Expectation } from "./expect.ts";
import { headerLines, type SelftestMeta } from "./header.ts";
import type { HostOp, Plan } from "./plan.ts";

/** The helper call of one host operation (`nth`: its ordinal, to alternate NUMA nodes). */
export function hostCall(op: HostOp, nth: number): string {
  switch (op) {
    case "migrate":
      return `s2lab_migrate ${nth} "$@"`;
    case "swap-out":
      return 's2lab_swap_out "$@"';
    case "thp-split":
      return 's2lab_thp_split "$@"';
    case "numa-scan":
      return "s2lab_numa_scan";
  }
}

/** The Python helper: move_pages(2) and process_madvise(2) on the L1 VMM's pages. */
const PYTHON = String.raw`import ctypes, os, platform, sys
op, pid, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
L = ctypes.c_long
page = os.sysconf("SC_PAGE_SIZE")
ranges = [(int(args[k], 16), int(args[k + 1], 16)) for k in range(0, len(args), 2)]
def check(ret, what):
    if ret < 0:
        sys.exit("s2lab: %s: %s" % (what, os.strerror(ctypes.get_errno())))
if op == "move":
    nr = {"aarch64": 239, "x86_64": 279}[platform.machine()]
    a, b = int(os.environ.get("NODE_A", "0")), int(os.environ.get("NODE_B", "1"))
    for hva, length in ranges:
        n = length // page
        pages = (ctypes.c_void_p * n)(*[hva + k * page for k in range(n)])
        status = (ctypes.c_int * n)()
        check(libc.syscall(L(nr), L(pid), L(n), pages, None, status, L(0)), "move_pages (query)")
        nodes = (ctypes.c_int * n)(*[b if s == a else a for s in status])
        check(libc.syscall(L(nr), L(pid), L(n), pages, nodes, status, L(2)), "move_pages")
elif op == "pageout":
    fd = libc.syscall(L(434), L(pid), L(0))
    check(fd, "pidfd_open")
    class iovec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
    iov = (iovec * len(ranges))(*[iovec(h, n) for h, n in ranges])
    check(libc.syscall(L(440), L(fd), iov, L(len(ranges)), L(21), L(0)), "process_madvise")
`;

const HELPERS = String
  .raw`: "${"$"}{L1_PID:?set L1_PID to the pid of the L1 VMM, e.g. L1_PID=\$(pgrep -f qemu-system-aarch64)}"
NODE_A=${"$"}{NODE_A:-0}
NODE_B=${"$"}{NODE_B:-1}
export NODE_A NODE_B

S2LAB_PY='${PYTHON}'

s2lab_py() {	# <move|pageout> HVA LEN ...
	op=$1
	shift
	python3 -c "$S2LAB_PY" "$op" "$L1_PID" "$@"
}

# The stage's L1 GPA ranges, "gpa len" lines: the GPA:LEN arguments, or the program's file in L1.
s2lab_gpas() {
	if [ $# -gt 0 ]; then
		for r in "$@"; do echo "${"$"}{r%%:*} ${"$"}{r#*:}"; done
	elif [ -n "${"$"}{L1_SSH:-}" ]; then
		ssh "$L1_SSH" cat "$S2LAB_DIR/stage-$STAGE.gpa"
	fi
}

# "hva len" words for the stage's pages in the L1 VMM (QEMU HMP gpa2hva), or nothing.
s2lab_hvas() {
	[ -n "${"$"}{QEMU_HMP:-}" ] || return 0
	s2lab_gpas "$@" | while read -r gpa len; do
		hva=$($QEMU_HMP "gpa2hva $gpa" | sed -n 's/.* is \(0x[0-9a-fA-F]*\).*/\1/p' | head -n 1)
		[ -z "$hva" ] || echo "$hva $len"
	done
}

s2lab_migrate() {	# <nth> [GPA:LEN ...]: the pages to the other NUMA node
	nth=$1
	shift
	r=$(s2lab_hvas "$@")
	if [ -n "$r" ]; then
		# shellcheck disable=SC2086
		s2lab_py move $r
	else
		echo "s2lab: no page addresses (QEMU_HMP with L1_SSH or GPA:LEN): migrating all of L1" >&2
		if [ $((nth % 2)) -eq 0 ]; then
			migratepages "$L1_PID" "$NODE_A" "$NODE_B"
		else
			migratepages "$L1_PID" "$NODE_B" "$NODE_A"
		fi
	fi
}

s2lab_swap_out() {	# [GPA:LEN ...]: the pages to swap
	r=$(s2lab_hvas "$@")
	if [ -n "$r" ]; then
		# shellcheck disable=SC2086
		s2lab_py pageout $r
	else
		cg=/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$L1_PID/cgroup")
		echo "s2lab: no page addresses: reclaiming ${"$"}{S2LAB_RECLAIM:-1G} of $cg (needs swap)" >&2
		echo "${"$"}{S2LAB_RECLAIM:-1G}" > "$cg/memory.reclaim"
	fi
}

s2lab_thp_split() {	# [GPA:LEN ...]: split the THPs behind the pages
	r=$(s2lab_hvas "$@")
	if [ -n "$r" ]; then
		echo "$r" | while read -r hva len; do
			printf '%s,%s,%#x\n' "$L1_PID" "$hva" $((hva + len)) > /sys/kernel/debug/split_huge_pages
		done
	else
		echo "s2lab: no page addresses: splitting every THP of L1" >&2
		echo "$L1_PID,0x0,0x1000000000000" > /sys/kernel/debug/split_huge_pages
	fi
}

s2lab_numa_scan() {	# NUMA balancing scans all of L1: wait for its next PTE updates
	old=$(cat /proc/sys/kernel/numa_balancing)
	before=$(awk '$1 == "numa_pte_updates" { print $2 }' /proc/vmstat)
	echo 1 > /proc/sys/kernel/numa_balancing
	i=0
	while [ "$i" -lt "${"$"}{S2LAB_NUMA_WAIT:-120}" ]; do
		sleep 1
		now=$(awk '$1 == "numa_pte_updates" { print $2 }' /proc/vmstat)
		[ "$now" -gt "$before" ] && break
		i=$((i + 1))
	done
	echo "$old" > /proc/sys/kernel/numa_balancing
}

s2lab_done() {
	if [ -n "${"$"}{L1_SSH:-}" ]; then
		ssh "$L1_SSH" touch "$S2LAB_DIR/stage-$STAGE.done"
	else
		echo "s2lab: stage $STAGE done on the host: press Enter in L1 (or touch $S2LAB_DIR/stage-$STAGE.done there)"
	fi
}
`;

/** The whole host script. */
export function emitHost(plan: Plan, x: Expectation, meta: SelftestMeta): string {
  const t = plan.trace;
  const hosts = plan.actions.flatMap((a) => (a.kind === "host" ? [a] : []));
  const lines = [
    "#!/bin/sh",
    "# SPDX-License-Identifier: GPL-2.0-only",
    `# ${meta.name}.host.sh: the host (L0) side of ${meta.name}.c; run each stage on L0, as root,`,
    "# when the program in L1 asks for it:",
    `#   L1_PID=$(pgrep -f qemu-system-aarch64) ./${meta.name}.host.sh <stage> [L1-GPA:LEN ...]`,
    "# Environment:",
    "#   L1_PID     pid of the L1 VMM (required)",
    "#   L1_SSH     user@l1: fetch the stage's L1 GPAs from L1 and tell L1 when the stage is done",
    `#   S2LAB_DIR  the program's directory in L1 (default /tmp/s2lab-${
      meta.sha256.slice(0, DIR_HASH_DIGITS)
    })`,
    '#   QEMU_HMP   a command that runs one QEMU HMP command, e.g. "virsh qemu-monitor-command --hmp l1";',
    "#              with it (and the GPAs) the operations touch the stage's pages only, without",
    "#              it all of L1",
    "#   NODE_A, NODE_B  NUMA nodes pages move between (default 0 and 1)",
    "#",
    ...headerLines(plan, x, meta).map((l) => (l ? `# ${l}` : "#")),
    "",
    "set -eu",
    `S2LAB_DIR=\${S2LAB_DIR:-/tmp/s2lab-${meta.sha256.slice(0, DIR_HASH_DIGITS)}}`,
    "STAGE=${1:-}",
    "[ $# -gt 0 ] && shift",
    'case "$STAGE" in',
    `${hosts.map((a) => a.stage).join("|") || "__none__"}) ;;`,
    "*)",
    `\techo "usage: $0 <stage> [L1-GPA:LEN ...]; stages: ${
      hosts.map((a) => a.stage).join(", ") || "none"
    } (run each when ${meta.name} asks)" >&2`,
    "\texit 2",
    "\t;;",
    "esac",
    HELPERS,
  ];
  for (const a of hosts) {
    lines.push(
      `stage_${a.stage}() {`,
      `\t# ${cSafe(eventLine(a.event, t.events[a.event]))}`,
      `\t# = memfd ${a.ranges.map(([o, n]) => `[${hex(o)}, +${hex(n)})`).join(" ")} in L1`,
      `\t${hostCall(a.op, a.nth)}`,
      "}",
      "",
    );
  }
  lines.push(
    '"stage_$STAGE" "$@"',
    "s2lab_done",
  );
  return lines.join("\n") + "\n";
}
