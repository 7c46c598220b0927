#!/usr/bin/env bash
# Trace bytes per injected interrupt and per exit, older trace formats and
# the new one side by side in one run (a benchmark, never a timed test):
# each guest image (from BUILD_DIR/guests, the same bytes for all) recorded
# by BUILD_DIR's rrvm and by each OLD_BUILD_DIR's (builds of older commits:
# OLD_BUILD_DIR/cli/rrvm, e.g. one per format version), with the same
# options; the figures come from `rrvm info` (whole file: header, events, end
# record, footer). Then each new trace is replayed and must be exact (exit
# status 0).
# Usage: bench/interrupt_bytes.sh BUILD_DIR [OLD_BUILD_DIR...]
#   IRQ_BENCH_GUESTS="storm storm_short bench_rep timer"
#                                              guests (BUILD_DIR/guests/<name>.bin, or a path to a .bin;
#                                              e.g. nasm -f bin -I guests/include/ -DSTORM_TICKS=100
#                                              -o /tmp/storm100.bin guests/storm.asm)
#   IRQ_BENCH_BACKEND=emu                      backend to record on (kvm needs hardware KVM)
#   IRQ_BENCH_ARGS=""                          more `rrvm record` options for all
#   IRQ_BENCH_REPLAY=1                         0: skip the replays (a kvm replay of a storm
#                                              stops at every pass of each recorded pc)
set -euo pipefail
B=${1:?usage: bench/interrupt_bytes.sh BUILD_DIR [OLD_BUILD_DIR...]}
shift
OLDS=("$@")
BACKEND=${IRQ_BENCH_BACKEND:-emu}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# record RRVM IMAGE OUT: prints "format bytes interrupts exits"
record() {
  local rrvm=$1 img=$2 out=$3
  # shellcheck disable=SC2086
  "$rrvm" record --backend "$BACKEND" ${IRQ_BENCH_ARGS:-} -o "$out" "$img" >/dev/null 2>"$T/err" || true
  [[ -s $out ]] || { echo "record failed: $rrvm $img: $(cat "$T/err")" >&2; exit 1; }
  "$rrvm" info "$out" | python3 -c '
import re, sys
text = sys.stdin.read()
fmt = re.search(r"format: version (\d+)", text).group(1)
size = re.search(r"file size: (\d+) bytes", text).group(1)
irq = re.search(r"interrupt (\d+)", text).group(1)
exits = re.search(r"^exits: (\d+)", text, re.M).group(1)
print(fmt, size, irq, exits)'
}
ratio() { python3 -c "import sys; a, b = map(float, sys.argv[1:]); print(f'{a / b:.2f}' if b else '-')" "$1" "$2"; }

printf '%-11s %6s %6s' guest irqs exits
for _ in "${OLDS[@]}"; do printf ' | %-3s %8s %7s' old bytes B/irq; done
printf ' | %-3s %8s %7s %7s | %s\n' new bytes B/irq B/exit replay
for g in ${IRQ_BENCH_GUESTS:-storm storm_short bench_rep timer}; do
  img=$B/guests/$g.bin
  if [[ $g == *.bin ]]; then img=$g; g=$(basename "$g" .bin); fi
  out=$(record "$B/cli/rrvm" "$img" "$T/$g-new.rrt") || exit 1  # no process substitution: the nested harness has no /dev/fd
  read -r nf nb ni ne <<<"$out"
  replay=skipped
  [[ ${IRQ_BENCH_REPLAY:-1} == 0 ]] || replay=exact
  [[ $replay == skipped ]] || "$B/cli/rrvm" replay --backend "$BACKEND" "$T/$g-new.rrt" >/dev/null 2>"$T/err" || replay="FAILED: $(tail -1 "$T/err")"
  printf '%-11s %6s %6s' "$g" "$ni" "$ne"
  i=0
  for old in "${OLDS[@]}"; do
    out=$(record "$old/cli/rrvm" "$img" "$T/$g-old$i.rrt") || exit 1
    read -r of ob oi oe <<<"$out"
    [[ $oi == "$ni" && $oe == "$ne" ]] || echo " ($old recording: $oi interrupts, $oe exits)" >&2
    printf ' | v%-2s %8s %7s' "$of" "$ob" "$(ratio "$ob" "$oi")"
    i=$((i + 1))
  done
  printf ' | v%-2s %8s %7s %7s | %s\n' "$nf" "$nb" "$(ratio "$nb" "$ni")" "$(ratio "$nb" "$ne")" "$replay"
done
