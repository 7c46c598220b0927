// Guest debug ports. DebugConsole (0xE9, Bochs/QEMU "port e9 hack"): bytes
// written go to an output sink; reads return 0xE9 so guests can detect it.
// DebugExit (0xF4, 4 ports, like QEMU's isa-debug-exit): writing v ends the
// run with process exit status ((v << 1) | 1) & 0xFF, always odd.
#pragma once
#include <cstdint>
#include <functional>

#include "vmm/device_state.h"
#include "vmm/io_bus.h"

namespace rrvm {

class DebugConsole final : public IoDevice, public DeviceState {
 public:
  explicit DebugConsole(std::function<void(uint8_t)> sink) : sink_(std::move(sink)) {}
  const char* device_name() const override { return "debugcon"; }
  uint64_t io_read(uint64_t offset, unsigned size) override;
  void io_write(uint64_t offset, unsigned size, uint64_t value) override;
  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

 private:
  std::function<void(uint8_t)> sink_;
};

class DebugExit final : public IoDevice, public DeviceState {
 public:
  explicit DebugExit(std::function<void(int status)> on_exit) : on_exit_(std::move(on_exit)) {}
  const char* device_name() const override { return "debug-exit"; }
  uint64_t io_read(uint64_t offset, unsigned size) override;
  void io_write(uint64_t offset, unsigned size, uint64_t value) override;
  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

  static int exit_status(uint64_t value) { return int(((value << 1) | 1) & 0xFF); }

 private:
  std::function<void(int)> on_exit_;
};

}  // namespace rrvm
