// Taps on the run loop: the recorder and the replayer observe (and, for the
// replayer, answer) what crosses the vCPU boundary. Devices never see taps.
#pragma once
#include <cstdint>
#include <string>

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
  uint64_t exits = 0;   // exits handled
  uint64_t interrupts = 0;
};

// Where in the guest's execution an event happened.
struct Position {
  uint64_t exit_ordinal = 0;            // exits handled before this event
  std::optional<uint64_t> icount;       // instructions retired (emu)
};

class RunTap {
 public:
  virtual ~RunTap() = default;
  // Every exit, in order, before it is dispatched.
  virtual void on_exit(const Position& /*pos*/, const Exit& /*exit*/) {}
  // A read exit: the device answered `device_value`; the return value is what
  // the guest receives (the recorder passes it through; the replayer answers
  // from the trace and compares).
  virtual uint64_t on_read(const Position& /*pos*/, const Exit& /*exit*/, uint64_t device_value) {
    return device_value;
  }
  // An external interrupt was injected with `vector` at `pos`.
  virtual void on_interrupt(const Position& /*pos*/, uint8_t /*vector*/, bool /*kicked*/) {}
  // Checked after each exit: a tap may stop the run (with a message and status).
  virtual bool wants_stop(RunResult* /*result*/) { return false; }
  virtual void on_stop(const Position& /*pos*/, const RunResult& /*result*/) {}
};

}  // namespace rrvm
