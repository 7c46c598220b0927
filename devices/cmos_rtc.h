// MC146818-style CMOS RTC at 0x70 (index, bit 7 = NMI mask) / 0x71 (data):
// 128 bytes of CMOS, the time registers computed from the Clock plus a base
// wall time, BCD/binary and 12/24-hour formats per register B, the
// update-in-progress window, and periodic / alarm / update-ended interrupts on
// IRQ8 (a TimedDevice while one of them is enabled).
#pragma once
#include <array>
#include <cstdint>
#include <optional>

#include "vmm/device_state.h"
#include "vmm/clock.h"
#include "vmm/interrupts.h"
#include "vmm/io_bus.h"

namespace rrvm {

// 2026-01-01T00:00:00Z: the RTC's time at guest time 0 unless the user asks
// for another, fixed so that runs are reproducible.
constexpr int64_t kDefaultRtcBase = 1767225600;

class CmosRtc final : public IoDevice, public TimedDevice, public DeviceState {
 public:
  // `base_seconds`: wall time (seconds since the Unix epoch, UTC) at guest
  // time 0.
  CmosRtc(Clock& clock, IrqSink& irq, int64_t base_seconds, unsigned irq_line = 8);
  const char* device_name() const override { return "cmos-rtc"; }
  uint64_t io_read(uint64_t offset, unsigned size) override;
  void io_write(uint64_t offset, unsigned size, uint64_t value) override;

  std::optional<uint64_t> next_deadline_ns() override;
  void advance_to(uint64_t now_ns) override;

  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

  bool nmi_masked() const { return nmi_masked_; }
  // Raw CMOS bytes for the board (memory size etc.); index is masked to 0-127.
  void set_byte(uint8_t index, uint8_t value) { cmos_[index & 0x7F] = value; }
  uint8_t byte(uint8_t index) const { return cmos_[index & 0x7F]; }
  // Wall time the guest sees now (seconds since the Unix epoch).
  int64_t current_time();

  static constexpr uint64_t kUpdateWindowNs = 244000;  // UIP is set this long before a tick

 private:
  uint8_t read_register(uint8_t index, uint64_t now_ns);
  void write_register(uint8_t index, uint8_t value, uint64_t now_ns);
  int64_t time_at(uint64_t now_ns) const;
  uint8_t encode(unsigned v) const;
  unsigned decode(uint8_t v) const;
  bool running() const;  // oscillator on and SET clear: the clock ticks
  uint64_t periodic_ticks() const;  // 32.768 kHz ticks per periodic interrupt, 0 if off
  void update_flags(uint64_t now_ns);
  void update_irq();
  bool alarm_matches(int64_t t) const;

  Clock& clock_;
  IrqSink& irq_;
  unsigned irq_line_;
  std::array<uint8_t, 128> cmos_{};
  uint8_t index_ = 0;
  bool nmi_masked_ = false;
  int64_t base_seconds_;
  int64_t offset_seconds_ = 0;  // guest's changes to the time
  int64_t frozen_time_ = 0;     // time held while SET is on
  uint64_t flags_ns_ = 0;       // register C flags are computed up to here
  bool irq_level_ = false;
};

}  // namespace rrvm
