#!/usr/bin/env bash
# The README main command (scripts/demo.sh) must keep working: run its steps
# against this build (setup skipped) into a scratch folder and check what it
# promises: exit 0, frame PNGs and the animated PNG, for the raw guest and
# for its firmware boot (whose first screens show the SeaBIOS banner, read
# off the PNG's text-mode glyphs by text_screen_check.py).
# Usage: demo_test.sh SOURCE_DIR BUILD_DIR
set -u
SRC=$1 BUILD=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
RRVM_DEMO_SKIP_SETUP=1 RRVM_DEMO_BUILD=$BUILD RRVM_DEMO_OUT=$T bash "$SRC/scripts/demo.sh" >"$T/log" 2>&1
rc=$?
fail=0
[ "$rc" = 0 ] || { echo "FAIL: demo.sh exited $rc"; tail -5 "$T/log"; fail=1; }
grep -q "replayed .* events exactly" "$T/log" || { echo "FAIL: no exact replay in the demo"; fail=1; }
ls "$T"/frames/frame-*.png >/dev/null 2>&1 || { echo "FAIL: no frame PNGs"; fail=1; }
[ -s "$T/frames.png" ] || { echo "FAIL: no animated PNG"; fail=1; }
[ "$(grep -c "replayed .* events exactly" "$T/log")" = 2 ] || { echo "FAIL: the firmware boot did not replay exactly"; fail=1; }
grep -qx "Booting from Floppy..." "$T/log" || { echo "FAIL: no SeaBIOS boot line in the demo"; fail=1; }
[ -s "$T/firmware-frames.png" ] || { echo "FAIL: no animated PNG of the firmware boot"; fail=1; }
python3 "$SRC/tests/integration/text_screen_check.py" --first "$T"/firmware-frames/*.png -- 1,0 \
  "SeaBIOS (version 1.16.2-debian-1.16.2-1)" || { echo "FAIL: no SeaBIOS banner among the firmware frames"; fail=1; }
exit $fail
