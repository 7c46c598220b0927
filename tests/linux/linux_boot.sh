#!/usr/bin/env bash
# Debian's kernel on rrvm's kvm backend with the initramfs rrvm's build
# makes (guests/linux): recorded to its power-off through the debug-exit
# port, every marker of its /init on the serial console with the serial
# input line echoed back, then replayed on kvm, whose own end checks
# (serial output, registers, RAM SHA-256) must pass.
# Usage: linux_boot.sh RRVM INITRAMFS SERIAL_INPUT [KERNEL]
#   KERNEL: default the nested harness's vmlinux ($RRVM_NESTED_CACHE, else
#   the checkout's .cache/nested).
set -u
rrvm=$1 initramfs=$2 input=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kernel=${4:-${RRVM_NESTED_CACHE:-$here/../../.cache/nested}/kernel/vmlinux}
append=${RRVM_LINUX_APPEND:-"console=ttyS0 mitigations=off quiet"}
out=$(mktemp -d "${TMPDIR:-/tmp}/rrvm-linux.XXXXXX") || exit 1
trap 'rm -rf "$out"' EXIT
fail() { echo "linux_boot: FAIL: $*"; echo "--- serial output:"; cat "$out/serial.txt" 2>/dev/null | tail -40; exit 1; }

start=$(date +%s)
"$rrvm" record --backend kvm --keyframe-ms 0 -o "$out/linux.rrt" --kernel "$kernel" --initrd "$initramfs" \
  --append "$append" --serial-in "$input" --serial-out "$out/serial.txt"
status=$?
echo "linux_boot: record ended with status $status after $(( $(date +%s) - start )) s"
[ "$status" = 1 ] || fail "record: status $status, want 1 (the debug-exit port's 0)"
for marker in "rrvm-linux: init started" "rrvm-linux: slept 1 s" \
              "rrvm-linux: serial line: rrvm-input: hello from the host" \
              "rrvm-linux: wrote to the display" "rrvm-linux: done, powering off"; do
  grep -qF "$marker" "$out/serial.txt" || fail "no '$marker' on the serial console"
done
"$rrvm" info "$out/linux.rrt" | grep -E "^(events|exits|file size|guest duration)"

start=$(date +%s)
"$rrvm" replay --backend kvm -q --serial-out /dev/null "$out/linux.rrt" 2>&1 | tail -5
status=${PIPESTATUS[0]}
echo "linux_boot: replay ended with status $status after $(( $(date +%s) - start )) s"
[ "$status" = 0 ] || fail "replay on kvm: status $status, want 0 (bit-exact)"
echo "linux_boot: ok"
