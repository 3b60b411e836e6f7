# Sourced by scripts/demo.sh and scripts/test.sh: choose the Python to install into and check that
# Node.js can build the JupyterLab extension.
#
# Whatever python3 is (Debian's, pyenv's, a conda base), the scripts install into the checkout's own
# .venv, made with that python3, so nothing outside the checkout changes; only a Python that already
# runs in a virtual environment (an activated venv, or PYTHON=/path/to/venv/bin/python) is used as it is.
# Sets PYTHON and VENV (the environment installed into) and defines phase, as_root, apt_install, die
# and how_to_use.

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
  # Only what the package needs: recommends would pull in desktop services (systemd, avahi, cups helpers).
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}
die() {
  echo "$0: $*" >&2
  exit 1
}

PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null ||
  die "$PYTHON not found: install Python 3.10 or newer (Debian/Ubuntu: sudo apt-get install --no-install-recommends python3 python3-venv), or set PYTHON=..."
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  die "$PYTHON is $("$PYTHON" --version 2>&1); jupyter-mlops needs Python 3.10 or newer (set PYTHON=...)"
command -v npm >/dev/null ||
  die "npm not found: building the JupyterLab extension needs Node.js 20 or newer with npm"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' ||
  die "Node.js $(node --version) is too old: the extension builder (rspack) needs Node.js 20 or newer"

if "$PYTHON" -c 'import sys; sys.exit(0 if sys.prefix != sys.base_prefix else 1)'; then
  VENV=$("$PYTHON" -c 'import sys; print(sys.prefix)')
  phase "installing into the virtual environment $VENV ($PYTHON runs in it)"
else
  VENV=$PWD/.venv
  phase "using the virtual environment .venv, made with $(command -v "$PYTHON") ($("$PYTHON" --version 2>&1))"
  if [ ! -x .venv/bin/python ]; then
    # Debian and Ubuntu ship venv's pip (ensurepip) in a package of its own.
    "$PYTHON" -m venv .venv 2>/dev/null || {
      rm -rf .venv
      apt_install python3-venv
      "$PYTHON" -m venv .venv
    }
  fi
  PYTHON=$VENV/bin/python
  export PATH="$VENV/bin:$PATH"
fi

# How to use what the script set up; printed at the end of each script.
how_to_use() {
  local bin=$VENV/bin
  echo
  echo "jupyter-mlops is installed in $VENV. To use it:"
  if [ "$VENV" = "$PWD/.venv" ]; then
    echo "  source .venv/bin/activate                  # then jupyter-mlops, jupyter lab, python"
    bin=.venv/bin
  fi
  echo "  $bin/jupyter lab examples/quickstart.ipynb   # JupyterLab with the Pipelines sidebar"
  echo "  $bin/jupyter-mlops runs                       # the runs so far; also: show, compile, run, status, logs"
  echo "  bash scripts/demo.sh --open                      # the demo notebook in JupyterLab"
}
