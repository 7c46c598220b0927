// The one source of everything that enters the guest besides its own code:
// port-in and MMIO-read values, the time devices read, when timed devices
// are serviced, which interrupt is injected where, where the vCPU must stop
// next, and serial input bytes. The run loop (Machine) asks it and follows
// one algorithm; what differs between a live run and a replay is only who
// answers: LiveInputs (the devices and the clock, vmm/live_inputs.h) or the
// Replayer (the trace). Taps observe the answers (vmm/run_tap.h).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "vmm/registers.h"
#include "vmm/run_tap.h"
#include "vmm/vcpu.h"

namespace rrvm {

// A point inside guest execution the run loop must stop at exactly (replay).
struct AsyncTarget {
  uint64_t exit_ordinal = 0;
  std::optional<uint64_t> icount;  // exact when the trace and the backend count instructions
  // Otherwise: a breakpoint at this linear pc, and at_async_target decides.
  uint64_t pc = 0;
  std::optional<Registers> regs;   // where the trace has them: a hint for the breakpoint
  // rCX at the point, where the trace has it (from regs, or kept alone at a
  // point on a rep string instruction): what a search inside a rep needs.
  std::optional<uint64_t> rcx;
};

// Where the vCPU must stop next, planned before each entry.
struct StopPlan {
  // Stop no later than this guest time (a device deadline, live).
  std::optional<uint64_t> deadline_ns;
  // Stop exactly at this recorded point (replay).
  std::optional<AsyncTarget> target;
};

enum class InterruptAction : uint8_t {
  None,           // nothing to inject; no interrupt window needed
  RequestWindow,  // an interrupt waits but the CPU cannot take it yet
  Inject,         // inject now (the vector follows from vector_to_inject)
};

// What happened while a halted guest waited for its next device deadline.
enum class IdleOutcome : uint8_t {
  Waited,          // time reached the deadline (or input may have arrived)
  WaitedForInput,  // host time passed waiting for live input (stdin): the guest
                   // waits as long as the user takes, so it is no idle wakeup
  NoMoreInput,     // nothing will ever arrive (replay: the trace has nothing more here)
};

class InputAuthority {
 public:
  virtual ~InputAuthority() = default;

  // The value the guest receives for a read exit whose device answered
  // `device_value`.
  virtual uint64_t read_value(const Position& pos, const Exit& exit, uint64_t device_value) = 0;
  // The time a device's clock read at `pos` returns.
  virtual uint64_t clock_read(const Position& pos) = 0;
  // The TSC a patched rdtsc/rdtscp (vmm/tsc_sites.h) reads at `pos`, the
  // exit of its out: guest-clock nanoseconds (a 1 GHz TSC).
  virtual uint64_t tsc_read(const Position& pos) = 0;
  // Guest time to bring the timed devices to at `pos`, when they are due here.
  virtual std::optional<uint64_t> service_time(const Position& pos) = 0;
  // Whether an interrupt enters at `pos`: `pending` is the controller's INTR
  // line, `cpu_ready` whether the CPU can take one now.
  virtual InterruptAction interrupt_action(const Position& pos, bool pending, bool cpu_ready) = 0;
  // After Inject: the controller was acknowledged (`acknowledged`, nullopt
  // when nothing was pending); the vector to inject, or nullopt for none.
  virtual std::optional<uint8_t> vector_to_inject(const Position& pos, std::optional<uint8_t> acknowledged,
                                                  bool cpu_ready) = 0;
  // Where the vCPU must stop next (`exit_ordinal` exits handled so far).
  virtual StopPlan next_stop(uint64_t exit_ordinal) = 0;
  // A breakpoint armed for a StopPlan target fired with the CPU in `regs`:
  // is this the point?
  virtual bool at_async_target(const Registers& regs) = 0;
  // A halted guest waits for the device deadline at guest time `deadline_ns`.
  virtual IdleOutcome idle_wait(uint64_t deadline_ns) = 0;
  // The next serial input byte, if one is available now; at its end, none
  // will ever come.
  virtual std::optional<uint8_t> serial_byte() = 0;
  // A halted guest at `pos`: when the run is to end here "halted forever"
  // whatever the devices and the CPU now say, why (replay: the recording
  // ended at this halt, after every recorded event). Live runs never.
  virtual std::optional<std::string> halt_ends_run(const Position& /*pos*/) { return std::nullopt; }
  virtual bool serial_at_end() = 0;
};

}  // namespace rrvm
