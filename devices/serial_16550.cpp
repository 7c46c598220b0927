#include "devices/serial_16550.h"

#include <algorithm>

namespace rrvm {

namespace {
constexpr uint8_t kIerRx = 0x01, kIerThre = 0x02, kIerLine = 0x04, kIerModem = 0x08;
constexpr uint8_t kIidNone = 0x01, kIidLine = 0x06, kIidRx = 0x04, kIidTimeout = 0x0C,
                  kIidThre = 0x02, kIidModem = 0x00;
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kMcrOut2 = 0x08;
constexpr uint64_t kIdlePollNs = 10000000;  // recheck a source with nothing yet every 10 ms
}  // namespace

Serial16550::Serial16550(Clock& clock, IrqSink& irq, unsigned irq_line, ByteSink output,
                         ByteSource* input)
    : clock_(clock), irq_(irq), irq_line_(irq_line), output_(std::move(output)), input_(input) {
  msr_lines_ = modem_status_lines();
  rx_activity_ns_ = access_time();
}

void Serial16550::start() { schedule_input(); }

uint64_t Serial16550::char_time_ns() const {
  uint64_t divisor = std::max<uint64_t>(1, uint64_t(dll_) | uint64_t(dlm_) << 8);
  return 10ull * 1000000000ull * divisor / kBaseBaud;
}

unsigned Serial16550::trigger_level() const {
  static constexpr unsigned kLevels[4] = {1, 4, 8, 14};
  return kLevels[fcr_trigger_ & 3];
}

uint8_t Serial16550::modem_status_lines() const {
  if (!loopback()) return 0xB0;  // a terminal is attached: DCD, DSR, CTS
  // Loopback wires RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
  return uint8_t((mcr_ & 0x02 ? 0x10 : 0) | (mcr_ & 0x01 ? 0x20 : 0) | (mcr_ & 0x04 ? 0x40 : 0) |
                 (mcr_ & 0x08 ? 0x80 : 0));
}

void Serial16550::update_modem_deltas() {
  uint8_t now = modem_status_lines(), changed = now ^ msr_lines_;
  if (changed & 0x10) msr_deltas_ |= 0x01;
  if (changed & 0x20) msr_deltas_ |= 0x02;
  if ((changed & 0x40) && !(now & 0x40)) msr_deltas_ |= 0x04;  // RI trailing edge
  if (changed & 0x80) msr_deltas_ |= 0x08;
  msr_lines_ = now;
}

uint8_t Serial16550::interrupt_id() const {
  if ((ier_ & kIerLine) && overrun_) return kIidLine;
  if ((ier_ & kIerRx) && !rx_.empty()) {
    if (!fifo_enabled_ || rx_.size() >= trigger_level()) return kIidRx;
    if (timeout_pending_) return kIidTimeout;
  }
  if ((ier_ & kIerThre) && thre_pending_) return kIidThre;
  if ((ier_ & kIerModem) && msr_deltas_) return kIidModem;
  return kIidNone;
}

void Serial16550::update_irq() {
  bool level = interrupt_id() != kIidNone && (mcr_ & kMcrOut2);
  if (level != irq_level_) {
    irq_level_ = level;
    irq_.set_irq(irq_line_, level);
  }
}

void Serial16550::receive(uint8_t byte, uint64_t now_ns) {
  if (rx_.size() >= rx_capacity()) {
    overrun_ = true;  // the byte is lost
    return;
  }
  rx_.push_back(byte);
  rx_activity_ns_ = now_ns;
  timeout_pending_ = false;
}

void Serial16550::schedule_input() {
  if (!input_ || next_input_ns_ || loopback() || rx_.size() >= rx_capacity()) return;
  if (input_->at_end()) return;
  next_input_ns_ = access_time() + char_time_ns();
}

void Serial16550::advance_to(uint64_t now_ns) {
  while (next_input_ns_ && *next_input_ns_ <= now_ns) {
    uint64_t t = *next_input_ns_;
    next_input_ns_.reset();
    if (!input_ || loopback() || rx_.size() >= rx_capacity()) break;  // resumes on room
    if (auto b = input_->next_byte()) {
      receive(*b, t);
      if (rx_.size() < rx_capacity()) next_input_ns_ = t + char_time_ns();
    } else if (!input_->at_end()) {
      next_input_ns_ = std::max(t, now_ns) + std::max(kIdlePollNs, char_time_ns());
    }
  }
  if (fifo_enabled_ && !rx_.empty() && !timeout_pending_ &&
      now_ns >= rx_activity_ns_ + 4 * char_time_ns())
    timeout_pending_ = true;
  update_irq();
}

std::optional<uint64_t> Serial16550::next_deadline_ns() {
  std::optional<uint64_t> best = next_input_ns_;
  if (fifo_enabled_ && (ier_ & kIerRx) && !rx_.empty() && !timeout_pending_) {
    uint64_t t = rx_activity_ns_ + 4 * char_time_ns();
    if (!best || t < *best) best = t;
  }
  return best;
}

bool Serial16550::depends_on_time() const {
  // Any input source counts, idle or not: whether it is at its end is not
  // known the same way in a recording (the file) and its replay (the trace),
  // so it must not decide whether the clock is read.
  return input_ != nullptr || (fifo_enabled_ && !rx_.empty() && !timeout_pending_);
}

uint64_t Serial16550::access_time() {
  if (!access_ns_) access_ns_ = clock_.now_ns();
  return *access_ns_;
}

void Serial16550::begin_access() {
  // The clock is read only when the answer depends on it: every read is a
  // trace event, on kvm a few bytes of jittery host time, and a guest polling
  // the line status to print makes one per character.
  access_ns_.reset();
  if (depends_on_time()) advance_to(access_time());
}

uint64_t Serial16550::io_read(uint64_t offset, unsigned /*size*/) {
  begin_access();
  uint8_t v = 0;
  switch (offset) {
    case 0:
      if (lcr_ & kLcrDlab) {
        v = dll_;
        break;
      }
      if (!rx_.empty()) {
        v = rx_.front();
        rx_.pop_front();
        rx_activity_ns_ = access_time();
        timeout_pending_ = false;
        schedule_input();
      }
      break;
    case 1: v = (lcr_ & kLcrDlab) ? dlm_ : ier_; break;
    case 2: {
      uint8_t id = interrupt_id();
      if (id == kIidThre) thre_pending_ = false;  // reading IIR acknowledges THRE
      v = uint8_t(id | (fifo_enabled_ ? 0xC0 : 0));
      break;
    }
    case 3: v = lcr_; break;
    case 4: v = mcr_; break;
    case 5:
      // THR and the shift register are always empty: transmission is instant.
      v = uint8_t((rx_.empty() ? 0 : 0x01) | (overrun_ ? 0x02 : 0) | 0x60);
      overrun_ = false;
      break;
    case 6:
      v = uint8_t(msr_lines_ | msr_deltas_);
      msr_deltas_ = 0;
      break;
    case 7: v = scr_; break;
    default: v = 0xFF;
  }
  update_irq();
  return v;
}

void Serial16550::io_write(uint64_t offset, unsigned /*size*/, uint64_t value) {
  begin_access();
  uint8_t v = uint8_t(value);
  switch (offset) {
    case 0:
      if (lcr_ & kLcrDlab) {
        dll_ = v;
      } else {
        if (loopback())
          receive(v, access_time());
        else if (output_)
          output_(v);
        thre_pending_ = true;  // THR empties at once
      }
      break;
    case 1:
      if (lcr_ & kLcrDlab) {
        dlm_ = v;
      } else {
        // Enabling the THRE interrupt while THR is empty raises it.
        if ((v & kIerThre) && !(ier_ & kIerThre)) thre_pending_ = true;
        ier_ = v & 0x0F;
      }
      break;
    case 2: {
      bool enable = v & 0x01;
      if (enable != fifo_enabled_ || (v & 0x02)) {
        rx_.clear();
        timeout_pending_ = false;
      }
      fifo_enabled_ = enable;
      fcr_trigger_ = uint8_t(v >> 6);
      schedule_input();
      break;
    }
    case 3: lcr_ = v; break;
    case 4:
      mcr_ = v & 0x1F;
      update_modem_deltas();
      schedule_input();
      break;
    case 7: scr_ = v; break;
    default: break;  // LSR and MSR writes are factory-test only
  }
  update_irq();
}

std::vector<uint8_t> Serial16550::save_state() const {
  ByteWriter w;
  w.header("UART", 1);
  w.u8(uint8_t(rx_.size()));
  for (uint8_t b : rx_) w.u8(b);
  for (uint8_t v : {ier_, lcr_, mcr_, scr_, dll_, dlm_, msr_deltas_, msr_lines_, fcr_trigger_})
    w.u8(v);
  for (bool b : {fifo_enabled_, overrun_, thre_pending_, timeout_pending_, irq_level_})
    w.boolean(b);
  w.u64(rx_activity_ns_);
  w.boolean(next_input_ns_.has_value());
  w.u64(next_input_ns_.value_or(0));
  return w.take();
}

void Serial16550::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "uart state");
  r.header("UART", 1);
  uint8_t n = r.u8();
  if (n > kFifoSize) r.fail("receive FIFO holds " + std::to_string(n) + " bytes (max 16)");
  std::deque<uint8_t> rx;
  for (uint8_t i = 0; i < n; ++i) rx.push_back(r.u8());
  uint8_t regs[9];
  for (uint8_t& v : regs) v = r.u8();
  bool flags[5];
  for (bool& b : flags) b = r.boolean();
  uint64_t activity = r.u64();
  bool has_next = r.boolean();
  uint64_t next = r.u64();
  r.finish();
  rx_ = std::move(rx);
  ier_ = regs[0] & 0x0F;
  lcr_ = regs[1];
  mcr_ = regs[2] & 0x1F;
  scr_ = regs[3];
  dll_ = regs[4];
  dlm_ = regs[5];
  msr_deltas_ = regs[6] & 0x0F;
  msr_lines_ = regs[7] & 0xF0;
  fcr_trigger_ = regs[8] & 3;
  fifo_enabled_ = flags[0];
  overrun_ = flags[1];
  thre_pending_ = flags[2];
  timeout_pending_ = flags[3];
  irq_level_ = flags[4];
  rx_activity_ns_ = activity;
  next_input_ns_ = has_next ? std::optional<uint64_t>(next) : std::nullopt;
  while (rx_.size() > rx_capacity()) rx_.pop_back();
}

}  // namespace rrvm
