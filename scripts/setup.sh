#!/usr/bin/env bash
# Installs rrvm's build and test dependencies on Debian 12 (idempotent) and
# builds rrvm into build/ (and build-asan/ with RRVM_SANITIZE=ON when asked).
# Usage: scripts/setup.sh [--asan]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake nasm pkg-config
  libunicorn-dev capnproto libcapnp-dev liblz4-dev libcli11-dev
  libgtest-dev libpng-dev libisal-dev libssl-dev libboost-context-dev libfmt-dev libcapstone-dev python3 python3-pil
  qemu-system-x86 seabios gdb clang libclang-rt-14-dev liblzma-dev zlib1g-dev busybox-static)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

JOBS=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS"
if [ "${1:-}" = "--asan" ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRRVM_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$JOBS"
fi
