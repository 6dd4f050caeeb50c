#!/usr/bin/env bash
# Set up the notebooks from nothing: `deno task notebooks:setup`, or on a fresh
# machine `npx -y deno@2.9.6 task notebooks:setup`.
#
#   1. Jupyter from Debian: jupyter-notebook (the front end), jupyter-nbconvert,
#      jupyter-client, python3-nbclient, python3-ipykernel; skipped when installed. Needs
#      root, or sudo, for apt-get; the rest runs as the user who will open the notebooks.
#   2. Deno 2.9.6 at a stable path, ${XDG_DATA_HOME:-~/.local/share}/s2lab/deno-2.9.6/deno:
#      a copy of the binary that `deno` (when it is 2.9.6) or `npx -y deno@2.9.6` runs.
#      npx's copy lives under ~/.npm/_npx/<hash>/, which npm may clean out or move, and the
#      kernelspec would then name a binary that is gone. The copy is per user, beside
#      Jupyter's per-user kernelspecs (~/.local/share/jupyter/kernels), so no root is needed
#      and each user's kernel names their own binary; the version is in the directory name,
#      so a new pin installs beside it. Skipped when the copy is there and is 2.9.6.
#   3. The Deno kernel (kernelspec "deno") with that binary: installed when missing or when
#      it names another binary, else left alone, so running this twice is fine.
#   4. Check: `jupyter kernelspec list` has deno, and it runs the stable binary.
# Each step prints how long it took.
#
#   --deno-dir DIR   where the deno copy goes (default above)
# An exported DENO_DIR (where Deno keeps its cache) is left as it is: the deno commands this
# script runs use it as any deno would.
# exit status: 0 set up (or already), 2 bad arguments, 1 (or apt-get's status) a step failed:
# the packages, no deno 2.9.6 to copy, the kernel install or its check
set -euo pipefail

DENO_VERSION=2.9.6
PACKAGES=(jupyter-notebook jupyter-nbconvert jupyter-client python3-nbclient python3-ipykernel)
# The directory of the stable copy (not DENO_DIR, which is Deno's own cache variable).
STABLE_DIR="${XDG_DATA_HOME:-$HOME/.local/share}/s2lab/deno-$DENO_VERSION"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --deno-dir)
      [[ $# -ge 2 && -n "$2" && "$2" != --* ]] || {
        echo "error: --deno-dir needs a directory" >&2
        exit 2
      }
      STABLE_DIR=$2
      shift 2
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "error: unknown argument '$1' (usage: setup.sh [--deno-dir DIR])" >&2
      exit 2
      ;;
  esac
done
mkdir -p "$STABLE_DIR"
STABLE_DIR=$(cd "$STABLE_DIR" && pwd)
DENO="$STABLE_DIR/deno"
export DENO_NO_UPDATE_CHECK=1

STEP_LABEL="notebooks setup"
# shellcheck source=../steps.sh
source "$(dirname "${BASH_SOURCE[0]}")/../steps.sh"

is_2_9_6() { "$1" --version 2>/dev/null | head -n 1 | grep -q "^deno $DENO_VERSION "; }

# The deno kernelspec as Jupyter sees it: "<argv[0]> <its directory>", empty when none.
kernel_deno() {
  jupyter kernelspec list --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
spec = json.load(sys.stdin)["kernelspecs"].get("deno")
print("%s\t%s" % (spec["spec"]["argv"][0], spec["resource_dir"]) if spec else "")'
}

step "jupyter (Debian packages)"
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "   installed already"
else
  SUDO=()
  if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || {
      echo "error: installing ${missing[*]} needs root: run as root or install them" >&2
      exit 1
    }
    SUDO=(sudo)
  fi
  echo "   apt-get install ${missing[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # No recommends: they add pandoc, ipywidgets and the like (about 60 more packages), which
  # neither the front end nor headless execution uses.
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
fi
echo "   jupyter-notebook $(dpkg-query -W -f='${Version}' jupyter-notebook)," \
  "jupyter-nbconvert $(dpkg-query -W -f='${Version}' jupyter-nbconvert)"

step "deno $DENO_VERSION at $DENO"
if [[ -x "$DENO" ]] && is_2_9_6 "$DENO"; then
  echo "   there already"
else
  src=""
  if command -v deno >/dev/null 2>&1 && is_2_9_6 deno; then
    src=$(deno eval 'console.log(Deno.execPath())')
  elif command -v npx >/dev/null 2>&1; then
    src=$(npx -y "deno@$DENO_VERSION" eval 'console.log(Deno.execPath())' | tail -n 1)
  fi
  [[ -n "$src" && -x "$src" ]] || {
    echo "error: no deno $DENO_VERSION to copy: install Node.js (npx) or put deno $DENO_VERSION on PATH" >&2
    exit 1
  }
  # A new file renamed over the old one: a kernel still running the old binary keeps it.
  cp "$src" "$DENO.tmp.$$"
  chmod 755 "$DENO.tmp.$$"
  mv -f "$DENO.tmp.$$" "$DENO"
  echo "   copied $src"
fi
is_2_9_6 "$DENO" || {
  echo "error: $DENO does not run as deno $DENO_VERSION" >&2
  exit 1
}

step "deno kernel"
# --force replaces an existing "deno" kernelspec; the unstable-feature warning is noise.
spec=$(kernel_deno)
if [[ "${spec%%$'\t'*}" == "$DENO" ]]; then
  echo "   installed already"
else
  [[ -n "$spec" ]] && echo "   replacing the kernelspec that runs ${spec%%$'\t'*}"
  "$DENO" jupyter --install --force 2>&1 | grep -v 'is unstable' || true
  spec=$(kernel_deno)
fi

step "check"
if [[ "${spec%%$'\t'*}" != "$DENO" ]]; then
  echo "error: jupyter kernelspec list: deno runs '${spec%%$'\t'*}', not $DENO" >&2
  exit 1
fi
echo "   jupyter kernelspec list: deno in ${spec#*$'\t'}, running $DENO"
step ""
echo "   notebooks setup: $(secs "$T_ALL") s in all; open them with: deno task notebooks:open"
