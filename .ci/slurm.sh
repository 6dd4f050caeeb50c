#!/usr/bin/env bash
# A single-node Slurm cluster from Debian's packages, for test/slurm_test.ts (issue #13).
#
#   bash .ci/slurm.sh         install munge + slurm-wlm (when missing), configure this machine
#                             as a one-node cluster, start munged, slurmctld and slurmd, and
#                             wait until `sinfo` shows the node idle
#   bash .ci/slurm.sh stop    stop the three daemons this script started
#
# Idempotent: a second start finds the packages, the key and the configuration in place and
# the daemons running. Needs root (it installs packages and starts daemons); no systemd.
# An /etc/slurm/slurm.conf that this script did not write is left alone: when its cluster
# answers, it is used as it is; when not, the script stops with an error.
# Each step prints how long it took.
set -euo pipefail

usage() { echo "usage: bash .ci/slurm.sh [start|stop]" >&2; }
MODE="${1:-start}"
if [[ $# -gt 1 || ( "$MODE" != start && "$MODE" != stop ) ]]; then
  echo "error: unknown argument '${*}' ($(usage 2>&1))" >&2
  exit 2
fi
if [[ $EUID -ne 0 ]]; then
  echo "error: .ci/slurm.sh must run as root (it installs packages and starts daemons)" >&2
  exit 1
fi

CONF=/etc/slurm/slurm.conf
MARK="# written by s2lab .ci/slurm.sh"
MUNGE_PID=/run/munge/munged.pid
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid

# Microseconds since the epoch (bash 5's EPOCHREALTIME), for the step times.
now_us() { echo "${EPOCHREALTIME/./}"; }
# secs START_US: seconds since START_US, one decimal.
secs() {
  local d=$(($(now_us) - $1))
  printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000))
}
T_ALL=$(now_us)
T_STEP=$T_ALL
STEP_NAME=""
# step NAME: print how long the previous step took, then start NAME.
step() {
  [[ -n "$STEP_NAME" ]] && echo "   $STEP_NAME: $(secs "$T_STEP") s"
  T_STEP=$(now_us)
  STEP_NAME="$1"
  [[ -n "$STEP_NAME" ]] && echo "== slurm: $STEP_NAME"
  return 0
}
finish() {
  step ""
  echo "   slurm $MODE: $(secs "$T_ALL") s in all"
}

# running PID NAME: PID is a live (not zombie) process called NAME.
running() {
  local state
  [[ "$1" =~ ^[0-9]+$ && "$(cat "/proc/$1/comm" 2>/dev/null)" == "$2" ]] || return 1
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}
# alive NAME PIDFILE: the pid file names a running NAME (a stale pid file from a machine's
# earlier life may name another process, or a zombie, by now).
alive() { [[ -s "$2" ]] && running "$(cat "$2")" "$1"; }

# stop_daemon NAME PIDFILE: SIGTERM the pid the file names, wait up to 10 s, then SIGKILL.
stop_daemon() {
  local name=$1 file=$2 pid i
  if ! alive "$name" "$file"; then
    echo "   $name: not running"
    return 0
  fi
  pid=$(cat "$file")
  kill "$pid"
  for ((i = 0; i < 100; i++)); do
    running "$pid" "$name" || break
    sleep 0.1
  done
  running "$pid" "$name" && kill -9 "$pid"
  rm -f "$file"
  echo "   $name: stopped (pid $pid)"
}

ours() { [[ -f "$CONF" ]] && head -n 1 "$CONF" | grep -qxF "$MARK"; }

if [[ "$MODE" == stop ]]; then
  step "stop daemons"
  if [[ -f "$CONF" ]] && ! ours; then
    echo "   $CONF was not written by this script: nothing to stop"
  else
    stop_daemon slurmd "$SLURMD_PID"
    stop_daemon slurmctld "$CTLD_PID"
    stop_daemon munged "$MUNGE_PID"
  fi
  finish
  exit 0
fi

step "packages"
need=()
command -v munged >/dev/null 2>&1 || [[ -x /usr/sbin/munged ]] || need+=(munge)
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
echo "   slurm-wlm $(dpkg-query -W -f='${Version}' slurm-wlm), munge $(dpkg-query -W -f='${Version}' munge)"

if [[ -f "$CONF" ]] && ! ours; then
  step "existing cluster"
  if sinfo -h >/dev/null 2>&1; then
    echo "   $CONF was not written by this script and its cluster answers: using it"
    sinfo
    finish
    exit 0
  fi
  echo "error: $CONF was not written by this script and its cluster does not answer;" \
    "not touching it (start that cluster, or move the file away)" >&2
  exit 1
fi

step "munge"
mkdir -p /etc/munge /var/log/munge /run/munge /var/lib/munge
chown munge:munge /etc/munge /var/log/munge /run/munge /var/lib/munge
chmod 700 /etc/munge /var/log/munge /var/lib/munge
chmod 755 /run/munge
if [[ ! -s /etc/munge/munge.key ]]; then
  head -c 1024 /dev/urandom >/etc/munge/munge.key
  echo "   new key /etc/munge/munge.key"
fi
chown munge:munge /etc/munge/munge.key
chmod 400 /etc/munge/munge.key
if alive munged "$MUNGE_PID"; then
  echo "   munged already running (pid $(cat "$MUNGE_PID"))"
else
  runuser -u munge -- /usr/sbin/munged
fi
for ((i = 0; i < 50; i++)); do
  [[ -S /run/munge/munge.socket.2 ]] && break
  sleep 0.1
done
timeout 10 munge -n | timeout 10 unmunge | grep -q 'STATUS: *Success' || {
  echo "error: munge does not work (munge -n | unmunge fails); see /var/log/munge/munged.log" >&2
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
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
new=$(mktemp)
cat >"$new" <<EOF
$MARK
ClusterName=s2lab
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
$NODELINE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
if [[ -f "$CONF" ]] && cmp -s "$new" "$CONF"; then
  rm -f "$new"
  echo "   $CONF unchanged"
  CHANGED=0
else
  mv "$new" "$CONF"
  chmod 644 "$CONF"
  echo "   wrote $CONF ($NODELINE)"
  CHANGED=1
fi

step "slurmctld + slurmd"
if [[ $CHANGED -eq 1 ]]; then
  # A new configuration: restart whatever an earlier run left running.
  if alive slurmd "$SLURMD_PID"; then stop_daemon slurmd "$SLURMD_PID"; fi
  if alive slurmctld "$CTLD_PID"; then stop_daemon slurmctld "$CTLD_PID"; fi
fi
if alive slurmctld "$CTLD_PID"; then
  echo "   slurmctld already running (pid $(cat "$CTLD_PID"))"
else
  /usr/sbin/slurmctld -c
fi
if alive slurmd "$SLURMD_PID"; then
  echo "   slurmd already running (pid $(cat "$SLURMD_PID"))"
else
  /usr/sbin/slurmd
fi

step "wait for the node to be idle"
state=""
for ((i = 0; i < 600; i++)); do
  state=$(sinfo -h -N -n "$NODE" -o '%t' 2>/dev/null | head -n 1 || true)
  [[ "$state" == idle || "$state" == mix || "$state" == alloc ]] && break
  # A node left down or drained by an earlier run comes back on request.
  if [[ $i -eq 50 && ( "$state" == down* || "$state" == drain* ) ]]; then
    scontrol update NodeName="$NODE" State=RESUME || true
  fi
  sleep 0.1
done
if [[ "$state" != idle && "$state" != mix && "$state" != alloc ]]; then
  echo "error: node $NODE is '${state:-not listed}' after 60 s; see /var/log/slurm/" >&2
  exit 1
fi
sinfo
finish
