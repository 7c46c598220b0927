#!/usr/bin/env bash
# The README main command (scripts/demo.sh) must keep working: run its steps
# against this build (setup skipped) into a scratch folder and check what it
# promises: exit 0, frame PNGs and the animated PNG.
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
exit $fail
