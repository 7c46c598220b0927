// 16550A UART (COM1 at 0x3F8, IRQ4 on the PC). Transmission is instant: each
// THR write goes to the output sink and THR is empty again at once. Input
// comes from a ByteSource, one byte per character time (10 bits at the baud
// rate the divisor sets, in Clock time) while the receive FIFO has room, so
// arrival is deterministic on an instruction clock. The interrupt output is
// gated by MCR OUT2, as the PC wires it.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>

#include "vmm/byte_source.h"
#include "vmm/device_state.h"
#include "vmm/clock.h"
#include "vmm/interrupts.h"
#include "vmm/io_bus.h"

namespace rrvm {

class Serial16550 final : public IoDevice, public TimedDevice, public DeviceState {
 public:
  using ByteSink = std::function<void(uint8_t)>;
  static constexpr uint64_t kBaseBaud = 115200;
  static constexpr size_t kFifoSize = 16;

  Serial16550(Clock& clock, IrqSink& irq, unsigned irq_line = 4, ByteSink output = {},
              ByteSource* input = nullptr);
  const char* device_name() const override { return "serial-16550"; }
  uint64_t io_read(uint64_t offset, unsigned size) override;
  void io_write(uint64_t offset, unsigned size, uint64_t value) override;

  std::optional<uint64_t> next_deadline_ns() override;
  void advance_to(uint64_t now_ns) override;
  // Schedules the first input character (the input is connected by now).
  void start() override;

  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

  // Duration of one character (10 bits) at the current divisor.
  uint64_t char_time_ns() const;
  size_t rx_fifo_count() const { return rx_.size(); }
  bool irq_level() const { return irq_level_; }

 private:
  uint8_t interrupt_id() const;  // IIR bits 3-0
  size_t rx_capacity() const { return fifo_enabled_ ? kFifoSize : 1; }
  unsigned trigger_level() const;
  bool loopback() const { return mcr_ & 0x10; }
  uint8_t modem_status_lines() const;  // MSR bits 7-4
  void receive(uint8_t byte, uint64_t now_ns);
  void schedule_input();  // inside an access
  bool depends_on_time() const;
  void begin_access();
  uint64_t access_time();  // the clock, read at most once per access
  void update_modem_deltas();
  void update_irq();

  Clock& clock_;
  IrqSink& irq_;
  unsigned irq_line_;
  ByteSink output_;
  ByteSource* input_;

  std::deque<uint8_t> rx_;
  uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, dll_ = 1, dlm_ = 0;
  uint8_t msr_deltas_ = 0, msr_lines_ = 0;
  bool fifo_enabled_ = false;
  uint8_t fcr_trigger_ = 0;  // FCR bits 7-6
  bool overrun_ = false;
  bool thre_pending_ = false;
  bool timeout_pending_ = false;
  uint64_t rx_activity_ns_ = 0;  // last byte received or read (timeout base)
  std::optional<uint64_t> next_input_ns_;
  std::optional<uint64_t> access_ns_;  // clock reading of the current access, once read
  bool irq_level_ = false;
};

}  // namespace rrvm
