# bench/valgrind_common.sh - sourced by callgrind.sh and footprint.sh: sets
# top, dir (build/bench) and bin (its bench_verify), builds bench_verify
# when it is missing, and stops when valgrind is not installed.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir="$top/build/bench"
bin="$dir/bench/bench_verify"
if [ ! -x "$bin" ]; then
	cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCG_BENCH=ON \
		-DCG_TESTS=OFF >/dev/null
	cmake --build "$dir" --target bench_verify -j "$(nproc)" >/dev/null
fi
command -v valgrind >/dev/null || { echo "valgrind not found" >&2; exit 2; }
