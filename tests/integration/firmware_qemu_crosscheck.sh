#!/usr/bin/env bash
# The same floppy images boot through the same SeaBIOS (Debian's bios.bin)
# and Cirrus VGA BIOS under QEMU's pc machine (TCG) and under `rrvm run
# --backend emu --floppy`, and give the same guest output on COM1 and the
# debug console (0xE9), the same exit status (isa-debug-exit at 0xF4: both
# exit with (value << 1) | 1), and the same boot path in SeaBIOS's debug log
# (port 0x402). Only deterministic output is compared: the guests' own text,
# and from the SeaBIOS log the lines that name the boot path, not the ones
# that differ by design (QEMU's pc machine has a PM timer, an APIC and the
# kvmvapic option ROM; rrvm's platform has none of them).
# Usage: firmware_qemu_crosscheck.sh RRVM GUEST_DIR EXPECTED_DIR
set -u
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
RRVM=$1 GUESTS=$2 EXPECTED=$3
BIOS=/usr/share/seabios/bios.bin
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
  echo "SKIP: qemu-system-x86_64 is not installed"
  exit 77
fi
require_seabios
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# The boot path in a SeaBIOS log: its banners (the first one and the one
# after relocation), the option ROM scans, the VGA BIOS run at C000, the
# int 19h entry and what it booted (or why it failed).
boot_path() {
  grep -E '^(SeaBIOS \(version|Scan for (VGA )?option rom|Running option rom at c000:|enter handle_19:|Booting from |Boot failed)' "$1"
}

# qemu_run NAME IMAGE INPUT: QEMU's pc machine as rrvm models it (32 MiB, no
# default devices, a Cirrus VGA, COM1, the floppy first). COM1 is QEMU's
# stdio, fed from INPUT, as tests/guests/qemu_crosscheck.cpp does.
qemu_run() {
  local name=$1 img=$2 in=$3
  timeout 20 qemu-system-x86_64 -machine pc -accel tcg -m 32 -nodefaults -no-reboot -display none \
    -vga cirrus -bios "$BIOS" -drive "file=$img,if=floppy,format=raw,readonly=on" -boot order=a \
    -chardev stdio,id=com1,signal=off -serial chardev:com1 \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 -debugcon "file:$T/$name.qemu.debugcon" \
    -chardev "file,id=seabios,path=$T/$name.qemu.bioslog" -device isa-debugcon,iobase=0x402,chardev=seabios \
    <"$in" >"$T/$name.qemu.serial" 2>"$T/$name.qemu.err"
  echo $?
}
rrvm_run() {
  local name=$1 img=$2 in=$3
  timeout 60 "$RRVM" run --backend emu --floppy "$img" --serial-in "$in" \
    --serial-out "$T/$name.rrvm.serial" --debugcon-out "$T/$name.rrvm.debugcon" \
    --bios-log "$T/$name.rrvm.bioslog" 2>"$T/$name.rrvm.err"
  echo $?
}

# crosscheck NAME IMAGE INPUT: both boot the image padded to a 1.44 MB
# floppy (rrvm pads shorter images itself; QEMU would take a 2 KiB image
# for a 2.88 MB medium and report 36 sectors per track).
crosscheck() {
  local name=$1 img=$T/$1.img in=$3
  cp "$2" "$img" && truncate -s 1474560 "$img"
  local qs rs failed_before=$fail
  qs=$(qemu_run "$name" "$img" "$in")
  rs=$(rrvm_run "$name" "$img" "$in")
  check "$name: QEMU exit status $qs is the debug exit's (0 << 1) | 1" [ "$qs" = 1 ]
  check "$name: rrvm exit status $rs is QEMU's $qs" [ "$rs" = "$qs" ]
  check "$name: COM1 output is not empty" [ -s "$T/$name.qemu.serial" ]
  check "$name: COM1 output identical" cmp "$T/$name.qemu.serial" "$T/$name.rrvm.serial"
  check "$name: debug console (0xE9) identical" cmp "$T/$name.qemu.debugcon" "$T/$name.rrvm.debugcon"
  boot_path "$T/$name.qemu.bioslog" >"$T/$name.qemu.path"
  boot_path "$T/$name.rrvm.bioslog" >"$T/$name.rrvm.path"
  check "$name: SeaBIOS booted from the floppy (QEMU)" grep -qx "Booting from Floppy..." "$T/$name.qemu.path"
  check "$name: SeaBIOS boot path identical" cmp "$T/$name.qemu.path" "$T/$name.rrvm.path"
  if [ "$fail" != "$failed_before" ]; then
    for f in "$T/$name".*.{serial,path,err}; do echo "--- $f"; head -40 "$f"; done
  fi
}

crosscheck biosboot "$GUESTS/biosboot.bin" /dev/null
check "biosboot: finished" grep -qx "biosboot: done" "$T/biosboot.rrvm.serial"
crosscheck hello "$GUESTS/hello.bin" /dev/null
check "hello: as specified" cmp "$T/hello.rrvm.serial" "$EXPECTED/hello.txt"
crosscheck echo "$GUESTS/echo.bin" "$EXPECTED/echo.input"
check "echo: as specified" cmp "$T/echo.rrvm.serial" "$EXPECTED/echo.txt"
crosscheck timer "$GUESTS/timer.bin" /dev/null
check "timer: as specified" cmp "$T/timer.rrvm.serial" "$EXPECTED/timer.txt"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
