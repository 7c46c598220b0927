// The input authority of a live run (plain run or recording): the guest
// reads what the devices answer, time is the machine's time source
// (instruction count on emu, host monotonic time on kvm), timed devices are
// serviced when their deadlines pass, interrupts enter when the controller
// raises one and the CPU can take it, and serial input comes from the user's
// file or stdin.
#pragma once
#include <memory>

#include "vmm/byte_source.h"
#include "vmm/input_authority.h"
#include "vmm/service_spacing.h"

namespace rrvm {

class Machine;

class LiveInputs final : public InputAuthority {
 public:
  explicit LiveInputs(Machine& machine) : machine_(machine) {}

  // Where serial input comes from (none: the UART never receives).
  void set_serial_source(std::unique_ptr<ByteSource> source) { serial_ = std::move(source); }

  uint64_t read_value(const Position& pos, const Exit& exit, uint64_t device_value) override;
  uint64_t clock_read(const Position& pos) override;
  uint64_t tsc_read(const Position& pos) override;
  std::optional<uint64_t> service_time(const Position& pos) override;
  InterruptAction interrupt_action(const Position& pos, bool pending, bool cpu_ready) override;
  std::optional<uint8_t> vector_to_inject(const Position& pos, std::optional<uint8_t> acknowledged,
                                          bool cpu_ready) override;
  StopPlan next_stop(uint64_t exit_ordinal) override;
  bool at_async_target(const Registers&) override { return false; }
  IdleOutcome idle_wait(uint64_t deadline_ns) override;
  std::optional<uint8_t> serial_byte() override;
  bool serial_at_end() override;

 private:
  // On host time: the earliest the devices may be serviced (0 on emu).
  uint64_t earliest_service_ns() const;

  Machine& machine_;
  std::unique_ptr<ByteSource> serial_;
  ServiceSpacing spacing_;  // host-time runs only (vmm/service_spacing.h)
  uint64_t last_tsc_ = 0;   // TSC reads never go back
};

}  // namespace rrvm
