#!/usr/bin/env bash
# A private single-node Slurm cluster from Debian's packages, for test/slurm_test.ts.
#
#   bash .ci/slurm.sh install      apt-get install munge slurm-wlm when missing
#   bash .ci/slurm.sh start DIR    a one-node cluster living in DIR (a new or empty directory):
#                                  start munged, slurmctld and slurmd on it and wait until
#                                  `sinfo` shows the node idle; prints SLURM_CONF=DIR/slurm.conf
#   bash .ci/slurm.sh stop DIR     stop the daemons `start DIR` started (and nothing else)
#   bash .ci/slurm.sh footprint    list the machine-wide files of Slurm and munge (path, type,
#                                  size, mtime, mode, owner), for a before/after comparison
#
# Everything a cluster writes is in DIR: its slurm.conf (AuthInfo names DIR's munge socket,
# PlugStackConfig an empty file of DIR), munge's key, socket, pid, log and seed files
# (DIR/munge/), slurmctld's state (DIR/state), slurmd's spool (DIR/spool), both pid and log
# files. Its two ports are free ones below the kernel's ephemeral range, chosen at start. So
# nothing under /etc, /run or /var is written, a Slurm the machine runs is left alone, and two
# clusters in two directories run side by side. Clients reach one through SLURM_CONF.
# `stop` signals a pid from DIR only when that process is the daemon named and runs DIR's
# configuration (its command line names DIR), so a recycled pid is never hit.
#
# Needs root (slurmd launches jobs as their user; install runs apt-get); no systemd.
# Each step prints how long it took. Exit status: 0 done, 1 a step failed (a failed start
# stops what it had started), 2 bad arguments.
set -euo pipefail

usage() { echo "usage: bash .ci/slurm.sh install | start DIR | stop DIR | footprint" >&2; }
MODE="${1:-}"
case "$MODE" in
  install | footprint) [[ $# -eq 1 ]] || MODE="" ;;
  start | stop) [[ $# -eq 2 && -n "$2" ]] || MODE="" ;;
  *) MODE="" ;;
esac
if [[ -z "$MODE" ]]; then
  echo "error: bad arguments '${*}' ($(usage 2>&1))" >&2
  exit 2
fi
if [[ "$MODE" == footprint ]]; then
  # What a machine-wide Slurm or munge reads and writes (Debian's paths and Slurm's defaults).
  shopt -s nullglob
  paths=(/etc/slurm /etc/munge /run/munge /run/slurm* /var/lib/slurm*
    /var/spool/slurm* /var/log/slurm* /var/lib/munge /var/log/munge)
  [[ ${#paths[@]} -eq 0 ]] ||
    find "${paths[@]}" -printf '%p\t%y\t%s\t%T@\t%m\t%U:%G\n' 2>/dev/null | LC_ALL=C sort
  exit 0
fi
if [[ $EUID -ne 0 ]]; then
  echo "error: .ci/slurm.sh $MODE must run as root (slurmd launches jobs as their user)" >&2
  exit 1
fi

STEP_LABEL=slurm
# shellcheck source=../experiments/steps.sh
source "$(dirname "${BASH_SOURCE[0]}")/../experiments/steps.sh"
finish() {
  step ""
  echo "   slurm $MODE: $(secs "$T_ALL") s in all"
}

if [[ "$MODE" == install ]]; then
  step "packages"
  need=()
  [[ -x /usr/sbin/munged ]] && command -v munge >/dev/null 2>&1 || need+=(munge)
  [[ -x /usr/sbin/slurmctld && -x /usr/sbin/slurmd ]] && command -v sbatch >/dev/null 2>&1 ||
    need+=(slurm-wlm)
  if [[ ${#need[@]} -gt 0 ]]; then
    echo "   apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "   installed already"
  fi
  echo "   slurm-wlm $(dpkg-query -W -f='${Version}' slurm-wlm)," \
    "munge $(dpkg-query -W -f='${Version}' munge)"
  finish
  exit 0
fi

if [[ "$MODE" == stop && ! -d "$2" ]]; then
  echo "   $2: no such directory, nothing to stop"
  exit 0
fi
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
CONF=$DIR/slurm.conf
SOCKET=$DIR/munge/socket
# name:pid file of each daemon, in the order they stop.
DAEMONS=("slurmd:$DIR/slurmd.pid" "slurmctld:$DIR/slurmctld.pid" "munged:$DIR/munge/munged.pid")

# ours PID NAME: PID is a live (not zombie) process called NAME whose command line names DIR.
ours() {
  local state
  [[ "$1" =~ ^[0-9]+$ && "$(cat "/proc/$1/comm" 2>/dev/null)" == "$2" ]] || return 1
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
  [[ -n "$state" && "$state" != Z && "$state" != X ]] || return 1
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$DIR/"
}

# stop_daemon NAME PIDFILE: SIGTERM the pid the file names when it is ours, wait up to 10 s,
# then SIGKILL.
stop_daemon() {
  local name=$1 file=$2 pid i
  pid=$(cat "$file" 2>/dev/null || true)
  if ! ours "$pid" "$name"; then
    echo "   $name: not running"
    return 0
  fi
  kill "$pid"
  for ((i = 0; i < 100; i++)); do
    ours "$pid" "$name" || break
    sleep 0.1
  done
  ours "$pid" "$name" && kill -9 "$pid"
  rm -f "$file"
  echo "   $name: stopped (pid $pid)"
}

stop_all() {
  local d
  for d in "${DAEMONS[@]}"; do stop_daemon "${d%%:*}" "${d#*:}"; done
}

if [[ "$MODE" == stop ]]; then
  step "stop the daemons of $DIR"
  stop_all
  finish
  exit 0
fi

# start
for cmd in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd munge unmunge sinfo scontrol; do
  command -v "$cmd" >/dev/null 2>&1 || {
    echo "error: $cmd not found: run \`bash .ci/slurm.sh install\` first" >&2
    exit 1
  }
done
[[ -z "$(ls -A "$DIR")" ]] || {
  echo "error: $DIR is not empty: start a cluster in a new or empty directory" >&2
  exit 2
}
# A Unix socket path has at most 107 bytes.
((${#SOCKET} <= 100)) || {
  echo "error: $DIR is too long a path for munge's socket (${#SOCKET} bytes)" >&2
  exit 2
}

# free_ports N: N free TCP ports, below the ephemeral range (so no outgoing connection holds
# one), starting at a random one: two clusters started together do not pick the same ones.
free_ports() {
  local low listening=" " p found=() _ local_addr state
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  # The local ports in state 0A (LISTEN) of every TCP table; the port is hex after the ':'.
  while read -r _ local_addr _ state _; do
    [[ "$state" == 0A ]] && listening+="$((16#${local_addr##*:})) "
  done < <(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  p=$((10000 + RANDOM % (low - 10000 - 1000)))
  while ((${#found[@]} < $1 && p < low)); do
    [[ "$listening" == *" $p "* ]] || found+=("$p")
    p=$((p + 1))
  done
  echo "${found[@]}"
}

# munged wants a+x on every directory above its socket.
up=$(dirname "$DIR")
while [[ "$up" != / ]]; do
  [[ "$(stat -c %A "$up")" == *[xt] ]] || {
    echo "error: $up is not searchable by all (munged needs a+x on every directory above" \
      "its socket): start the cluster in another directory" >&2
    exit 2
  }
  up=$(dirname "$up")
done

STARTED=0
# A start that fails half-way stops what it started.
trap '[[ $STARTED -eq 1 ]] || { echo "   start failed: stopping what it started" >&2; stop_all >&2; }' EXIT

step "munge (key, socket, pid, log and seed in $DIR/munge)"
chmod 755 "$DIR"
mkdir -m 755 "$DIR/munge"
head -c 1024 /dev/urandom >"$DIR/munge/key"
chmod 400 "$DIR/munge/key"
/usr/sbin/munged --socket="$SOCKET" --key-file="$DIR/munge/key" \
  --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" \
  --seed-file="$DIR/munge/munged.seed"
for ((i = 0; i < 50; i++)); do
  [[ -S "$SOCKET" ]] && break
  sleep 0.1
done
timeout 10 munge -n -S "$SOCKET" | timeout 10 unmunge -S "$SOCKET" | grep -q 'STATUS: *Success' || {
  echo "error: munge does not work (munge -n | unmunge fails); see $DIR/munge/munged.log" >&2
  exit 1
}

step "slurm.conf"
NODE=$(hostname -s)
# slurmd -C prints this machine's NodeName line as Slurm sees it (CPUs, cores, RealMemory),
# so --mem and --cpus-per-task requests are checked against the real machine.
NODELINE=$(/usr/sbin/slurmd -C | head -n 1)
[[ "$NODELINE" == NodeName=* ]] || {
  echo "error: slurmd -C printed '$NODELINE', not a NodeName line" >&2
  exit 1
}
read -r CTLD_PORT SLURMD_PORT <<<"$(free_ports 2)"
[[ -n "$SLURMD_PORT" ]] || {
  echo "error: no two free TCP ports below the ephemeral range" >&2
  exit 1
}
mkdir -m 755 "$DIR/state" "$DIR/spool"
: >"$DIR/plugstack.conf"
cat >"$CONF" <<EOF
# A private single-node cluster written by s2lab's .ci/slurm.sh: every file is in $DIR.
ClusterName=s2lab
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
PlugStackConfig=$DIR/plugstack.conf
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
$NODELINE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
chmod 644 "$CONF"
echo "   $CONF: ports $CTLD_PORT (slurmctld), $SLURMD_PORT (slurmd); $NODELINE"
export SLURM_CONF=$CONF

step "slurmctld + slurmd"
/usr/sbin/slurmctld -c -f "$CONF"
/usr/sbin/slurmd -f "$CONF"

step "wait for the node to be idle"
state=""
deadline=$((SECONDS + 60))
while ((SECONDS < deadline)); do
  # scontrol ping answers at once; sinfo retries for seconds while slurmctld is not up yet.
  if scontrol ping >/dev/null 2>&1; then
    state=$(timeout 20 sinfo -h -N -n "$NODE" -o '%t' 2>/dev/null | head -n 1 || true)
    [[ "$state" == idle || "$state" == mix ]] && break
  fi
  sleep 0.1
done
if [[ "$state" != idle && "$state" != mix ]]; then
  echo "error: node $NODE is '${state:-not listed}' after 60 s; see $DIR/slurmctld.log and" \
    "$DIR/slurmd.log" >&2
  exit 1
fi
sinfo
STARTED=1
finish
echo "SLURM_CONF=$CONF"
