#!/usr/bin/env bash
# Configures and builds one flavour of claimgate.
#   scripts/build.sh release   -> build/release  (-Werror, hardened)
#   scripts/build.sh asan      -> build/asan     (-Werror, ASan+UBSan+LSan)
#   scripts/build.sh valgrind  -> build/valgrind (unit tests under memcheck)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
flavour=${1:-release}
dir="$top/build/$flavour"
case "$flavour" in
  release) extra=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan) extra=(-DCMAKE_BUILD_TYPE=Debug -DCG_SANITIZE=address,undefined) ;;
  valgrind) extra=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCG_VALGRIND=ON) ;;
  *) echo "usage: scripts/build.sh release|asan|valgrind" >&2; exit 2 ;;
esac
cmake -S "$top" -B "$dir" -G Ninja -DCG_WERROR=ON "${extra[@]}" >/dev/null
ninja -C "$dir" >/dev/null
echo "$dir"
