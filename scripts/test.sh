#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test:
#   1. the whole suite (unit, vectors, attack, interop, CLI integration)
#      under ASan + UBSan + LSan, built with -Werror;
#   2. the whole suite again on the release build, as users build it
#      (glibc's allocator reuses freed memory at once, which the
#      sanitizers' quarantine hides);
#   3. the unit tests again under valgrind memcheck (no errors, no leaks)
#      on the release build;
#   4. every libFuzzer target for 60 s, two at a time (fuzz/run.sh, clang,
#      ASan + UBSan): a crash, leak or broken invariant fails the command.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/scripts/install-deps.sh"

echo "== build (ASan + UBSan + LSan, -Werror)"
asan=$("$top/scripts/build.sh" asan)
echo "== tests under sanitizers"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd "$asan" && ctest --output-on-failure -j2)

unset ASAN_OPTIONS UBSAN_OPTIONS
echo "== build (release, -Werror) and the whole suite on it"
rel=$("$top/scripts/build.sh" release)
(cd "$rel" && ctest --output-on-failure -j2)

echo "== build (release, -Werror) and unit tests under valgrind memcheck"
vg=$("$top/scripts/build.sh" valgrind)
(cd "$vg" && ctest --output-on-failure -j2 -L unit)
echo "== hardening of the release binary"
"$top/scripts/check-hardening.sh" "$vg/claimgate"
echo "== brief fuzzing: every target 60 s, two at a time"
FUZZ_JOBS=2 "$top/fuzz/run.sh" 60
echo "== all tests passed"
