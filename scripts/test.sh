#!/usr/bin/env bash
# Set up this checkout on a fresh Debian/Ubuntu machine (Python 3.10+, Node.js 20) and run every test.
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh tests/server    # extra arguments go to pytest
# Installs Chromium with apt when /usr/bin/chromium is missing (sudo when not root), then
# `pip install -e ".[test]"` (which builds the JupyterLab extension with npm), then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

phase() {
  echo "== [${SECONDS} s] $1"
}
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    as_root apt-get update -q
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}
die() {
  echo "scripts/test.sh: $*" >&2
  exit 1
}

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  die "$PYTHON is $("$PYTHON" --version 2>&1); jupyter-mlops needs Python 3.10 or newer (set PYTHON=...)"
command -v npm >/dev/null ||
  die "npm not found: building the JupyterLab extension needs Node.js 20 or newer with npm"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' ||
  die "Node.js $(node --version) is too old: the extension builder (rspack) needs Node.js 20 or newer"

if [ ! -x /usr/bin/chromium ]; then
  phase "installing Chromium for the browser tests"
  apt_install chromium
  [ -x /usr/bin/chromium ] || die "apt installed no /usr/bin/chromium (Debian's chromium package provides it)"
fi

# Debian's and Ubuntu's own Python refuses pip installs outside a virtual environment (PEP 668):
# there, the tests run from a virtual environment in .venv.
if "$PYTHON" - <<'PY'
import os, sys, sysconfig
managed = os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
sys.exit(0 if managed and sys.prefix == sys.base_prefix else 1)
PY
then
  phase "creating the virtual environment .venv ($PYTHON is managed by the system)"
  if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv 2>/dev/null || {
      rm -rf .venv
      apt_install python3-venv
      "$PYTHON" -m venv .venv
    }
  fi
  PYTHON=$PWD/.venv/bin/python
  export PATH="$PWD/.venv/bin:$PATH"
elif ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
  apt_install python3-pip
fi

phase "installing jupyter-mlops with its test dependencies (npm builds the JupyterLab extension)"
"$PYTHON" -m pip install --progress-bar off -e ".[test]"

phase "running the tests"
set +e
"$PYTHON" -m pytest --timeout=1800 "$@"
status=$?
set -e
phase "done, pytest exit code $status"
if [ "$status" = 5 ]; then
  echo "scripts/test.sh: pytest collected no tests" >&2
fi
exit "$status"
