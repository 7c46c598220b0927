#include "devices/pit_8254.h"

#include <algorithm>

namespace rrvm {

namespace {
constexpr uint64_t kNsPerSecond = 1000000000ull;
constexpr uint64_t kRefreshToggleNs = 15085;  // DRAM refresh bit period, used by BIOS delays

uint32_t from_bcd(uint16_t raw) {
  return (raw >> 12 & 15) * 1000u + (raw >> 8 & 15) * 100u + (raw >> 4 & 15) * 10u + (raw & 15);
}
uint16_t to_bcd(uint32_t v) {
  return uint16_t((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | (v % 10));
}
}  // namespace

uint64_t Pit8254::ticks_at(uint64_t ns) {
  return uint64_t((unsigned __int128)ns * kInputHz / kNsPerSecond);
}

uint64_t Pit8254::ns_at_tick(uint64_t tick) {
  return uint64_t(((unsigned __int128)tick * kNsPerSecond + kInputHz - 1) / kInputHz);
}

Pit8254::Pit8254(Clock& clock, IrqSink& irq, unsigned irq_line)
    : clock_(clock), irq_(irq), irq_line_(irq_line), port61_(this) {
  processed_tick_ = now_tick();
}

uint64_t Pit8254::period(const Channel& c) const {
  uint64_t n = c.bcd ? from_bcd(c.reload_raw) : c.reload_raw;
  if (n == 0) n = c.bcd ? 10000 : 65536;
  // A count of 1 is illegal in modes 2 and 3; behave as 2 rather than stall.
  if ((c.mode == 2 || c.mode == 3) && n < 2) n = 2;
  return n;
}

uint64_t Pit8254::elapsed(const Channel& c, uint64_t tick) const {
  if (!c.counting) return 0;
  if (c.frozen) return c.frozen_d;
  return tick > c.load_tick ? tick - c.load_tick : 0;
}

bool Pit8254::out_at(const Channel& c, uint64_t tick) const {
  if (!c.counting) return c.initial_out;
  uint64_t n = period(c), d = elapsed(c, tick);
  switch (c.mode) {
    case 0:
    case 1: return d >= n;
    case 2: return c.frozen || d % n != n - 1;
    case 3: return c.frozen || d % n < (n + 1) / 2;
    default: return d != n;  // 4, 5: one-tick low strobe at terminal count
  }
}

uint32_t Pit8254::count_at(const Channel& c, uint64_t tick) const {
  uint64_t n = period(c);
  if (!c.counting) return uint32_t(n);
  uint64_t m = c.bcd ? 10000 : 65536, d = elapsed(c, tick);
  switch (c.mode) {
    case 2: return uint32_t(n - d % n);
    case 3: {
      uint64_t half = (n + 1) / 2, p = d % n, q = p < half ? p : p - half;
      return uint32_t((n - 2 * q) & ~uint64_t(1));
    }
    default: return uint32_t((n % m + m - d % m) % m);  // counts on past zero
  }
}

std::optional<uint64_t> Pit8254::next_change(const Channel& c, uint64_t d) const {
  if (!c.counting || c.frozen) return std::nullopt;
  uint64_t n = period(c);
  switch (c.mode) {
    case 0:
    case 1:
      if (d < n) return n;
      return std::nullopt;
    case 2:
      // Only the rise: sync_irq() makes the one-tick low pulse an edge when
      // it services the rise, so a wake-up for the fall one tick earlier would
      // only double the timer's service points (each a kick point on kvm).
      return d - d % n + n;
    case 3: {
      uint64_t p = d % n, base = d - p, half = (n + 1) / 2;
      return p < half ? base + half : base + n;
    }
    default:
      if (d < n) return n;
      if (d == n) return n + 1;
      return std::nullopt;
  }
}

std::optional<uint64_t> Pit8254::last_rise(const Channel& c, uint64_t d) const {
  if (!c.counting) return std::nullopt;
  uint64_t n = period(c);
  switch (c.mode) {
    case 0:
    case 1: return d >= n ? std::optional<uint64_t>(n) : std::nullopt;
    case 2:
    case 3: return d >= n ? std::optional<uint64_t>(d / n * n) : std::nullopt;
    default: return d >= n + 1 ? std::optional<uint64_t>(n + 1) : std::nullopt;
  }
}

uint16_t Pit8254::encoded_count(const Channel& c, uint64_t tick) const {
  uint32_t v = count_at(c, tick);
  return c.bcd ? to_bcd(v % 10000) : uint16_t(v);
}

uint8_t Pit8254::status_byte(const Channel& c, uint64_t tick) const {
  return uint8_t((out_at(c, tick) ? 0x80 : 0) | (c.null_count ? 0x40 : 0) | c.access << 4 |
                 c.mode << 1 | (c.bcd ? 1 : 0));
}

void Pit8254::sync_irq(uint64_t tick) {
  tick = std::max(tick, processed_tick_);
  const Channel& c = ch_[0];
  bool rose = false;
  if (c.counting && !c.frozen) {
    uint64_t d_prev = processed_tick_ > c.load_tick ? processed_tick_ - c.load_tick : 0;
    auto r = last_rise(c, elapsed(c, tick));
    rose = r && *r > d_prev;
  }
  bool out = out_at(c, tick);
  if (rose) {
    // Every rising edge the PIC should see is an edge, even when this call
    // comes late and the output already fell again (the line then falls at
    // the next deadline).
    if (irq_level_) irq_.set_irq(irq_line_, false);
    irq_.set_irq(irq_line_, true);
    irq_level_ = true;
  } else if (!out && irq_level_) {
    // Only counting edges raise the line: reprogramming the mode can set the
    // output high, and that must not look like a timer tick.
    irq_.set_irq(irq_line_, false);
    irq_level_ = false;
  }
  processed_tick_ = tick;
}

std::optional<uint64_t> Pit8254::next_deadline_ns() {
  const Channel& c = ch_[0];
  if (!c.counting || c.frozen) return std::nullopt;
  uint64_t d = processed_tick_ > c.load_tick ? processed_tick_ - c.load_tick : 0;
  auto next = next_change(c, d);
  if (!next) return std::nullopt;
  return ns_at_tick(c.load_tick + *next);
}

void Pit8254::advance_to(uint64_t now_ns) { sync_irq(ticks_at(now_ns)); }

void Pit8254::load_count(Channel& c, uint64_t tick) {
  c.null_count = false;
  if (c.mode == 1 || c.mode == 5) {
    c.armed = true;  // waits for a gate rising edge
    return;
  }
  c.counting = true;
  c.load_tick = tick;
  c.frozen = !c.gate;
  c.frozen_d = 0;
}

void Pit8254::write_control(uint8_t v, uint64_t tick) {
  unsigned sel = v >> 6;
  if (sel == 3) {  // read-back
    for (unsigned i = 0; i < 3; ++i) {
      if (!(v & (2u << i))) continue;
      Channel& c = ch_[i];
      if (!(v & 0x20) && !c.count_latched) {
        c.latched_count = encoded_count(c, tick);
        c.count_latched = true;
        c.latch_hi_next = false;
      }
      if (!(v & 0x10) && !c.status_latched) {
        c.latched_status = status_byte(c, tick);
        c.status_latched = true;
      }
    }
    return;
  }
  Channel& c = ch_[sel];
  unsigned rw = (v >> 4) & 3;
  if (rw == 0) {  // counter latch
    if (!c.count_latched) {
      c.latched_count = encoded_count(c, tick);
      c.count_latched = true;
      c.latch_hi_next = false;
    }
    return;
  }
  bool gate = c.gate;
  c = Channel{};
  c.gate = gate;
  c.access = uint8_t(rw);
  c.mode = uint8_t((v >> 1) & 7);
  if (c.mode > 5) c.mode -= 4;  // 6 and 7 alias modes 2 and 3
  c.bcd = v & 1;
  c.initial_out = c.mode != 0;
}

void Pit8254::write_counter(Channel& c, uint8_t v, uint64_t tick) {
  switch (c.access) {
    case 1:
      c.reload_raw = v;
      load_count(c, tick);
      break;
    case 2:
      c.reload_raw = uint16_t(v << 8);
      load_count(c, tick);
      break;
    default:
      if (!c.write_hi_next) {
        c.write_lo = v;
        c.write_hi_next = true;
        if (c.mode == 0) {  // the first byte stops a mode 0 count; output low
          c.counting = false;
          c.initial_out = false;
        }
      } else {
        c.write_hi_next = false;
        c.reload_raw = uint16_t(c.write_lo | v << 8);
        load_count(c, tick);
      }
  }
}

uint8_t Pit8254::read_counter(Channel& c, uint64_t tick) {
  if (c.status_latched) {
    c.status_latched = false;
    return c.latched_status;
  }
  uint16_t value;
  bool hi;
  if (c.count_latched) {
    value = c.latched_count;
    if (c.access == 3 && !c.latch_hi_next) {
      c.latch_hi_next = true;
      hi = false;
    } else {
      hi = c.access == 2 || (c.access == 3 && c.latch_hi_next);
      c.count_latched = false;
      c.latch_hi_next = false;
    }
  } else {
    value = encoded_count(c, tick);
    if (c.access == 3) {
      hi = c.read_hi_next;
      c.read_hi_next = !c.read_hi_next;
    } else {
      hi = c.access == 2;
    }
  }
  return uint8_t(hi ? value >> 8 : value);
}

uint64_t Pit8254::io_read(uint64_t offset, unsigned /*size*/) {
  uint64_t tick = now_tick();
  if (offset >= 3) return 0xFF;  // the control register is write-only
  return read_counter(ch_[offset], tick);
}

void Pit8254::io_write(uint64_t offset, unsigned /*size*/, uint64_t value) {
  uint64_t tick = now_tick();
  sync_irq(tick);  // earlier edges belong to the old programming
  if (offset >= 3)
    write_control(uint8_t(value), tick);
  else
    write_counter(ch_[offset], uint8_t(value), tick);
  sync_irq(tick);
}

bool Pit8254::output(unsigned channel) { return out_at(ch_[channel % 3], now_tick()); }

uint32_t Pit8254::count(unsigned channel) { return count_at(ch_[channel % 3], now_tick()); }

void Pit8254::set_gate(unsigned channel, bool level) {
  Channel& c = ch_[channel % 3];
  if (c.gate == level) return;
  uint64_t tick = now_tick();
  sync_irq(tick);
  c.gate = level;
  if (level) {
    if ((c.mode == 1 || c.mode == 5) && (c.armed || c.counting)) {
      c.counting = true;  // trigger
      c.load_tick = tick;
      c.frozen = false;
    } else if ((c.mode == 2 || c.mode == 3) && c.counting) {
      c.load_tick = tick;  // restart the period
      c.frozen = false;
    } else if (c.counting && c.frozen) {
      c.load_tick = tick - std::min(tick, c.frozen_d);  // modes 0/4 resume
      c.frozen = false;
    }
  } else if (c.counting && c.mode != 1 && c.mode != 5) {
    c.frozen_d = elapsed(c, tick);
    c.frozen = true;
  }
  sync_irq(tick);
}

uint64_t SystemControlPortB::io_read(uint64_t /*offset*/, unsigned /*size*/) {
  uint64_t refresh = (pit_->clock_.now_ns() / kRefreshToggleNs) & 1;
  return pit_->port61_bits_ | refresh << 4 | (pit_->output(2) ? 0x20u : 0u);
}

void SystemControlPortB::io_write(uint64_t /*offset*/, unsigned /*size*/, uint64_t value) {
  pit_->port61_bits_ = uint8_t(value & 3);
  pit_->set_gate(2, value & 1);
}

std::vector<uint8_t> Pit8254::save_state() const {
  ByteWriter w;
  w.header("PIT ", 1);
  for (const Channel& c : ch_) {
    w.u8(c.mode);
    w.u8(c.access);
    w.u16(c.reload_raw);
    w.u64(c.load_tick);
    w.u64(c.frozen_d);
    w.u16(c.latched_count);
    w.u8(c.latched_status);
    w.u8(c.write_lo);
    for (bool b : {c.bcd, c.counting, c.armed, c.gate, c.null_count, c.initial_out, c.frozen,
                   c.write_hi_next, c.read_hi_next, c.count_latched, c.status_latched,
                   c.latch_hi_next})
      w.boolean(b);
  }
  w.u8(port61_bits_);
  w.u64(processed_tick_);
  w.boolean(irq_level_);
  return w.take();
}

void Pit8254::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "pit state");
  r.header("PIT ", 1);
  Channel ch[3];
  for (Channel& c : ch) {
    c.mode = r.u8();
    c.access = r.u8();
    c.reload_raw = r.u16();
    c.load_tick = r.u64();
    c.frozen_d = r.u64();
    c.latched_count = r.u16();
    c.latched_status = r.u8();
    c.write_lo = r.u8();
    for (bool* b : {&c.bcd, &c.counting, &c.armed, &c.gate, &c.null_count, &c.initial_out,
                    &c.frozen, &c.write_hi_next, &c.read_hi_next, &c.count_latched,
                    &c.status_latched, &c.latch_hi_next})
      *b = r.boolean();
    if (c.mode > 5 || c.access < 1 || c.access > 3)
      r.fail("bad channel mode " + std::to_string(c.mode) + " / access " + std::to_string(c.access));
  }
  uint8_t bits = r.u8();
  uint64_t processed = r.u64();
  bool level = r.boolean();
  r.finish();
  for (int i = 0; i < 3; ++i) ch_[i] = ch[i];
  port61_bits_ = bits & 3;
  processed_tick_ = processed;
  irq_level_ = level;
}

}  // namespace rrvm
