#!/usr/bin/env bash
# rrvm's own guests booted by real firmware (SeaBIOS and the Cirrus VGA BIOS
# load each from a 1.44 MB floppy, guests/include/boot.inc), on the host's
# emu backend, for the two backend pairs that end on emu or start there:
#   record DIR   records biosboot, timer, echo (with COM1 input), vga13 and
#                cirrus-blt on emu into DIR/NAME.emu.rrt and replays each on
#                emu: status 0, "exactly", the recorded COM1 output (timer's
#                and echo's as specified), and for the display guests the
#                frames a replay shows equal, PNG for PNG, to the ones rebuilt
#                from the trace alone (`rrvm frames`). The nested test
#                kvm_firmware_guests replays these recordings on kvm.
#   kvm-on-emu DIR
#                replays the recordings kvm_firmware_guests made on kvm
#                (DIR/NAME.kvm.rrt) on emu, with the same checks; skips (77)
#                when there are none (no SeaBIOS, or the nested test did not
#                run).
# Usage: firmware_guest_traces.sh RRVM GUEST_DIR EXPECTED_DIR record|kvm-on-emu DIR
set -u
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
RRVM=$1 GUESTS=$2 EXPECTED=$3 MODE=$4 DIR=$5
require_seabios
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

input_of() { [ "$1" = echo ] && echo "$EXPECTED/echo.input" || echo /dev/null; }

# replay_on_emu NAME TRACE RECORDED_SERIAL: exact on emu, the same COM1
# output, and (display guests) the same frames as the trace's own.
replay_on_emu() {
  local name=$1 trace=$2 recorded=$3 s
  timeout 300 "$RRVM" replay --backend emu --frames "$T/$name.replayed" "$trace" >"$T/$name.out" 2>"$T/$name.err"
  s=$?
  check "$name: replay on emu: status 0 (was $s)" [ "$s" = 0 ]
  check "$name: replay on emu: exact" grep -q "replayed [0-9]* events exactly" "$T/$name.err"
  check "$name: replay on emu: the recorded COM1 output" cmp -s "$recorded" "$T/$name.out"
  case $name in
    vga13* | cirrus*)
      timeout 300 "$RRVM" frames "$trace" -o "$T/$name.rebuilt" >/dev/null 2>"$T/$name.frames.err"
      local n
      n=$(find "$T/$name.rebuilt" -name '*.png' | wc -l)
      check "$name: frames rebuilt from the trace ($n)" [ "$n" -gt 0 ]
      check "$name: the replay's frames are the trace's" diff -r "$T/$name.rebuilt" "$T/$name.replayed"
      ;;
  esac
  [ "$fail" = 0 ] || tail -n 5 "$T/$name.err"
}

mkdir -p "$DIR"
case $MODE in
  record)
    for name in biosboot timer echo vga13 cirrus-blt; do
      rm -f "$DIR/$name.emu.rrt" "$DIR/$name.emu.serial"
      timeout 300 "$RRVM" record --backend emu -o "$DIR/$name.emu.rrt" --floppy "$GUESTS/$name.bin" \
        --serial-in "$(input_of $name)" >"$DIR/$name.emu.serial" 2>"$T/$name.rec.err"
      s=$?
      check "$name: recorded on emu with an odd guest status ($s)" [ $((s % 2)) = 1 ]
      [ -f "$EXPECTED/$name.txt" ] &&
        check "$name: as specified" cmp -s "$DIR/$name.emu.serial" "$EXPECTED/$name.txt"
      replay_on_emu "$name" "$DIR/$name.emu.rrt" "$DIR/$name.emu.serial"
    done
    ;;
  kvm-on-emu)
    shopt -s nullglob
    traces=("$DIR"/*.kvm.rrt)
    if ((${#traces[@]} == 0)); then
      echo "SKIP: no kvm recordings in $DIR (kvm_firmware_guests makes them)"
      exit 77
    fi
    for trace in "${traces[@]}"; do
      name=$(basename "$trace" .kvm.rrt)
      replay_on_emu "$name-from-kvm" "$trace" "$DIR/$name.kvm.serial"
    done
    ;;
  *) echo "unknown mode '$MODE'" >&2; exit 2 ;;
esac

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
