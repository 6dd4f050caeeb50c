#!/usr/bin/env bash
# CI for the notebooks: set them up as the README says
# (experiments/notebooks/setup.sh: Jupyter from Debian, Deno at a stable path, the kernel),
# check that `deno task notebooks:open` serves them and starts the Deno kernel, execute every
# notebooks/*.ipynb headless into a temporary directory (the committed notebooks are not
# touched), and fail when a cell errors, a cell tagged "plot" shows no image/svg+xml, a
# takeaway or a figure's subtitle contradicts its data, a line joins points of different
# configurations or a takeaway reads rows its figure did not draw
# (experiments/notebooks/check_facts.ts recomputes every number from its CSV, sharing no
# code with the notebooks), or a figure draws text over text
# (experiments/notebooks/check_text.ts measures the SVG's text boxes).
# Every notebook runs three times: with the committed results, with a CSV that has two
# values in every dimension (test/notebook_grid.ts, for the notebooks that read a sweep),
# and with a small alternative from another grid and trace (test/fixtures/notebooks/: `deno task sweep --grid
# notebook-ci`, `deno task timeline experiments/scenarios/tlbi-remap.json`), through the
# parameters cell's environment variables (S2LAB_SWEEP_CSV, S2LAB_WORKING_SET_CSV,
# S2LAB_TIMELINE; for 06-try-a-design S2LAB_DESIGN, a broken design in the alternative run).
#
# A notebook's outputs depend only on the CSVs it reads and the code that draws them: its
# header names the commit that made each CSV (from the CSV's timing file), never the
# checkout's. Each run on the committed results is normalized (execution counts numbered
# in order, no cell timing or view state, no kernel version) and must equal the committed
# notebook byte for byte: a difference fails the check, and `--inplace` commits it.
#
#   bash .ci/notebooks.sh            check (what .ci/run calls)
#   bash .ci/notebooks.sh --inplace  re-execute the committed notebooks in place, keeping
#                                    their outputs (after a CSV or the drawing code changed)
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

echo "== set-up (deno task notebooks:setup: Jupyter from Debian, Deno at a stable path, kernel)"
bash experiments/notebooks/setup.sh
jupyter nbconvert --version

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# The deno the kernel runs (the stable copy setup.sh made) runs the checks below too.
DENO="$(jupyter kernelspec list --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
spec = json.load(sys.stdin)["kernelspecs"].get("deno")
print(spec["spec"]["argv"][0] if spec else "")')"
[[ -n "$DENO" && -x "$DENO" ]] || {
  echo "error: the Deno kernel did not install (jupyter kernelspec list has no usable deno)" >&2
  exit 1
}
"$DENO" --version | head -1

echo "== open (deno task notebooks:open on localhost: the server lists the notebooks, starts Deno)"
# The script the README's open command runs, with --no-browser on a free loopback port and
# a token; checked through Jupyter's REST API, then stopped by its pid.
t0=$(date +%s)
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
bash experiments/notebooks/open.sh --no-browser --ip 127.0.0.1 --port "$PORT" -- \
  --NotebookApp.token="$TOKEN" --NotebookApp.port_retries=0 >"$TMP/open.log" 2>&1 &
OPEN_PID=$!
OPEN_OK=0
/usr/bin/python3 - "$PORT" "$TOKEN" "$DENO" "$NB_DIR" <<'EOF_PY' && OPEN_OK=1
import json, os, re, sys, time, urllib.request
port, token, deno, nb_dir = sys.argv[1:]
base = f"http://127.0.0.1:{port}/api"
def call(path, method="GET", body=None):
    req = urllib.request.Request(base + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read()
        return json.loads(text) if text else None
deadline = time.time() + 60
while True:
    try:
        specs = call("/kernelspecs")["kernelspecs"]
        break
    except OSError:
        if time.time() > deadline: sys.exit("error: notebooks:open: no server after 60 s")
        time.sleep(0.5)
if "deno" not in specs: sys.exit("error: notebooks:open: the server has no deno kernel")
argv0 = specs["deno"]["spec"]["argv"][0]
if argv0 != deno: sys.exit(f"error: notebooks:open: the deno kernel runs {argv0}, not {deno}")
listed = {c["name"] for c in call("/contents")["content"]}
if nb_dir == "notebooks":
    want = {f for f in os.listdir("notebooks") if f.endswith(".ipynb")}
    if not want <= listed: sys.exit(f"error: notebooks:open lists {sorted(listed)}, not {sorted(want)}")
# A kernel the server starts, and one cell run in it through its connection file.
from jupyter_client import BlockingKernelClient
from jupyter_core.paths import jupyter_runtime_dir
kernel = call("/kernels", "POST", {"name": "deno"})
result = None
try:
    kc = BlockingKernelClient(
        connection_file=os.path.join(jupyter_runtime_dir(), f"kernel-{kernel['id']}.json"))
    kc.load_connection_file()
    kc.start_channels(hb=False)  # the heartbeat check races the first beat (client 7.4)
    kc.wait_for_ready(timeout=60)
    msg_id = kc.execute("6 * 7")
    while result is None:
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_result":
            result = re.sub(r"\x1b\[[0-9;]*m", "", msg["content"]["data"].get("text/plain", ""))
    kc.stop_channels()
finally:
    call(f"/kernels/{kernel['id']}", "DELETE")
if result is None or "42" not in result:
    sys.exit(f"error: notebooks:open: the Deno kernel computed {result!r} for 6 * 7")
print(f"   server on 127.0.0.1:{port}: {len(listed)} notebooks listed; its Deno kernel ({argv0}) ran 6 * 7 = {result}")
EOF_PY
kill "$OPEN_PID" 2>/dev/null || true
wait "$OPEN_PID" 2>/dev/null || true
if [[ $OPEN_OK -ne 1 ]]; then
  echo "error: deno task notebooks:open failed its check; its log:" >&2
  cat "$TMP/open.log" >&2
  exit 1
fi
echo "   open check: $(($(date +%s) - t0)) s"

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

# Drop from an executed notebook what varies from run to run and not with its data: the
# kernel's version, cell timing and view state; number the executed cells 1, 2, ... in
# order (an interactive session counts on). Written as nbformat writes, so a notebook
# normalized twice is unchanged.
normalize_notebook() {
  /usr/bin/python3 - "$1" <<'EOF_PY'
import sys
import nbformat
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
nb.metadata = {k: v for k, v in nb.metadata.items() if k in ("kernelspec", "language_info")}
nb.metadata.get("language_info", {}).pop("version", None)
n = 0
for cell in nb.cells:
    cell.metadata = {k: v for k, v in cell.metadata.items() if k == "tags"}
    if cell.cell_type != "code":
        continue
    if cell.execution_count is not None:
        n += 1
        cell.execution_count = n
    for out in cell.outputs:
        if "execution_count" in out:
            out.execution_count = cell.execution_count
nbformat.write(nb, path)
EOF_PY
}

echo "== execute notebooks"
shopt -s nullglob
NOTEBOOKS=("$NB_DIR"/*.ipynb)
if [[ ${#NOTEBOOKS[@]} -eq 0 ]]; then
  echo "error: no notebooks in $NB_DIR/" >&2
  exit 1
fi
mkdir -p "$TMP/out" "$TMP/alt"
FAILED=0
DIFFERS=0
ALT_CSV=test/fixtures/notebooks/notebook-ci.csv
ALT_TIMELINE=test/fixtures/notebooks/tlbi-remap
MANY_CSV="$TMP/many-dimensions.csv"
[[ $INPLACE -eq 1 ]] || "$DENO" run --allow-read --allow-write test/notebook_grid.ts "$MANY_CSV"
# Execute one notebook into $2 with the environment given after it; check it (errors, SVGs,
# takeaways against their data). Retried: see below.
run_notebook() {
  local nb="$1" out="$2"
  shift 2
  # A cell that raises fails at once. A run whose check fails is retried (twice at most):
  # Deno 2.9's kernel can report a cell idle before its last output went out, and nbconvert
  # stops listening at idle (lib/plots/mod.ts show() makes this rare).
  for attempt in 1 2 3; do
    t0=$(date +%s)
    env "$@" jupyter nbconvert --to notebook --execute --output-dir "$TMP/run" \
      --ExecutePreprocessor.timeout=300 --ExecutePreprocessor.kernel_name=deno \
      --ExecutePreprocessor.record_timing=False "$nb" \
      2>"$TMP/nbconvert.log" || { cat "$TMP/nbconvert.log" >&2; exit 1; }
    mv "$TMP/run/$(basename "$nb")" "$out"
    echo "$nb ($*): executed in $(($(date +%s) - t0)) s (attempt $attempt)"
    if check_notebook "$out" && "$DENO" run --allow-read experiments/notebooks/check_facts.ts "$out" &&
      "$DENO" run --allow-read experiments/notebooks/check_text.ts "$out"; then
      return 0
    fi
  done
  return 1
}
for nb in "${NOTEBOOKS[@]}"; do
  out="$TMP/out/$(basename "$nb")"
  # The alternative run checks that nothing in the notebook depends on the committed data;
  # --inplace (refreshing the committed outputs) skips it.
  if [[ $INPLACE -eq 0 ]]; then
    run_notebook "$nb" "$TMP/alt/$(basename "$nb")" S2LAB_SWEEP_CSV="$ALT_CSV" \
      S2LAB_WORKING_SET_CSV="$ALT_CSV" S2LAB_TIMELINE="$ALT_TIMELINE" \
      S2LAB_DESIGN=test/fixtures/designs/one_alias.ts || FAILED=1
    # The many-dimension run: CI's grid plus a second value of every other dimension, the
    # seed and each cost-model constant (test/notebook_grid.ts). A figure must pin what it
    # does not show (each line one configuration) and its takeaway read only drawn rows.
    if grep -qE 'S2LAB_(SWEEP|WORKING_SET)_CSV' "$nb"; then
      mkdir -p "$TMP/many"
      run_notebook "$nb" "$TMP/many/$(basename "$nb")" S2LAB_SWEEP_CSV="$MANY_CSV" \
        S2LAB_WORKING_SET_CSV="$MANY_CSV" S2LAB_TIMELINE="$ALT_TIMELINE" || FAILED=1
    fi
    # The host-scale notebook also reads the scale grid (--grid scale): its largest vCPU
    # count and its largest working set are different points.
    if [[ "$(basename "$nb")" == 05-host-scale.ipynb && -f results/scale.csv ]]; then
      mkdir -p "$TMP/scale"
      run_notebook "$nb" "$TMP/scale/$(basename "$nb")" S2LAB_WORKING_SET_CSV=results/scale.csv \
        || FAILED=1
    fi
  fi
  if run_notebook "$nb" "$out" S2LAB_SWEEP_CSV="${S2LAB_SWEEP_CSV:-}" S2LAB_WORKING_SET_CSV= \
    S2LAB_TIMELINE= S2LAB_DESIGN= S2LAB_VERIFY_OUT=; then
    normalize_notebook "$out"
    if [[ $INPLACE -eq 1 ]]; then
      cp "$out" "$nb"
    elif [[ -n "${S2LAB_SWEEP_CSV:-}" ]]; then
      echo "   $nb: not compared (it ran on $S2LAB_SWEEP_CSV, not the committed results)"
    elif git diff --no-index --exit-code --stat -- "$nb" "$out"; then
      echo "   $nb: its re-execution is byte-identical"
    else
      git diff --no-index -- "$nb" "$out" | head -40 >&2 || true
      echo "error: $nb differs from its re-execution on the committed results" \
        "(bash .ci/notebooks.sh --inplace, then commit it)" >&2
      DIFFERS=1
    fi
  else
    FAILED=1
  fi
done
if [[ $FAILED -ne 0 ]]; then
  echo "error: a notebook failed its check (above)" >&2
  exit 1
fi
if [[ $DIFFERS -ne 0 ]]; then
  echo "error: a committed notebook is not what its data and code give (above)" >&2
  exit 1
fi
[[ $INPLACE -eq 1 ]] && echo "re-executed in place: ${NOTEBOOKS[*]}"
echo "notebooks OK in $(($(date +%s) - START)) s"
