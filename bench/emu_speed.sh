#!/usr/bin/env bash
# emu instruction rates, side by side in one run: one or more rrvm binaries
# (e.g. a build of main and this tree) on the same guests, runs interleaved,
# medians. For each binary and guest: run and record wall seconds,
# instructions/s of each (instructions from the recording's end record) and
# record/run.
# Usage: bench/emu_speed.sh GUEST_DIR RRVM [RRVM...]
#   EMU_SPEED_GUESTS="bench_compute bench_rep"   guests (GUEST_DIR/<name>.bin)
#   EMU_SPEED_REPEAT=5                           paired runs per cell (median)
set -euo pipefail
G=$1
shift
BINS=("$@")
[ ${#BINS[@]} -ge 1 ] || { echo "usage: $0 GUEST_DIR RRVM [RRVM...]" >&2; exit 2; }
REPEAT=${EMU_SPEED_REPEAT:-5}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

now() { date +%s.%N; }
wall() {  # wall CMD...: seconds
  local a b; a=$(now); "$@" >/dev/null 2>&1 || true; b=$(now)
  python3 -c "print($b - $a)"
}
median() { python3 -c "import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))" "$@"; }

printf "%-14s %-28s %9s %9s %11s %11s %8s\n" guest rrvm "run s" "record s" "run M/s" "record M/s" rec/run
for g in ${EMU_SPEED_GUESTS:-bench_compute bench_rep}; do
  img=$G/$g.bin
  declare -A runs=() recs=()
  for _ in $(seq "$REPEAT"); do
    for i in "${!BINS[@]}"; do
      runs[$i]="${runs[$i]:-} $(wall "${BINS[$i]}" run --backend emu "$img")"
      recs[$i]="${recs[$i]:-} $(wall "${BINS[$i]}" record --backend emu -o "$T/$g.$i.rrt" "$img")"
    done
  done
  for i in "${!BINS[@]}"; do
    insns=$("${BINS[$i]}" info "$T/$g.$i.rrt" | sed -n 's/^end: .* \([0-9][0-9]*\) instructions.*/\1/p')
    # shellcheck disable=SC2086
    run=$(median ${runs[$i]})
    # shellcheck disable=SC2086
    rec=$(median ${recs[$i]})
    python3 - "$g" "${BINS[$i]}" "$run" "$rec" "${insns:-0}" <<'PY'
import sys
g, b, run, rec, n = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
print(f"{g:14s} {b[-28:]:28s} {run:9.3f} {rec:9.3f} {n/run/1e6:11.1f} {n/rec/1e6:11.1f} {rec/run:8.2f}")
PY
  done
  unset runs recs
done
