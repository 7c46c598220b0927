#!/usr/bin/env bash
# rrvm's own guests booted by real firmware on kvm: SeaBIOS loads each from a
# 1.44 MB floppy (the boot stub, guests/include/boot.inc). Each is recorded on
# kvm and replayed on kvm exactly (`replayed N events exactly`, status 0, the
# recorded COM1 output); the timer guest's ticks land while it computes
# (points found by breakpoint on kvm), echo reads COM1 input, vga13 draws
# through the legacy VGA window (an MMIO exit per access) and cirrus-blt
# drives the Cirrus blitter. The recordings stay in DIR (NAME.kvm.rrt and the
# COM1 output NAME.kvm.serial) for the host test firmware_kvm_traces_on_emu,
# which replays them on emu (an emu replay takes 25-50 s nested, seconds on
# the host). The emu recording firmware_emu_traces made on the host of
# biosboot is replayed here on kvm (8 s nested; those of timer, vga13 and
# cirrus-blt replayed exactly too, in 53 s for 31,173 breakpoint stops, 27 s
# and 29 s: measured, left out for time). Runs nested (kvm_firmware_guests):
# 318 s on the loaded 2-core host, vga13's record (66 s: an MMIO exit per
# access to the legacy VGA window) and replay (35 s) the largest share.
# Usage: firmware_kvm_guests_test.sh RRVM GUEST_DIR EXPECTED_DIR DIR
set -u
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
RRVM=$1 GUESTS=$2 EXPECTED=$3 DIR=$4
require_seabios
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$DIR"
# replay_on_kvm NAME TRACE RECORDED_SERIAL
replay_on_kvm() {
  local name=$1 trace=$2 recorded=$3 s
  timeout 200 "$RRVM" replay --backend kvm "$trace" >"$T/$name.out" 2>"$T/$name.err"
  s=$?
  check "$name: replay on kvm: status 0 (was $s)" [ "$s" = 0 ]
  check "$name: replay on kvm: exact" grep -q "replayed [0-9]* events exactly" "$T/$name.err"
  check "$name: replay on kvm: the recorded COM1 output" cmp -s "$recorded" "$T/$name.out"
  grep -h "^rrvm: replay on\|point(s) inside" "$T/$name.err"
  [ "$fail" = 0 ] || tail -n 5 "$T/$name.err"
}
# pair NAME INPUT: record on kvm into DIR, replay on kvm.
pair() {
  local name=$1 in=$2 s
  rm -f "$DIR/$name.kvm.rrt" "$DIR/$name.kvm.serial"
  timeout 120 "$RRVM" record --backend kvm -o "$DIR/$name.kvm.rrt" --floppy "$GUESTS/$name.bin" --serial-in "$in" \
    >"$DIR/$name.kvm.serial" 2>"$T/$name.rec.err"
  s=$?
  check "$name: recorded on kvm with an odd guest status ($s)" [ $((s % 2)) = 1 ]
  grep -h "keyframe" "$T/$name.rec.err"
  replay_on_kvm "$name" "$DIR/$name.kvm.rrt" "$DIR/$name.kvm.serial"
}

pair timer /dev/null
check "timer: as specified" cmp -s "$DIR/timer.kvm.serial" "$EXPECTED/timer.txt"
pair echo "$EXPECTED/echo.input"
check "echo: as specified" cmp -s "$DIR/echo.kvm.serial" "$EXPECTED/echo.txt"
pair vga13 /dev/null
pair cirrus-blt /dev/null
for name in biosboot; do
  if [ -f "$DIR/$name.emu.rrt" ]; then
    replay_on_kvm "$name-from-emu" "$DIR/$name.emu.rrt" "$DIR/$name.emu.serial"
  else
    check "$name: the emu recording firmware_emu_traces makes is in $DIR" false
  fi
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
