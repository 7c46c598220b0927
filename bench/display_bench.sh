#!/usr/bin/env bash
# Display benchmarks (not tests): records the Cirrus guests on the emu backend
# and, per trace, runs display_bench (exits per display frame, trace bytes per
# frame, offline rebuild+render frames/s per mode apart from PNG compression),
# then times `rrvm frames` end to end (rebuild, render and PNG files).
# Usage: bench/display_bench.sh [BUILD_DIR]   (default: build)
#   BENCH_SECONDS=2   seconds of rebuilding per trace in display_bench
set -euo pipefail
BUILD=${1:-build}
RRVM=$BUILD/cli/rrvm
BENCH=$BUILD/bench/display_bench
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for f in "$RRVM" "$BENCH"; do
  [ -x "$f" ] || { echo "display_bench.sh: $f is missing; build it first" >&2; exit 8; }
done

now() { date +%s.%N; }
# guest: what it exercises
declare -A WHAT=([cirrus-lfb]="linear framebuffer (no trap)" [vga13]="legacy 0xA0000 window (trapped MMIO)"
                 [cirrus-blt]="BitBLT engine" [cirrus-text]="text mode")
for g in cirrus-lfb vga13 cirrus-blt cirrus-text; do
  echo "== $g: ${WHAT[$g]}"
  rc=0
  "$RRVM" record --backend emu -o "$T/$g.rrt" "$BUILD/guests/$g.bin" >/dev/null 2>"$T/err" || rc=$?
  [ "$rc" = 1 ] || { echo "record $g: status $rc: $(cat "$T/err")" >&2; exit 1; }
  "$BENCH" "$T/$g.rrt" "${BENCH_SECONDS:-2}"
  best=999999
  for _ in 1 2 3; do
    rm -rf "$T/frames"
    a=$(now)
    "$RRVM" frames "$T/$g.rrt" -o "$T/frames" 2>/dev/null
    b=$(now)
    best=$(python3 -c "print(min($best, $b - $a))")
  done
  n=$(find "$T/frames" -name 'frame-*.png' | wc -l)
  python3 -c "print(f'rrvm frames end to end (PNG files included, process start-up included): $n frames in {$best:.3f} s, {$n / $best:.0f} frames/s')"
done
