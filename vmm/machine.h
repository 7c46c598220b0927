// A machine: guest memory, one vCPU, the port and MMIO buses, the interrupt
// controller, timed devices and the clock, and the run loop that ties them
// together (kvmtool's kvm-cpu.c exit loop is the model).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "vmm/clock.h"
#include "vmm/guest_memory.h"
#include "vmm/interrupts.h"
#include "vmm/io_bus.h"
#include "vmm/run_tap.h"
#include "vmm/vcpu.h"

namespace rrvm {

// Exit statuses of the rrvm process when the guest did not choose one.
// Guest debug-exit statuses are always odd ((value << 1) | 1), these are even.
enum ExitStatus : int {
  kExitOk = 0,
  kExitDivergence = 2,
  kExitTripleFault = 4,
  kExitInstructionLimit = 6,
  kExitBadInput = 8,
  kExitHaltedForever = 10,
  kExitBackendError = 12,
};

class Machine {
 public:
  Machine(std::unique_ptr<GuestMemory> memory, std::unique_ptr<Vcpu> vcpu);
  ~Machine();

  GuestMemory& memory() { return *memory_; }
  Vcpu& vcpu() { return *vcpu_; }
  IoBus& ports() { return ports_; }
  IoBus& mmio() { return mmio_; }
  Clock& clock() { return *clock_; }
  // The instruction clock when the backend counts instructions (emu).
  InstructionClock* instruction_clock() { return instruction_clock_; }

  void set_interrupt_controller(InterruptController* pic) { pic_ = pic; }
  void add_timed_device(TimedDevice* d) { timed_.push_back(d); }
  void add_tap(RunTap* tap) { taps_.push_back(tap); }
  void set_instruction_limit(std::optional<uint64_t> n) { instruction_limit_ = n; }

  // Called by the debug-exit device: ends the run with `status`.
  void request_exit(int status);

  // Runs until the guest stops; never throws for guest behaviour.
  RunResult run();

  Position position() const;
  uint64_t exits_handled() const { return exits_; }

 private:
  void service_timers();
  std::optional<uint64_t> next_deadline_ns();
  bool try_inject(bool from_window);
  bool handle_halt(RunResult* result);
  void dispatch(const Exit& exit);

  std::unique_ptr<GuestMemory> memory_;
  std::unique_ptr<Vcpu> vcpu_;
  std::unique_ptr<Clock> clock_;
  InstructionClock* instruction_clock_ = nullptr;
  IoBus ports_{"port"};
  IoBus mmio_{"mmio"};
  InterruptController* pic_ = nullptr;
  std::vector<TimedDevice*> timed_;
  std::vector<RunTap*> taps_;
  std::optional<uint64_t> instruction_limit_;
  std::optional<int> exit_request_;
  uint64_t exits_ = 0;
  uint64_t interrupts_ = 0;
};

}  // namespace rrvm
