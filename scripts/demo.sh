#!/usr/bin/env bash
# The README main command: sets everything up, builds, then records a demo
# guest that draws on the Cirrus display, replays the trace exactly, and
# rebuilds the screen from the trace alone as PNG files in out/frames/ (and
# as one animated PNG, out/frames.png).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
RRVM=./build/cli/rrvm
mkdir -p out
echo "== rrvm run: the serial guest"
$RRVM run build/guests/hello.bin
echo "== rrvm record: the Cirrus linear-framebuffer guest (640x480x16, then 800x600x8)"
$RRVM record -o out/demo.rrt build/guests/cirrus-lfb.bin || [ $? -eq 1 ]
echo "== rrvm replay: re-execute the trace and check every input and output"
$RRVM replay out/demo.rrt
echo "== rrvm frames: the screen rebuilt from the trace alone"
rm -rf out/frames
$RRVM frames -o out/frames --animation out/frames.png out/demo.rrt
ls out/frames
