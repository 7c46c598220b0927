// System control port A (0x92, "fast A20 and reset"): bit 1 is the A20 gate,
// a rising edge of bit 0 resets the machine. As with the i8042's gate, A20
// is stored and reported, never enforced (guest memory does not wrap at
// 1 MiB); SeaBIOS turns it on at POST and reads it back around mode switches.
#pragma once
#include <cstdint>
#include <functional>

#include "vmm/device_state.h"
#include "vmm/io_bus.h"

namespace rrvm {

class Port92 final : public IoDevice, public DeviceState {
 public:
  explicit Port92(std::function<void()> reset) : reset_(std::move(reset)) {}
  const char* device_name() const override { return "port92"; }
  uint64_t io_read(uint64_t offset, unsigned size) override;
  void io_write(uint64_t offset, unsigned size, uint64_t value) override;

  bool a20_enabled() const { return value_ & 0x02; }

  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

 private:
  std::function<void()> reset_;
  uint8_t value_ = 0;  // QEMU's reset value: the BIOS sets A20 itself
};

}  // namespace rrvm
