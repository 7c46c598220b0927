#!/usr/bin/env bash
# The README main command: sets everything up, builds, then records a demo
# guest that draws on the Cirrus display, replays the trace exactly, and
# rebuilds the screen from the trace alone as PNG files in out/frames/ (and
# as one animated PNG, out/frames.png); then boots the same guest from a
# floppy through real firmware (Debian's SeaBIOS and Cirrus VGA BIOS),
# records and replays that, and writes its screens (the SeaBIOS banner,
# "Booting from Floppy...", then the guest's display) to out/firmware-frames/
# and out/firmware-frames.png.
# The test suite runs it too (ctest `demo`), with RRVM_DEMO_SKIP_SETUP=1 and
# RRVM_DEMO_BUILD / RRVM_DEMO_OUT pointing at its build and a scratch folder.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${RRVM_DEMO_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh
BUILD=${RRVM_DEMO_BUILD:-build}
OUT=${RRVM_DEMO_OUT:-out}
RRVM=$BUILD/cli/rrvm
mkdir -p "$OUT"
# A guest's own exit status is rrvm's: these guests end with status 1
# (isa-debug-exit: (0 << 1) | 1), which is success here.
echo "== rrvm run: the serial guest"
"$RRVM" run "$BUILD/guests/hello.bin" || [ $? -eq 1 ]
echo "== rrvm record: the Cirrus linear-framebuffer guest (640x480x16, then 800x600x8)"
"$RRVM" record -o "$OUT/demo.rrt" "$BUILD/guests/cirrus-lfb.bin" || [ $? -eq 1 ]
echo "== rrvm replay: re-execute the trace and check every input and output"
"$RRVM" replay "$OUT/demo.rrt"
echo "== rrvm frames: the screen rebuilt from the trace alone"
rm -rf "$OUT/frames"
"$RRVM" frames -o "$OUT/frames" --animation "$OUT/frames.png" "$OUT/demo.rrt"
ls "$OUT/frames"
echo "== rrvm record --floppy: the same guest booted by SeaBIOS and the Cirrus VGA BIOS"
"$RRVM" record --backend emu --bios-log "$OUT/bios.log" -o "$OUT/firmware.rrt" \
  --floppy "$BUILD/guests/cirrus-lfb.bin" || [ $? -eq 1 ]
grep -m1 "^Booting from" "$OUT/bios.log"
echo "== rrvm replay: the firmware boot, exactly"
"$RRVM" replay --backend emu "$OUT/firmware.rrt"
echo "== rrvm frames: the firmware's text screens, then the guest's"
rm -rf "$OUT/firmware-frames"
"$RRVM" frames -o "$OUT/firmware-frames" --animation "$OUT/firmware-frames.png" "$OUT/firmware.rrt"
ls "$OUT/firmware-frames" | head -3
echo "... $(ls "$OUT/firmware-frames" | wc -l) frames"
