#!/usr/bin/env bash
# Open the notebooks: `deno task notebooks:open [flags]`, after
# `deno task notebooks:setup`. Starts Debian's Jupyter Notebook on notebooks/ and, unless
# --no-browser, opens it in a browser; it runs until Ctrl-C.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: deno task notebooks:open [--no-browser] [--ip ADDR] [--port N] [--csv FILE] [-- jupyter flags]
  Runs `jupyter notebook` on notebooks/ with the Deno kernel set up by notebooks:setup.
  --no-browser   print the URL (with its token) instead of opening a browser: for a machine
                 without one, e.g. over ssh; then `ssh -L 8888:localhost:8888 HOST` on your
                 side and open the printed http://localhost:8888/?token=... URL there
  --ip ADDR      address to listen on (default localhost). --ip 0.0.0.0 serves every network
                 interface, for a remote browser without an ssh tunnel: anyone who reaches
                 the port and has the token can run code as you, so prefer the tunnel
  --port N       port (default 8888; the next free one when it is taken)
  --csv FILE     the sweep CSV the notebooks read (S2LAB_SWEEP_CSV; default results/sweep.csv)
  -h, --help     this text
  Everything after -- goes to `jupyter notebook` as it is.
exit status: jupyter notebook's own once it runs, 1 Jupyter or the Deno kernel not set up
(run notebooks:setup), 2 bad arguments
EOF
}

die() {
  echo "error: $1" >&2
  exit 2
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ARGS=()
IP=localhost
PORT=8888
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-browser)
      ARGS+=(--no-browser)
      shift
      ;;
    --ip | --port | --csv)
      [[ $# -ge 2 && -n "$2" && "$2" != --* ]] || die "$1 needs a value (see --help)"
      case "$1" in
        --ip) IP=$2 ;;
        --port)
          [[ "$2" =~ ^[0-9]+$ && "$2" -ge 1 && "$2" -le 65535 ]] || die "--port: '$2' is not a port"
          PORT=$2
          ;;
        --csv)
          [[ -f "$2" ]] || die "--csv: $2 is not a file"
          S2LAB_SWEEP_CSV="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
          export S2LAB_SWEEP_CSV
          ;;
      esac
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    --)
      shift
      ARGS+=("$@")
      break
      ;;
    *) die "unknown argument '$1' (jupyter's own flags go after --; see --help)" ;;
  esac
done

SETUP="run \`deno task notebooks:setup\` (or \`npx -y deno@2.9.6 task notebooks:setup\`) first"
if ! command -v jupyter >/dev/null 2>&1 || ! command -v jupyter-notebook >/dev/null 2>&1; then
  echo "error: Jupyter Notebook is not installed: $SETUP" >&2
  exit 1
fi
kernel=$(jupyter kernelspec list --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
spec = json.load(sys.stdin)["kernelspecs"].get("deno")
print(spec["spec"]["argv"][0] if spec else "")')
if [[ -z "$kernel" || ! -x "$kernel" ]]; then
  echo "error: the Deno kernel is ${kernel:+broken (it runs $kernel, which is gone)}${kernel:-not installed}: $SETUP" >&2
  exit 1
fi

# Jupyter refuses to run as root without --allow-root (containers, CI machines).
[[ $EUID -eq 0 ]] && ARGS=(--allow-root "${ARGS[@]}")
# PYDEVD_...: ipykernel's debugger warns about frozen modules at each start; noise here.
export DENO_NO_UPDATE_CHECK=1 PYDEVD_DISABLE_FILE_VALIDATION=1
echo "notebooks: $ROOT/notebooks, Deno kernel $kernel, CSV ${S2LAB_SWEEP_CSV:-results/sweep.csv}"
exec jupyter notebook --notebook-dir="$ROOT/notebooks" --ip="$IP" --port="$PORT" "${ARGS[@]}"
