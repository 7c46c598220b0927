#!/usr/bin/env bash
# Time-travel debugging as a user does it: Debian's real gdb against
# `rrvm gdb` on recorded guests. A breakpoint and continue; reverse-stepi
# lands on the previous instruction with the previous registers (compared
# with the forward single-step log); reverse-continue stops at the previous
# hit of a breakpoint in an interrupt handler; a write watchpoint with
# reverse-continue finds the store that corrupted the racy guest's counter;
# both ends of the trace report replaylog and the session goes on; writes
# are refused; monitor commands; Ctrl-C stops a continue.
# BACKEND (emu by default) is the one `rrvm gdb` replays on: kvm counts
# instructions by single-stepping, so there the traces are short ones (the
# emu recording of racy, and a kvm recording of timer_short) and read
# watchpoints are refused; the kvm run goes through the nested harness.
# Usage: gdb_test.sh RRVM GUEST_DIR PNG_DECODE [BACKEND]
set -u
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
RRVM=$1 GUESTS=$2 PNG_DECODE=$3 BACKEND=${4:-emu}
# kvm: a checkpoint every 2,000 single steps (~1 s nested), so that going
# back costs about that; gdb waits for the slow replies.
server_args=() gdb_setup="set remotetimeout 120"
[ "$BACKEND" = kvm ] && server_args=(--checkpoint-interval 2000)
T=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
command -v gdb >/dev/null || { echo "gdb_test: gdb is not installed (scripts/setup.sh installs it)"; exit 1; }

# The racy guest: the timer handler clobbers AL; a tick between the load and
# the store of the shared counter corrupts it, and the guest says so.
"$RRVM" record --backend emu -o "$T/racy.rrt" "$GUESTS/racy.bin" >"$T/record.out" 2>"$T/record.err"
check "racy records the corruption (status 7)" [ $? = 7 ]
found=$(grep -o 'found 0x[0-9A-F]*' "$T/record.out" | cut -d' ' -f2)
check "racy printed the corrupted value" [ -n "$found" ]

# start_server TRACE: rrvm gdb on a free port; sets $port. The previous
# server's stderr is removed first: the background child truncates it only
# once it runs, and under load the port read here was the old server's.
start_server() {
  rm -f "$T/server.err"
  "$RRVM" gdb --backend "$BACKEND" "${server_args[@]}" --port 0 "$1" >"$T/server.out" 2>"$T/server.err" &
  server=$!
  port=
  for _ in $(seq 400); do
    port=$(grep -o 'target remote 127.0.0.1:[0-9]*' "$T/server.err" 2>/dev/null | cut -d: -f2)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ]
}
# wait_server GDB_STATUS: the server ends when gdb detaches; when gdb failed
# it may never have connected, so the server is stopped rather than awaited.
wait_server() {
  [ "$1" = 0 ] || kill "$server" 2>/dev/null
  wait "$server"
  local s=$?
  server=
  [ "$1" = 0 ] && return $s
  return "$1"
}
# run_gdb NAME: gdb -batch on $T/NAME.gdb (the target line prepended).
run_gdb() {
  { echo "set pagination off"; echo "set confirm off"; echo "$gdb_setup"; echo "target remote 127.0.0.1:$port"; cat "$T/$1.gdb"; } >"$T/$1.full"
  timeout 300 gdb -nx -batch -x "$T/$1.full" >"$T/$1.log" 2>&1
  wait_server $?
}

# --- stepping forward and back, breakpoints in the interrupt handler --------
cat >"$T/steps.gdb" <<'G'
monitor goto icount 2000
maintenance flush register-cache
echo STEP0\n
info registers
stepi
echo STEP1\n
info registers
stepi
echo STEP2\n
info registers
stepi
echo STEP3\n
info registers
reverse-stepi
echo BACK2\n
info registers
reverse-stepi
echo BACK1\n
info registers
reverse-stepi
echo BACK0\n
info registers
echo END-OF-STEPS\n
set $handler = *(unsigned short *)0x80 + (*(unsigned short *)0x82 << 4)
printf "HANDLER 0x%x\n", $handler
break *$handler
continue
printf "HIT1 pc 0x%x\n", $pc
monitor when
continue
printf "HIT2 pc 0x%x\n", $pc
monitor when
reverse-continue
printf "BACK-HIT pc 0x%x\n", $pc
monitor when
delete
monitor goto icount 0
maintenance flush register-cache
reverse-stepi
echo AFTER-BEGIN\n
stepi
printf "STEPPED pc 0x%x\n", $pc
monitor frame FRAME_PATH
monitor checkpoints
monitor bogus
set $eax = 1
G
cat >"$T/writes.gdb" <<'G'
set *(unsigned char *)0x600 = 1
G
sed -i "s|FRAME_PATH|$T/screen.png|" "$T/steps.gdb"
check "rrvm gdb starts and prints the target remote line" start_server "$T/racy.rrt"
run_gdb steps  # ends with the refused register write (gdb -batch stops there)
L=$T/steps.log
# The registers printed after a label (not gdb's "0x... in ?? ()" lines).
block() { sed -n "/^$1\$/,/^[A-Z0-9-]*[0-9A-Z]\$/p" "$L" | sed '1d;$d' | grep -v '^0x'; }
for i in 0 1 2; do
  block "STEP$i" >"$T/f$i"
  block "BACK$i" >"$T/b$i"
  check "reverse-stepi to step $i: the same registers as going forward" \
    bash -c "[ -s '$T/f$i' ] && cmp -s '$T/f$i' '$T/b$i'"
done
check "a forward step changes eip" bash -c "! cmp -s <(grep ^eip '$T/f0') <(grep ^eip '$T/f1')"
handler=$(sed -n 's/^HANDLER //p' "$L")
check "breakpoint hit in the handler" grep -q "^HIT1 pc $handler\$" "$L"
check "the second hit there too" grep -q "^HIT2 pc $handler\$" "$L"
when() { grep -A1 "^$1 pc" "$L" | sed -n 2p; }
check "the hits are at different points, just after an interrupt delivery" \
  bash -c "[ '$(when HIT1)' != '$(when HIT2)' ] && [ \$(grep -c 'just after an interrupt delivery' '$L') -ge 2 ]"
check "reverse-continue stops at the previous hit (the first)" \
  bash -c "[ -n '$(when HIT1)' ] && [ '$(when BACK-HIT)' = '$(when HIT1)' ] && grep -q '^BACK-HIT pc $handler\$' '$L'"
check "reverse-stepi at the start: no more history" grep -q "No more reverse-execution history" "$L"
check "the session goes on after the start" grep -q "^STEPPED pc 0x7c01\$" "$L"
check "register write refused" grep -q 'Could not write register "eax"' "$L"
check "rrvm gdb starts for the memory write" start_server "$T/racy.rrt"
run_gdb writes
check "memory write refused" grep -q "Cannot access memory at address 0x600" "$T/writes.log"
check "rrvm says why it refused" grep -q "refused a memory write: a replay cannot be changed" "$T/server.err"
check "monitor frame writes a PNG that decodes" bash -c "python3 '$PNG_DECODE' '$T/screen.png' | grep -q '^[0-9]*x[0-9]*\$'"
check "monitor checkpoints lists the start" grep -q "icount 0 event 0" "$L"
check "an unknown monitor command says so" grep -q "unknown monitor command 'bogus'" "$L"

# --- the corrupting write, found backwards from the end ----------------------
cat >"$T/watch.gdb" <<'G'
continue
echo AT-END\n
monitor when
watch *(unsigned short *)0x600
reverse-continue
echo FOUND\n
x/i $pc
printf "AX 0x%x\n", $ax
reverse-stepi
x/i $pc
printf "AX-BEFORE 0x%x\n", $ax
stepi
stepi
printf "AFTER-WRITE 0x%x\n", *(unsigned short *)0x600
continue
echo PAST-END\n
monitor when
reverse-stepi
monitor when
detach
G
check "rrvm gdb starts again" start_server "$T/racy.rrt"
check "gdb session (watch) ends cleanly" run_gdb watch
L=$T/watch.log
check "continue runs to the end: no more history" bash -c "grep -B3 '^AT-END' '$L' | grep -q 'No more reverse-execution history'"
check "at the end, monitor when says so" grep -A1 '^AT-END' "$L" | grep -q "the end of the trace"
check "reverse-continue with the watchpoint stops at the store" \
  bash -c "grep -A1 '^FOUND' '$L' | grep -q 'mov *%ax,0x600'"
check "the store writes the corrupted value ($found)" grep -qi "^AX $found\$" "$L"
check "one step before: the increment of AX holding the handler's AL" \
  bash -c "grep -A2 '^AX 0x' '$L' | grep -q 'inc *%ax' && grep -qi '^AX-BEFORE 0x..20\$' '$L'"
check "forward again over the store: memory holds the corrupted value" grep -qi "^AFTER-WRITE $found\$" "$L"
check "continue past the end: no more history, the session goes on" \
  bash -c "grep -B3 '^PAST-END' '$L' | grep -q 'No more reverse-execution history' && [ \$(grep -c '^event ' '$L') -ge 3 ]"

# --- Ctrl-C during a continue ------------------------------------------------
# bench_compute computes 160 M instructions without an exit (emu: ~0.5 s);
# on kvm's single steps racy's ~90,000 take seconds. gdb gets SIGINT once it
# is inside `continue`, sends 0x03, and the server stops there.
if [ "$BACKEND" = emu ]; then
  "$RRVM" record --backend emu -o "$T/compute.rrt" "$GUESTS/bench_compute.bin" >/dev/null 2>&1
  long_trace=$T/compute.rrt long_icount=160000000 settle=0.1
else
  long_trace=$T/racy.rrt settle=1
  long_icount=$(grep -A1 '^AT-END' "$T/watch.log" | grep -o 'icount [0-9]*' | cut -d' ' -f2)
fi
cat >"$T/interrupt.gdb" <<'G'
echo CONTINUING\n
continue
echo INTERRUPTED\n
monitor when
reverse-stepi
echo BACK\n
monitor when
G
# On to the end again (on kvm that is another ~45 s pass nested: the watch
# session above already ran racy to its end there).
[ "$BACKEND" = emu ] && printf 'continue\necho RESUMED\nmonitor when\n' >>"$T/interrupt.gdb"
echo detach >>"$T/interrupt.gdb"
check "rrvm gdb starts on the long trace" start_server "$long_trace"
{ echo "set pagination off"; echo "set confirm off"; echo "$gdb_setup"; echo "target remote 127.0.0.1:$port"; cat "$T/interrupt.gdb"; } >"$T/interrupt.full"
# --foreground: timeout passes the SIGINT to gdb alone (without it, to its
# whole process group as well: gdb got two, and a second Ctrl-C gives up).
timeout --foreground 120 gdb -nx -batch -x "$T/interrupt.full" >"$T/interrupt.log" 2>&1 &
gdb_pid=$!
for _ in $(seq 400); do grep -q '^CONTINUING' "$T/interrupt.log" && break; sleep 0.05; done
sleep "$settle"  # gdb has sent the continue; the replay runs a while more
kill -INT "$gdb_pid"
wait "$gdb_pid"
gdb_status=$?
check "gdb session (interrupt) ends cleanly" [ $gdb_status = 0 ]
wait_server $gdb_status
L=$T/interrupt.log
check "Ctrl-C stops the continue with SIGINT" bash -c "grep -B2 '^INTERRUPTED' '$L' | grep -q 'received signal SIGINT'"
at=$(grep -A1 '^INTERRUPTED' "$L" | grep -o 'icount [0-9]*' | cut -d' ' -f2)
check "it stopped inside the run (icount $at of $long_icount)" \
  bash -c "[ -n '$at' ] && [ -n '$long_icount' ] && [ '$at' -gt 0 ] && [ '$at' -lt '$long_icount' ]"
back=$(grep -A1 '^BACK' "$L" | grep -o 'icount [0-9]*' | cut -d' ' -f2)
check "reverse-stepi from there goes one instruction back" [ "$back" = "$((at - 1))" ]
[ "$BACKEND" = emu ] && check "continue after it runs to the end" bash -c "grep -A1 '^RESUMED' '$L' | grep -q 'the end of the trace'"

if [ "$BACKEND" = kvm ]; then
  # --- kvm only: what single-stepping cannot do is refused, not faked -------
  cat >"$T/rwatch.gdb" <<'G'
monitor when
rwatch *(unsigned short *)0x600
continue
G
  check "rrvm gdb starts for the read watchpoint" start_server "$T/racy.rrt"
  run_gdb rwatch
  check "kvm: the server says it replays on kvm by single steps" grep -q "replaying on kvm, single-stepping" "$T/server.err"
  check "kvm: a read watchpoint is refused" grep -Eq "Could not insert hardware watchpoint|does not support this type of hardware watchpoint" "$T/rwatch.log"
  check "kvm: the refused watchpoint ran nothing" bash -c "! grep -q 'No more reverse-execution history' '$T/rwatch.log'"
fi

echo "gdb_test: $pass passed, $fail failed"
[ "$fail" = 0 ]
