#!/usr/bin/env bash
# TSC reads through patched sites (vmm/tsc_sites.h; a benchmark, never a
# timed test): guests/tsc_reads.asm assembled with two loop counts, each
# recorded with --patch-tsc --keyframe-ms 0 --keyframe-every 0 on BACKEND;
# prints sites, TSC reads, trace bytes, bytes per read of the whole trace and
# the marginal bytes per read (the difference of the two traces over the
# difference of their reads: a read's exit event plus its TSC read event);
# each trace must replay exactly. Then the same guest recorded WITHOUT
# --patch-tsc and replayed on BACKEND: on kvm the reads are the host's
# unrecorded TSC and the replay diverges (expected; emu's rdtsc is the
# instruction count, and the unpatched rdtscp is #UD there).
# With IMAGE given instead, that ELF is recorded once (e.g. a kernel).
# Usage: bench/tsc_reads.sh BUILD_DIR [BACKEND (emu)] [IMAGE]
#   on kvm without hardware KVM: tests/nested/run_nested.sh -- bench/tsc_reads.sh build kvm
set -euo pipefail
B=${1:?usage: bench/tsc_reads.sh BUILD_DIR [BACKEND] [IMAGE]}
BACKEND=${2:-emu}
IMAGE=${3:-}
RRVM=$B/cli/rrvm
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# record IMAGE OUT [ARGS]: prints "reads bytes sites"
record() {
  local img=$1 out=$2
  shift 2
  "$RRVM" record --backend "$BACKEND" --keyframe-ms 0 --keyframe-every 0 "$@" -o "$out" "$img" \
    > "$T/serial.txt" 2> "$T/record.txt" || true
  local reads sites bytes
  sites=$(sed -n 's/^rrvm: \([0-9]*\) TSC read sites found.*/\1/p' "$T/record.txt")
  reads=$(sed -n 's/.*; \([0-9]*\) TSC reads recorded/\1/p' "$T/record.txt")
  bytes=$(stat -c %s "$out")
  echo "${reads:-0} $bytes ${sites:-0}"
}

if [[ -n $IMAGE ]]; then
  r=$(record "$IMAGE" "$T/image.rrt" --patch-tsc)
  read -r reads bytes sites <<< "$r"
  echo "$IMAGE on $BACKEND: $sites sites, $reads TSC reads, $bytes bytes, $(awk -v b="$bytes" -v r="$reads" 'BEGIN{printf "%.2f", r ? b/r : 0}') bytes/read"
  exit 0
fi

for loops in 1000 11000; do
  nasm -f elf32 -w+error -I "$here/guests/include/" -I "$here/guests/" -DLOOPS=$loops \
    -o "$T/t$loops.o" "$here/guests/tsc_reads.asm"
  ld -m elf_i386 -T "$here/guests/flat32.ld" -o "$T/t$loops.elf" "$T/t$loops.o"
  r=$(record "$T/t$loops.elf" "$T/t$loops.rrt" --patch-tsc)
  read -r reads bytes sites <<< "$r"
  eval "reads_$loops=$reads bytes_$loops=$bytes"
  "$RRVM" replay --backend "$BACKEND" "$T/t$loops.rrt" > /dev/null 2> "$T/replay.txt" ||
    { echo "replay of LOOPS=$loops not exact:"; cat "$T/replay.txt"; exit 1; }
  printf 'LOOPS=%-6s %s sites, %6s TSC reads, %7s bytes, %.2f bytes/read (whole trace); replay exact\n' \
    "$loops" "$sites" "$reads" "$bytes" "$(awk -v b="$bytes" -v r="$reads" 'BEGIN{print b/r}')"
done
awk -v b1="$bytes_1000" -v b2="$bytes_11000" -v r1="$reads_1000" -v r2="$reads_11000" \
  'BEGIN{printf "marginal: %.2f bytes per TSC read (exit event + TSC read event)\n", (b2-b1)/(r2-r1)}'

r=$(record "$T/t1000.elf" "$T/unpatched.rrt")
  read -r _ bytes _ <<< "$r"
if "$RRVM" replay --backend "$BACKEND" "$T/unpatched.rrt" > /dev/null 2> "$T/replay.txt"; then
  echo "unpatched: recorded and replayed exactly on $BACKEND (its rdtsc are no input there)"
else
  echo "unpatched: $(grep -m1 -E 'divergence|error|rrvm:' "$T/replay.txt")"
fi
