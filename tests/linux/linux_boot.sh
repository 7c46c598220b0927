#!/usr/bin/env bash
# Debian's kernel on rrvm's kvm backend with the initramfs rrvm's build
# makes (guests/linux): recorded to its power-off through the debug-exit
# port, every marker of its /init on the serial console with the serial
# input line echoed back, then replayed on kvm with no divergence: its first
# RRVM_LINUX_REPLAY_UNTIL events (default 3000), or with 0 the whole trace
# and the replay's end checks (serial output, registers, RAM SHA-256).
# Usage: linux_boot.sh RRVM INITRAMFS SERIAL_INPUT [KERNEL]
#   KERNEL: default $RRVM_LINUX_KERNEL, else the nested harness's vmlinux in
#   the checkout's .cache/nested (run_nested.sh passes no RRVM_NESTED_*
#   variable inside, so a cache elsewhere is named by RRVM_LINUX_KERNEL).
#   RRVM_LINUX_APPEND replaces the command line.
set -u
rrvm=$1 initramfs=$2 input=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kernel=${4:-${RRVM_LINUX_KERNEL:-$here/../../.cache/nested/kernel/vmlinux}}
append=${RRVM_LINUX_APPEND:-"console=ttyS0 mitigations=off quiet"}
# RRVM_LINUX_KEEP=DIR keeps the trace and the serial output there.
if [ -n "${RRVM_LINUX_KEEP:-}" ]; then
  out=$RRVM_LINUX_KEEP
  mkdir -p "$out" || exit 1
else
  out=$(mktemp -d "${TMPDIR:-/tmp}/rrvm-linux.XXXXXX") || exit 1
  trap 'rm -rf "$out"' EXIT
fi
fail() { echo "linux_boot: FAIL: $*"; echo "--- serial output:"; cat "$out/serial.txt" 2>/dev/null | tail -40; exit 1; }

start=$(date +%s)
"$rrvm" record --backend kvm --keyframe-ms 0 -o "$out/linux.rrt" --kernel "$kernel" --initrd "$initramfs" \
  --append "$append" --serial-in "$input" --serial-out "$out/serial.txt" 2>"$out/record.err"
status=$?
cat "$out/record.err"
echo "linux_boot: record ended with status $status after $(( $(date +%s) - start )) s"
[ "$status" = 1 ] || fail "record: status $status, want 1 (the debug-exit port's 0)"
for marker in "rrvm-linux: init started" "rrvm-linux: slept 1 s" \
              "rrvm-linux: serial line: rrvm-input: hello from the host" \
              "rrvm-linux: wrote to the display" "rrvm-linux: done, powering off"; do
  grep -qF "$marker" "$out/serial.txt" || fail "no '$marker' on the serial console"
done
"$rrvm" info "$out/linux.rrt" | grep -E "^(events|exits|file size|guest duration)"

# Every TSC read of the kernel is patched into an exit and recorded
# (vmm/tsc_sites.h), so the replay must be exact. A whole boot's replay on
# kvm does not finish in the harness (its kick points inside guest
# execution are found by breakpoint stops: ~13 events/s nested), so by
# default the first RRVM_LINUX_REPLAY_UNTIL events (3000; the unpatched
# kernel diverged by event 299 or 1,027) are replayed, with no divergence;
# RRVM_LINUX_REPLAY_UNTIL=0 replays the whole trace and checks its end.
until=${RRVM_LINUX_REPLAY_UNTIL:-3000}
until_args=()
[ "$until" != 0 ] && until_args=(--until "$until")
start=$(date +%s)
"$rrvm" replay --backend kvm -q "${until_args[@]}" "$out/linux.rrt" >/dev/null 2>"$out/replay.err"
status=$?
echo "linux_boot: replay ended with status $status after $(( $(date +%s) - start )) s"
grep -v "^replay \[" "$out/replay.err" | head -6
[ "$status" = 0 ] || fail "replay on kvm: status $status, want 0 (no divergence)"
if [ "$until" != 0 ]; then
  grep -q "stopped at event $until as asked" "$out/replay.err" || fail "replay did not reach event $until"
  echo "linux_boot: ok (the first $until events replayed exactly on kvm)"
else
  grep -q "replayed [0-9]* events exactly" "$out/replay.err" || fail "replay: no exact end"
  echo "linux_boot: ok (replay bit-exact)"
fi
