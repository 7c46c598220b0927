#include "devices/cmos_rtc.h"

#include <algorithm>
#include <chrono>

namespace rrvm {

namespace {
constexpr uint64_t kNsPerSecond = 1000000000ull;
constexpr uint8_t kRegA = 0x0A, kRegB = 0x0B, kRegC = 0x0C, kRegD = 0x0D, kCentury = 0x32;
constexpr uint8_t kBSet = 0x80, kBPie = 0x40, kBAie = 0x20, kBUie = 0x10, kBBinary = 0x04,
                  kB24h = 0x02;
constexpr uint8_t kCIrqf = 0x80, kCPf = 0x40, kCAf = 0x20, kCUf = 0x10;

constexpr int64_t kMinTime = -62135596800;  // 0001-01-01 00:00:00
constexpr int64_t kMaxTime = 253402300799;   // 9999-12-31 23:59:59

struct Civil {
  int year;
  unsigned month, day, hour, minute, second, weekday;  // weekday 1 = Sunday
};

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

Civil to_civil(int64_t t) {
  using namespace std::chrono;
  t = std::clamp<int64_t>(t, kMinTime, kMaxTime);  // keeps the calendar math in range
  int64_t days = floor_div(t, 86400), secs = t - days * 86400;
  sys_days sd{std::chrono::days{days}};
  year_month_day ymd{sd};
  Civil c;
  c.year = int(ymd.year());
  c.month = unsigned(ymd.month());
  c.day = unsigned(ymd.day());
  c.hour = unsigned(secs / 3600);
  c.minute = unsigned(secs / 60 % 60);
  c.second = unsigned(secs % 60);
  c.weekday = weekday{sd}.c_encoding() + 1;
  return c;
}

int64_t from_civil(const Civil& c) {
  using namespace std::chrono;
  unsigned m = std::clamp(c.month, 1u, 12u), d = std::clamp(c.day, 1u, 31u);
  // Day 31 of a short month rolls into the next month, as sys_days defines it.
  sys_days sd = sys_days{year{c.year} / month{m} / 1d} + std::chrono::days{d - 1};
  return int64_t(sd.time_since_epoch().count()) * 86400 + int64_t(c.hour % 24) * 3600 +
         int64_t(c.minute % 60) * 60 + int64_t(c.second % 60);
}

uint64_t ns_at_32k_tick(uint64_t tick) {
  return uint64_t(((unsigned __int128)tick * kNsPerSecond + 32767) / 32768);
}
uint64_t ticks_32k(uint64_t ns) { return uint64_t((unsigned __int128)ns * 32768 / kNsPerSecond); }
}  // namespace

CmosRtc::CmosRtc(Clock& clock, IrqSink& irq, int64_t base_seconds, unsigned irq_line)
    : clock_(clock),
      irq_(irq),
      irq_line_(irq_line),
      base_seconds_(std::clamp<int64_t>(base_seconds, kMinTime, kMaxTime)) {
  cmos_[kRegA] = 0x26;  // 32.768 kHz time base, 1024 Hz periodic rate
  cmos_[kRegB] = kB24h;
  cmos_[kRegD] = 0x80;  // valid RAM and time
  flags_ns_ = clock_.now_ns();
}

bool CmosRtc::running() const {
  return !(cmos_[kRegB] & kBSet) && ((cmos_[kRegA] >> 4) & 7) == 2;
}

int64_t CmosRtc::time_at(uint64_t now_ns) const {
  if (cmos_[kRegB] & kBSet) return frozen_time_;
  return base_seconds_ + offset_seconds_ + int64_t(now_ns / kNsPerSecond);
}

int64_t CmosRtc::current_time() { return time_at(clock_.now_ns()); }

uint8_t CmosRtc::encode(unsigned v) const {
  if (cmos_[kRegB] & kBBinary) return uint8_t(v);
  return uint8_t((v / 10 % 10) << 4 | v % 10);
}

unsigned CmosRtc::decode(uint8_t v) const {
  if (cmos_[kRegB] & kBBinary) return v;
  return (v >> 4) * 10u + (v & 15);
}

uint64_t CmosRtc::periodic_ticks() const {
  unsigned rate = cmos_[kRegA] & 15;
  if (rate == 0 || ((cmos_[kRegA] >> 4) & 7) != 2) return 0;
  return rate < 3 ? 1ull << (rate + 6) : 1ull << (rate - 1);
}

bool CmosRtc::alarm_matches(int64_t t) const {
  Civil c = to_civil(t);
  auto field = [&](uint8_t reg, unsigned actual, bool hour) {
    uint8_t a = cmos_[reg];
    if ((a & 0xC0) == 0xC0) return true;  // don't care
    if (hour && !(cmos_[kRegB] & kB24h)) {
      unsigned h = decode(uint8_t(a & 0x7F)) % 12 + ((a & 0x80) ? 12 : 0);
      return h == actual;
    }
    return decode(a) == actual;
  };
  return field(0x01, c.second, false) && field(0x03, c.minute, false) &&
         field(0x05, c.hour, true);
}

void CmosRtc::update_flags(uint64_t now_ns) {
  if (now_ns <= flags_ns_) return;
  uint64_t prev = flags_ns_;
  flags_ns_ = now_ns;
  if (uint64_t p = periodic_ticks()) {
    if (ticks_32k(now_ns) / p > ticks_32k(prev) / p) cmos_[kRegC] |= kCPf;
  }
  if (!running()) return;
  uint64_t s_prev = prev / kNsPerSecond, s_now = now_ns / kNsPerSecond;
  if (s_now == s_prev) return;
  cmos_[kRegC] |= kCUf;
  // Check the alarm at each elapsed tick (at most a day's worth: it repeats).
  uint64_t first = std::max(s_prev + 1, s_now >= 86400 ? s_now - 86399 : 0);
  for (uint64_t s = first; s <= s_now; ++s) {
    if (alarm_matches(base_seconds_ + offset_seconds_ + int64_t(s))) {
      cmos_[kRegC] |= kCAf;
      break;
    }
  }
}

void CmosRtc::update_irq() {
  uint8_t c = cmos_[kRegC], b = cmos_[kRegB];
  bool level = ((c & kCPf) && (b & kBPie)) || ((c & kCAf) && (b & kBAie)) ||
               ((c & kCUf) && (b & kBUie));
  if (level)
    cmos_[kRegC] |= kCIrqf;
  else
    cmos_[kRegC] &= uint8_t(~kCIrqf);
  if (level != irq_level_) {
    irq_level_ = level;
    irq_.set_irq(irq_line_, level);
  }
}

std::optional<uint64_t> CmosRtc::next_deadline_ns() {
  if (irq_level_) return std::nullopt;  // no new edge until register C is read
  uint8_t b = cmos_[kRegB];
  std::optional<uint64_t> best;
  if ((b & kBPie) && periodic_ticks()) {
    uint64_t p = periodic_ticks();
    best = ns_at_32k_tick((ticks_32k(flags_ns_) / p + 1) * p);
  }
  if ((b & (kBAie | kBUie)) && running()) {
    uint64_t next = (flags_ns_ / kNsPerSecond + 1) * kNsPerSecond;
    if (!best || next < *best) best = next;
  }
  return best;
}

void CmosRtc::advance_to(uint64_t now_ns) {
  update_flags(now_ns);
  update_irq();
}

uint8_t CmosRtc::read_register(uint8_t index, uint64_t now_ns) {
  bool h24 = cmos_[kRegB] & kB24h;
  switch (index) {
    case 0x00: case 0x02: case 0x04: case 0x06: case 0x07: case 0x08: case 0x09: case kCentury: {
      Civil c = to_civil(time_at(now_ns));
      switch (index) {
        case 0x00: return encode(c.second);
        case 0x02: return encode(c.minute);
        case 0x04:
          if (h24) return encode(c.hour);
          return uint8_t(encode(c.hour % 12 == 0 ? 12 : c.hour % 12) | (c.hour >= 12 ? 0x80 : 0));
        case 0x06: return encode(c.weekday);
        case 0x07: return encode(c.day);
        case 0x08: return encode(c.month);
        case 0x09: return encode(unsigned(((c.year % 100) + 100) % 100));
        default: return encode(unsigned(std::clamp(c.year / 100, 0, 99)));
      }
    }
    case kRegA: {
      bool uip = running() && now_ns % kNsPerSecond >= kNsPerSecond - kUpdateWindowNs;
      return uint8_t((cmos_[kRegA] & 0x7F) | (uip ? 0x80 : 0));
    }
    case kRegC: {
      update_flags(now_ns);
      update_irq();
      uint8_t v = cmos_[kRegC];
      cmos_[kRegC] = 0;  // reading acknowledges every flag
      update_irq();
      return v;
    }
    case kRegD: return 0x80;
    default: return cmos_[index];
  }
}

void CmosRtc::write_register(uint8_t index, uint8_t value, uint64_t now_ns) {
  update_flags(now_ns);
  switch (index) {
    case 0x00: case 0x02: case 0x04: case 0x07: case 0x08: case 0x09: case kCentury: {
      int64_t t = time_at(now_ns);
      Civil c = to_civil(t);
      unsigned v = decode(value);
      switch (index) {
        case 0x00: c.second = v % 60; break;
        case 0x02: c.minute = v % 60; break;
        case 0x04:
          if (cmos_[kRegB] & kB24h)
            c.hour = v % 24;
          else
            c.hour = decode(uint8_t(value & 0x7F)) % 12 + ((value & 0x80) ? 12 : 0);
          break;
        case 0x07: c.day = v; break;
        case 0x08: c.month = v; break;
        case 0x09: c.year = c.year / 100 * 100 + int(v % 100); break;
        default: c.year = int(v % 100) * 100 + c.year % 100; break;
      }
      int64_t nt = from_civil(c);
      if (cmos_[kRegB] & kBSet)
        frozen_time_ = nt;
      else
        offset_seconds_ += nt - t;
      return;
    }
    case 0x06: return;  // the weekday follows from the date
    case kRegA: cmos_[kRegA] = value & 0x7F; break;
    case kRegB: {
      bool was_set = cmos_[kRegB] & kBSet, set = value & kBSet;
      if (!was_set && set) frozen_time_ = time_at(now_ns);
      cmos_[kRegB] = value;
      if (was_set && !set)
        offset_seconds_ = frozen_time_ - base_seconds_ - int64_t(now_ns / kNsPerSecond);
      break;
    }
    case kRegC: case kRegD: return;  // read-only
    default: cmos_[index] = value; return;
  }
  update_irq();
}

uint64_t CmosRtc::io_read(uint64_t offset, unsigned /*size*/) {
  if (offset == 0) return 0xFF;  // the index register is write-only
  return read_register(index_, clock_.now_ns());
}

void CmosRtc::io_write(uint64_t offset, unsigned /*size*/, uint64_t value) {
  if (offset == 0) {
    index_ = value & 0x7F;
    nmi_masked_ = value & 0x80;
    return;
  }
  write_register(index_, uint8_t(value), clock_.now_ns());
}

std::vector<uint8_t> CmosRtc::save_state() const {
  ByteWriter w;
  w.header("RTC ", 1);
  w.bytes(cmos_);
  w.u8(index_);
  w.boolean(nmi_masked_);
  w.u64(uint64_t(base_seconds_));
  w.u64(uint64_t(offset_seconds_));
  w.u64(uint64_t(frozen_time_));
  w.u64(flags_ns_);
  w.boolean(irq_level_);
  return w.take();
}

void CmosRtc::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "rtc state");
  r.header("RTC ", 1);
  std::array<uint8_t, 128> cmos;
  r.bytes(cmos);
  uint8_t index = r.u8();
  bool nmi = r.boolean();
  int64_t base = int64_t(r.u64()), offset = int64_t(r.u64()), frozen = int64_t(r.u64());
  uint64_t flags_ns = r.u64();
  bool level = r.boolean();
  r.finish();
  // Bounded so that base + offset + elapsed seconds cannot overflow.
  constexpr int64_t kLimit = int64_t(1) << 40;
  for (int64_t v : {base, offset, frozen})
    if (v < -kLimit || v > kLimit) r.fail("time field " + std::to_string(v) + " is out of range");
  cmos_ = cmos;
  index_ = index & 0x7F;
  nmi_masked_ = nmi;
  base_seconds_ = base;
  offset_seconds_ = offset;
  frozen_time_ = frozen;
  flags_ns_ = flags_ns;
  irq_level_ = level;
}

}  // namespace rrvm
