#!/usr/bin/env bash
# Installs what claimgate needs to build and test, from Debian 12 packages.
# Safe to run again: apt-get skips what is already there.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config
  libssl-dev libjansson-dev libyaml-dev libmicrohttpd-dev
  libcurl4-openssl-dev libhiredis-dev libsodium-dev
  libcmocka-dev valgrind
  clang libclang-rt-14-dev
  python3 python3-jwt python3-cryptography
  nginx redis-server curl
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "claimgate: installing: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
