#!/usr/bin/env bash
# What keyframes cost and what they buy, side by side in one run (a
# benchmark, never a timed test). For each guest and keyframe spacing
# (--keyframe-every N instructions; 0 = none): the trace's bytes, the number
# of keyframes, record wall seconds; then the seek: `replay --from` the last
# event (the replay starts at the last keyframe and runs to the end) against
# a replay from the start, and `frames --at` the last event against the same
# on the trace without keyframes. Runs interleaved, medians.
# Usage: bench/keyframe_bench.sh BUILD_DIR
#   KF_BENCH_GUESTS="bench_compute"            guests (BUILD_DIR/guests/<name>.bin)
#   KF_BENCH_SPACINGS="0 10000000 50000000 100000000"
#   KF_BENCH_REPEAT=3                          runs per cell (median)
set -euo pipefail
B=${1:-build}
RRVM=$B/cli/rrvm
REPEAT=${KF_BENCH_REPEAT:-3}
SPACINGS=${KF_BENCH_SPACINGS:-0 10000000 50000000 100000000}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

now() { date +%s.%N; }
wall() {  # wall CMD...: seconds (record exits with the guest's status)
  local a b; a=$(now); "$@" >/dev/null 2>"$T/last.err" || true; b=$(now)
  python3 -c "print($b - $a)"
}
median() { python3 -c "import statistics,sys; print(round(statistics.median(map(float, sys.argv[1:])), 3))" "$@"; }

for g in ${KF_BENCH_GUESTS:-bench_compute}; do
  img=$B/guests/$g.bin
  declare -A rec=() seek=() at=()
  start_runs="" start_at=""
  for _ in $(seq "$REPEAT"); do
    for n in $SPACINGS; do
      rec[$n]="${rec[$n]:-} $(wall "$RRVM" record --backend emu --keyframe-every "$n" -o "$T/$g.$n.rrt" "$img")"
    done
  done
  # The seek, on the traces just recorded.
  events=$("$RRVM" info "$T/$g.0.rrt" | sed -n 's/^events: \([0-9]*\).*/\1/p')
  insns=$("$RRVM" info "$T/$g.0.rrt" | sed -n 's/^end: .* \([0-9][0-9]*\) instructions.*/\1/p')
  last=$((events - 1))
  for _ in $(seq "$REPEAT"); do
    start_runs="$start_runs $(wall "$RRVM" replay --backend emu -q "$T/$g.0.rrt")"
    start_at="$start_at $(wall "$RRVM" frames "$T/$g.0.rrt" -o "$T/frames" --at "$last" --jobs 0)"
    for n in $SPACINGS; do
      [ "$n" = 0 ] && continue
      seek[$n]="${seek[$n]:-} $(wall "$RRVM" replay --backend emu -q --from "$last" "$T/$g.$n.rrt")"
      at[$n]="${at[$n]:-} $(wall "$RRVM" frames "$T/$g.$n.rrt" -o "$T/frames" --at "$last" --jobs 0)"
    done
  done
  echo "== $g: ${insns:-?} instructions, $events events; replay from the start $(median $start_runs) s, frames --at $last from the start $(median $start_at) s"
  printf "%-14s %10s %10s %12s %10s %14s %14s %16s\n" "keyframe-every" keyframes "trace B" "B/keyframe" "record s" "record/no-kf" "replay --from s" "frames --at s"
  # shellcheck disable=SC2086
  base_rec=$(median ${rec[0]})
  base_bytes=$(stat -c %s "$T/$g.0.rrt")
  for n in $SPACINGS; do
    bytes=$(stat -c %s "$T/$g.$n.rrt")
    kf=$("$RRVM" info "$T/$g.$n.rrt" | sed -n 's/^frames: .* (\([0-9]*\) keyframes)$/\1/p')
    # shellcheck disable=SC2086
    r=$(median ${rec[$n]})
    if [ "$n" = 0 ]; then s="-"; a="-"; else
      # shellcheck disable=SC2086
      s=$(median ${seek[$n]})
      # shellcheck disable=SC2086
      a=$(median ${at[$n]})
    fi
    perkf=$(python3 -c "print('-' if $kf == 0 else round(($bytes - $base_bytes) / $kf))")
    ratio=$(python3 -c "print(round($r / $base_rec, 3))")
    printf "%-14s %10s %10s %12s %10s %14s %14s %16s\n" "$n" "$kf" "$bytes" "$perkf" "$r" "$ratio" "$s" "$a"
  done
  unset rec seek at
done
