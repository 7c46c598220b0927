#!/usr/bin/env bash
# rrvm's own guests booted by real firmware on kvm: SeaBIOS loads each from a
# 1.44 MB floppy (the boot stub, guests/include/boot.inc), rrvm records the
# boot on kvm and replays it on kvm (echo also on emu: emu replays take
# 25-50 s nested), exactly (`replayed N events exactly`, status 0, the
# recorded COM1 output). The timer guest's ticks land while it computes
# (points found by breakpoint on kvm); echo reads COM1 input; cirrus-blt
# drives the Cirrus blitter. Runs nested (kvm_firmware_guests).
# Usage: firmware_kvm_guests_test.sh RRVM GUEST_DIR EXPECTED_DIR
set -u
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
RRVM=$1 GUESTS=$2 EXPECTED=$3
require_seabios
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# pair NAME INPUT BACKEND...: record on kvm, replay on each BACKEND.
pair() {
  local name=$1 in=$2 s; shift 2
  timeout 120 "$RRVM" record --backend kvm -o "$T/$name.rrt" --floppy "$GUESTS/$name.bin" --serial-in "$in" \
    >"$T/$name.rec.out" 2>"$T/$name.rec.err"
  s=$?
  check "$name: recorded on kvm with an odd guest status ($s)" [ $((s % 2)) = 1 ]
  for b in "$@"; do
    timeout 120 "$RRVM" replay --backend "$b" "$T/$name.rrt" >"$T/$name.$b.out" 2>"$T/$name.$b.err"
    s=$?
    check "$name: replay on $b: status 0 (was $s)" [ "$s" = 0 ]
    check "$name: replay on $b: exact" grep -q "replayed [0-9]* events exactly" "$T/$name.$b.err"
    check "$name: replay on $b: the recorded COM1 output" cmp -s "$T/$name.rec.out" "$T/$name.$b.out"
    grep -h "^rrvm: replay on\|point(s) inside" "$T/$name.$b.err"
  done
  [ "$fail" = 0 ] || for f in "$T/$name".*.err; do tail -n 5 "$f"; done
}

pair timer /dev/null kvm
check "timer: as specified" cmp -s "$T/timer.rec.out" "$EXPECTED/timer.txt"
pair echo "$EXPECTED/echo.input" kvm emu
check "echo: as specified" cmp -s "$T/echo.rec.out" "$EXPECTED/echo.txt"
pair cirrus-blt /dev/null kvm

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
