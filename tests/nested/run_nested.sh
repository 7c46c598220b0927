#!/usr/bin/env bash
# Runs COMMAND where rrvm's kvm backend works and exits with its status.
#
# Where this host has hardware KVM (kvm_intel or kvm_amd: the rule is
# `rrvm host --kvm-usable`, the same function the backend and the kvm tests
# use) it simply execs COMMAND. Otherwise (no /dev/kvm, PVM, an unknown KVM)
# it boots Debian's stock kernel in QEMU's software emulation with an AMD CPU
# model, where kvm_amd loads and /dev/kvm works, and runs COMMAND there:
# chrooted into this host's root (shared read-only over 9p, so binaries run
# with their shared libraries), in the same working directory (shared
# writable, so files written there come back), with the environment variables
# that matter (PATH, HOME, LANG/LC_*, TERM, LD_*, GTEST_*, *SAN_*, RRVM_* and
# the names listed in RRVM_NESTED_ENV). /tmp, /run and /dev/shm inside are
# fresh tmpfs; every other path is read-only.
#
# Usage: run_nested.sh [--probe RRVM] [--timeout SECONDS] [--mem MB] [--quiet] -- COMMAND [ARGS...]
#        run_nested.sh [--probe RRVM] --prepare-only
#   --probe    the rrvm program that decides (default $RRVM_HOST_PROBE, else
#              build/cli/rrvm; without one the harness always boots)
#   --timeout  kill QEMU after this many seconds and exit 124 (default 300)
#   --mem      guest memory in MB (default 3072, or $RRVM_NESTED_MEM: the emu
#              backend reserves a 1 GiB translation buffer inside)
#   --quiet    do not stream the guest console; print its tail on failure
# COMMAND runs with RRVM_REQUIRE_KVM=1: a kvm test that finds no usable kvm
# fails instead of skipping. It prints which path it took and why.
# Environment: RRVM_NESTED_FORCE=1 boots QEMU even where hardware KVM works;
#   RRVM_NESTED_CPU (default EPYC) is QEMU's -cpu; RRVM_NESTED_CACHE see prepare.sh.
# Exit status: COMMAND's; 124 on timeout; 125 when the harness itself failed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${RRVM_NESTED_CACHE:-$repo/.cache/nested}

usage() { sed -n '16,28s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 125; }
harness_fail() { echo "nested: harness failure: $*" >&2; exit 125; }

timeout=300 mem=${RRVM_NESTED_MEM:-3072} quiet=0 prepare_only=0 probe=${RRVM_HOST_PROBE:-}
while (($#)); do
  case $1 in
    --probe) [ -n "${2:-}" ] || usage; probe=$2; shift 2 ;;
    --timeout) [[ ${2:-} =~ ^[0-9]+$ ]] || usage; timeout=$2; shift 2 ;;
    --mem) [[ ${2:-} =~ ^[0-9]+$ ]] || usage; mem=$2; shift 2 ;;
    --quiet) quiet=1; shift ;;
    --prepare-only) prepare_only=1; shift ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
((prepare_only || $#)) || usage

export RRVM_REQUIRE_KVM=1
[ -n "$probe" ] || { [ -x "$repo/build/cli/rrvm" ] && probe=$repo/build/cli/rrvm; }
if [ "${RRVM_NESTED_FORCE:-0}" = 1 ]; then
  why="RRVM_NESTED_FORCE=1"
elif [ -z "$probe" ]; then
  why="no rrvm program to ask whether this host's KVM is usable (pass --probe)"
elif verdict=$("$probe" host --kvm-usable 2>&1); then
  echo "nested: running directly on this host: $verdict" >&2
  ((prepare_only)) && { echo "nested: nothing to prepare" >&2; exit 0; }
  exec "$@"
else
  why=${verdict:-"$probe host --kvm-usable failed"}
fi
echo "nested: booting the nested-KVM harness (QEMU TCG, AMD CPU, kvm_amd inside): $why" >&2

bash "$here/prepare.sh" -q || harness_fail "tests/nested/prepare.sh failed (see above)"
((prepare_only)) && exit 0

# Inside, /tmp, /run and /dev/shm are fresh: a checkout or build there is
# invisible to the command.
for p in "$PWD" "$1"; do
  case "$(realpath -m "$p")" in
    /tmp/* | /run/* | /dev/shm/*)
      harness_fail "$p is under /tmp, /run or /dev/shm, which the nested VM replaces with an empty tmpfs; check out and build elsewhere" ;;
  esac
done

io=$(mktemp -d "${TMPDIR:-/tmp}/rrvm-nested.XXXXXX") || harness_fail "mktemp failed"

# The script the guest's init runs with bash, chrooted into the host root.
{
  printf 'cd -- %q || exit 125\n' "$PWD"
  for name in $(compgen -e); do
    case $name in
      RRVM_NESTED_*) continue ;;
      PATH | HOME | USER | LOGNAME | LANG | LANGUAGE | LC_* | TZ | TERM | LD_LIBRARY_PATH | LD_PRELOAD) ;;
      GTEST_* | ASAN_* | UBSAN_* | LSAN_* | TSAN_* | MSAN_* | RRVM_*) ;;
      *) [[ " ${RRVM_NESTED_ENV:-} " == *" $name "* ]] || continue ;;
    esac
    printf 'export %s=%q\n' "$name" "${!name}"
  done
  printf 'exec'
  printf ' %q' "$@"
  printf '\n'
} >"$io/run.sh"

share_cwd=()
if [ "$PWD" != / ]; then
  echo "$PWD" >"$io/writable_dir"
  share_cwd=(-virtfs "local,path=$PWD,mount_tag=hostcwd,security_model=none,multidevs=remap")
fi

start_ms=$(($(date +%s%N) / 1000000))
timeout --kill-after=5 "$timeout" qemu-system-x86_64 \
  -nodefaults -no-user-config -machine q35 -accel tcg -cpu "${RRVM_NESTED_CPU:-EPYC}" \
  -smp 1 -m "$mem" -display none -no-reboot \
  -kernel "$cache/kernel/vmlinux" -initrd "$cache/initramfs.cpio" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off" \
  -serial "file:$io/console.log" \
  -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
  -virtfs "local,path=$io,mount_tag=nestedio,security_model=none" \
  "${share_cwd[@]}" \
  </dev/null >"$io/qemu.out" 2>&1 &
qemu=$!
trap 'kill -TERM "$qemu" 2>/dev/null; wait "$qemu"; echo "nested: interrupted, QEMU stopped (log: $io)" >&2; exit 130' INT TERM

if ((!quiet)); then
  tail -n +1 -s 0.2 -F --pid="$qemu" "$io/console.log" 2>/dev/null | tr -d '\r' &
  streamer=$!
fi
wait "$qemu"
qemu_rc=$?
((quiet)) || wait "$streamer"
elapsed_ms=$(($(date +%s%N) / 1000000 - start_ms))
elapsed=$((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000)))

show_tail() {
  if ((quiet)); then
    echo "nested: last lines of the guest console ($io/console.log):" >&2
    tail -n 40 "$io/console.log" 2>/dev/null | tr -d '\r' >&2
  fi
  # QEMU warns about every EPYC feature TCG lacks; those are expected noise.
  local said
  said=$(grep -v "TCG doesn't support requested feature" "$io/qemu.out" 2>/dev/null | tail -n 20)
  [ -z "$said" ] || printf 'nested: QEMU said:\n%s\n' "$said" >&2
}

if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
  show_tail
  echo "nested: timed out after $timeout s, QEMU killed (log: $io/console.log)" >&2
  exit 124
fi

status=$(cat "$io/status" 2>/dev/null)
[ -n "$status" ] || status=$(tr -d '\r' <"$io/console.log" 2>/dev/null | sed -n 's/^RRVM-NESTED-EXIT=\([0-9]*\)$/\1/p' | tail -n 1)
if [ -z "$status" ]; then
  show_tail
  harness_fail "the guest ended without reporting a status (QEMU exit $qemu_rc; log: $io)"
fi
if [ "$status" != 0 ]; then
  show_tail
  echo "nested: command failed with status $status after ${elapsed} s (log: $io/console.log)" >&2
  exit "$status"
fi
((quiet)) || echo "nested: QEMU boot to power-off took ${elapsed} s" >&2
rm -rf "$io"
exit 0
