#!/usr/bin/env bash
# The Linux options' refusals that need no KVM: each one line on stderr and
# its status. (The loader's own bad inputs, which the kvm-only check comes
# before on a host without KVM, are linux_loader_test's.)
# Usage: cli_refusals.sh RRVM RAW_GUEST_IMAGE
set -u
rrvm=$1 guest=$2
fails=0
expect() {  # STATUS PATTERN ARGS...
  local want=$1 pattern=$2; shift 2
  local err; err=$("$rrvm" "$@" 2>&1 >/dev/null); local got=$?
  if [ "$got" != "$want" ] || ! grep -q -- "$pattern" <<<"$err" || [ "$(wc -l <<<"$err")" != 1 ]; then
    echo "FAIL: rrvm $* -> status $got (want $want), stderr: $err"; fails=$((fails + 1))
  else
    echo "ok: rrvm $* -> $got: $err"
  fi
}
# emu cannot run Linux (Unicorn 2.0.1's paging): refused before the kernel is read.
expect 14 "Linux runs on the kvm backend only" run --backend emu --kernel /nonexistent/vmlinuz
expect 14 "Linux runs on the kvm backend only" record --backend emu -o /nonexistent/x.rrt --kernel /nonexistent/vmlinuz
expect 8 "apply to --kernel" run --backend emu --initrd /nonexistent/initrd "$guest"
expect 8 "apply to --kernel" run --backend emu --append quiet "$guest"
expect 8 "exclude each other" run --backend emu --kernel /nonexistent/vmlinuz "$guest"
expect 8 "exclude each other" run --backend emu --kernel /nonexistent/vmlinuz --floppy "$guest"
exit $((fails > 0))
