// How devices raise interrupts and how the run loop takes them: devices drive
// IRQ lines into an InterruptController (the i8259 pair); the run loop asks
// the controller for the vector to inject. Devices that change state with time
// (PIT, RTC) are TimedDevices the run loop services at their deadlines.
#pragma once
#include <cstdint>
#include <optional>

namespace rrvm {

class IrqSink {
 public:
  virtual ~IrqSink() = default;
  // Drive ISA IRQ line `irq` (0-15) to `level`. Edge-triggered lines latch on
  // the rising edge.
  virtual void set_irq(unsigned irq, bool level) = 0;
};

class InterruptController : public IrqSink {
 public:
  // An interrupt is waiting for the CPU (the INTR pin).
  virtual bool has_pending_interrupt() = 0;
  // The CPU's INTA cycle: returns the vector and updates ISR/IRR.
  virtual uint8_t acknowledge_interrupt() = 0;
};

class TimedDevice {
 public:
  virtual ~TimedDevice() = default;
  // Guest time (Clock ns) of the device's next state change, if any.
  virtual std::optional<uint64_t> next_deadline_ns() = 0;
  // Bring the device up to `now_ns`, raising the interrupts that fell due.
  virtual void advance_to(uint64_t now_ns) = 0;
  // The machine starts (guest time 0; clock reads still return 0): inputs
  // are connected now, so a device may consult them for its first deadline.
  virtual void start() {}
  // False for an observer the guest cannot see (the display sampler): its
  // deadline is met at the next exit or wake-up instead of stopping the
  // guest for it. Stopping a computing guest makes a kick point, which kvm
  // replay must find again by breakpoint.
  virtual bool stops_guest() const { return true; }
};

}  // namespace rrvm
