#!/usr/bin/env bash
# The README test command: sets everything up, builds the normal and the
# ASan/UBSan configurations, and runs the whole suite in both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== tests (RelWithDebInfo) =="
# Tests labelled "slow" (the nested Linux boot, ~15 minutes) run only with
# RRVM_TEST_SLOW=1.
slow=(-LE slow)
[ "${RRVM_TEST_SLOW:-0}" = 1 ] && slow=()
ctest --test-dir build --output-on-failure -j2 --timeout 900 "${slow[@]}"
echo "== tests (ASan + UBSan) =="
# Without the nested kvm tests, and without the trace fuzzer (label fuzz):
# that is its own clang build with ASan and UBSan whatever the build around
# it, so here it would build and run the same program a second time.
ctest --test-dir build-asan --output-on-failure -j2 --timeout 900 -LE 'nested|fuzz|slow'
