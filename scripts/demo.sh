#!/usr/bin/env bash
# The main job: set up this checkout, then run the demo notebook's pipeline on the embedded local
# backend, following its steps and ending with the run's DAG and metrics.
#   bash scripts/demo.sh                 # extra arguments go to `jupyter-mlops run`, e.g. -p lr=0.1
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/python-env.sh

phase "installing jupyter-mlops (npm builds the JupyterLab extension)"
"$PYTHON" -m pip install --progress-bar off -q -e .

phase "running the demo pipeline (examples/demo.ipynb) on the local backend"
"$PYTHON" -m jupyter_mlops.cli run examples/demo.ipynb --wait "$@"
