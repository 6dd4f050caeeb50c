# Step timing for the set-up scripts (experiments/notebooks/setup.sh, .ci/slurm.sh):
# source it after setting STEP_LABEL; `step NAME` prints how long the previous step took
# and starts NAME ("" ends the last one); `secs "$T_ALL"` is the time since sourcing.
#
#   STEP_LABEL="notebooks setup"; source experiments/steps.sh
#   step "deno kernel"; ...; step ""   # == notebooks setup: deno kernel / deno kernel: 1.2 s

# Microseconds since the epoch (bash 5's EPOCHREALTIME).
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
  [[ -n "$STEP_NAME" ]] && echo "== $STEP_LABEL: $STEP_NAME"
  return 0
}
