#!/usr/bin/env bash
# Gets what run_nested.sh boots, idempotently, into the cache folder
# (RRVM_NESTED_CACHE, default <repo>/.cache/nested, git-ignored):
#   kernel/vmlinux, kernel/version, kernel/modules/  Debian's stock kernel
#       (the ELF unpacked from vmlinuz: QEMU boots it via PVH, no in-guest xz) and
#       the modules the harness loads (kvm_amd, virtio 9p) with their
#       dependencies, taken from `apt-get download linux-image-<ver>-amd64`
#       (~70 MB, downloaded once; the unpacked rest is thrown away)
#   initramfs.cpio  our static /init (init.c) and those modules
# Also installs qemu-system-x86 when qemu-system-x86_64 is missing.
# Safe to run concurrently (a lock serialises it); a warm cache costs well under a second.
# Usage: prepare.sh [-q]   (-q: say nothing when there is nothing to do)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${RRVM_NESTED_CACHE:-$repo/.cache/nested}
# Modules the guest needs beyond the built-in ones; dependencies are added.
WANTED_MODULES=(kvm_amd 9p 9pnet_virtio virtio_pci)

say() { echo "nested: $*" >&2; }
die() { echo "nested: prepare failed: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "'$*' needs root (run once as root, or install sudo)"
  fi
}

apt_updated=0
apt_update() {
  ((apt_updated)) && return 0
  say "apt-get update"
  as_root apt-get update -qq >&2 || die "apt-get update failed: is the Debian mirror reachable?"
  apt_updated=1
}

for tool in gcc python3 dpkg-deb apt-get flock sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install build-essential python3)"
done

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

if ! command -v qemu-system-x86_64 >/dev/null; then
  apt_update
  say "installing qemu-system-x86"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    qemu-system-x86 >&2 || die "apt-get install qemu-system-x86 failed"
fi

kernel_version() {
  # The metapackage depends on exactly one versioned image package.
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

fetch_kernel() {
  local package
  package=$(kernel_version)
  if [ -z "$package" ]; then
    apt_update
    package=$(kernel_version)
    [ -n "$package" ] || die "apt-cache knows no linux-image-amd64 (is this Debian amd64?)"
  fi
  local work="$cache/download"
  rm -rf "$work"
  mkdir -p "$work"
  say "downloading $package (~70 MB, once)"
  # apt-get download works unprivileged; stale package lists need one update.
  if ! (cd "$work" && apt-get download -qq "$package" >&2 2>/dev/null); then
    apt_update
    package=$(kernel_version)
    (cd "$work" && apt-get download -qq "$package" >&2) || die "apt-get download $package failed"
  fi
  dpkg-deb -x "$work"/"$package"_*.deb "$work/tree"
  local version=${package#linux-image-}
  local tree="$work/tree/lib/modules/$version"
  [ -d "$tree" ] || die "$package holds no lib/modules/$version"
  rm -rf "$cache/kernel.new"
  mkdir -p "$cache/kernel.new"
  python3 "$here/initramfs.py" modules "$tree" "$cache/kernel.new/modules" "${WANTED_MODULES[@]}"
  python3 "$here/initramfs.py" vmlinux "$work/tree/boot/vmlinuz-$version" "$cache/kernel.new/vmlinux"
  echo "$version" >"$cache/kernel.new/version"
  echo "${WANTED_MODULES[*]}" >"$cache/kernel.new/wanted"
  rm -rf "$cache/kernel" "$work"
  mv "$cache/kernel.new" "$cache/kernel"
  say "kernel $version ready (modules: $(cut -d' ' -f2 "$cache/kernel/modules/order" | paste -sd' '))"
}

if [ ! -f "$cache/kernel/vmlinux" ] || [ ! -f "$cache/kernel/modules/order" ] ||
   [ "$(cat "$cache/kernel/wanted" 2>/dev/null)" != "${WANTED_MODULES[*]}" ]; then
  fetch_kernel
fi

# Rebuild the initramfs when init.c, the packer or the kernel changed.
stamp=$(cat "$here/init.c" "$here/initramfs.py" "$cache/kernel/version" "$cache/kernel/modules/order" |
        sha256sum | cut -d' ' -f1)
if [ "$(cat "$cache/initramfs.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -f "$cache/initramfs.cpio" ]; then
  gcc -static -O2 -Wall -Wextra -Werror -o "$cache/init" "$here/init.c" ||
    die "building the static init failed (is libc6-dev installed?)"
  python3 "$here/initramfs.py" cpio "$cache/initramfs.cpio" "$cache/init" "$cache/kernel/modules"
  echo "$stamp" >"$cache/initramfs.stamp"
  say "initramfs built ($(du -k "$cache/initramfs.cpio" | cut -f1) KiB)"
elif [ "${1:-}" != "-q" ]; then
  say "ready (kernel $(cat "$cache/kernel/version"), cache $cache)"
fi
