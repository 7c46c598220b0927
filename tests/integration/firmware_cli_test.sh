#!/usr/bin/env bash
# `rrvm` with real firmware (Debian's SeaBIOS and Cirrus VGA BIOS) as a user
# runs it: errors are one line with status 8 (a missing BIOS or VGA BIOS, a
# firmware or disk input that is a device, FIFO or directory, a
# truncated disk image, a replay with another image), a floppy boot records
# and replays exactly without touching the image file, the replayed SeaBIOS
# log shows the boot path, and `rrvm frames` rebuilds the text screens the
# VGA BIOS drew: the SeaBIOS banner alone first, then the boot line and the
# guest's own int 10h text (read off the PNGs by text_screen_check.py).
# Usage: firmware_cli_test.sh RRVM GUEST_DIR
set -u
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
RRVM=$1 GUESTS=$2
HERE=$(dirname "$0")
require_seabios
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
IMG=$GUESTS/biosboot.bin
BANNER="SeaBIOS (version 1.16.2-debian-1.16.2-1)"

# One-line errors, status 8, nothing run.
s=$(status_of "$RRVM" run --backend emu --bios "$T/no-bios.bin" --floppy "$IMG")
check "missing BIOS: status 8" [ "$s" = 8 ]
check "missing BIOS: one line naming it" one_line_err "BIOS image '$T/no-bios.bin': cannot open"
s=$(status_of "$RRVM" run --backend emu --vga-bios "$T/no-vga.bin" --floppy "$IMG")
check "missing VGA BIOS: status 8" [ "$s" = 8 ]
check "missing VGA BIOS: one line naming it" one_line_err "VGA BIOS image '$T/no-vga.bin'"
head -c 1000 "$IMG" >"$T/cut.img"
s=$(status_of "$RRVM" run --backend emu --disk "$T/cut.img")
check "truncated disk: status 8" [ "$s" = 8 ]
check "truncated disk: one line" one_line_err "disk image '$T/cut.img': truncated: 1000 bytes is not a whole number"
# Firmware and disk inputs that are no regular file: refused by kind before a
# byte is read (a device or a directory once read as "empty" or as 2^63 bytes).
s=$(status_of timeout 20 "$RRVM" run --backend emu --bios /dev/zero --floppy "$IMG")
check "BIOS /dev/zero: status 8" [ "$s" = 8 ]
check "BIOS /dev/zero: one line naming its kind" one_line_err "BIOS image '/dev/zero': not a regular file (a device"
s=$(status_of timeout 20 "$RRVM" run --backend emu --vga-bios "$T" --floppy "$IMG")
check "VGA BIOS a directory: status 8" [ "$s" = 8 ]
check "VGA BIOS a directory: one line" one_line_err "VGA BIOS image '$T': not a regular file (a directory)"
s=$(status_of timeout 20 "$RRVM" run --backend emu --floppy /dev/zero)
check "floppy /dev/zero: status 8" [ "$s" = 8 ]
check "floppy /dev/zero: one line" one_line_err "floppy image '/dev/zero': not a regular file"
s=$(status_of timeout 20 "$RRVM" run --backend emu --disk "$T" --boot disk)
check "disk a directory: status 8" [ "$s" = 8 ]
check "disk a directory: one line" one_line_err "disk image '$T': not a regular file (a directory)"
mkfifo "$T/fifo.img"
s=$(status_of timeout 20 "$RRVM" run --backend emu --floppy "$T/fifo.img")
check "floppy a FIFO: status 8 at once (no wait for a writer)" [ "$s" = 8 ]
check "floppy a FIFO: one line" one_line_err "floppy image '$T/fifo.img': not a regular file"

# A floppy boot: the guest's results on COM1, recorded and replayed exactly.
cp "$IMG" "$T/boot.img"
sum_before=$(sha256sum <"$T/boot.img")
s=$(status_of "$RRVM" record --backend emu -o "$T/boot.rrt" --floppy "$T/boot.img")
check "record floppy boot: the guest's status 1" [ "$s" = 1 ]
check "record floppy boot: the guest finished" grep -qx "biosboot: done" "$T/out"
check "record floppy boot: int 13h read sector 2" grep -qx "biosboot: int 13h re-read of sector 2 matches: yes" "$T/out"
cp "$T/out" "$T/recorded.txt"
s=$(status_of "$RRVM" replay --backend emu --bios-log "$T/bios.log" "$T/boot.rrt")
check "replay floppy boot: exact" [ "$s" = 0 ]
check "replay floppy boot: says exactly" grep -q "replayed [0-9]* events exactly" "$T/err"
check "replay floppy boot: same serial" cmp -s "$T/out" "$T/recorded.txt"
check "replayed SeaBIOS log: the boot path" grep -q "^Booting from Floppy..." "$T/bios.log"
check "image never modified" [ "$(sha256sum <"$T/boot.img")" = "$sum_before" ]
# Outputs over the firmware machine's inputs are refused, the inputs intact.
s=$(status_of "$RRVM" record --backend emu -o "$T/boot.img" --floppy "$T/boot.img")
check "record -o the floppy: status 8" [ "$s" = 8 ]
check "record -o the floppy: one line" one_line_err "is the floppy image"
s=$(status_of "$RRVM" run --backend emu --bios-log "$T/boot.img" --floppy "$T/boot.img")
check "run --bios-log the floppy: status 8" [ "$s" = 8 ]
check "run --bios-log the floppy: one line" one_line_err "\--bios-log '$T/boot.img' is the floppy image"
s=$(status_of "$RRVM" record --backend emu -o "$T/log.rrt" --bios-log "$T/log.rrt" --floppy "$T/boot.img")
check "record --bios-log the trace: status 8" [ "$s" = 8 ]
s=$(status_of "$RRVM" replay -q --bios-log "$T/boot.rrt" "$T/boot.rrt")
check "replay --bios-log the trace: status 8" [ "$s" = 8 ]
check "replay --bios-log the trace: one line" one_line_err "is the trace being replayed"
s=$(status_of "$RRVM" replay -q --bios-log "$T/boot.img" "$T/boot.rrt")
check "replay --bios-log the floppy: one line" one_line_err "is the floppy image"
check "floppy and trace intact after the refusals" [ "$(sha256sum <"$T/boot.img")" = "$sum_before" ]
s=$(status_of "$RRVM" replay -q "$T/boot.rrt")
check "trace still replays after the refusals" [ "$s" = 0 ]
s=$(status_of "$RRVM" replay --backend emu --image "floppy=$GUESTS/fwgarbage.bin" "$T/boot.rrt")
check "replay with another floppy: status 8" [ "$s" = 8 ]
check "replay with another floppy: one line" one_line_err "does not match the recording"

# The screens: rebuilt from the trace alone.
s=$(status_of "$RRVM" frames -o "$T/frames" "$T/boot.rrt")
check "frames: status 0" [ "$s" = 0 ]
last=$(ls "$T/frames" | tail -1)
check "last frame: banner, boot line, the guest's text" \
  python3 "$HERE/text_screen_check.py" "$T/frames/$last" 3,0 "$BANNER" "Booting from Floppy..." \
  "rrvm biosboot: hello from int 10h"
check "an earlier frame: the SeaBIOS banner alone" \
  python3 "$HERE/text_screen_check.py" --first "$T"/frames/*.png -- 1,0 "$BANNER"

# Keyframes in a firmware boot: every firmware device's state is in them, so
# a replay from a late keyframe reaches the recorded end exactly.
s=$(status_of "$RRVM" record --backend emu --keyframe-every 1000000 -o "$T/kf.rrt" --floppy "$IMG")
check "record with keyframes: the guest's status 1" [ "$s" = 1 ]
check "record with keyframes: several written" grep -q "[2-9] keyframe(s)" "$T/err"
last_event=$(sed -n 's/^events: \([0-9]*\) .*/\1/p' <("$RRVM" info "$T/kf.rrt"))
s=$(status_of "$RRVM" replay --backend emu --from "$((last_event - 1))" "$T/kf.rrt")
check "replay --from the last keyframe: exact" [ "$s" = 0 ]
check "replay --from: started at a keyframe" grep -q "starting at keyframe [1-9]" "$T/err"
check "replay --from: the guest's output after it" grep -qx "biosboot: done" "$T/out"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
