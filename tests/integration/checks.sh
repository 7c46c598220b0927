# Sourced by the integration test scripts: counting checks, capturing a
# command's status and output, and the skip for hosts without SeaBIOS.
# Needs $T, the script's temporary directory, for status_of/one_line_err.
pass=0 fail=0
check() {  # check NAME CONDITION-COMMAND...
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name"; fi
}
status_of() { "$@" >"$T/out" 2>"$T/err"; echo $?; }  # stdout, stderr into $T/out, $T/err
one_line_err() { [ "$(grep -c . "$T/err")" -eq 1 ] && grep -q "$1" "$T/err"; }
require_seabios() {  # exits 77 (ctest's skip) without Debian's seabios package
  if [ ! -f /usr/share/seabios/bios.bin ] || [ ! -f /usr/share/seabios/vgabios-cirrus.bin ]; then
    echo "SKIP: Debian's seabios package is not installed"
    exit 77
  fi
}
