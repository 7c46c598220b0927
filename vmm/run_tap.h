// Taps on the run loop: observers of what crosses the vCPU boundary (the
// recorder logs it, the replayer checks it against the trace, the display
// sampler and progress reports watch it). What enters the guest is decided
// by the machine's one InputAuthority (vmm/input_authority.h), never by a
// tap. Devices never see taps.
//
// Positions. Everything that enters the guest happens at a Position:
//  - an exit boundary: after `exit_ordinal` guest-caused exits (port I/O,
//    MMIO, HLT, IRQ window) were handled, before the next entry;
//  - an asynchronous point inside guest execution (a timer deadline reached
//    while the guest computes): `async` is set; on emu `icount` says exactly
//    where; on kvm the point is a kick, identified by the registers there.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "vmm/registers.h"
#include "vmm/vcpu.h"

namespace rrvm {

enum class StopReason : uint8_t {
  DebugExit,         // the guest wrote the debug-exit port
  Shutdown,          // triple fault
  InstructionLimit,  // --max-instructions reached
  HaltedForever,     // hlt with nothing that could ever wake the guest
  BackendError,      // the vCPU backend failed
  TapRequest,        // a tap asked to stop (replay --until, divergence, end of trace)
  Interrupted,       // the user interrupted the run (SIGINT), at an exit boundary
};

const char* stop_reason_name(StopReason r);

struct RunResult {
  StopReason reason = StopReason::BackendError;
  int exit_status = 0;  // process exit status rrvm should end with
  std::string message;  // one line for the user
  uint64_t exits = 0;   // guest-caused exits handled
  uint64_t interrupts = 0;
};

struct Position {
  uint64_t exit_ordinal = 0;       // guest-caused exits handled before this point
  std::optional<uint64_t> icount;  // instructions retired (emu)
  bool async = false;              // inside guest execution, not at an exit
  bool operator==(const Position&) const = default;
};

class RunTap {
 public:
  virtual ~RunTap() = default;
  // Every guest-caused exit, in order, before it is dispatched.
  virtual void on_exit(const Position& /*pos*/, const Exit& /*exit*/) {}
  // A read exit was answered: the guest receives `value` (what the input
  // authority decided, after the device answered).
  virtual void on_read(const Position& /*pos*/, const Exit& /*exit*/, uint64_t /*value*/) {}
  // Timed devices were brought up to guest time `now_ns` at `pos`.
  virtual void on_service(const Position& /*pos*/, uint64_t /*now_ns*/, const Registers* /*async_regs*/) {}
  // A device read the clock while handling the exit at `pos`.
  virtual void on_clock_read(const Position& /*pos*/, uint64_t /*now_ns*/) {}
  // A patched TSC read (vmm/tsc_sites.h) at the exit at `pos` gave the guest
  // `value` (after on_exit of that exit).
  virtual void on_tsc_read(const Position& /*pos*/, uint64_t /*value*/) {}
  // An external interrupt with `vector` was injected at `pos`. `async_regs` is
  // the CPU state when the point is asynchronous (null at exit boundaries).
  virtual void on_interrupt(const Position& /*pos*/, uint8_t /*vector*/, const Registers* /*async_regs*/) {}
  // A byte of serial input entered the guest's UART.
  virtual void on_serial_input(uint8_t /*byte*/) {}
  // Checked after each exit: a tap may stop the run (fills message/status).
  virtual bool wants_stop(RunResult* /*result*/) { return false; }
  // The vCPU is at an instruction boundary at the top of the run loop, before
  // anything else happens at `pos` (a snapshot can be taken now). Returning
  // true pauses the run here (Machine::run_until_pause returns).
  virtual bool on_boundary(const Position& /*pos*/) { return false; }
  // An interrupt was just delivered at `pos` and the vCPU stands at its
  // handler's first instruction (backends that deliver at once: emu). A
  // state of its own at the same position; true pauses here too.
  virtual bool on_interrupt_boundary(const Position& /*pos*/) { return false; }
  // The vCPU stopped for a debugger (a breakpoint or watchpoint it was given,
  // or a single step): `exit` is the Debug exit.
  virtual void on_debug(const Position& /*pos*/, const Exit& /*exit*/) {}
  virtual void on_stop(const Position& /*pos*/, const RunResult& /*result*/) {}
};

}  // namespace rrvm
