#!/usr/bin/env bash
# The main job: set up this checkout, then run the demo notebook's pipeline on the embedded local
# backend, following its steps and ending with the run's DAG, parameters, step results and metrics.
#   bash scripts/demo.sh                 # extra arguments go to `jupyter-mlops run`, e.g. -p lr=0.1
#   bash scripts/demo.sh --open          # then open the demo notebook in JupyterLab (the Pipelines
#                                        # sidebar lists the run; click it for its run view)
set -euo pipefail
cd "$(dirname "$0")/.."

open_lab=0
run_args=()
for arg in "$@"; do
  if [ "$arg" = --open ]; then open_lab=1; else run_args+=("$arg"); fi
done

# PYTHON and VENV (the checkout's .venv unless already in a virtual environment), phase, how_to_use.
. scripts/python-env.sh

phase "installing jupyter-mlops and JupyterLab (npm builds the JupyterLab extension)"
"$PYTHON" -m pip install --progress-bar off -q -e . "jupyterlab>=4.2,<5"

phase "running the demo pipeline (examples/demo.ipynb) on the local backend"
status=0
"$PYTHON" -m jupyter_mlops.cli run examples/demo.ipynb --wait ${run_args[@]+"${run_args[@]}"} || status=$?
phase "done"
how_to_use
if [ "$status" != 0 ] || [ "$open_lab" = 0 ]; then
  exit "$status"
fi

phase "opening examples/demo.ipynb in JupyterLab (Ctrl-C stops it)"
# JUPYTER_MLOPS_LAB_ARGS: extra JupyterLab options, e.g. --no-browser --port 8899 on a remote machine.
# shellcheck disable=SC2086
exec "$VENV/bin/jupyter" lab --ServerApp.root_dir="$PWD" examples/demo.ipynb ${JUPYTER_MLOPS_LAB_ARGS:-}
