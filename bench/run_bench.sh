#!/usr/bin/env bash
# rrvm benchmarks (not tests): every number is a ratio or a rate measured
# side by side in one run on this machine.
#   - run vs record vs replay wall time per guest and backend
#   - trace bytes per exit and per million instructions
#   - emu instructions/s (bench_compute) and exits/s (bench_io)
# Usage: bench/run_bench.sh [BUILD_DIR] [BACKEND...]   (default: build emu)
#   BENCH_GUESTS="hello echo"  guests to time (default: all six)
#   BENCH_TIMEOUT=120          seconds per command; a cell past it reads nan
#   BENCH_RATES=0              skip the emu-rate lines
#   BENCH_REPEAT=1             runs per cell (default 3, best counts)
set -euo pipefail
BUILD=${1:-build}
shift || true
BACKENDS=("$@")
[ ${#BACKENDS[@]} -eq 0 ] && BACKENDS=(emu)
RRVM=$BUILD/cli/rrvm
G=$BUILD/guests
IN=tests/guests/expected/echo.input
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

now() { date +%s.%N; }
LIMIT=${BENCH_TIMEOUT:-120}  # seconds per command; past it the cell reads nan
REPEAT=${BENCH_REPEAT:-3}  # runs per cell; the best counts
secs() {  # secs CMD...: wall seconds of the best of $REPEAT runs
  local best=999999
  for _ in $(seq "$REPEAT"); do
    local a b rc=0; a=$(now); timeout "$LIMIT" "$@" >/dev/null 2>&1 || rc=$?; b=$(now)
    if [ "$rc" = 124 ]; then echo nan; return; fi
    best=$(python3 -c "print(min($best, $b - $a))")
  done
  echo "$best"
}
printf "%-14s %-4s %9s %9s %9s %8s %8s %10s %10s\n" guest be "run s" "record s" "replay s" rec/run rep/rec "B/exit" "B/Minsn"
for be in "${BACKENDS[@]}"; do
  for g in ${BENCH_GUESTS:-hello echo timer pm32 bench_io bench_compute}; do
    img=$G/$g.bin
    extra=()
    [ "$g" = echo ] && extra=(--serial-in "$IN")
    run=$(secs "$RRVM" run --backend "$be" "${extra[@]}" "$img")
    rec=$(secs "$RRVM" record --backend "$be" "${extra[@]}" -o "$T/$g.rrt" "$img")
    rep=$(secs "$RRVM" replay --backend "$be" -q "$T/$g.rrt")
    info=$("$RRVM" info "$T/$g.rrt")
    bytes=$(stat -c %s "$T/$g.rrt")
    # `rrvm info`: "exits: N (...)" and "end: ..., N instructions, ..." (emu only).
    exits=$(echo "$info" | sed -n 's/^exits: \([0-9][0-9]*\).*/\1/p')
    insns=$(echo "$info" | sed -n 's/^end: .* \([0-9][0-9]*\) instructions.*/\1/p')
    python3 - "$g" "$be" "$run" "$rec" "$rep" "$bytes" "${exits:-0}" "${insns:-0}" <<'PY'
import sys
g, be, run, rec, rep, b, e, i = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
bpe = b / e if e else float('nan')
bpm = b / (i / 1e6) if i else float('nan')
print(f"{g:14s} {be:4s} {run:9.3f} {rec:9.3f} {rep:9.3f} {rec/run:8.2f} {rep/rec:8.2f} {bpe:10.3f} {bpm:10.1f}")
PY
  done
done
# Rates from the emu benchmark guests.
[ "${BENCH_RATES:-1}" = 0 ] && exit 0
for be in "${BACKENDS[@]}"; do
  c=$(secs "$RRVM" run --backend "$be" "$G/bench_compute.bin")
  io=$(secs "$RRVM" run --backend "$be" "$G/bench_io.bin")
  python3 -c "print(f'$be: ~{1e8/$c/1e6:.0f} M instructions/s (bench_compute, 1e8 insns), {4e5/$io/1e3:.0f} k exits/s (bench_io, 4e5 exits)')"
done
