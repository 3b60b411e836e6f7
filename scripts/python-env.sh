# Sourced by scripts/demo.sh and scripts/test.sh: choose the Python to install into (a .venv when the
# system's Python is managed, PEP 668) and check that Node.js can build the JupyterLab extension.
# Sets PYTHON and defines phase, as_root, apt_install and die.

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
  echo "$0: $*" >&2
  exit 1
}

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  die "$PYTHON is $("$PYTHON" --version 2>&1); jupyter-mlops needs Python 3.10 or newer (set PYTHON=...)"
command -v npm >/dev/null ||
  die "npm not found: building the JupyterLab extension needs Node.js 20 or newer with npm"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' ||
  die "Node.js $(node --version) is too old: the extension builder (rspack) needs Node.js 20 or newer"

if "$PYTHON" - <<'PY'
import os, sys, sysconfig
managed = os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
sys.exit(0 if managed and sys.prefix == sys.base_prefix else 1)
PY
then
  phase "using the virtual environment .venv ($PYTHON is managed by the system)"
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
