#!/usr/bin/env bash
# The README's two commands as on a fresh machine, phase by phase: a clean copy of this checkout (what
# git tracks, plus new files; no .venv, no node_modules, no built extension), a fresh HOME (empty pip and
# npm caches), Debian's default PATH with the system's python3; the machine's own settings otherwise.
#   bash bench/fresh_setup.sh                 # demo.sh, then test.sh's set-up with one test file
#   bash bench/fresh_setup.sh --all-tests     # test.sh with the whole suite
# Each script prints "== [N s] phase"; this prints them and the wall time of each command.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/fresh-setup.XXXXXX)
mkdir -p "$work/checkout" "$work/home"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -f "$f" ] && install -D -m "$(stat -c %a "$f")" "$f" "$work/checkout/$f"
done
tests=(tests/test_packaging.py)
[ "${1:-}" = --all-tests ] && tests=()
run() {
  local start=$SECONDS
  # The machine's settings (CA bundles, pip's index) stay; a newcomer's shell has no venv or PYTHONPATH.
  (cd "$work/checkout" && env -u VIRTUAL_ENV -u PYTHONPATH -u JUPYTER_MLOPS_HOME HOME="$work/home" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@") >"$work/log" 2>&1 || {
    tail -n 40 "$work/log"; exit 1; }
  grep -E '^== \[' "$work/log" | sed 's/^/    /'
  echo "  $* took $((SECONDS - start)) s"
}
echo "fresh checkout in $work/checkout"
run bash scripts/demo.sh
run bash scripts/test.sh "${tests[@]}" -p no:cacheprovider -q
rm -rf "$work"
