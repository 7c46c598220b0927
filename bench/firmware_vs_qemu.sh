#!/usr/bin/env bash
# A benchmark, not a test: firmware boots (Debian's SeaBIOS and Cirrus VGA
# BIOS, the guest from a 1.44 MB floppy) on rrvm's emu backend against QEMU's
# own record/replay (TCG, -icount shift=auto,rr=record|replay) of the same
# bios.bin and the same image, side by side in one run. Every cell is the
# median wall time of the whole process over BENCH_REPEAT runs; trace bytes
# are rrvm's trace file and QEMU's rr log. Each replay's COM1 output is
# checked against its recording's, and QEMU's recording against rrvm's (a
# cell reads "diff" where one differs).
# Usage: bench/firmware_vs_qemu.sh [BUILD_DIR]   (default: build)
#   BENCH_GUESTS="biosboot echo timer cirrus-lfb biosboot@disk"  guests (default);
#                GUEST boots from the floppy, GUEST@disk from the ATA disk
#   BENCH_REPEAT=5                             runs per cell (default 5)
#   BENCH_TIMEOUT=120                          seconds per command
set -euo pipefail
BUILD=${1:-build}
RRVM=$BUILD/cli/rrvm
G=$BUILD/guests
BIOS=/usr/share/seabios/bios.bin
REPEAT=${BENCH_REPEAT:-5}
LIMIT=${BENCH_TIMEOUT:-120}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 is not installed" >&2; exit 1; }
[ -f "$BIOS" ] || { echo "$BIOS is missing (Debian's seabios package)" >&2; exit 1; }

now() { date +%s.%N; }
median() { python3 -c "import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print('%.2f' % statistics.median(v))" "$@"; }
# timed OUT CMD...: wall seconds of one run, its COM1 output to OUT
timed() {
  local out=$1; shift
  local a b rc=0; a=$(now); timeout "$LIMIT" "$@" >"$out" 2>"$out.err" <"${STDIN:-/dev/null}" || rc=$?; b=$(now)
  [ "$rc" = 124 ] && { echo nan; return; }
  python3 -c "print($b - $a)"
}
# QEMU's pc machine as rrvm models it: 32 MiB, no default devices, a Cirrus
# VGA, COM1 on stdout, isa-debug-exit at 0xF4.
QEMU=(qemu-system-x86_64 -machine pc -accel tcg -m 32 -nodefaults -no-reboot -display none -net none
  -vga cirrus -bios "$BIOS" -chardev stdio,id=com1,signal=off -serial chardev:com1
  -device isa-debug-exit,iobase=0xf4,iosize=0x04)

# paced CMD...: CMD with the echo input on stdin, a byte each 50 ms after 2 s.
# QEMU's rr=record loses COM1 input fed all at once (the guest echoed "er"
# of "Hello, rrvm." and waited forever), as if its UART overran; paced, it
# records. The pacing (>= 2.65 s) is part of QEMU's echo record time.
paced() {
  python3 -c "
import sys, time
time.sleep(2)
try:
    for c in open('$ECHO_IN', 'rb').read():
        sys.stdout.buffer.write(bytes([c])); sys.stdout.flush(); time.sleep(0.05)
except BrokenPipeError:
    pass" 2>/dev/null | "$@"
}
export -f paced
export ECHO_IN=$PWD/tests/guests/expected/echo.input

printf "%-13s %-5s %7s %9s %9s %12s %s\n" guest vmm "run s" "record s" "replay s" "trace bytes" "replay output"
for g in ${BENCH_GUESTS:-biosboot echo timer cirrus-lfb biosboot@disk}; do
  IMG=$T/$g.img
  if [ "${g%@disk}" != "$g" ]; then  # GUEST@disk: the image as the primary ATA disk
    cp "$G/${g%@disk}.bin" "$IMG"
    RDEV=(--disk "$IMG")
    # QEMU's record/replay needs blkreplay over a disk (docs/system/replay.rst);
    # blkreplay refuses a read-only node, so the image is a snapshot instead.
    QDEV=(-drive "file=$IMG,if=none,id=img-direct,format=raw,snapshot=on"
          -drive driver=blkreplay,if=none,image=img-direct,id=img-blkreplay
          -device ide-hd,drive=img-blkreplay -boot order=c)
  else  # the floppy, padded to 1.44 MB (QEMU takes a 2 KiB image for 2.88 MB)
    cp "$G/$g.bin" "$IMG" && truncate -s 1474560 "$IMG"
    RDEV=(--floppy "$IMG")
    QDEV=(-drive "file=$IMG,if=floppy,format=raw,readonly=on" -boot order=a)
  fi
  RIN=() QREC=("${QEMU[@]}") QIN=/dev/null
  if [ "${g%@disk}" = echo ]; then
    RIN=(--serial-in "$ECHO_IN") QREC=(bash -c 'paced "$@"' paced "${QEMU[@]}") QIN=$ECHO_IN
  fi
  rr_run=() rr_rec=() rr_rep=() q_run=() q_rec=() q_rep=()
  rr_ok=same q_ok=same
  # Interleaved: one run of every command per round, so load hits all alike.
  for _ in $(seq "$REPEAT"); do
    rr_run+=("$(timed "$T/run.out" "$RRVM" run --backend emu "${RDEV[@]}" "${RIN[@]}")")
    rr_rec+=("$(timed "$T/rec.out" "$RRVM" record --backend emu -o "$T/$g.rrt" "${RDEV[@]}" "${RIN[@]}")")
    rr_rep+=("$(timed "$T/rep.out" "$RRVM" replay --backend emu "$T/$g.rrt")")
    cmp -s "$T/rec.out" "$T/rep.out" || rr_ok=diff
    q_run+=("$(STDIN=$QIN timed "$T/qrun.out" "${QEMU[@]}" "${QDEV[@]}")")
    q_rec+=("$(timed "$T/qrec.out" "${QREC[@]}" "${QDEV[@]}" -icount shift=auto,rr=record,rrfile="$T/$g.qrr")")
    q_rep+=("$(timed "$T/qrep.out" "${QEMU[@]}" "${QDEV[@]}" -icount shift=auto,rr=replay,rrfile="$T/$g.qrr")")
    cmp -s "$T/qrec.out" "$T/qrep.out" && cmp -s "$T/qrec.out" "$T/rec.out" || q_ok=diff
  done
  printf "%-13s %-5s %7s %9s %9s %12s %s\n" "$g" rrvm "$(median "${rr_run[@]}")" "$(median "${rr_rec[@]}")" \
    "$(median "${rr_rep[@]}")" "$(stat -c %s "$T/$g.rrt")" "$rr_ok"
  printf "%-13s %-5s %7s %9s %9s %12s %s\n" "$g" qemu "$(median "${q_run[@]}")" "$(median "${q_rec[@]}")" \
    "$(median "${q_rep[@]}")" "$(stat -c %s "$T/$g.qrr")" "$q_ok"
done
