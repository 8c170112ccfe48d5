#!/usr/bin/env bash
# bench/footprint.sh - the code one operation runs, in 64-byte cache lines:
# the distinct instruction addresses callgrind records while one path of
# bench_verify loops (BENCH_PROFILE), grouped by shared object. When the
# lines of a decision and of the signature code it calls add up to more
# than the instruction cache (32 KiB here: 512 lines), every decision
# finds part of its code evicted by the verify before it. Every iteration
# of the loop runs the same token, so the lines are those of one call.
#
# Usage: bench/footprint.sh [ALG ...]      (default: RS256 ES256 EdDSA HS256)
# Needs build/bench from bench/run.sh (built here if missing), valgrind and
# python3. Prints a Markdown table; never gates anything.
set -euo pipefail
. "$(dirname "$0")/valgrind_common.sh"
[ $# -gt 0 ] || set -- RS256 ES256 EdDSA HS256
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Cost lines of an uncompressed callgrind file are "0xADDR LINE COUNT";
# the one after "calls=" is a call site's inclusive cost, not an
# instruction of the current function, and is skipped.
count() {
	python3 - "$1" <<'PY'
import collections, sys
obj, skip = "?", False
lines = collections.defaultdict(set)
with open(sys.argv[1]) as f:
    for l in f:
        if l.startswith("ob="):
            obj = l[3:].strip().rsplit("/", 1)[-1]
        elif l.startswith("calls="):
            skip = True
        elif l.startswith("0x"):
            if not skip:
                lines[obj].add(int(l.split()[0], 16) >> 6)
            skip = False
mine = sum(len(s) for o, s in lines.items() if o == "bench_verify")
crypto = sum(len(s) for o, s in lines.items()
             if o.startswith(("libcrypto", "libsodium")))
libc = sum(len(s) for o, s in lines.items() if o.startswith("libc."))
total = sum(len(s) for s in lines.values())
print(f"{mine} | {crypto} | {libc} | {total} ({total / 16:.1f} KiB)")
PY
}

echo "| alg | path | claimgate + bench | libcrypto, libsodium | libc | all lines |"
echo "|---|---|---:|---:|---:|---:|"
for alg in "$@"; do
	for path in raw parse decide; do
		case $path in
		raw) op=bench_raw_best ;;
		parse) op=op_cg_parse_verify ;;
		decide) op=op_cg_decide ;;
		esac
		out="$tmp/$alg.$path.out"
		BENCH_PROFILE=$path valgrind --tool=callgrind --dump-instr=yes \
			--compress-pos=no --compress-strings=no \
			--callgrind-out-file="$out" --toggle-collect="$op" \
			"$bin" --alg "$alg" --seconds 0.05 >/dev/null 2>&1
		echo "| $alg | $path | $(count "$out") |"
	done
done
