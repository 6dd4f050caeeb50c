#!/usr/bin/env bash
# CI for the notebooks (issue #5): install Jupyter from Debian and Deno's kernel, execute
# every notebooks/*.ipynb headless into a temporary directory (the committed notebooks are
# not touched), and fail when a cell errors or a cell tagged "plot" shows no image/svg+xml.
#
#   bash .ci/notebooks.sh            check (what .ci/run calls)
#   bash .ci/notebooks.sh --inplace  re-execute the committed notebooks in place, keeping
#                                    their outputs (after results/sweep.csv changes)
#   S2LAB_NOTEBOOKS_DIR=dir          run the notebooks of another directory (tests of this script)
#
# The notebooks read results/sweep.csv; when it is absent (a tree before the sweep was
# committed) a small grid is swept into the temporary directory and used instead, with a
# warning, so the notebooks still run end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)

export DENO_NO_UPDATE_CHECK=1
export PYDEVD_DISABLE_FILE_VALIDATION=1
NB_DIR="${S2LAB_NOTEBOOKS_DIR:-notebooks}"
INPLACE=0
[[ "${1:-}" == "--inplace" ]] && INPLACE=1

echo "== jupyter (Debian packages)"
if ! command -v jupyter-nbconvert >/dev/null 2>&1 || ! command -v jupyter-kernelspec >/dev/null 2>&1 ||
  ! /usr/bin/python3 -c "import nbclient, ipykernel" 2>/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq jupyter-nbconvert jupyter-client python3-nbclient python3-ipykernel >/dev/null
fi
jupyter nbconvert --version

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "== deno kernel"
# The kernel spec names the deno binary that installs it; npx's copy of 2.9.6 stays in the
# npm cache. A `deno` wrapper on PATH covers anything that calls plain `deno`.
if command -v deno >/dev/null 2>&1 && deno --version 2>/dev/null | grep -q "^deno 2\.9\.6 "; then
  DENO="$(command -v deno)"
else
  mkdir -p "$TMP/bin"
  printf '#!/usr/bin/env bash\nexec npx -y deno@2.9.6 "$@"\n' >"$TMP/bin/deno"
  chmod +x "$TMP/bin/deno"
  export PATH="$TMP/bin:$PATH"
  DENO="$(npx -y deno@2.9.6 eval 'console.log(Deno.execPath())' 2>/dev/null | tail -1)"
fi
"$DENO" --version | head -1
"$DENO" jupyter --install --force 2>&1 | grep -v 'unstable' || true
jupyter kernelspec list 2>/dev/null | grep '^ *deno ' >/dev/null || {
  echo "error: the Deno kernel did not install (jupyter kernelspec list has no deno)" >&2
  exit 1
}

if [[ ! -f results/sweep.csv ]]; then
  echo "WARNING: results/sweep.csv is missing: sweeping a small grid into $TMP for the notebooks" >&2
  "$DENO" task sweep --granule 4K,64K --l1-mem 4G,16G --vcpus 1,8 --alias 0,0.5 \
    --pages-per-context 32 --out "$TMP/sweep.csv" --quiet
  export S2LAB_SWEEP_CSV="$TMP/sweep.csv"
fi

# Check one executed notebook: no error output, every cell tagged "plot" shows an
# image/svg+xml, every cell that calls show() shows something. Exit 1 with one line per
# problem.
check_notebook() {
  "$DENO" eval --no-config '
const path = Deno.args[0];
const name = path.split("/").pop();
const nb = JSON.parse(Deno.readTextFileSync(path));
const problems = [];
let plots = 0;
nb.cells.forEach((c, i) => {
  if (c.cell_type !== "code") return;
  const outs = c.outputs ?? [];
  const src = Array.isArray(c.source) ? c.source.join("") : c.source;
  for (const o of outs) {
    if (o.output_type === "error") problems.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
  }
  if ((c.metadata?.tags ?? []).includes("plot")) {
    const svg = outs.map((o) => o.data?.["image/svg+xml"]).find((s) => s !== undefined);
    const text = Array.isArray(svg) ? svg.join("") : svg ?? "";
    if (!text.startsWith("<svg") || !text.trimEnd().endsWith("</svg>")) {
      problems.push(`cell ${i}: a plot cell shows no image/svg+xml`);
    } else plots++;
  } else if (/\bshow\(/.test(src) && outs.length === 0) {
    problems.push(`cell ${i}: shows nothing`);
  }
});
if (plots === 0) problems.push("no plot cell showed an SVG");
for (const p of problems) console.error(`${name} ${p}`);
console.log(`${name}: ${plots} SVG plot(s)${problems.length ? ", FAILED" : ", no errors"}`);
if (problems.length > 0) Deno.exit(1);
' "$1"
}

echo "== execute notebooks"
shopt -s nullglob
NOTEBOOKS=("$NB_DIR"/*.ipynb)
if [[ ${#NOTEBOOKS[@]} -eq 0 ]]; then
  echo "error: no notebooks in $NB_DIR/" >&2
  exit 1
fi
mkdir -p "$TMP/out"
FAILED=0
for nb in "${NOTEBOOKS[@]}"; do
  out="$TMP/out/$(basename "$nb")"
  # A cell that raises fails at once. A run whose check fails is retried (twice at most):
  # Deno 2.9's kernel can report a cell idle before its last output went out, and nbconvert
  # stops listening at idle (lib/plots/mod.ts show() makes this rare).
  for attempt in 1 2 3; do
    t0=$(date +%s)
    jupyter nbconvert --to notebook --execute --output-dir "$TMP/run" \
      --ExecutePreprocessor.timeout=300 --ExecutePreprocessor.kernel_name=deno \
      --ExecutePreprocessor.record_timing=False "$nb" \
      2>"$TMP/nbconvert.log" || { cat "$TMP/nbconvert.log" >&2; exit 1; }
    mv "$TMP/run/$(basename "$nb")" "$out"
    echo "$nb: executed in $(($(date +%s) - t0)) s (attempt $attempt)"
    if check_notebook "$out"; then
      [[ $INPLACE -eq 1 ]] && cp "$out" "$nb"
      continue 2
    fi
  done
  FAILED=1
done
if [[ $FAILED -ne 0 ]]; then
  echo "error: a notebook failed its check (above)" >&2
  exit 1
fi
[[ $INPLACE -eq 1 ]] && echo "re-executed in place: ${NOTEBOOKS[*]}"
echo "notebooks OK in $(($(date +%s) - START)) s"
