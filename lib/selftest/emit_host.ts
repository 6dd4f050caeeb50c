/**
 * The companion shell script of an exported selftest, `NAME.host.sh`: what only the host
 * (L0) can do, one function per stage, run on L0 as root. Two ways to run it:
 *
 * - `NAME.host.sh --watch`: unattended. It announces itself in the program's directory in
 *   L1 (`host-ready`), waits for each `stage-N.gpa` the program writes there, does the
 *   stage, answers `stage-N.done` (or `stage-N.skip` with the reason it could not), and
 *   reports L1's result (`result`, written by the wrapper `NAME.sh`): exit 0 PASS, 1 FAIL,
 *   4 SKIP. The directory is reached either as a directory shared with L1
 *   (`S2LAB_HOST_DIR`: virtiofs or 9p) or over ssh (`L1_SSH`).
 * - `NAME.host.sh N [GPA:LEN ...]`: one stage by hand, when the program asks for it.
 *
 * | trace event | on L0 (the stage's pages only)                                          |
 * | ----------- | ---------------------------------------------------------------------- |
 * | `migrate`   | `move_pages(2)` with `MPOL_MF_MOVE_ALL` to the other NUMA node, checked page by page |
 * | `swap-out`  | `process_madvise(MADV_PAGEOUT)`, then pagemap must show every page gone |
 * | `thp-split` | `split_huge_pages` (debugfs) over the pages                             |
 * | `numa-scan` | `kernel.numa_balancing=1` until the scanner has updated PTEs again      |
 *
 * Page addresses: the program writes the L1 GPAs of each stage's pages to
 * `$S2LAB_DIR/stage-N.gpa`; QEMU's HMP `gpa2hva` (through `$QEMU_HMP`; it prints "Host
 * virtual address for GPA (REGION) is HVA", qemu/qemu @ 989dd906ed55
 * monitor/hmp-cmds-target.c hmp_gpa2hva()) turns them into the L1 VMM's addresses: for
 * the lowest and the highest GPA, and for every GPA when the two are not in one RAM region
 * at one distance. Without them the script refuses to act, unless
 * `S2LAB_WHOLE_L1=1` lets it act on all of L1 (`migratepages`, `memory.reclaim`, every
 * THP), whose outcome depends on where L1's RAM happens to be.
 *
 * `MPOL_MF_MOVE_ALL` (include/uapi/linux/mempolicy.h): `move_pages(2)` with
 * `MPOL_MF_MOVE` skips a page mapped more than once (mm/migrate.c
 * add_page_for_migration(): `page_mapcount(page) > 1 && !migrate_all` is -EACCES), and a
 * QEMU memory backend may be mapped by another process too (vhost-user, a shared memfd);
 * MOVE_ALL needs CAP_SYS_NICE, which root has.
 *
 * With `S2LAB_RECORD=FILE` every `kvm_nested_s2_unmap()` during a stage is recorded into
 * FILE (lib/calibrate/recording.ts describes it) with ftrace's function_graph tracer or,
 * with `S2LAB_TRACER=bpftrace`, with the bpftrace program there: `deno task calibrate
 * FILE --trace TRACE` turns it into a measured cost model.
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
import {
  BPFTRACE_PROGRAM,
  BPFTRACE_TAG,
  RECORDING_MARK,
  RECORDING_VERSION,
  UNMAP_FUNCTION,
  WALK_FUNCTION,
} from "../calibrate/recording.ts";

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

/**
 * The Python helper: move_pages(2) and process_madvise(2) on the L1 VMM's pages, each
 * checked afterwards (every page on the target node; every page gone after MADV_PAGEOUT).
 */
const PYTHON = String.raw`import ctypes, os, platform, sys
op, pid, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
L = ctypes.c_long
page = os.sysconf("SC_PAGE_SIZE")
ranges = [(int(args[k], 16), int(args[k + 1], 16)) for k in range(0, len(args), 2)]
hvas = [h + k for h, n in ranges for k in range(0, n, page)]
MPOL_MF_MOVE_ALL, MADV_PAGEOUT = 4, 21
def check(ret, what):
    if ret < 0:
        sys.exit("s2lab: %s: %s" % (what, os.strerror(ctypes.get_errno())))
def resident(hva):
    with open("/proc/%d/pagemap" % pid, "rb") as f:
        f.seek(hva // page * 8)
        return int.from_bytes(f.read(8), "little") >> 63
if op == "move":
    nr = {"aarch64": 239, "x86_64": 279}[platform.machine()]
    a, b = int(os.environ.get("NODE_A", "0")), int(os.environ.get("NODE_B", "1"))
    n = len(hvas)
    pages = (ctypes.c_void_p * n)(*hvas)
    status = (ctypes.c_int * n)()
    check(libc.syscall(L(nr), L(pid), L(n), pages, None, status, L(0)), "move_pages (query)")
    bad = [(hvas[k], s) for k, s in enumerate(status) if s < 0]
    if bad:
        sys.exit("s2lab: page %#x of the L1 VMM: %s" % (bad[0][0], os.strerror(-bad[0][1])))
    nodes = (ctypes.c_int * n)(*[b if s == a else a for s in status])
    check(libc.syscall(L(nr), L(pid), L(n), pages, nodes, status, L(MPOL_MF_MOVE_ALL)), "move_pages")
    bad = [(hvas[k], s, nodes[k]) for k, s in enumerate(status) if s != nodes[k]]
    if bad:
        h, s, want = bad[0]
        why = os.strerror(-s) if s < 0 else "still on node %d" % s
        sys.exit("s2lab: %d of %d pages did not move; page %#x to node %d: %s" % (len(bad), n, h, want, why))
    print("s2lab: moved %d pages to node%s %s" % (n, "s" if len(set(nodes)) > 1 else "", ",".join(map(str, sorted(set(nodes))))))
elif op == "pageout":
    fd = libc.syscall(L(434), L(pid), L(0))
    check(fd, "pidfd_open")
    class iovec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
    iov = (iovec * len(ranges))(*[iovec(h, n) for h, n in ranges])
    done = libc.syscall(L(440), L(fd), iov, L(len(ranges)), L(MADV_PAGEOUT), L(0))
    check(done, "process_madvise")
    left = [h for h in hvas if resident(h)]
    if left:
        sys.exit("s2lab: %d of %d pages still resident after MADV_PAGEOUT, e.g. %#x (no swap on L0, or another process maps them)" % (len(left), len(hvas), left[0]))
    print("s2lab: paged out %d pages" % len(hvas))
`;

/** The shell helpers every host script has (after the configuration lines). */
const HELPERS = String.raw`S2LAB_PY='${PYTHON}'

s2lab_py() {	# <move|pageout> HVA LEN ...
	op=$1
	shift
	python3 -c "$S2LAB_PY" "$op" "$L1_PID" "$@"
}

# Run a shell command in the program's directory in L1: shared with L0, or over ssh.
s2lab_xd() {	# <command>
	if [ -n "${"$"}{S2LAB_HOST_DIR:-}" ]; then
		(cd "$S2LAB_HOST_DIR" && sh -c "$1")
	elif [ -n "${"$"}{L1_SSH:-}" ]; then
		ssh "$L1_SSH" "cd '$S2LAB_DIR' && $1"
	else
		return 1
	fi
}

s2lab_has_xd() {
	[ -n "${"$"}{S2LAB_HOST_DIR:-}${"$"}{L1_SSH:-}" ]
}

# The stage's L1 GPA ranges, "gpa len" lines: the GPA:LEN arguments, or the program's file.
s2lab_gpas() {	# [GPA:LEN ...]
	if [ $# -gt 0 ]; then
		for r in "$@"; do echo "${"$"}{r%%:*} ${"$"}{r#*:}"; done
	elif s2lab_has_xd; then
		s2lab_xd "cat stage-$STAGE.gpa"
	fi
}

# "hva region" of an L1 GPA in the L1 VMM (QEMU HMP: "... (region) is 0xHVA").
s2lab_gpa2hva() {	# <gpa>
	$QEMU_HMP "gpa2hva $1" | sed -n 's/.*(\(.*\)) is \(0x[0-9a-fA-F]*\).*/\2 \1/p' | head -n 1
}

# "hva len" lines of the stage's pages in the L1 VMM; fails without them. When the lowest
# and the highest GPA are in one RAM region at the same distance in the VMM, every GPA
# between is (a RAM block is mapped in one piece): two HMP calls instead of one per line.
s2lab_hvas() {	# [GPA:LEN ...]
	gpas=$(s2lab_gpas "$@") || gpas=
	if [ -z "$gpas" ]; then
		echo "s2lab: stage $STAGE: no L1 GPAs (give GPA:LEN arguments, or S2LAB_HOST_DIR or L1_SSH to read stage-$STAGE.gpa)" >&2
		return 1
	fi
	if [ -z "${"$"}{QEMU_HMP:-}" ]; then
		echo "s2lab: stage $STAGE: QEMU_HMP is not set: nothing turns L1 GPAs into the VMM's addresses" >&2
		return 1
	fi
	lo=
	hi=
	for gpa in $(echo "$gpas" | cut -d ' ' -f 1); do
		if [ -z "$lo" ] || [ $((gpa)) -lt $((lo)) ]; then lo=$gpa; fi
		if [ -z "$hi" ] || [ $((gpa)) -gt $((hi)) ]; then hi=$gpa; fi
	done
	a=$(s2lab_gpa2hva "$lo")
	b=$(s2lab_gpa2hva "$hi")
	if [ -z "$a" ] || [ -z "$b" ]; then
		echo "s2lab: stage $STAGE: QEMU has no host address for L1 GPA $lo or $hi" >&2
		return 1
	fi
	if [ "${"$"}{a#* }" = "${"$"}{b#* }" ] && [ $((${"$"}{b%% *} - hi)) -eq $((${"$"}{a%% *} - lo)) ]; then
		delta=$((${"$"}{a%% *} - lo))
		echo "$gpas" | while read -r gpa len; do
			printf '%#x %s\n' $((gpa + delta)) "$len"
		done
		return 0
	fi
	echo "$gpas" | while read -r gpa len; do
		hva=$(s2lab_gpa2hva "$gpa")
		if [ -z "$hva" ]; then
			echo "s2lab: stage $STAGE: QEMU has no host address for L1 GPA $gpa" >&2
			return 1
		fi
		echo "${"$"}{hva%% *} $len"
	done
}

# Without page addresses: act on all of L1 only when asked to.
s2lab_whole_l1() {	# <what it does instead>
	if [ "${"$"}{S2LAB_WHOLE_L1:-0}" != 1 ]; then
		echo "s2lab: stage $STAGE: no page addresses; S2LAB_WHOLE_L1=1 would $1 (the outcome then depends on where L1's RAM is)" >&2
		return 1
	fi
	echo "s2lab: stage $STAGE: S2LAB_WHOLE_L1=1: $1" >&2
}

s2lab_migrate() {	# <nth> [GPA:LEN ...]: the stage's pages to the other NUMA node
	nth=$1
	shift
	if r=$(s2lab_hvas "$@"); then
		# shellcheck disable=SC2086
		s2lab_py move $r
	elif s2lab_whole_l1 "migrate all of L1 between nodes $NODE_A and $NODE_B"; then
		if [ $((nth % 2)) -eq 0 ]; then
			migratepages "$L1_PID" "$NODE_A" "$NODE_B"
		else
			migratepages "$L1_PID" "$NODE_B" "$NODE_A"
		fi
	else
		return 1
	fi
}

s2lab_swap_out() {	# [GPA:LEN ...]: the stage's pages to swap
	if r=$(s2lab_hvas "$@"); then
		# shellcheck disable=SC2086
		s2lab_py pageout $r
	elif s2lab_whole_l1 "reclaim ${"$"}{S2LAB_RECLAIM:-1G} of L1's cgroup"; then
		cg=/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$L1_PID/cgroup")
		echo "${"$"}{S2LAB_RECLAIM:-1G}" > "$cg/memory.reclaim"
	else
		return 1
	fi
}

s2lab_thp_split() {	# [GPA:LEN ...]: split the THPs behind the stage's pages
	if [ ! -w /sys/kernel/debug/split_huge_pages ]; then
		echo "s2lab: stage $STAGE: no /sys/kernel/debug/split_huge_pages (debugfs, CONFIG_DEBUG_FS)" >&2
		return 1
	fi
	if r=$(s2lab_hvas "$@"); then
		echo "$r" | while read -r hva len; do
			printf '%s,%s,%#x\n' "$L1_PID" "$hva" $((hva + len)) > /sys/kernel/debug/split_huge_pages || return 1
		done
	elif s2lab_whole_l1 "split every THP of L1"; then
		echo "$L1_PID,0x0,0x1000000000000" > /sys/kernel/debug/split_huge_pages
	else
		return 1
	fi
}

s2lab_numa_scan() {	# NUMA balancing scans all of L1: wait for its next PTE updates
	old=$(cat /proc/sys/kernel/numa_balancing)
	before=$(awk '$1 == "numa_pte_updates" { print $2 }' /proc/vmstat)
	echo 1 > /proc/sys/kernel/numa_balancing || return 1
	i=0
	while [ "$i" -lt "${"$"}{S2LAB_NUMA_WAIT:-120}" ]; do
		sleep 1
		now=$(awk '$1 == "numa_pte_updates" { print $2 }' /proc/vmstat)
		[ "$now" -gt "$before" ] && break
		i=$((i + 1))
	done
	echo "$old" > /proc/sys/kernel/numa_balancing
}

# ---- recording kvm_nested_s2_unmap() around a stage (S2LAB_RECORD=FILE) ----
TRACEFS=${"$"}{TRACEFS:-/sys/kernel/tracing}
S2LAB_TRACER=${"$"}{S2LAB_TRACER:-function_graph}
S2LAB_BT='${BPFTRACE_PROGRAM}'
s2lab_recording=

s2lab_record_header() {
	if [ -s "$S2LAB_RECORD" ]; then
		grep -qxF "${RECORDING_MARK} format $S2LAB_TRACER" "$S2LAB_RECORD" &&
			grep -qxF "$S2LAB_RECORD_TRACE" "$S2LAB_RECORD" && return 0
		echo "s2lab: $S2LAB_RECORD holds another recording (other tracer or program)" >&2
		return 1
	fi
	{
		echo "${RECORDING_MARK} recording ${RECORDING_VERSION}"
		echo "${RECORDING_MARK} format $S2LAB_TRACER"
		echo "${RECORDING_MARK} program $S2LAB_PROGRAM"
		echo "$S2LAB_RECORD_TRACE"
		echo "${RECORDING_MARK} machine $(uname -n), Linux $(uname -r) $(uname -m), $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)"
		if [ -r /proc/sys/kernel/watchdog_thresh ]; then
			echo "${RECORDING_MARK} watchdog_thresh $(cat /proc/sys/kernel/watchdog_thresh)"
		fi
	} >> "$S2LAB_RECORD"
}

s2lab_record_begin() {
	[ -n "${"$"}{S2LAB_RECORD:-}" ] || return 0
	s2lab_record_header || return 1
	case $S2LAB_TRACER in
	function_graph)
		if ! grep -qw function_graph "$TRACEFS/available_tracers" 2>/dev/null; then
			echo "s2lab: no function_graph tracer in $TRACEFS (CONFIG_FUNCTION_GRAPH_TRACER; mount -t tracefs nodev $TRACEFS)" >&2
			return 1
		fi
		s2lab_saved_tracer=$(cat "$TRACEFS/current_tracer")
		s2lab_saved_on=$(cat "$TRACEFS/tracing_on")
		echo 0 > "$TRACEFS/tracing_on"
		echo nop > "$TRACEFS/current_tracer"
		if ! echo "${UNMAP_FUNCTION} ${WALK_FUNCTION}" > "$TRACEFS/set_ftrace_filter"; then
			echo "s2lab: ${UNMAP_FUNCTION} or ${WALK_FUNCTION} is not in $TRACEFS/available_filter_functions" >&2
			return 1
		fi
		echo ${UNMAP_FUNCTION} > "$TRACEFS/set_graph_function"
		echo function_graph > "$TRACEFS/current_tracer"
		echo > "$TRACEFS/trace"
		s2lab_recording=function_graph
		echo 1 > "$TRACEFS/tracing_on"
		;;
	bpftrace)
		s2lab_bt_out=$(mktemp)
		bpftrace -e "$S2LAB_BT" > "$s2lab_bt_out" 2> "$s2lab_bt_out.err" &
		s2lab_bt_pid=$!
		s2lab_recording=bpftrace
		i=0
		until grep -q '^Attaching' "$s2lab_bt_out"; do
			if ! kill -0 "$s2lab_bt_pid" 2>/dev/null || [ "$i" -ge 60 ]; then
				echo "s2lab: bpftrace did not start: $(head -n 1 "$s2lab_bt_out.err")" >&2
				return 1
			fi
			sleep 1
			i=$((i + 1))
		done
		;;
	*)
		echo "s2lab: S2LAB_TRACER=$S2LAB_TRACER: expected function_graph or bpftrace" >&2
		return 1
		;;
	esac
}

# Stop recording; with "keep", append the stage's block to S2LAB_RECORD.
s2lab_record_end() {	# [keep]
	case $s2lab_recording in
	function_graph)
		echo 0 > "$TRACEFS/tracing_on"
		[ "${"$"}{1:-}" != keep ] || cat "$TRACEFS/trace" > "$S2LAB_RECORD.stage"
		echo nop > "$TRACEFS/current_tracer"
		echo > "$TRACEFS/set_graph_function"
		echo > "$TRACEFS/set_ftrace_filter"
		echo "$s2lab_saved_tracer" > "$TRACEFS/current_tracer"
		echo "$s2lab_saved_on" > "$TRACEFS/tracing_on"
		;;
	bpftrace)
		# SIGINT runs its END (the job may ignore SIGINT: then SIGTERM, which bpftrace handles too).
		kill -INT "$s2lab_bt_pid" 2>/dev/null
		i=0
		until grep -q '^${BPFTRACE_TAG}_end$' "$s2lab_bt_out" || [ "$i" -ge 5 ]; do
			sleep 1
			i=$((i + 1))
		done
		grep -q '^${BPFTRACE_TAG}_end$' "$s2lab_bt_out" || kill -TERM "$s2lab_bt_pid" 2>/dev/null
		wait "$s2lab_bt_pid" || true
		[ "${"$"}{1:-}" != keep ] || cp "$s2lab_bt_out" "$S2LAB_RECORD.stage"
		rm -f "$s2lab_bt_out" "$s2lab_bt_out.err"
		;;
	*)
		return 0
		;;
	esac
	s2lab_recording=
	if [ "${"$"}{1:-}" = keep ]; then
		{
			echo "${RECORDING_MARK} stage $STAGE begin"
			cat "$S2LAB_RECORD.stage"
			echo "${RECORDING_MARK} stage $STAGE end"
		} >> "$S2LAB_RECORD"
		rm -f "$S2LAB_RECORD.stage"
	fi
}

# One stage, recorded when asked: its operation must succeed on the stage's pages.
s2lab_stage() {	# [GPA:LEN ...]
	s2lab_record_begin || return 1
	if "stage_$STAGE" "$@"; then
		s2lab_record_end keep
	else
		s2lab_record_end
		return 1
	fi
}

# Wait (up to S2LAB_WATCH_TIMEOUT s) for a file of the program's directory, or for its result.
s2lab_wait() {	# <file>; prints what appeared
	i=0
	while [ "$i" -lt "${"$"}{S2LAB_WATCH_TIMEOUT:-600}" ]; do
		if s2lab_xd "test -e $1"; then
			echo "$1"
			return 0
		fi
		if s2lab_xd "test -e result"; then
			echo result
			return 0
		fi
		sleep 1
		i=$((i + 1))
	done
	return 1
}

s2lab_watch() {
	if ! s2lab_has_xd; then
		echo "s2lab: --watch needs the program's directory: S2LAB_HOST_DIR (shared with L1) or L1_SSH" >&2
		exit 2
	fi
	if ! s2lab_xd "rm -f stage-* result output && echo $$ > host-ready"; then
		echo "s2lab: cannot write host-ready in $S2LAB_DIR" >&2
		exit 1
	fi
	trap 's2lab_record_end; s2lab_xd "rm -f host-ready" || true' EXIT
	trap 'exit 130' INT TERM
	echo "s2lab: watching $S2LAB_DIR: now run $S2LAB_PROGRAM.sh in L1"
	for STAGE in $STAGES; do
		if ! got=$(s2lab_wait "stage-$STAGE.gpa"); then
			echo "s2lab: L1 did not reach stage $STAGE" >&2
			exit 1
		fi
		[ "$got" != result ] || break
		err=$(mktemp)
		if s2lab_stage 2> "$err"; then
			cat "$err" >&2
			s2lab_xd "echo ok > stage-$STAGE.done"
			echo "s2lab: stage $STAGE done"
		else
			cat "$err" >&2
			{ grep -m 1 "^s2lab:" "$err" || tail -n 1 "$err"; } |
				s2lab_xd "cat > stage-$STAGE.skip.tmp && mv stage-$STAGE.skip.tmp stage-$STAGE.skip"
			echo "s2lab: stage $STAGE failed on the host: L1 skips the test" >&2
		fi
		rm -f "$err"
	done
	if ! s2lab_wait result > /dev/null; then
		echo "s2lab: no result from L1" >&2
		exit 1
	fi
	s2lab_xd "tail -n 5 output" || true
	result=$(s2lab_xd "cat result")
	echo "s2lab: L1: $result"
	case $result in
	PASS*) exit 0 ;;
	SKIP*) exit 4 ;;
	*) exit 1 ;;
	esac
}
`;

/** The whole host script. */
export function emitHost(plan: Plan, x: Expectation, meta: SelftestMeta): string {
  const t = plan.trace;
  const hosts = plan.actions.flatMap((a) => (a.kind === "host" ? [a] : []));
  const dir = `/tmp/s2lab-${meta.sha256.slice(0, DIR_HASH_DIGITS)}`;
  const stages = hosts.map((a) => a.stage);
  const lines = [
    "#!/bin/sh",
    "# SPDX-License-Identifier: GPL-2.0-only",
    `# ${meta.name}.host.sh: the host (L0) side of ${meta.name}.c, run on L0 as root:`,
    `#   ${meta.name}.host.sh --watch`,
    "#       unattended: does each stage when the program in L1 asks, then reports L1's result;",
    `#       start it first, then ${meta.name}.sh in L1`,
    `#   ${meta.name}.host.sh <stage> [L1-GPA:LEN ...]`,
    "#       one stage by hand, when the program asks for it",
    "# Environment:",
    "#   L1_PID          pid of the L1 VMM (required), e.g. $(pgrep -f qemu-system-aarch64)",
    '#   QEMU_HMP        a command that runs one QEMU HMP command, e.g. "virsh qemu-monitor-command',
    `#                   --hmp l1": turns the stage's L1 GPAs into the VMM's addresses (gpa2hva)`,
    "#   S2LAB_HOST_DIR  the L0 path of a directory L1 mounts as S2LAB_DIR (virtiofs, 9p), or",
    "#   L1_SSH          user@l1: reach S2LAB_DIR over ssh",
    `#   S2LAB_DIR       the program's directory in L1 (default ${dir})`,
    "#   NODE_A, NODE_B  NUMA nodes pages move between (default 0 and 1)",
    "#   S2LAB_RECORD    FILE: record each kvm_nested_s2_unmap() of a stage into FILE, with",
    "#   S2LAB_TRACER    function_graph (default) or bpftrace; then deno task calibrate FILE",
    "#   S2LAB_WHOLE_L1  1: without page addresses, act on all of L1 (no verdict: the outcome",
    "#                   then depends on where L1's RAM is)",
    "#   S2LAB_WATCH_TIMEOUT  seconds --watch waits for each stage and the result (default 600)",
    "#",
    ...headerLines(plan, x, meta).map((l) => (l ? `# ${l}` : "#")),
    "",
    "set -eu",
    `S2LAB_DIR=\${S2LAB_DIR:-${dir}}`,
    `S2LAB_PROGRAM=${meta.name}`,
    `S2LAB_RECORD_TRACE="${RECORDING_MARK} trace ${
      meta.traceFile.replace(/[^\w.+-]/g, "_")
    } sha256 ${meta.sha256} shows ${x.strategy}"`,
    `STAGES="${stages.join(" ")}"`,
    "STAGE=",
    'case "${1:-}" in',
    "--watch)",
    "\tWATCH=1",
    "\tshift",
    "\t;;",
    `${stages.join("|") || "__none__"})`,
    "\tWATCH=0",
    "\tSTAGE=$1",
    "\tshift",
    "\t;;",
    "*)",
    `\techo "usage: $0 --watch | <stage> [L1-GPA:LEN ...]; stages: ${
      stages.join(", ") || "none"
    }" >&2`,
    "\texit 2",
    "\t;;",
    "esac",
    ': "${L1_PID:?set L1_PID to the pid of the L1 VMM, e.g. L1_PID=$(pgrep -f qemu-system-aarch64)}"',
    "NODE_A=${NODE_A:-0}",
    "NODE_B=${NODE_B:-1}",
    "export NODE_A NODE_B",
    "",
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
    "if [ $WATCH = 1 ]; then",
    "\ts2lab_watch",
    "fi",
    "trap 's2lab_record_end' EXIT",
    'if ! s2lab_stage "$@"; then',
    '\techo "s2lab: stage $STAGE failed" >&2',
    "\texit 1",
    "fi",
    "if s2lab_has_xd; then",
    '\ts2lab_xd "echo ok > stage-$STAGE.done"',
    '\techo "s2lab: stage $STAGE done; L1 goes on"',
    "else",
    '\techo "s2lab: stage $STAGE done on the host: press Enter in L1 (or create $S2LAB_DIR/stage-$STAGE.done there)"',
    "fi",
  );
  return lines.join("\n") + "\n";
}
