#!/usr/bin/env bash
# bench/run.sh - builds the benchmarks (release, CG_BENCH=ON, in
# build/bench) and prints every table of docs/performance.md in one run:
#   1. bench_verify, single thread, pinned to CPU 1 (taskset -c 1);
#   2. bench_peers (cjose, libjwt, jose; when found), pinned the same way;
#   3. bench_verify --threads <nproc>, the full decision on all cores.
# Options are passed to both programs, e.g. bench/run.sh --seconds 2
# (see bench_verify --help); --cpu-time (time single-thread cells with the
# thread's CPU clock, for a busy machine) is not passed to the threads run.
# Benchmarks never gate: the numbers are printed, not judged.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir="$top/build/bench"
cpu=1

cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCG_BENCH=ON \
	-DCG_TESTS=OFF >/dev/null
cmake --build "$dir" --target bench_verify -j "$(nproc)" >/dev/null
peers=0
# bench/CMakeLists.txt defines bench_peers only when a peer was found.
if [ -d "$dir/bench/CMakeFiles/bench_peers.dir" ]; then
	cmake --build "$dir" --target bench_peers -j "$(nproc)" >/dev/null
	peers=1
fi

pin=()
if command -v taskset >/dev/null && taskset -c "$cpu" true 2>/dev/null; then
	pin=(taskset -c "$cpu")
else
	echo "note: taskset -c $cpu unavailable; single-thread runs are not pinned"
fi

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "nproc: $(nproc)"
echo "openssl: $(openssl version 2>/dev/null || echo unknown)"
echo "kernel: $(uname -sr)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pinned: ${pin[*]:-no}"
echo

echo "== bench_verify (single thread)"
"${pin[@]}" "$dir/bench/bench_verify" "$@"
echo
if [ "$peers" = 1 ]; then
	echo "== bench_peers (single thread)"
	"${pin[@]}" "$dir/bench/bench_peers" "$@"
	echo
else
	echo "== bench_peers: not built (no libcjose-dev, libjwt-dev, libjose-dev)"
	echo
fi
echo "== bench_verify --threads $(nproc) (all cores, not pinned, wall clock)"
targs=()
for a in "$@"; do
	[ "$a" = --cpu-time ] || targs+=("$a")
done
"$dir/bench/bench_verify" --threads "$(nproc)" "${targs[@]}"
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
