// Helpers shared by the device tests.
#pragma once
#include <cstdint>
#include <vector>

#include "devices/pic_8259.h"
#include "vmm/clock.h"
#include "vmm/interrupts.h"

namespace rrvm::test {

// Records each IRQ line's level and the Clock time of every rising edge.
class IrqRecorder final : public IrqSink {
 public:
  explicit IrqRecorder(Clock* clock = nullptr) : clock_(clock) {}
  void set_irq(unsigned irq, bool level) override {
    if (irq >= 16) return;
    if (level && !levels[irq] && clock_) rises[irq].push_back(clock_->now_ns());
    levels[irq] = level;
  }
  bool levels[16] = {};
  std::vector<uint64_t> rises[16];

 private:
  Clock* clock_;
};

// The PC BIOS programming: master vectors 0x08, slave 0x70, cascade on IR2,
// 8086 mode, everything unmasked.
inline void init_pc_pics(Pic8259Pair& pic) {
  pic.master().io_write(0, 1, 0x11);
  pic.master().io_write(1, 1, 0x08);
  pic.master().io_write(1, 1, 0x04);
  pic.master().io_write(1, 1, 0x01);
  pic.slave().io_write(0, 1, 0x11);
  pic.slave().io_write(1, 1, 0x70);
  pic.slave().io_write(1, 1, 0x02);
  pic.slave().io_write(1, 1, 0x01);
  pic.master().io_write(1, 1, 0x00);
  pic.slave().io_write(1, 1, 0x00);
}

// Drives a TimedDevice through its deadlines up to `until` ns, as the run loop does.
template <typename Device>
void run_deadlines(ManualClock& clock, Device& dev, uint64_t until) {
  for (int guard = 0; guard < 1000000; ++guard) {
    auto d = dev.next_deadline_ns();
    if (!d || *d > until) break;
    clock.set(std::max(*d, clock.now_ns()));
    dev.advance_to(clock.now_ns());
  }
  clock.set(std::max(until, clock.now_ns()));
  dev.advance_to(clock.now_ns());
}

}  // namespace rrvm::test
