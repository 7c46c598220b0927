// The i8042 keyboard controller at 0x60 (data) / 0x64 (status, command),
// with a PS/2 keyboard behind it (IRQ 1) and a PS/2 mouse on the aux port
// (IRQ 12), as QEMU's pc machine has them: controller self-test, interface
// tests, the command byte, the output port (A20 gate, reset line), and the
// keyboard's and mouse's reset, identify, enable/disable, LED, typematic,
// scan-set and mouse-setting commands. No key is ever pressed (no input
// source), so every byte the guest reads answers something it sent. A reset
// pulse (command 0xFE, or the output port's reset bit cleared) asks the
// machine to reset. The A20 gate is stored and reported, not enforced:
// guest memory never wraps at 1 MiB.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "vmm/device_state.h"
#include "vmm/interrupts.h"
#include "vmm/io_bus.h"

namespace rrvm {

class I8042 final : public IoDevice, public DeviceState {
 public:
  // `reset` runs when the guest pulses the CPU reset line.
  I8042(IrqSink& irq, std::function<void()> reset);

  // Claims 0x60 and 0x64 (through a second, internal claim).
  void attach(IoBus& ports);

  const char* device_name() const override { return "i8042"; }
  // Offset 0: data port; offset 4: status/command (the claim at 0x60 is 1 port
  // wide; 0x64 arrives through the second claim with offset 4).
  uint64_t io_read(uint64_t offset, unsigned size) override;
  void io_write(uint64_t offset, unsigned size, uint64_t value) override;

  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

  uint8_t command_byte() const { return ctr_; }
  bool a20_enabled() const { return outport_ & 0x02; }

 private:
  struct Byte {
    uint8_t value;
    bool aux;
  };
  uint8_t read_status() const;
  uint8_t read_data();
  void write_command(uint8_t cmd);
  void write_data(uint8_t value);
  void keyboard_write(uint8_t value);
  void mouse_write(uint8_t value);
  void queue(uint8_t value, bool aux);
  void update_irqs();

  IrqSink& irq_;
  std::function<void()> reset_;
  std::unique_ptr<IoDevice> status_port_;
  std::deque<Byte> out_;
  uint8_t ctr_ = 0x03;           // command byte: keyboard and aux interrupts on (QEMU's reset value)
  uint8_t outport_ = 0x03;       // output port: reset line high, A20 on
  uint8_t ram_[32] = {};         // controller RAM 1-31 (byte 0 is the command byte)
  bool self_tested_ = false;     // status bit 2 (system flag)
  bool last_was_command_ = false;
  std::optional<uint8_t> pending_;      // controller command waiting for its data byte
  std::optional<uint8_t> kbd_pending_;  // keyboard command waiting for its parameter
  std::optional<uint8_t> aux_pending_;  // mouse command waiting for its parameter
  bool kbd_scanning_ = true, aux_streaming_ = false;
  uint8_t scan_set_ = 2;
  uint8_t aux_rate_ = 100, aux_resolution_ = 2, aux_scaling_ = 1;
  bool aux_wrap_ = false;
  uint8_t last_kbd_ = 0, last_aux_ = 0, last_read_ = 0;
};

}  // namespace rrvm
