#!/bin/sh
# Runs a Cirrus guest under QEMU's own Cirrus model and saves a screendump.
# usage: run_in_qemu.sh guest.bin out.ppm [seconds]
set -e
here=$(dirname "$0")
guest=$1; out=$2; secs=${3:-3}
tmp=$(mktemp -d)
nasm -f bin "$here/qemu_loader.asm" -o "$tmp/loader.bin"
cat "$tmp/loader.bin" "$guest" > "$tmp/disk.img"
truncate -s 1474560 "$tmp/disk.img"
mkfifo "$tmp/mon"
( sleep "$secs"; echo "screendump $out"; sleep 1; echo quit ) | \
  timeout 60 qemu-system-i386 -display none -vga cirrus -nic none -m 64 \
    -drive file="$tmp/disk.img",format=raw,if=floppy -boot a \
    -debugcon file:"$tmp/debug.txt" -monitor stdio >/dev/null 2>&1 || true
cat "$tmp/debug.txt"
rm -rf "$tmp"
