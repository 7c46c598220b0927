#include "devices/isa_dma.h"

#include <algorithm>

namespace rrvm {

namespace {
// Page register port (offset from 0x80) of each channel.
constexpr std::array<uint8_t, 8> kPagePort = {0x7, 0x3, 0x1, 0x2, 0xF, 0xB, 0x9, 0xA};
constexpr uint8_t kModeTypeMask = 0x0C, kModeVerify = 0x00, kModeWrite = 0x04, kModeRead = 0x08;
constexpr uint8_t kModeAutoinit = 0x10, kModeDecrement = 0x20;
}  // namespace

class IsaDmaPorts final : public IoDevice {
 public:
  enum class Kind { Controller0, Controller1, Pages };
  IsaDmaPorts(IsaDma& dma, Kind kind) : dma_(dma), kind_(kind) {}
  const char* device_name() const override {
    return kind_ == Kind::Controller0 ? "dma1" : kind_ == Kind::Controller1 ? "dma2" : "dma-page";
  }
  uint64_t io_read(uint64_t offset, unsigned size) override {
    uint64_t v = 0;
    for (unsigned i = 0; i < size && i < 4; ++i) v |= uint64_t(byte_read(offset + i)) << (8 * i);
    return v;
  }
  void io_write(uint64_t offset, unsigned size, uint64_t value) override {
    for (unsigned i = 0; i < size && i < 4; ++i) byte_write(offset + i, uint8_t(value >> (8 * i)));
  }

 private:
  uint8_t byte_read(uint64_t off) {
    switch (kind_) {
      case Kind::Controller0: return off < 16 ? dma_.read_register(0, unsigned(off)) : 0xFF;
      case Kind::Controller1: return off < 32 && !(off & 1) ? dma_.read_register(1, unsigned(off / 2)) : 0xFF;
      case Kind::Pages:
        for (unsigned ch = 0; ch < 8; ++ch)
          if (kPagePort[ch] == off + 1) return dma_.page(ch);
        return scratch_[off % scratch_.size()];
    }
    return 0xFF;
  }
  void byte_write(uint64_t off, uint8_t v) {
    switch (kind_) {
      case Kind::Controller0:
        if (off < 16) dma_.write_register(0, unsigned(off), v);
        break;
      case Kind::Controller1:
        if (off < 32 && !(off & 1)) dma_.write_register(1, unsigned(off / 2), v);
        break;
      case Kind::Pages:
        for (unsigned ch = 0; ch < 8; ++ch)
          if (kPagePort[ch] == off + 1) {
            dma_.set_page(ch, v);
            return;
          }
        scratch_[off % scratch_.size()] = v;  // the unused page registers hold what is written
        break;
    }
  }
  IsaDma& dma_;
  Kind kind_;
  std::array<uint8_t, 15> scratch_{};
};

IsaDma::IsaDma(GuestDma& memory) : memory_(memory) {
  adapters_[0] = std::make_unique<IsaDmaPorts>(*this, IsaDmaPorts::Kind::Controller0);
  adapters_[1] = std::make_unique<IsaDmaPorts>(*this, IsaDmaPorts::Kind::Controller1);
  adapters_[2] = std::make_unique<IsaDmaPorts>(*this, IsaDmaPorts::Kind::Pages);
}

IsaDma::~IsaDma() = default;

void IsaDma::attach(IoBus& ports) {
  ports.add(0x00, 16, adapters_[0].get());
  ports.add(0xC0, 32, adapters_[1].get());
  ports.add(0x81, 15, adapters_[2].get());  // 0x80 is the POST code port, not a page register
}

void IsaDma::master_clear(unsigned c) {
  controllers_[c] = Controller{};
  for (unsigned i = 0; i < 4; ++i) {
    Channel& ch = channels_[c * 4 + i];
    ch.masked = true;
    ch.tc = false;
  }
}

uint8_t IsaDma::read_register(unsigned c, unsigned reg) {
  Controller& ctl = controllers_[c & 1];
  if (reg < 8) {
    Channel& ch = channels_[(c & 1) * 4 + reg / 2];
    const uint16_t v = (reg & 1) ? ch.count : ch.address;
    const bool high = ctl.flip_flop;
    ctl.flip_flop = !ctl.flip_flop;
    return uint8_t(high ? v >> 8 : v);
  }
  switch (reg) {
    case 8: {  // status: TC bits 0-3 (cleared by the read), requests 4-7
      uint8_t v = uint8_t(ctl.request << 4);
      for (unsigned i = 0; i < 4; ++i) {
        Channel& ch = channels_[(c & 1) * 4 + i];
        if (ch.tc) v |= uint8_t(1u << i);
        ch.tc = false;
      }
      return v;
    }
    case 13: return ctl.temp;
    case 15: {  // all mask bits (8237A-5 and later read them back here)
      uint8_t v = 0xF0;
      for (unsigned i = 0; i < 4; ++i)
        if (channels_[(c & 1) * 4 + i].masked) v |= uint8_t(1u << i);
      return v;
    }
    default: return 0xFF;
  }
}

void IsaDma::write_register(unsigned c, unsigned reg, uint8_t v) {
  c &= 1;
  Controller& ctl = controllers_[c];
  if (reg < 8) {
    Channel& ch = channels_[c * 4 + reg / 2];
    uint16_t& base = (reg & 1) ? ch.base_count : ch.base_address;
    base = ctl.flip_flop ? uint16_t((base & 0x00FF) | v << 8) : uint16_t((base & 0xFF00) | v);
    ctl.flip_flop = !ctl.flip_flop;
    // Writing a base register writes the current one too.
    if (reg & 1) {
      ch.count = ch.base_count;
      ch.exhausted = false;
    } else {
      ch.address = ch.base_address;
    }
    return;
  }
  switch (reg) {
    case 8: ctl.command = v; break;
    case 9:
      if (v & 4) ctl.request |= uint8_t(1u << (v & 3));
      else ctl.request &= uint8_t(~(1u << (v & 3)));
      break;
    case 10: channels_[c * 4 + (v & 3)].masked = (v & 4) != 0; break;
    case 11: channels_[c * 4 + (v & 3)].mode = v; break;
    case 12: ctl.flip_flop = false; break;
    case 13: master_clear(c); break;
    case 14:
      for (unsigned i = 0; i < 4; ++i) channels_[c * 4 + i].masked = false;
      break;
    case 15:
      for (unsigned i = 0; i < 4; ++i) channels_[c * 4 + i].masked = (v >> i) & 1;
      break;
    default: break;
  }
}

size_t IsaDma::write_memory(unsigned channel, std::span<const uint8_t> data) {
  return transfer(channel, Direction::ToMemory, const_cast<uint8_t*>(data.data()), data.size());
}

size_t IsaDma::read_memory(unsigned channel, std::span<uint8_t> out) {
  return transfer(channel, Direction::FromMemory, out.data(), out.size());
}

// Through the channel's address counter: 8-bit channels address bytes within
// a 64 KiB page, 16-bit channels words within a 128 KiB page, wrapping inside
// it as the 8237 does. Runs that are contiguous in memory move in one piece.
size_t IsaDma::transfer(unsigned channel, Direction dir, uint8_t* data, size_t len) {
  Channel& ch = channels_[channel & 7];
  const uint8_t type = ch.mode & kModeTypeMask;
  const bool wide = (channel & 7) >= 4;
  const unsigned unit = wide ? 2 : 1;
  const bool down = (ch.mode & kModeDecrement) != 0;
  ch.tc = false;
  if (ch.masked || ch.exhausted) return 0;
  if (type == kModeVerify || type == (kModeRead | kModeWrite)) return 0;
  if ((dir == Direction::ToMemory) != (type == kModeWrite)) return 0;
  size_t moved = 0;
  while (len - moved >= unit) {
    // Units until the count runs out, the page wraps, or the data ends.
    uint64_t units = std::min<uint64_t>((len - moved) / unit, uint64_t(ch.count) + 1);
    if (!down) units = std::min<uint64_t>(units, 0x10000 - ch.address);
    else units = 1;  // decrementing: unit by unit (rare)
    const uint64_t base = wide ? (uint64_t(ch.page & 0xFE) << 16) | (uint64_t(ch.address) << 1)
                               : (uint64_t(ch.page) << 16) | ch.address;
    const uint64_t bytes = units * unit;
    if (dir == Direction::ToMemory) memory_.write(base, data + moved, bytes);
    else memory_.read(base, data + moved, bytes);
    moved += bytes;
    ch.address = uint16_t(down ? ch.address - units : ch.address + units);
    if (units > ch.count) {
      ch.tc = true;
      if (ch.mode & kModeAutoinit) {
        ch.address = ch.base_address;
        ch.count = ch.base_count;
      } else {
        ch.count = 0xFFFF;
        ch.exhausted = true;
        ch.masked = true;  // without autoinit the 8237 masks the channel at TC
      }
      break;
    }
    ch.count = uint16_t(ch.count - units);
  }
  return moved;
}

std::vector<uint8_t> IsaDma::save_state() const {
  ByteWriter w;
  w.header("DMA ", 1);
  for (const Channel& ch : channels_) {
    w.u16(ch.base_address);
    w.u16(ch.base_count);
    w.u16(ch.address);
    w.u16(ch.count);
    w.u8(ch.mode);
    w.u8(ch.page);
    w.boolean(ch.masked);
    w.boolean(ch.tc);
    w.boolean(ch.exhausted);
  }
  for (const Controller& c : controllers_) {
    w.u8(c.command);
    w.u8(c.request);
    w.u8(c.temp);
    w.boolean(c.flip_flop);
  }
  return w.take();
}

void IsaDma::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "dma state");
  r.header("DMA ", 1);
  for (Channel& ch : channels_) {
    ch.base_address = r.u16();
    ch.base_count = r.u16();
    ch.address = r.u16();
    ch.count = r.u16();
    ch.mode = r.u8();
    ch.page = r.u8();
    ch.masked = r.boolean();
    ch.tc = r.boolean();
    ch.exhausted = r.boolean();
  }
  for (Controller& c : controllers_) {
    c.command = r.u8();
    c.request = r.u8();
    c.temp = r.u8();
    c.flip_flop = r.boolean();
  }
  r.finish();
}

}  // namespace rrvm
