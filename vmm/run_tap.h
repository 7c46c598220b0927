// Taps on the run loop: the recorder and the replayer observe (and, for the
// replayer, decide) what crosses the vCPU boundary. Devices never see taps.
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
  // A read exit: the device answered `device_value`; the return value is what
  // the guest receives (the recorder passes it through; the replayer answers
  // from the trace and compares).
  virtual uint64_t on_read(const Position& /*pos*/, const Exit& /*exit*/, uint64_t device_value) {
    return device_value;
  }
  // Timed devices were brought up to guest time `now_ns` at `pos`.
  virtual void on_service(const Position& /*pos*/, uint64_t /*now_ns*/, const Registers* /*async_regs*/) {}
  // A device read the clock while handling the exit at `pos`.
  virtual void on_clock_read(const Position& /*pos*/, uint64_t /*now_ns*/) {}
  // An external interrupt with `vector` was injected at `pos`. `async_regs` is
  // the CPU state when the point is asynchronous (null at exit boundaries).
  virtual void on_interrupt(const Position& /*pos*/, uint8_t /*vector*/, const Registers* /*async_regs*/) {}
  // Checked after each exit: a tap may stop the run (fills message/status).
  virtual bool wants_stop(RunResult* /*result*/) { return false; }
  virtual void on_stop(const Position& /*pos*/, const RunResult& /*result*/) {}
};

// Where the replayer needs the run loop to stop next.
struct AsyncTarget {
  uint64_t exit_ordinal = 0;
  std::optional<uint64_t> icount;  // exact when the trace and the backend count instructions
  Registers regs;                  // otherwise: stop where the CPU state equals this
};

// The replayer, when present, decides everything that enters the guest
// besides the guest's own code: time, timer service points and injections.
class InputAuthority {
 public:
  virtual ~InputAuthority() = default;
  // The trace's next asynchronous point, if it lies at the current exit ordinal.
  virtual std::optional<AsyncTarget> next_async_target(uint64_t exit_ordinal) = 0;
  // A breakpoint placed for the async target fired with the CPU in `regs`:
  // is this the recorded point (registers, and memory where the trace has a
  // dirty-page digest)?
  virtual bool at_async_target(const Registers& regs) = 0;
  // Guest time to service timed devices with at `pos`, if the trace has a
  // service point here.
  virtual std::optional<uint64_t> service_time(const Position& pos) = 0;
  // The value a device's clock read at `pos` returned when recorded.
  virtual uint64_t clock_read(const Position& pos) = 0;
  // The vector injected at `pos` when recorded, if any (consumed).
  virtual std::optional<uint8_t> injection(const Position& pos) = 0;
  // The recorded injection is about to happen: what the interrupt controller
  // acknowledged now (nullopt if nothing was pending) and whether the CPU could
  // take an interrupt, for comparison. Returns false to skip the injection
  // (a divergence was reported).
  virtual bool confirm_injection(const Position& pos, uint8_t recorded,
                                 std::optional<uint8_t> device_vector, bool cpu_ready) = 0;
};

}  // namespace rrvm
