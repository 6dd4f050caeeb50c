#!/usr/bin/env bash
# Run a sweep on a Slurm cluster: one array task per shard (experiments/slurm/sweep.sbatch),
# then a merge job (experiments/slurm/merge.sbatch) that Slurm starts once every task has
# succeeded (--dependency=afterok). See docs/sweeps.md, "Sweeps on a Slurm cluster".
#
#   bash experiments/slurm/submit.sh --shards 8 --out results/sweep.csv \
#     [--partition P] [--time T] [--mem M] [--cpus-per-task C] [--wait] -- --vcpus 1,8 --granule 4K
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bash experiments/slurm/submit.sh --shards N --out FILE [options] [-- sweep flags...]
  Submits a Slurm array of N tasks, task k running `deno task sweep --shard k+1/N` with the
  sweep flags, and a merge job that runs when all N succeeded and writes FILE (and
  FILE's .timing.csv). Prints the job ids and returns, unless --wait.
  --shards N          array tasks, one shard of the grid each (required)
  --out FILE          the merged sweep CSV (required); refused if it exists, unless --force
  --partition P       partition of every job (default: the cluster's default partition)
  --time T            time limit of each shard task and of the merge job (e.g. 2:00:00)
  --mem M             memory of each shard task (e.g. 16G); the shard's sweep keeps its
                      estimated need under 75% of it (its --max-memory)
  --cpus-per-task C   CPUs of each shard task (default 1): one Deno process, --jobs C workers
  --job-name NAME     name of the array job (default s2lab-sweep; the merge is NAME-merge)
  --work-dir DIR      new or empty directory for the shards and the Slurm logs, seen by every
                      node (default: a new directory beside FILE, FILE.slurm.XXXXXX)
  --keep-shards       keep the shard CSVs after the merge (default: deleted; logs are kept)
  --force             replace FILE if it exists
  --wait              wait for the merge job and exit with its status (sbatch --wait)
  -h, --help          this text
  Everything after -- goes to `deno task sweep` (not --shard, --out, --timing, --jobs,
  --resume: this script sets them). Relative paths in the sweep flags (--grid) are relative
  to the repository, as for `deno task sweep`.
exit status: 0 submitted (with --wait: merged), 1 sbatch or a job failed, 2 bad input
EOF
}

# die MESSAGE: one line, exit 2 (bad input).
die() {
  echo "error: $1" >&2
  exit 2
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHARDS="" OUT="" PARTITION="" TIME="" MEM="" CPUS=1 NAME=s2lab-sweep WORK=""
KEEP=0 FORCE=0 WAIT=0
SWEEP=()
while [[ $# -gt 0 ]]; do
  opt=$1
  case "$opt" in
    --shards | --out | --partition | --time | --mem | --cpus-per-task | --job-name | --work-dir)
      [[ $# -ge 2 && -n "$2" && "$2" != --* ]] || die "$opt needs a value (see --help)"
      val=$2
      shift 2
      case "$opt" in
        --shards) SHARDS=$val ;;
        --out) OUT=$val ;;
        --partition) PARTITION=$val ;;
        --time) TIME=$val ;;
        --mem) MEM=$val ;;
        --cpus-per-task) CPUS=$val ;;
        --job-name) NAME=$val ;;
        --work-dir) WORK=$val ;;
      esac
      ;;
    --keep-shards) KEEP=1 && shift ;;
    --force) FORCE=1 && shift ;;
    --wait) WAIT=1 && shift ;;
    -h | --help)
      usage
      exit 0
      ;;
    --)
      shift
      SWEEP=("$@")
      break
      ;;
    *) die "unknown argument '$opt' (sweep flags go after --; see --help)" ;;
  esac
done

[[ -n "$SHARDS" ]] || die "--shards N is required (see --help)"
[[ "$SHARDS" =~ ^[1-9][0-9]*$ ]] || die "--shards: '$SHARDS' is not a whole number >= 1"
[[ -n "$OUT" ]] || die "--out FILE is required (see --help)"
[[ "$OUT" != */ && "$(basename "$OUT")" != . ]] || die "--out: '$OUT' is not a file name"
[[ "$CPUS" =~ ^[1-9][0-9]*$ ]] || die "--cpus-per-task: '$CPUS' is not a whole number >= 1"
for f in "${SWEEP[@]}"; do
  case "$f" in
    --shard | --shard=* | --out | --out=* | --timing | --timing=* | --jobs | --jobs=* | --resume)
      die "sweep flag ${f%%=*} is set by submit.sh (see --help)"
      ;;
    --dry-run | --schema | --emit-trace* | --point* | --help | -h)
      die "sweep flag ${f%%=*} does not run a sweep; run it with deno task sweep"
      ;;
  esac
done

command -v sbatch >/dev/null 2>&1 || {
  echo "error: sbatch not found: this needs a Slurm cluster (a private single-node one:" \
    "bash .ci/slurm.sh start DIR, then SLURM_CONF=DIR/slurm.conf)" >&2
  exit 1
}

# deno for the jobs: an absolute path, so that a job finds it whatever its PATH.
if [[ -n "${S2LAB_DENO:-}" ]]; then
  [[ -x "$S2LAB_DENO" ]] || die "S2LAB_DENO: $S2LAB_DENO is not an executable"
  DENO=$S2LAB_DENO
elif command -v deno >/dev/null 2>&1; then
  DENO=$(command -v deno)
elif command -v npx >/dev/null 2>&1; then
  DENO=$(npx -y deno@2.9.6 eval 'console.log(Deno.execPath())' | tail -n 1)
else
  echo "error: no deno: put deno on PATH, set S2LAB_DENO, or install Node.js (npx)" >&2
  exit 1
fi
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1

# Paths as the jobs see them: absolute (the jobs run in the repository).
mkdir -p "$(dirname "$OUT")"
OUT="$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"
if [[ -e "$OUT" && $FORCE -eq 0 ]]; then
  die "--out: $OUT exists (pass --force to replace it)"
fi
if [[ -n "$WORK" ]]; then
  mkdir -p "$WORK"
  WORK="$(cd "$WORK" && pwd)"
  [[ -z "$(ls -A "$WORK")" ]] || die "--work-dir: $WORK is not empty"
else
  WORK=$(mktemp -d "${OUT%.csv}.slurm.XXXXXX")
fi

# Check the sweep flags here (bad input fails now, not in N jobs) and fill Deno's cache for
# sweep and merge. --max-memory goes first: this machine's memory is not the nodes'.
rc=0
check=$(cd "$ROOT" && "$DENO" task -q sweep --max-memory 1024T "${SWEEP[@]}" \
  --shard "1/$SHARDS" --jobs "$CPUS" --out "$WORK/check.csv" --dry-run 2>&1) || rc=$?
if [[ $rc -ne 0 ]]; then
  rmdir "$WORK" 2>/dev/null || true
  echo "$check" | grep -m 1 '^error' >&2 || echo "$check" >&2
  [[ $rc -eq 2 ]] && exit 2
  exit 1
fi
(cd "$ROOT" && "$DENO" task -q merge --help >/dev/null)
echo "$check"

COMMON=()
[[ -n "$PARTITION" ]] && COMMON+=(--partition "$PARTITION")
[[ -n "$TIME" ]] && COMMON+=(--time "$TIME")
# The jobs get this environment (--export ALL), with the repository and deno.
export S2LAB_ROOT=$ROOT S2LAB_DENO=$DENO

SHARD_OPTS=(--array "0-$((SHARDS - 1))" --cpus-per-task "$CPUS")
[[ -n "$MEM" ]] && SHARD_OPTS+=(--mem "$MEM")
array=$(sbatch --parsable --job-name "$NAME" --chdir "$ROOT" --export ALL \
  --output "$WORK/slurm-%A_%a.out" "${COMMON[@]}" "${SHARD_OPTS[@]}" \
  "$ROOT/experiments/slurm/sweep.sbatch" "$WORK" "$SHARDS" "${SWEEP[@]}") || {
  rmdir "$WORK" 2>/dev/null || true
  echo "error: sbatch refused the array job (above)" >&2
  exit 1
}
array=${array%%;*}
echo "submitted shards: job $array, $SHARDS array tasks (task k is shard k+1), logs in $WORK"

MERGE_ARGS=()
[[ $FORCE -eq 1 ]] && MERGE_ARGS+=(--force)
[[ $KEEP -eq 1 ]] && MERGE_ARGS+=(--keep-shards)
MERGE_OPTS=(--job-name "$NAME-merge" --chdir "$ROOT" --export ALL
  --dependency "afterok:$array" --kill-on-invalid-dep=yes --output "$WORK/slurm-%j-merge.out"
  "${COMMON[@]}")
MERGE_JOB=("$ROOT/experiments/slurm/merge.sbatch" "${MERGE_ARGS[@]}" "$WORK" "$SHARDS" "$OUT")

if [[ $WAIT -eq 0 ]]; then
  merge=$(sbatch --parsable "${MERGE_OPTS[@]}" "${MERGE_JOB[@]}") || {
    scancel "$array" || true
    echo "error: sbatch refused the merge job (above); cancelled job $array" >&2
    exit 1
  }
  merge=${merge%%;*}
  echo "submitted merge: job $merge, after job $array succeeds -> $OUT"
  echo "watch: squeue -j $array,$merge   cancel: scancel $array $merge"
  exit 0
fi

# --wait: sbatch returns when the merge job ends. When a shard fails, the merge can never
# run and Slurm cancels it (--kill-on-invalid-dep), which ends the wait too, and sbatch --wait
# then exits 0 (Slurm 22.05): success is the merge job's own mark, merge.ok.
echo "waiting for the merge job (sbatch --wait) ..."
status=0
sbatch --wait "${MERGE_OPTS[@]}" "${MERGE_JOB[@]}" || status=$?
if [[ $status -ne 0 || ! -f "$WORK/merge.ok" ]]; then
  echo "error: the sweep did not complete (sbatch --wait: exit $status, no merge.ok); logs in $WORK:" >&2
  for log in "$WORK"/slurm-*.out; do
    [[ -f "$log" ]] && { grep -H -m 3 '^error' "$log" >&2 || true; }
  done
  exit 1
fi
echo "merged -> $OUT (logs in $WORK)"
