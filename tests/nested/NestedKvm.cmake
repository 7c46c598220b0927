# add_kvm_test(NAME <name> COMMAND <cmd> [args...] [TIMEOUT <seconds>])
#
# Registers a ctest (label "nested") that runs <cmd> where the kvm backend
# works: directly when this host has hardware KVM (`rrvm host --kvm-usable`
# decides, the rule the backend itself follows), otherwise inside QEMU's
# software emulation with an AMD CPU via tests/nested/run_nested.sh, where
# Debian's stock kvm_amd provides /dev/kvm. If <cmd> is a target name it is
# replaced by the target's file. The kernel download (once, ~70 MB) runs as
# the fixture test "nested_prepare", so it never eats into a test's TIMEOUT.
# One QEMU boot costs ~6 s and every exit is ~50x slower than on hardware:
# prefer one add_kvm_test per test binary over one per test case.
include_guard(GLOBAL)

set(RRVM_RUN_NESTED "${CMAKE_CURRENT_LIST_DIR}/run_nested.sh"
    CACHE INTERNAL "tests/nested/run_nested.sh")

function(_rrvm_add_nested_prepare_fixture)
  if(NOT TEST nested_prepare)
    add_test(NAME nested_prepare COMMAND "${RRVM_RUN_NESTED}" --probe $<TARGET_FILE:rrvm> --prepare-only)
    set_tests_properties(nested_prepare PROPERTIES
      LABELS nested FIXTURES_SETUP nested_kernel TIMEOUT 900)
  endif()
endfunction()

function(add_kvm_test)
  cmake_parse_arguments(PARSE_ARGV 0 ARG "" "NAME;TIMEOUT" "COMMAND")
  if(NOT ARG_NAME OR NOT ARG_COMMAND)
    message(FATAL_ERROR "add_kvm_test: NAME and COMMAND are required")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "add_kvm_test(${ARG_NAME}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  list(POP_FRONT ARG_COMMAND program)
  if(TARGET ${program})
    set(program "$<TARGET_FILE:${program}>")
  endif()
  _rrvm_add_nested_prepare_fixture()
  add_test(NAME ${ARG_NAME}
           COMMAND "${RRVM_RUN_NESTED}" --probe $<TARGET_FILE:rrvm> --timeout ${ARG_TIMEOUT}
                   -- ${program} ${ARG_COMMAND})
  # ctest's own limit leaves room for the harness to stop QEMU and say why.
  math(EXPR ctest_timeout "${ARG_TIMEOUT} + 30")
  set_tests_properties(${ARG_NAME} PROPERTIES
    LABELS nested FIXTURES_REQUIRED nested_kernel TIMEOUT ${ctest_timeout})
endfunction()
