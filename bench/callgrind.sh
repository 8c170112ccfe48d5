#!/usr/bin/env bash
# bench/callgrind.sh - instructions per operation (valgrind callgrind) for
# the cells of bench_verify, per algorithm: a count that does not move with
# the machine's load, to cross-check the ratios of bench/run.sh on a busy
# machine. Instructions are not time (an RSA bignum loop and a JSON parser
# retire instructions at different rates), and under valgrind OpenSSL
# cannot use the SHA extensions, so SHA-256 counts more than it costs.
#
# Usage: bench/callgrind.sh [ALG ...]      (default: RS256 ES256 EdDSA HS256)
# Needs build/bench from bench/run.sh (built here if missing) and valgrind.
set -euo pipefail
. "$(dirname "$0")/valgrind_common.sh"
[ $# -gt 0 ] || set -- RS256 ES256 EdDSA HS256

ops="bench_raw_best bench_raw_newcopy bench_raw_naive op_sodium op_cg_verify
op_cg_parse_verify op_cg_decide op_cg_decide_cached"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '| alg   |'
for op in $ops; do printf ' %s |' "$op"; done
printf '\n|-------|'
for op in $ops; do printf -- '---:|'; done
printf '\n'
for alg in "$@"; do
	toggles=()
	for op in $ops; do toggles+=("--toggle-collect=$op"); done
	valgrind --tool=callgrind --callgrind-out-file="$tmp/$alg.out" \
		"${toggles[@]}" "$bin" --alg "$alg" --seconds 0.2 --runs 1 \
		--warmup 0 >/dev/null 2>&1
	callgrind_annotate --tree=caller --inclusive=yes "$tmp/$alg.out" \
		>"$tmp/$alg.txt" 2>/dev/null
	printf '| %-5s |' "$alg"
	for op in $ops; do
		# Inclusive instructions of the calls made by the timing loop
		# (bench_run_once), divided by their number.
		awk -v op="$op" '
			/< \?\?\?:bench_run_once \(/ {
				ir = $1; gsub(",", "", ir)
				n = $0; sub(/.*bench_run_once \(/, "", n)
				sub(/x\).*/, "", n); gsub(",", "", n)
				pend_ir = ir; pend_n = n; next
			}
			/\*  \?\?\?:/ {
				if ($0 ~ ("\\?\\?\\?:" op " ") && pend_n > 0) {
					printf(" %d |", pend_ir / pend_n)
					found = 1
				}
				pend_n = 0; next
			}
			/^$/ { pend_n = 0 }
			END { if (!found) printf(" - |") }
		' "$tmp/$alg.txt"
	done
	printf '\n'
done
