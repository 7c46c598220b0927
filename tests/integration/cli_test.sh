#!/usr/bin/env bash
# End-to-end tests of the `rrvm` program as a user runs it: exit statuses,
# one-line errors, record -> info/dump/serial/replay, and crash safety (a
# recorder killed with SIGKILL leaves a readable, truncated trace).
# Usage: cli_test.sh RRVM GUEST_DIR EXPECTED_DIR
set -u
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
RRVM=$1 GUESTS=$2 EXPECTED=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# The same after the "rrvm: backend ..." line a run prints first.
one_line_err_after_backend() { [ "$(grep -vc '^rrvm: backend ' "$T/err")" -eq 1 ] && grep -q "$1" "$T/err"; }

# --help everywhere
for sub in "" run record replay info dump serial frames host gdb; do
  check "help $sub" bash -c "'$RRVM' $sub --help >/dev/null"
done
check "frames --help describes --animation" bash -c "'$RRVM' frames --help | grep -q 'animated PNG (APNG)'"

# run: output and the guest's debug-exit status ((0 << 1) | 1 = 1)
s=$(status_of "$RRVM" run --backend emu "$GUESTS/hello.bin")
check "run hello status" [ "$s" = 1 ]
check "run hello output" cmp -s "$T/out" "$EXPECTED/hello.txt"
check "run names the backend" grep -q "backend emu" "$T/err"

# errors: one line, distinct statuses
s=$(status_of "$RRVM" run "$T/missing.bin")
check "missing image status 8" [ "$s" = 8 ]
check "missing image one line naming it" one_line_err "missing.bin"
# The kvm backend needs hardware KVM; `rrvm host --kvm-usable` is the rule.
if ! kvm_line=$("$RRVM" host --kvm-usable); then
  check "host --kvm-usable status 14 when kvm is not usable" [ "$(status_of "$RRVM" host --kvm-usable)" = 14 ]
  s=$(status_of "$RRVM" run --backend kvm "$GUESTS/hello.bin")
  check "kvm unavailable status 14" [ "$s" = 14 ]
  check "kvm unavailable: one line with the way out" one_line_err "use --backend emu, or a host with hardware KVM"
  check "kvm unavailable names what was found" grep -qF "${kvm_line#kvm: not usable: }" "$T/err"
  check "kvm unavailable runs nothing" [ ! -s "$T/out" ]
  s=$(status_of "$RRVM" run "$GUESTS/hello.bin")
  check "auto falls back to emu" [ "$s" = 1 ]
  check "auto says why it took emu" grep -q "backend emu (auto: .*the kvm backend needs hardware KVM" "$T/err"
  if [ -e /sys/module/kvm_pvm ] && [ -c /dev/kvm ]; then
    check "PVM host: the error names PVM" grep -q "kvm_pvm (PVM" "$T/err"
    s=$(status_of env RRVM_ALLOW_UNSUPPORTED_KVM=1 "$RRVM" run --backend kvm "$GUESTS/hello.bin")
    check "opt-in: an unsupported KVM is labelled" grep -q "backend kvm (requested; UNSUPPORTED" "$T/err"
    s=$(status_of env RRVM_ALLOW_UNSUPPORTED_KVM=1 "$RRVM" run "$GUESTS/hello.bin")
    check "opt-in: auto still takes emu" grep -q "backend emu (auto" "$T/err"
  fi
fi
s=$(status_of "$RRVM" host)
check "host status 0" [ "$s" = 0 ]
check "host says which backends work" grep -q "^backend emu: usable" "$T/out"
s=$(status_of "$RRVM" run --backend emu --max-instructions 100000 "$GUESTS/spin.bin")
check "instruction limit status 6" [ "$s" = 6 ]
check "instruction limit message" grep -q "max-instructions" "$T/err"
s=$(status_of "$RRVM" run --backend emu "$GUESTS/triple.bin")
check "triple fault status 4" [ "$s" = 4 ]
check "triple fault message" grep -q "triple" "$T/err"
# The disk fills while recording (a 8 KiB file size limit, its signal ignored
# so the write fails with EFBIG): the recording stops at once with status 16
# and one error line, and the trace replays up to its last whole frame.
s=$(status_of bash -c "ulimit -f 8; trap '' XFSZ; exec '$RRVM' record --backend emu -o '$T/full.rrt' '$GUESTS/bench_io.bin'")
check "full disk: status 16" [ "$s" = 16 ]
check "full disk: one error line naming the trace" [ "$(grep -c '^rrvm: error: cannot write the trace: trace .*full.rrt' "$T/err")" = 1 ]
s=$(status_of "$RRVM" info "$T/full.rrt")
check "full disk: the trace reads as truncated" grep -q "^status: truncated" "$T/out"
s=$(status_of "$RRVM" replay -q "$T/full.rrt")
check "full disk: what was written replays" [ "$s" = 0 ]
check "full disk: replay says it was cut" grep -q "every readable event of a truncated trace" "$T/err"

# Command-line errors: one line, status 8 (CLI11's own statuses are not
# rrvm's); numbers are whole and not negative; --until 0 can be asked for.
for args in "replay --until banana $GUESTS/hello.bin" "replay --until -5 x.rrt" "run --max-instructions -5 x.bin" \
            "run --max-instructions 0 x.bin" "dump --from -1 x.rrt" "frames --at -3 -o d x.rrt" "replay" "nosuchcommand"; do
  s=$(status_of "$RRVM" $args)
  check "command-line error status 8: $args" [ "$s" = 8 ]
  check "command-line error one line: $args" one_line_err "^rrvm: error: "
done

# A backend failure (not a guest action): code fetched from the VGA window,
# which no RAM backs. One line, status 12; recorded, it replays to that end.
printf '\xea\x00\x00\x00\xb0' >"$T/jmpvga.bin"  # jmp far b000:0000
s=$(status_of "$RRVM" run --backend emu "$T/jmpvga.bin")
check "backend error status 12" [ "$s" = 12 ]
check "backend error: one line naming the backend and where" one_line_err_after_backend "emu backend error: emu: .* at CS:EIP b000:00000000"
s=$(status_of "$RRVM" record --backend emu -o "$T/be.rrt" "$T/jmpvga.bin")
check "backend error recorded: status 12" [ "$s" = 12 ]
s=$(status_of "$RRVM" replay -q "$T/be.rrt")
check "a recording that ended in a backend error replays to that end" [ "$s" = 0 ]
check "its replay names the status" grep -q "guest ended with status 12" "$T/err"
s=$(status_of "$RRVM" run --backend emu --mem 12345 "$GUESTS/hello.bin")
check "bad --mem status 8" [ "$s" = 8 ]

# record -> serial / info / dump / replay
s=$(status_of "$RRVM" record --backend emu --serial-in "$EXPECTED/echo.input" -o "$T/echo.rrt" "$GUESTS/echo.bin")
check "record echo status" [ "$s" = 1 ]
cp "$T/out" "$T/echo.live"
s=$(status_of "$RRVM" serial "$T/echo.rrt")
check "serial from trace equals live output" cmp -s "$T/out" "$T/echo.live"
s=$(status_of "$RRVM" info "$T/echo.rrt")
check "info status" [ "$s" = 0 ]
check "info says complete" grep -qi "complete" "$T/out"
check "info gives the recording's wall time" grep -q "recorded in [0-9.]* s" "$T/out"
s=$(status_of "$RRVM" dump --kind exit --json "$T/echo.rrt")
check "dump json parses" python3 -c "import json,sys; [json.loads(l) for l in open('$T/out')]; sys.exit(0 if sum(1 for _ in open('$T/out')) > 10 else 1)"
s=$(status_of "$RRVM" replay --backend emu "$T/echo.rrt")
check "replay status 0" [ "$s" = 0 ]
check "replay prints the guest output" cmp -s "$T/out" "$T/echo.live"
check "replay summary gives replay/record speed" grep -q "recording: [0-9.]* s; replay/record [0-9.]*x" "$T/err"
# On a terminal (a pty from util-linux `script`) replay draws a progress bar,
# and only where the guest's output is at the start of a line.
if command -v script >/dev/null; then
  script -qec "'$RRVM' replay --backend emu '$T/echo.rrt'" /dev/null >"$T/pty" 2>&1
  check "replay on a terminal draws a progress bar" grep -q "replay \[#*" "$T/pty"
  check "progress bar never cuts into a guest line" python3 - "$T/pty" <<'PY'
import re, sys
text = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace')
ok = True
for line in re.split(r'\r?\n', text):
    i = line.find('replay [')
    if i > 0 and line[:i].replace('\r', '').replace('\x1b[K', '') != '':
        ok = False
        print('bar after guest text:', repr(line[:80]))
sys.exit(0 if ok and 'rrvm: replayed ' in text else 1)
PY
fi
s=$(status_of "$RRVM" replay --backend emu --image "$GUESTS/hello.bin" "$T/echo.rrt")
check "replay with another image refused" [ "$s" = 8 ]
check "image mismatch one line" one_line_err "does not match"

# bad traces: one line, status 8, no crash
head -c 100 "$T/echo.rrt" >"$T/short.rrt"
s=$(status_of "$RRVM" info "$T/short.rrt")
check "header-truncated trace rejected" [ "$s" = 8 ]
echo "not a trace" >"$T/junk.rrt"
s=$(status_of "$RRVM" replay "$T/junk.rrt")
check "junk trace rejected" [ "$s" = 8 ]
check "junk trace one line" one_line_err "junk.rrt"
# The format fixture's display frames hold made-up register bytes: `frames`
# refuses them with one line naming the trace and the event.
FIXTURE=$EXPECTED/../../../traces/v1-timer-serial.rrt
s=$(status_of "$RRVM" frames -o "$T/fixture-frames" "$FIXTURE")
check "frames on undecodable display state: status 8" [ "$s" = 8 ]
check "frames error names trace and event" one_line_err "v1-timer-serial.rrt': event [0-9]*: display frame"

# replay --frames: the replayed device's frames, named as `rrvm frames` names
# the frames it rebuilds from the trace alone, are the same pictures
PNG_DECODE="$(dirname "$0")/png_decode.py"
s=$(status_of "$RRVM" record --backend emu -o "$T/lfb.rrt" "$GUESTS/cirrus-lfb.bin")
check "record cirrus-lfb status" [ "$s" = 1 ]
s=$(status_of "$RRVM" replay --backend emu -q --frames "$T/replayed" "$T/lfb.rrt")
check "replay --frames status 0" [ "$s" = 0 ]
check "replay --frames reports frames written" grep -q "frame(s) of .* written to $T/replayed" "$T/err"
s=$(status_of "$RRVM" frames "$T/lfb.rrt" -o "$T/offline")
check "frames status 0" [ "$s" = 0 ]
(cd "$T/replayed" && ls) >"$T/names.replayed"
(cd "$T/offline" && ls) >"$T/names.offline"
check "replay and frames write the same file names" cmp -s "$T/names.replayed" "$T/names.offline"
check "at least 2 frames" [ "$(grep -c '^frame-[0-9]\{6\}\.png$' "$T/names.replayed")" -ge 2 ]
same_pixels() {  # byte-identical, or else the same pixels per the independent decoder
  cmp -s "$1" "$2" || python3 "$PNG_DECODE" "$1" "$2" >/dev/null
}
while read -r f; do
  check "replayed $f = offline $f" same_pixels "$T/replayed/$f" "$T/offline/$f"
done <"$T/names.offline"
first=$(head -n 1 "$T/names.offline")
dims=$(python3 "$PNG_DECODE" "$T/replayed/$first" 2>&1)
check "replayed $first decodes as 640x480 or 800x600 (got $dims)" \
  bash -c "[ '$dims' = 640x480 ] || [ '$dims' = 800x600 ]"
s=$(status_of "$RRVM" replay --backend emu -q --frames "$T/every2" --every 2 "$T/lfb.rrt")
s2=$(status_of "$RRVM" frames "$T/lfb.rrt" -o "$T/offline2" --every 2)
check "replay and frames --every 2 write the same file names" \
  bash -c "[ '$s' = 0 ] && [ '$s2' = 0 ] && diff <(ls '$T/every2') <(ls '$T/offline2') >/dev/null"
s=$(status_of "$RRVM" replay --backend emu -q --frames /proc/forbidden "$T/lfb.rrt")
check "replay --frames uncreatable dir fails with 16 (I/O)" [ "$s" = 16 ]
check "uncreatable dir one line naming it" one_line_err "/proc/forbidden"

# frames --animation: one animated PNG of the frames written as PNGs, checked
# by an independent decoder (Pillow) against those PNGs: frame count, order,
# pixels, canvas (the largest frame; cirrus-lfb goes 640x480 -> 800x600) and
# each frame's delay (guest time to the next frame written).
APNG_CHECK="$(dirname "$0")/apng_check.py"
quiet() { "$@" >/dev/null; }  # stderr stays: it says why a check failed
PY=python3  # the interpreter that has Pillow (setup.sh installs python3-pil)
"$PY" -c 'import PIL' 2>/dev/null || PY=/usr/bin/python3
check "Pillow is installed (python3-pil)" "$PY" -c 'import PIL'
s=$(status_of "$RRVM" frames "$T/lfb.rrt" -o "$T/anim-lfb" --animation "$T/lfb-anim.png")
check "frames --animation status 0" [ "$s" = 0 ]
check "frames --animation reports the animation" grep -q "animation of 2 frame(s) written to $T/lfb-anim.png" "$T/err"
"$RRVM" dump --kind display-frame --json "$T/lfb.rrt" >"$T/lfb-frames.jsonl"
check "cirrus-lfb animation = its PNGs (Pillow)" \
  quiet "$PY" "$APNG_CHECK" "$T/lfb-anim.png" "$T/anim-lfb" "$T/lfb-frames.jsonl"
s=$(status_of "$RRVM" record --backend emu -o "$T/blt.rrt" "$GUESTS/cirrus-blt.bin")
check "record cirrus-blt status" [ "$s" = 1 ]
s=$(status_of "$RRVM" frames "$T/blt.rrt" -o "$T/anim-blt" --every 3 --animation "$T/blt-anim.png")
check "frames --every 3 --animation status 0" [ "$s" = 0 ]
"$RRVM" dump --kind display-frame --json "$T/blt.rrt" >"$T/blt-frames.jsonl"
check "cirrus-blt --every 3 animation = its PNGs (Pillow)" \
  quiet "$PY" "$APNG_CHECK" "$T/blt-anim.png" "$T/anim-blt" "$T/blt-frames.jsonl"
check "cirrus-blt animation has at least 5 different pictures" \
  bash -c "[ \$(md5sum '$T/anim-blt'/*.png | cut -d' ' -f1 | sort -u | wc -l) -ge 5 ]"
# The check itself must notice frames out of order or missing.
cp -r "$T/anim-blt" "$T/swapped"
mv "$T/swapped/frame-000003.png" "$T/swapped/tmp" && mv "$T/swapped/frame-000006.png" "$T/swapped/frame-000003.png"
mv "$T/swapped/tmp" "$T/swapped/frame-000006.png"
check "the animation check notices two frames swapped" \
  bash -c "! '$PY' '$APNG_CHECK' '$T/blt-anim.png' '$T/swapped' '$T/blt-frames.jsonl' >/dev/null 2>&1"
cp -r "$T/anim-blt" "$T/missing" && rm "$T/missing/frame-000009.png"
check "the animation check notices a frame too many" \
  bash -c "! '$PY' '$APNG_CHECK' '$T/blt-anim.png' '$T/missing' '$T/blt-frames.jsonl' >/dev/null 2>&1"
# Errors: one line, status 8, no file left behind.
head -c 5000 "$T/lfb.rrt" >"$T/lfb-head.rrt"  # the header frame only: no events
check "the cut trace has no display frames" bash -c "'$RRVM' info '$T/lfb-head.rrt' | grep -q 'display-frame 0'"
s=$(status_of "$RRVM" frames "$T/lfb-head.rrt" -o "$T/anim-none" --animation "$T/none.png")
check "animation of a trace without display frames fails with 8" [ "$s" = 8 ]
check "no display frames: one line" one_line_err "no display frames"
check "no display frames: no file" [ ! -e "$T/none.png" ]
s=$(status_of "$RRVM" frames "$T/lfb.rrt" -o "$T/anim-bad" --animation /proc/forbidden/a.png)
check "unwritable animation fails with 16 (I/O)" [ "$s" = 16 ]
check "unwritable animation: one line naming it" one_line_err "/proc/forbidden/a.png"
s=$(status_of "$RRVM" frames "$T/lfb.rrt" -o "$T/anim-at" --at 100 --animation "$T/at.png")
check "--animation with --at refused" [ "$s" != 0 ]
# --at before the guest drew anything: says when its first picture comes.
first=$("$RRVM" dump "$T/lfb.rrt" | awk '$2 == "display-frame" { print $1; exit }')
s=$(status_of "$RRVM" frames "$T/lfb.rrt" -o "$T/at-early" --at 0)
check "--at before the first frame: status 0" [ "$s" = 0 ]
check "--at before the first frame: names the first frame's event" \
  grep -q "drawn nothing by event 0 (its first display frame is event $first); no file written" "$T/err"
check "--at before the first frame: no file" [ -z "$(ls "$T/at-early")" ]

# PNGs are encoded on worker threads, and a frame identical to the one before
# reuses its bytes. A reused frame is byte-identical to a fresh encode of the
# same screen (--at writes that one screen alone), and a write that fails on
# a worker is reported on one line naming the file, with status 16 (I/O).
s=$(status_of "$RRVM" frames "$T/blt.rrt" -o "$T/blt-all")
check "frames cirrus-blt (all frames) status 0" [ "$s" = 0 ]
(cd "$T/blt-all" && md5sum frame-*.png) >"$T/blt-all.md5"
dup=$(awk 'prev == $1 { sub(/^frame-0*/, "", $2); sub(/\.png$/, "", $2); print ($2 == "" ? 0 : $2); exit } { prev = $1 }' \
  "$T/blt-all.md5")
check "cirrus-blt has a frame identical to the one before it" [ -n "$dup" ]
if [ -n "$dup" ]; then
  ordinal=$(sed -n "$((dup + 1))p" "$T/blt-frames.jsonl" | python3 -c 'import json, sys; print(json.load(sys.stdin)["ordinal"])')
  s=$(status_of "$RRVM" frames "$T/blt.rrt" -o "$T/blt-at" --at "$ordinal")
  check "reused frame $dup = a fresh encode of its screen (--at $ordinal)" \
    cmp -s "$T/blt-all/$(printf 'frame-%06d.png' "$dup")" "$T/blt-at/$(printf 'frame-%06d.png' "$ordinal")"
fi
# The number of encoder threads changes nothing written: no threads (the
# rendering thread encodes) against three, frame files and animation alike.
s=$(status_of "$RRVM" frames "$T/blt.rrt" -o "$T/blt-j0" --jobs 0 --animation "$T/blt-j0.png")
s2=$(status_of "$RRVM" frames "$T/blt.rrt" -o "$T/blt-j3" --jobs 3 --animation "$T/blt-j3.png")
check "frames --jobs 0 and --jobs 3: status 0" bash -c "[ '$s' = 0 ] && [ '$s2' = 0 ]"
check "frames --jobs 0 = --jobs 3 (every file byte for byte)" diff -r "$T/blt-j0" "$T/blt-j3"
check "frames --jobs 0 = default threads (every file byte for byte)" diff -r "$T/blt-j0" "$T/blt-all"
check "animation --jobs 0 = --jobs 3 (byte for byte)" cmp -s "$T/blt-j0.png" "$T/blt-j3.png"
# A trace damaged in the middle: the frames before the damage are still
# written (those the encoder threads held too), the same as from the whole
# trace, and the error is one line naming the trace.
cp "$T/blt.rrt" "$T/blt-dmg.rrt"
# The byte there inverted (a fixed value could be the one already there).
dmg_at=$(($(stat -c %s "$T/blt.rrt") * 6 / 10))
dmg_was=$(od -An -tu1 -j "$dmg_at" -N1 "$T/blt.rrt" | tr -d ' ')
printf "\\$(printf '%03o' $((255 - dmg_was)))" | dd of="$T/blt-dmg.rrt" bs=1 seek="$dmg_at" conv=notrunc 2>/dev/null
s=$(status_of "$RRVM" frames "$T/blt-dmg.rrt" -o "$T/blt-dmg" --jobs 3)
check "damaged trace: status 8, one line naming it" bash -c "[ '$s' = 8 ] && [ \$(grep -c . '$T/err') = 1 ] && grep -q blt-dmg.rrt '$T/err'"
before=$("$RRVM" dump --kind display-frame "$T/blt-dmg.rrt" 2>/dev/null | grep -c .)
check "damaged trace: all $before frames before the damage written" \
  bash -c "[ '$before' -ge 10 ] && [ \$(ls '$T/blt-dmg' | wc -l) = '$before' ]"
same_as_whole=1
for f in "$T/blt-dmg"/frame-*.png; do cmp -s "$f" "$T/blt-all/$(basename "$f")" || same_as_whole=0; done
check "damaged trace: those frames = the whole trace's" [ "$same_as_whole" = 1 ]
mkdir -p "$T/blt-werr/frame-000005.png"  # a directory where frame 5 goes: its write fails
s=$(status_of "$RRVM" frames "$T/blt.rrt" -o "$T/blt-werr")
check "a failed write on a worker: status 16" [ "$s" = 16 ]
check "a failed write on a worker: one line naming the file" one_line_err "frame-000005.png"
mkdir -p "$T/lfb-werr/frame-000001.png"
s=$(status_of "$RRVM" replay --backend emu -q --frames "$T/lfb-werr" "$T/lfb.rrt")
check "replay --frames, a failed write on a worker: status 16" [ "$s" = 16 ]
check "replay --frames, a failed write on a worker: one line naming the file" one_line_err "frame-000001.png"
mkdir -p "$T/anim-werr/frame-000003.png"
s=$(status_of "$RRVM" frames "$T/blt.rrt" -o "$T/anim-werr" --every 3 --animation "$T/werr-anim.png")
check "frames --animation, a failed write: status 16, one line" \
  bash -c "[ '$s' = 16 ] && [ \$(grep -c . '$T/err') = 1 ] && grep -q frame-000003.png '$T/err'"
check "frames --animation, a failed write: no animation left" [ ! -e "$T/werr-anim.png" ]

# Keyframes: record --keyframe-every N (instructions; 0: none), replay --from
# EVENT starts at the latest keyframe at or before EVENT and replays to the
# end exactly, frames --at EVENT starts drawing at one; bad values are one
# line with status 8.
s=$(status_of "$RRVM" record --backend emu --keyframe-every 2000000 -o "$T/kf.rrt" "$GUESTS/timer.bin")
check "record --keyframe-every: guest status" [ "$s" = 1 ]
check "record --keyframe-every: says how many" grep -q "keyframe(s), one every 2000000 instructions" "$T/err"
s=$(status_of "$RRVM" info "$T/kf.rrt")
nkf=$(sed -n 's/^frames: .* (\([0-9]*\) keyframes)$/\1/p' "$T/out")
check "info counts the keyframes (>= 5)" [ "${nkf:-0}" -ge 5 ]
events=$(sed -n 's/^events: \([0-9]*\).*/\1/p' "$T/out")
s=$(status_of "$RRVM" replay --backend emu -q --from "$((events / 2))" "$T/kf.rrt")
check "replay --from: status 0" [ "$s" = 0 ]
check "replay --from: names the keyframe it starts at" grep -q "^rrvm: replay: starting at keyframe [0-9]* of $nkf: event [0-9]*, icount [0-9]* (for --from $((events / 2)))" "$T/err"
check "replay --from: exact to the end" grep -q "^rrvm: replayed $events events exactly" "$T/err"
s=$(status_of "$RRVM" replay --backend emu -q --from "$((events + 1))" "$T/kf.rrt")
check "replay --from beyond the end: status 8, one line" bash -c "[ '$s' = 8 ] && grep -q 'has only $events events' '$T/err'"
s=$(status_of "$RRVM" replay --backend emu -q --from -1 "$T/kf.rrt")
check "replay --from -1: status 8" [ "$s" = 8 ]
s=$(status_of "$RRVM" record --backend emu --keyframe-every -5 -o "$T/kf-bad.rrt" "$GUESTS/timer.bin")
check "record --keyframe-every -5: status 8" [ "$s" = 8 ]
s=$(status_of "$RRVM" record --backend emu --keyframe-every 0 -o "$T/kf0.rrt" "$GUESTS/timer.bin")
check "record --keyframe-every 0: guest status" [ "$s" = 1 ]
"$RRVM" info "$T/kf0.rrt" >"$T/out" 2>&1
check "--keyframe-every 0 writes no keyframe" grep -q "^frames: .* (0 keyframes)" "$T/out"
s=$(status_of "$RRVM" replay --backend emu -q --from 100 "$T/kf0.rrt")
check "replay --from without keyframes: from the start, status 0" \
  bash -c "[ '$s' = 0 ] && grep -q 'no keyframe at or before event 100.*replaying from the start' '$T/err'"
# frames --at from a keyframe draws what a rebuild from the start draws.
s=$(status_of "$RRVM" record --backend emu --keyframe-every 200000 -o "$T/blt-kf.rrt" "$GUESTS/cirrus-blt.bin")
s=$(status_of "$RRVM" record --backend emu --keyframe-every 0 -o "$T/blt-kf0.rrt" "$GUESTS/cirrus-blt.bin")
bevents=$("$RRVM" info "$T/blt-kf.rrt" | sed -n 's/^events: \([0-9]*\).*/\1/p')
for at in $((bevents / 3)) $((bevents * 9 / 10)); do
  s=$(status_of "$RRVM" frames "$T/blt-kf.rrt" -o "$T/at-kf" --at "$at")
  check "frames --at $at: starts at a keyframe" bash -c "[ '$s' = 0 ] && grep -q '^rrvm: frames: starting at keyframe' '$T/err'"
  s=$(status_of "$RRVM" frames "$T/blt-kf0.rrt" -o "$T/at-kf0" --at "$at")
  check "frames --at $at without keyframes: from the start" grep -q "no keyframe at or before event $at" "$T/err"
  f=$(printf 'frame-%06d.png' "$at")
  check "frames --at $at: the same PNG from a keyframe as from the start" cmp -s "$T/at-kf/$f" "$T/at-kf0/$f"
done
s=$(status_of "$RRVM" frames "$T/blt-kf.rrt" -o "$T/at-end" --at "$((bevents + 1))")
check "frames --at beyond the end: status 8" bash -c "[ '$s' = 8 ] && grep -q 'has only $bevents events' '$T/err'"

# Every ending replays: a recording cut by --max-instructions, one that ended
# halted forever, and one the user interrupted with SIGINT (status 18, a
# complete trace) all replay to the same end with status 0.
s=$(status_of "$RRVM" record --backend emu --max-instructions 100 -o "$T/limit.rrt" "$GUESTS/hello.bin")
check "record to an instruction limit: status 6" [ "$s" = 6 ]
s=$(status_of "$RRVM" replay -q "$T/limit.rrt")
check "an instruction-limit recording replays exactly" [ "$s" = 0 ]
check "its replay names the status" grep -q "guest ended with status 6" "$T/err"
printf abc >"$T/abc.txt"
s=$(status_of "$RRVM" record --backend emu --serial-in "$T/abc.txt" -o "$T/halted.rrt" "$GUESTS/echo.bin")
check "record until halted forever: status 10" [ "$s" = 10 ]
s=$(status_of "$RRVM" replay -q "$T/halted.rrt")
check "a halted-forever recording replays exactly" [ "$s" = 0 ]
for g in halt_cli halt_idle; do
  s=$(status_of "$RRVM" record --backend emu -o "$T/$g.rrt" "$GUESTS/$g.bin")
  check "$g: status 10" [ "$s" = 10 ]
  s=$(status_of "$RRVM" replay "$T/$g.rrt")
  check "$g replays exactly" [ "$s" = 0 ]
  check "$g: nothing after the final hlt ran" bash -c "! grep -q '!' '$T/out'"
done
"$RRVM" record --backend emu -o "$T/int.rrt" "$GUESTS/spin.bin" >/dev/null 2>"$T/int.err" &
pid=$!
for _ in $(seq 300); do
  [ "$(stat -c %s "$T/int.rrt" 2>/dev/null || echo 0)" -gt 50000 ] && break
  sleep 0.1
done
# A second recorder into the same path is refused while the first writes it.
s=$(status_of "$RRVM" record --backend emu -o "$T/int.rrt" "$GUESTS/hello.bin")
check "a second recorder into the same trace: status 16" [ "$s" = 16 ]
check "a second recorder: one line saying another rrvm records there" one_line_err_after_backend "another rrvm is recording into it"
kill -INT $pid
wait $pid
s=$?
check "SIGINT ends a recording with status 18" [ "$s" = 18 ]
check "SIGINT: the recorder says so" grep -q "interrupted by the user (SIGINT)" "$T/int.err"
s=$(status_of "$RRVM" info "$T/int.rrt")
check "an interrupted recording is complete" grep -q "^status: complete" "$T/out"
s=$(status_of "$RRVM" replay -q "$T/int.rrt")
check "an interrupted recording replays exactly to its end" [ "$s" = 0 ]
check "its replay names the status" grep -q "guest ended with status 18" "$T/err"
check "no temporary trace files left" bash -c "! ls -A '$T' | grep -q '^\.'"

# --until stops at the event asked for, or says where and why not.
# (Event 40 of echo's trace is in the middle of what one exit brings.)
for u in 17 40; do
  s=$(status_of "$RRVM" replay -q --until $u "$T/echo.rrt")
  check "--until $u: status 0" [ "$s" = 0 ]
  check "--until $u: at $u as asked, or which event and why" \
    bash -c "grep -q 'stopped at event $u as asked' '$T/err' || grep -q 'stopped at event [0-9]*, not $u as asked (--until): replay stops only between exits' '$T/err'"
  check "--until $u: never claims another event was asked for" bash -c "! grep -q 'stopped at event [0-9]* as asked' '$T/err' || grep -q 'stopped at event $u as asked' '$T/err'"
done

# Outputs that are inputs are refused (same file by device and inode), and
# nothing is written.
cp "$GUESTS/hello.bin" "$T/img.bin"
ln -f "$T/img.bin" "$T/img-link.bin"
s=$(status_of "$RRVM" record --backend emu -o "$T/img-link.bin" "$T/img.bin")
check "-o the guest image: status 8" [ "$s" = 8 ]
check "-o the guest image: one line" one_line_err "is the guest image"
check "-o the guest image: the image is intact" cmp -s "$T/img.bin" "$GUESTS/hello.bin"
s=$(status_of "$RRVM" record --backend emu --serial-in "$T/abc.txt" -o "$T/abc.txt" "$GUESTS/echo.bin")
check "-o the serial input: status 8" [ "$s" = 8 ]
check "-o the serial input: one line" one_line_err "is the --serial-in file"
check "-o the serial input: the input is intact" [ "$(cat "$T/abc.txt")" = abc ]
s=$(status_of "$RRVM" run --backend emu --serial-out "$T/img.bin" "$T/img.bin")
check "--serial-out the guest image: status 8" [ "$s" = 8 ]
check "--serial-out the guest image: the image is intact" cmp -s "$T/img.bin" "$GUESTS/hello.bin"

cp "$T/echo.rrt" "$T/echo-copy.rrt"
s=$(status_of "$RRVM" frames -o "$T/anim-frames" --animation "$T/echo-copy.rrt" "$T/echo-copy.rrt")
check "frames --animation the trace itself: status 8" [ "$s" = 8 ]
check "frames --animation the trace itself: one line" one_line_err "is the trace being read"
check "frames --animation the trace itself: the trace is intact" cmp -s "$T/echo.rrt" "$T/echo-copy.rrt"
# Frame files that are inputs: a trace kept (or linked) under a frame's name
# in the output directory is refused before any frame is written.
mkdir -p "$T/framedir"
cp "$T/lfb.rrt" "$T/framedir/frame-000001.png"
s=$(status_of "$RRVM" frames -o "$T/framedir" "$T/framedir/frame-000001.png")
check "frames -o over the trace (a frame's name): status 8" [ "$s" = 8 ]
check "frames -o over the trace: one line naming the frame file" one_line_err "frame-000001.png' is the trace being read"
check "frames -o over the trace: the trace is intact" cmp -s "$T/lfb.rrt" "$T/framedir/frame-000001.png"
check "frames -o over the trace: no frame written" [ ! -e "$T/framedir/frame-000000.png" ]
ln -f "$T/lfb.rrt" "$T/framedir/frame-000002.png"
cp "$T/lfb.rrt" "$T/lfb-copy.rrt"
s=$(status_of "$RRVM" replay --backend emu -q --frames "$T/framedir" "$T/lfb.rrt")
check "replay --frames over a link to the trace: status 8" [ "$s" = 8 ]
check "replay --frames over a link to the trace: one line" one_line_err "frame-000002.png' is the trace being replayed"
check "replay --frames over a link to the trace: the trace is intact" cmp -s "$T/lfb.rrt" "$T/lfb-copy.rrt"
s=$(status_of "$RRVM" frames -o "$T/anim-dir" --animation "$T/anim-dir/frame-000000.png" "$T/lfb.rrt")
check "frames --animation named as a frame file: status 8" [ "$s" = 8 ]
check "frames --animation named as a frame file: one line" one_line_err "is one of the frame files"

# replay --search-log: a line per point found by a breakpoint search. emu
# counts instructions, so RRVM_SEARCH_LIKE_KVM=1 makes it search as kvm
# must; the timer guest's ticks land inside its compute loop.
"$RRVM" record --backend emu -o "$T/timer.rrt" "$GUESTS/timer.bin" >/dev/null 2>&1
s=$(RRVM_SEARCH_LIKE_KVM=1 status_of "$RRVM" replay --backend emu -q --search-log "$T/search.log" "$T/timer.rrt")
check "replay --search-log: status 0" [ "$s" = 0 ]
points=$(grep -o '[0-9]* point(s) inside guest execution found by breakpoint' "$T/err" | cut -d' ' -f1)
check "replay --search-log: a line per point the summary counts ($points)" \
  bash -c "[ -n '$points' ] && [ '$points' -gt 0 ] && [ \$(grep -vc '^#' '$T/search.log') = '$points' ]"
check "replay --search-log: each line is event, pc, stops" \
  bash -c "! grep -v '^#' '$T/search.log' | grep -Evq '^[0-9]+ 0x[0-9a-f]+ [0-9]+\$'"
cp "$T/timer.rrt" "$T/timer-copy.rrt"
s=$(status_of "$RRVM" replay --backend emu -q --search-log "$T/timer.rrt" "$T/timer.rrt")
check "replay --search-log the trace itself: status 8" [ "$s" = 8 ]
check "replay --search-log the trace itself: one line" one_line_err "is the trace being replayed"
check "replay --search-log the trace itself: the trace is intact" cmp -s "$T/timer.rrt" "$T/timer-copy.rrt"
s=$(status_of "$RRVM" replay --backend emu -q --search-log "$T/no-such-dir/search.log" "$T/timer.rrt")
check "replay --search-log unwritable: status 8" [ "$s" = 8 ]
check "replay --search-log unwritable: one line naming the option" one_line_err "\--search-log: cannot write"

# Images and traces that are no regular file: refused before reading.
s=$(status_of timeout 20 "$RRVM" run --backend emu /dev/zero)
check "run /dev/zero: status 8 at once" [ "$s" = 8 ]
check "run /dev/zero: one line naming it" one_line_err "/dev/zero.*not a regular file"
s=$(status_of timeout 20 "$RRVM" run --backend emu --serial-in /dev/zero "$GUESTS/hello.bin")
check "--serial-in /dev/zero: status 8 at once" [ "$s" = 8 ]
check "--serial-in /dev/zero: one line naming it" one_line_err "/dev/zero is a device"
s=$(status_of "$RRVM" run --backend emu --serial-in /dev/null "$GUESTS/hello.bin")
check "--serial-in /dev/null is the empty input" [ "$s" = 1 ]
s=$(status_of "$RRVM" run --backend emu "$T")
check "run DIR: status 8" [ "$s" = 8 ]
check "run DIR: one line naming the directory" one_line_err "$T.*a directory"
s=$(status_of timeout 20 "$RRVM" replay -q --image /dev/zero "$T/echo.rrt")
check "replay --image /dev/zero: status 8 at once" [ "$s" = 8 ]
check "replay --image /dev/zero: one line" one_line_err "/dev/zero.*not a regular file"

# crash safety: SIGKILL a recorder mid-run
"$RRVM" record --backend emu -o "$T/killed.rrt" "$GUESTS/spin.bin" >/dev/null 2>&1 &
pid=$!
# Kill it once several frames are on disk (at most 60 s), wherever it is.
for _ in $(seq 600); do
  [ "$(stat -c %s "$T/killed.rrt" 2>/dev/null || echo 0)" -gt 200000 ] && break
  sleep 0.1
done
kill -9 $pid
wait $pid 2>/dev/null
s=$(status_of "$RRVM" info "$T/killed.rrt")
check "killed trace opens" [ "$s" = 0 ]
check "killed trace reported truncated" grep -qi "truncated" "$T/out"
s=$(status_of "$RRVM" serial "$T/killed.rrt")
check "killed trace serial readable" grep -q "spin 100" "$T/out"
s=$(status_of "$RRVM" replay --backend emu -q "$T/killed.rrt")
check "killed trace replays to its end" [ "$s" = 0 ]

# Interactive serial input on emu: the guest waits for typed bytes in real
# time instead of racing its virtual clock past them (it used to end halted
# forever after 0.7 s with none of the input).
(sleep 1; printf 'hi\n') | "$RRVM" record --backend emu --serial-in - -o "$T/typed.rrt" "$GUESTS/echo.bin" \
  >"$T/typed.out" 2>"$T/typed.err"
check "typed input: the guest echoed what arrived a second later" grep -qx "hi" "$T/typed.out"
s=$(status_of "$RRVM" replay --backend emu "$T/typed.rrt")
check "typed input: the recording replays exactly" [ "$s" = 0 ]
check "typed input: replay echoes it too" grep -qx "hi" "$T/out"

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
