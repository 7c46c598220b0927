#!/usr/bin/env bash
# Display benchmarks (not tests): records the Cirrus guests on the emu backend
# and, per trace, runs display_bench (exits per display frame, trace bytes per
# frame, offline rebuild+render frames/s per mode apart from PNG compression,
# now and with libpng as before), then times `rrvm frames` end to end
# (process start-up, trace reading, rebuild, render, PNG files). From the
# cirrus-lfb recording, redraw_trace makes two 800x600 traces in which every
# frame rewrites the whole screen (a scrolling grid, and random bytes), timed
# the same way, with --animation too.
# Usage: bench/display_bench.sh [BUILD_DIR]   (default: build)
#   BENCH_SECONDS=2   seconds of rebuilding per trace in display_bench
#   BENCH_REPEAT=5    runs of each `rrvm frames` timing; the fastest is shown
#   OLD_RRVM=PATH     also times this rrvm (one built before a change) on the
#                     same traces, side by side
#   FRAMES_DIR=DIR    where the PNGs go (default: /dev/shm when it exists: a
#                     journal-less ext4 slows down creating files for ~30 s
#                     after many were deleted, as each repeat here deletes the
#                     last one's, which measures the disk instead of rrvm)
set -euo pipefail
BUILD=${1:-build}
RRVM=$BUILD/cli/rrvm
BENCH=$BUILD/bench/display_bench
REDRAW=$BUILD/bench/redraw_trace
T=$(mktemp -d)
[ -z "${FRAMES_DIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && FRAMES_DIR=$(mktemp -d /dev/shm/display_bench.XXXXXX)
OUT=${FRAMES_DIR:-$T}/frames
trap 'rm -rf "$T" "$OUT" "$OUT.png"; case "${FRAMES_DIR:-}" in /dev/shm/display_bench.*) rmdir "$FRAMES_DIR" ;; esac' EXIT
for f in "$RRVM" "$BENCH" "$REDRAW" ${OLD_RRVM:+"$OLD_RRVM"}; do
  [ -x "$f" ] || { echo "display_bench.sh: $f is missing; build it first" >&2; exit 8; }
done

# time_frames LABEL RRVM TRACE [ARGS...]: the fastest of BENCH_REPEAT runs of
# `RRVM frames TRACE -o $OUT ARGS`, with that run's CPU time (all threads).
time_frames() {
  python3 - "$OUT" "${BENCH_REPEAT:-5}" "$@" <<'PY'
import os, resource, shutil, subprocess, sys, time
out, repeat, label, rrvm, trace, *args = sys.argv[1:]
best = None
for _ in range(int(repeat)):
    shutil.rmtree(out, ignore_errors=True)
    if os.path.exists(out + '.png'):
        os.remove(out + '.png')
    args_here = [a.replace('@OUT@', out) for a in args]
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run([rrvm, 'frames', trace, '-o', out, *args_here], check=True, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime
    if best is None or wall < best[0]:
        best = (wall, cpu)
n = sum(1 for f in os.listdir(out) if f.startswith('frame-') and f.endswith('.png'))
size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
wall, cpu = best
print(f'  {label:<34} {n:5d} frames in {wall:6.3f} s: {n / wall:6.0f} frames/s end to end '
      f'(CPU {cpu:.3f} s, {cpu / n * 1e3:.2f} ms/frame; {size / n / 1024:.1f} KiB/PNG)')
PY
}

# end_to_end TRACE [ARGS...]: rrvm frames now, and OLD_RRVM beside it.
end_to_end() {
  local trace=$1
  shift
  time_frames "rrvm frames $*" "$RRVM" "$trace" "$@"
  if [ -n "${OLD_RRVM:-}" ]; then time_frames "OLD_RRVM frames $*" "$OLD_RRVM" "$trace" "$@"; fi
}

# guest: what it exercises
declare -A WHAT=([cirrus-lfb]="linear framebuffer (no trap)" [vga13]="legacy 0xA0000 window (trapped MMIO)"
                 [cirrus-blt]="BitBLT engine" [cirrus-text]="text mode")
for g in cirrus-lfb vga13 cirrus-blt cirrus-text; do
  echo "== $g: ${WHAT[$g]}"
  rc=0
  "$RRVM" record --backend emu -o "$T/$g.rrt" "$BUILD/guests/$g.bin" >/dev/null 2>"$T/err" || rc=$?
  [ "$rc" = 1 ] || { echo "record $g: status $rc: $(cat "$T/err")" >&2; exit 1; }
  "$BENCH" "$T/$g.rrt" "${BENCH_SECONDS:-2}"
  end_to_end "$T/$g.rrt"
  if [ "$g" = cirrus-blt ]; then end_to_end "$T/$g.rrt" --animation @OUT@.png; fi
done

for kind in grid noise; do
  frames=$([ $kind = grid ] && echo 1000 || echo 100)
  echo "== 800x600x8 full redraws ($kind): every frame rewrites all 118 visible VRAM pages"
  "$REDRAW" "$T/cirrus-lfb.rrt" "$T/redraw-$kind.rrt" "$frames" "$kind"
  end_to_end "$T/redraw-$kind.rrt"
  if [ $kind = grid ]; then end_to_end "$T/redraw-$kind.rrt" --animation @OUT@.png; fi
done
