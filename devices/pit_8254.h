// i8254 programmable interval timer at 0x40-0x43 (input clock 1.193182 MHz
// derived from the Clock), plus system control port B (0x61) for channel 2's
// gate and output. Counter values and outputs are computed in closed form from
// the time the count was loaded, so they are exact at any Clock time; channel
// 0's output drives IRQ0 and its transitions are the device's deadlines.
#pragma once
#include <cstdint>
#include <optional>

#include "vmm/device_state.h"
#include "vmm/clock.h"
#include "vmm/interrupts.h"
#include "vmm/io_bus.h"

namespace rrvm {

class Pit8254;

// Port 0x61: bit 0 gate 2, bit 1 speaker enable (stored), bit 4 refresh
// toggle (every 15.085 us of Clock time), bit 5 channel 2 output.
class SystemControlPortB final : public IoDevice {
 public:
  explicit SystemControlPortB(Pit8254* pit) : pit_(pit) {}
  const char* device_name() const override { return "port61"; }
  uint64_t io_read(uint64_t offset, unsigned size) override;
  void io_write(uint64_t offset, unsigned size, uint64_t value) override;

 private:
  Pit8254* pit_;
};

class Pit8254 final : public IoDevice, public TimedDevice, public DeviceState {
 public:
  static constexpr uint64_t kInputHz = 1193182;

  Pit8254(Clock& clock, IrqSink& irq, unsigned irq_line = 0);
  const char* device_name() const override { return "pit"; }
  uint64_t io_read(uint64_t offset, unsigned size) override;
  void io_write(uint64_t offset, unsigned size, uint64_t value) override;

  std::optional<uint64_t> next_deadline_ns() override;
  void advance_to(uint64_t now_ns) override;

  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

  SystemControlPortB& port61() { return port61_; }
  // Channel output level and current count (as the counting element holds
  // it, before BCD encoding) at the Clock's current time.
  bool output(unsigned channel);
  uint32_t count(unsigned channel);
  void set_gate(unsigned channel, bool level);
  bool gate(unsigned channel) const { return ch_[channel % 3].gate; }

  // Input-clock ticks elapsed at `ns`, and the first ns at which `tick` has elapsed.
  static uint64_t ticks_at(uint64_t ns);
  static uint64_t ns_at_tick(uint64_t tick);

 private:
  friend class SystemControlPortB;
  struct Channel {
    uint8_t mode = 0, access = 3;  // access: 1 lo, 2 hi, 3 lo then hi
    bool bcd = false;
    uint16_t reload_raw = 0;  // as written (BCD digits when bcd)
    bool counting = false;    // a count has been loaded (and, for 1/5, triggered)
    bool armed = false;       // modes 1/5: count loaded, waiting for a gate edge
    bool gate = true;
    bool null_count = true;
    bool initial_out = false;  // output before counting starts
    uint64_t load_tick = 0;    // tick counting began
    uint64_t frozen_d = 0;     // elapsed ticks when the gate stopped counting
    bool frozen = false;
    bool write_hi_next = false, read_hi_next = false;
    uint8_t write_lo = 0;
    bool count_latched = false, status_latched = false;
    uint16_t latched_count = 0;
    uint8_t latched_status = 0;
    bool latch_hi_next = false;
  };
  uint64_t now_tick() { return ticks_at(clock_.now_ns()); }
  uint64_t period(const Channel& c) const;  // reload in ticks (65536/10000 for 0)
  uint64_t elapsed(const Channel& c, uint64_t tick) const;
  bool out_at(const Channel& c, uint64_t tick) const;
  uint32_t count_at(const Channel& c, uint64_t tick) const;
  // Elapsed-tick position of the next output change after d, if any.
  std::optional<uint64_t> next_change(const Channel& c, uint64_t d) const;
  // Latest rising edge at or before elapsed d, if any.
  std::optional<uint64_t> last_rise(const Channel& c, uint64_t d) const;
  uint16_t encoded_count(const Channel& c, uint64_t tick) const;
  uint8_t status_byte(const Channel& c, uint64_t tick) const;
  void write_control(uint8_t v, uint64_t tick);
  void write_counter(Channel& c, uint8_t v, uint64_t tick);
  uint8_t read_counter(Channel& c, uint64_t tick);
  void load_count(Channel& c, uint64_t tick);
  void sync_irq(uint64_t tick);  // bring IRQ0 up to `tick`

  Clock& clock_;
  IrqSink& irq_;
  unsigned irq_line_;
  Channel ch_[3];
  SystemControlPortB port61_;
  uint8_t port61_bits_ = 0;   // bits 0-1 as written
  uint64_t processed_tick_ = 0;  // IRQ0 serviced up to here
  bool irq_level_ = false;
};

}  // namespace rrvm
