#!/bin/bash
# Issue 15 and 14 targets re-measured in one series, as the lead does on a quiet machine at the end of a
# stop (BENCHMARKS.md's "re-measured on a quiet machine" sections):
#   bash bench/measure_targets.sh [OUT_DIR]      # default /tmp/measure; about 12 minutes
# Start it after a few minutes with nothing else running and nothing deleted in /tmp (on this machine's
# ext4 a new file made within minutes of many deletions costs 0.3-3 ms: bench/bench_cleanup.py), and
# alternate with the previous tree (bench_paired_trees.py) before reading a change into the figures.
# The 1,000-step benches run first and keep their homes (deleted at the end), so that none of them pays
# for another bench's deleted files; the last one is run again after a deletion (`after-deletion`).
# Each bench's runner service is stopped before the next; all.txt holds every result with the load.
set -u
out=${1:-/tmp/measure}
cd "$(dirname "$0")/.." || exit 1
python -m compileall -q jupyter_mlops
rm -rf "$out" && mkdir -p "$out"
run() {
  local name=$1
  shift
  echo "== $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg): $*" | tee -a "$out/all.txt"
  "$@" > "$out/$name.txt" 2>&1
  tail -12 "$out/$name.txt" >> "$out/all.txt"
  pkill -f "runner_service --home /tmp/bench"
  sleep 1
}
for i in 1 2 3; do  # three invocations: one 1,000-step run moves with the machine more than a short one
  run "thousand$i" python bench/bench_user_side.py --repeat 3 --only thousand notebook --skip-kfp-local --keep-home
done
sed -n 's/^(kept \(.*\): delete it.*/\1/p' "$out"/thousand?.txt | xargs -r rm -rf  # the kept homes
run after-deletion python bench/bench_user_side.py --repeat 3 --only thousand notebook --skip-kfp-local
run user1 python bench/bench_user_side.py --repeat 9 --only trivial chains cached waiting
for i in 2 3 4 5 6; do
  run "user$i" python bench/bench_user_side.py --repeat 9 --only trivial chains cached --skip-kfp-local
done
run cells python bench/bench_user_side.py --repeat 9 --only cells --skip-kfp-local
run service python bench/bench_runner_service.py --repeat 7 --skip-kfp-local
run metrics python bench/bench_compile.py --only metrics --repeat 3
run cli python bench/bench_compile.py --repeat 5 --only cli
[ -d bench/kfp_ui_server/node_modules ] || npm ci --prefix bench/kfp_ui_server --no-audit --no-fund > /dev/null
run kfppages env PYTHONPATH="$PWD:$PWD/tests" python bench/bench_kfp.py --pages-only --repeat 21
run magics python bench/bench_magics.py
echo "done $(date +%T)" >> "$out/all.txt"
