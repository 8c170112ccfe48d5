#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, ASan and UBSan into build/fuzz
# (or $FUZZ_BUILD_DIR) and runs each one for SECONDS (default 60) on its
# committed corpus.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#       targets: b64url json token jwks policy route fetch (default: all)
#
# New inputs go to <build>/scratch/<target>/ (the first corpus folder
# libFuzzer is given), never to fuzz/corpus/; crashes go to
# <build>/artifacts/<target>/. Logs: <build>/logs/<target>.log.
# Prints one line per target: run length, executions, execs/s, coverage
# (the `cov:` and `ft:` of libFuzzer's last status line), corpus size.
# Exits 1 when a target crashed, leaked, timed out or broke an invariant.
#
# Environment: FUZZ_BUILD_DIR the build folder (default build/fuzz; a
# relative path is taken from the top of the source tree), FUZZ_JOBS=N
# runs N targets at once (default 1), FUZZ_NICE (default 10) is their
# nice level, FUZZ_FLAGS extra libFuzzer flags (e.g. "-fork=1
# -ignore_ooms=1" to keep going past a known out-of-memory input),
# FUZZ_FLAGS_<target> extra flags for one target only, CC the compiler
# (default clang).
# Needs clang and Debian's libclang-rt-14-dev (libFuzzer and the
# sanitizer runtimes).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(b64url json token jwks policy route fetch)
case $secs in '' | *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS] [TARGET...]" >&2; exit 2 ;; esac
jobs=${FUZZ_JOBS:-1}
nicelvl=${FUZZ_NICE:-10}
bdir=${FUZZ_BUILD_DIR:-build/fuzz}
case $bdir in /*) ;; *) bdir=$top/$bdir ;; esac

# Largest input per target: a few times the biggest real one.
max_len() {
  case $1 in
    b64url) echo 1024 ;;
    json) echo 4096 ;;   # real headers and claims sets are well under 1 KiB
    token) echo 4096 ;;  # real tokens are < 2 KiB; the 8 KiB cap is tested by seeds
    jwks) echo 16384 ;;
    policy) echo 8192 ;;
    route) echo 8192 ;;
    fetch) echo 8192 ;;  # headers, a discovery document and a JWK Set: each ~1-3 KiB
    *) echo 4096 ;;
  esac
}

echo "== building libFuzzer targets (clang, ASan+UBSan) in ${bdir#"$top"/}"
cmake -S "$top" -B "$bdir" -G Ninja -DCMAKE_C_COMPILER="${CC:-clang}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCG_FUZZ=ON -DCG_TESTS=OFF \
  -DCG_SANITIZE=address,undefined >/dev/null
ninja -C "$bdir" "${targets[@]/#/fuzz_}" >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
  local t=$1 scratch=$bdir/scratch/$1 art=$bdir/artifacts/$1/ log=$bdir/logs/$1.log
  local dict=() rc=0 own="FUZZ_FLAGS_$1"
  mkdir -p "$scratch" "$art" "$bdir/logs"
  [ -f "$top/fuzz/$t.dict" ] && dict=(-dict="$top/fuzz/$t.dict")
  # shellcheck disable=SC2086 # FUZZ_FLAGS* are lists of flags
  nice -n "$nicelvl" "$bdir/fuzz/fuzz_$t" -max_total_time="$secs" \
    -max_len="$(max_len "$t")" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$art" "${dict[@]}" \
    ${FUZZ_FLAGS:-} ${!own:-} "$scratch" "$top/fuzz/corpus/$t" </dev/null >"$log" 2>&1 || rc=$?
  echo "$rc" >"$log.rc"
}

summary() {
  local t=$1 log=$bdir/logs/$1.log rc last execs eps cov ft corp
  rc=$(cat "$log.rc")
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ -z "$execs" ]; then # fork mode prints no stat:: lines
    execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
    [ -n "$execs" ] && eps=$((execs / secs))
  fi
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\(\/[0-9a-zA-Z]*\)\{0,1\}.*/\1\2/p' <<<"$last")
  printf '%-7s %5ss  execs %-10s execs/s %-7s cov %-6s ft %-6s corpus %-14s %s\n' \
    "$t" "$secs" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" \
    "$([ "$rc" = 0 ] && echo ok || echo "FAILED (exit $rc, see ${log#"$top"/})")"
  [ "$rc" = 0 ]
}

echo "== fuzzing ${targets[*]} for ${secs}s each (${jobs} at a time)"
pids=()
for t in "${targets[@]}"; do
  [ -x "$bdir/fuzz/fuzz_$t" ] || { echo "no target fuzz_$t" >&2; exit 2; }
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}"
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p"; done

status=0
failed=()
for t in "${targets[@]}"; do
  summary "$t" || { status=1; failed+=("$t"); }
done
for t in "${failed[@]}"; do
  echo "== $t: $(grep -m1 -E 'ERROR: |invariant broken|runtime error' "$bdir/logs/$t.log" || echo 'see log')"
  grep -E '^artifact_prefix|Test unit written to' "$bdir/logs/$t.log" | sed "s|$top/||" || true
done
exit $status
