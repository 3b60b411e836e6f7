#!/usr/bin/env bash
# Set up this checkout on a fresh Debian/Ubuntu machine (Python 3.10+, Node.js 20) and run every test.
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh tests/server    # extra arguments go to pytest
# Makes the checkout's .venv with python3 (unless already in a virtual environment), installs Chromium
# with apt when /usr/bin/chromium is missing (sudo when not root, no recommends), then
# `pip install -e ".[test]"` (which builds the JupyterLab extension with npm), then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# PYTHON and VENV (the checkout's .venv unless already in a virtual environment), phase, apt_install,
# die, how_to_use.
. scripts/python-env.sh

if [ ! -x /usr/bin/chromium ]; then
  phase "installing Chromium for the browser tests"
  apt_install chromium
  [ -x /usr/bin/chromium ] || die "apt installed no /usr/bin/chromium (Debian's chromium package provides it)"
fi

phase "installing jupyter-mlops with its test dependencies (npm builds the JupyterLab extension)"
"$PYTHON" -m pip install --progress-bar off -e ".[test]"

phase "running the tests"
set +e
"$PYTHON" -m pytest --timeout=1800 "$@"
status=$?
set -e
phase "done, pytest exit code $status"
how_to_use
if [ "$status" = 5 ]; then
  echo "scripts/test.sh: pytest collected no tests" >&2
fi
exit "$status"
