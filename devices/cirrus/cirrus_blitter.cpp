#include "devices/cirrus/cirrus_blitter.h"

#include "vmm/state_bytes.h"

namespace rrvm {

using namespace blt;

namespace {

// Calls f with the raster operation as a functor (src, dst) -> result, so
// each inner loop is compiled for one operation. Unknown codes leave the
// destination alone, like a no-op.
template <typename F>
void with_rop(uint8_t rop, F&& f) {
  using u8 = uint8_t;
  switch (rop) {
    case kRop0: f([](u8, u8) -> u8 { return 0; }); break;
    case kRopSrcAndDst: f([](u8 s, u8 d) -> u8 { return s & d; }); break;
    case kRopSrcAndNotDst: f([](u8 s, u8 d) -> u8 { return s & ~d; }); break;
    case kRopNotDst: f([](u8, u8 d) -> u8 { return ~d; }); break;
    case kRopSrc: f([](u8 s, u8) -> u8 { return s; }); break;
    case kRop1: f([](u8, u8) -> u8 { return 0xFF; }); break;
    case kRopNotSrcAndDst: f([](u8 s, u8 d) -> u8 { return ~s & d; }); break;
    case kRopSrcXorDst: f([](u8 s, u8 d) -> u8 { return s ^ d; }); break;
    case kRopSrcOrDst: f([](u8 s, u8 d) -> u8 { return s | d; }); break;
    case kRopNotSrcOrNotDst: f([](u8 s, u8 d) -> u8 { return ~s | ~d; }); break;
    case kRopSrcXnorDst: f([](u8 s, u8 d) -> u8 { return ~(s ^ d); }); break;
    case kRopSrcOrNotDst: f([](u8 s, u8 d) -> u8 { return s | ~d; }); break;
    case kRopNotSrc: f([](u8 s, u8) -> u8 { return ~s; }); break;
    case kRopNotSrcOrDst: f([](u8 s, u8 d) -> u8 { return ~s | d; }); break;
    case kRopNotSrcAndNotDst: f([](u8 s, u8 d) -> u8 { return ~(s | d); }); break;
    default: break;  // includes kRopNop
  }
}

uint32_t gr16(const std::array<uint8_t, 64>& gr, int lo) { return gr[lo] | (uint32_t(gr[lo + 1]) << 8); }
uint32_t gr24(const std::array<uint8_t, 64>& gr, int lo) { return gr16(gr, lo) | (uint32_t(gr[lo + 2]) << 16); }

}  // namespace

CirrusBlitter::CirrusBlitter(std::span<uint8_t> vram, WriteNotify notify)
    : vram_(vram), notify_(std::move(notify)) {}

bool CirrusBlitter::rect_fits(uint32_t addr, uint32_t pitch, uint32_t width, uint32_t height) const {
  if (width == 0 || height == 0) return false;
  uint64_t span = uint64_t(height - 1) * pitch + (width - 1);
  uint64_t size = vram_.size();
  if (p_.mode & kBackwards) return addr < size && addr >= span;
  return addr < size && span < size - addr;
}

size_t CirrusBlitter::row_start(uint32_t addr, uint32_t pitch, uint32_t row, uint32_t width) const {
  if (p_.mode & kBackwards) return size_t(addr) - size_t(row) * pitch - (width - 1);
  return size_t(addr) + size_t(row) * pitch;
}

CirrusBlitter::Outcome CirrusBlitter::refuse() {
  ++refused_;
  active_ = false;
  return Outcome::Refused;
}

CirrusBlitter::Outcome CirrusBlitter::start(const std::array<uint8_t, 64>& gr) {
  active_ = false;
  Params& p = p_;
  p.width = (gr16(gr, 0x20) & 0x1FFF) + 1;
  p.height = (gr16(gr, 0x22) & 0x07FF) + 1;
  p.dst_pitch = gr16(gr, 0x24) & 0x1FFF;
  p.src_pitch = gr16(gr, 0x26) & 0x1FFF;
  p.dst = gr24(gr, 0x28) & 0x3FFFFF;
  p.src = gr24(gr, 0x2C) & 0x3FFFFF;
  p.mode = gr[0x30];
  p.rop = gr[0x32];
  p.modeext = gr[0x33];
  p.bpp = 1 + ((p.mode & kPixelWidthMask) >> 4);
  p.fg = gr[0x01] | uint32_t(gr[0x11]) << 8 | uint32_t(gr[0x13]) << 16 | uint32_t(gr[0x15]) << 24;
  p.bg = gr[0x00] | uint32_t(gr[0x10]) << 8 | uint32_t(gr[0x12]) << 16 | uint32_t(gr[0x14]) << 24;

  if (!rect_fits(p.dst, p.dst_pitch, p.width, p.height)) return refuse();
  const bool expand = p.mode & kColourExpand;
  const bool pattern = p.mode & kPatternCopy;
  if (p.mode & kMemSysDest) return refuse();  // screen-to-system is not modelled
  if (expand && pattern && (p.modeext & kSolidFill) && !(p.mode & kTransparent)) {
    fill_rows();
  } else if (p.mode & kMemSysSrc) {
    uint32_t pixels = p.width / p.bpp;
    row_bytes_ = expand ? (pixels + 7) / 8 : p.width;
    if (row_bytes_ == 0) return refuse();
    row_buf_.clear();
    row_buf_.reserve(row_bytes_);
    rows_done_ = 0;
    active_ = true;
    return Outcome::AwaitingCpuData;
  } else if (pattern) {
    if (!pattern_rows()) return refuse();
  } else if (expand) {
    uint32_t row_src = (p.width / p.bpp + 7) / 8;
    if (row_src == 0 || uint64_t(p.src) + uint64_t(row_src) * p.height > vram_.size()) return refuse();
    for (uint32_t y = 0; y < p.height; ++y) {
      size_t lo = row_start(p.dst, p.dst_pitch, y, p.width);
      expand_row(vram_.data() + lo, vram_.data() + p.src + size_t(y) * row_src, p.width / p.bpp, 0);
      notify_(lo, p.width);
    }
  } else {
    if (!rect_fits(p.src, p.src_pitch, p.width, p.height)) return refuse();
    copy_rows();
  }
  ++done_;
  return Outcome::Done;
}

void CirrusBlitter::copy_rows() {
  const Params& p = p_;
  const bool back = p.mode & kBackwards;
  uint8_t* v = vram_.data();
  with_rop(p.rop, [&](auto op) {
    for (uint32_t y = 0; y < p.height; ++y) {
      // Byte order follows the direction, so overlapping copies behave as on
      // the chip (a forward copy onto itself to the right smears).
      if (back) {
        size_t d = size_t(p.dst) - size_t(y) * p.dst_pitch, s = size_t(p.src) - size_t(y) * p.src_pitch;
        for (uint32_t x = 0; x < p.width; ++x) v[d - x] = op(v[s - x], v[d - x]);
      } else {
        size_t d = size_t(p.dst) + size_t(y) * p.dst_pitch, s = size_t(p.src) + size_t(y) * p.src_pitch;
        for (uint32_t x = 0; x < p.width; ++x) v[d + x] = op(v[s + x], v[d + x]);
      }
    }
  });
  for (uint32_t y = 0; y < p.height; ++y) notify_(row_start(p.dst, p.dst_pitch, y, p.width), p.width);
}

void CirrusBlitter::fill_rows() {
  const Params& p = p_;
  uint8_t colour[4] = {uint8_t(p.fg), uint8_t(p.fg >> 8), uint8_t(p.fg >> 16), uint8_t(p.fg >> 24)};
  with_rop(p.rop, [&](auto op) {
    for (uint32_t y = 0; y < p.height; ++y) {
      uint8_t* d = vram_.data() + row_start(p.dst, p.dst_pitch, y, p.width);
      for (uint32_t x = 0; x < p.width; ++x) d[x] = op(colour[x % p.bpp], d[x]);
    }
  });
  for (uint32_t y = 0; y < p.height; ++y) notify_(row_start(p.dst, p.dst_pitch, y, p.width), p.width);
}

bool CirrusBlitter::pattern_rows() {
  const Params& p = p_;
  const bool expand = p.mode & kColourExpand;
  // An 8x8 pattern: 8 bytes of bits when colour-expanded, else 8 rows of 8 pixels.
  const uint32_t row_len = expand ? 1 : 8 * p.bpp;
  const size_t base = p.src & ~7u;
  if (base + size_t(row_len) * 8 > vram_.size()) return false;
  const uint32_t first_row = p.src & 7;
  for (uint32_t y = 0; y < p.height; ++y) {
    size_t lo = row_start(p.dst, p.dst_pitch, y, p.width);
    const uint8_t* pat = vram_.data() + base + size_t((first_row + y) & 7) * row_len;
    if (expand) {
      // Pixels repeat every 8, so expand a copy of the byte replicated.
      uint8_t bits[1024];
      uint32_t pixels = p.width / p.bpp, nbytes = (pixels + 7) / 8;
      for (uint32_t i = 0; i < nbytes && i < sizeof bits; ++i) bits[i] = *pat;
      expand_row(vram_.data() + lo, bits, pixels, 0);
    } else {
      uint8_t* d = vram_.data() + lo;
      with_rop(p.rop, [&](auto op) {
        for (uint32_t x = 0; x < p.width; ++x) d[x] = op(pat[x % row_len], d[x]);
      });
    }
    notify_(lo, p.width);
  }
  return true;
}

void CirrusBlitter::expand_row(uint8_t* dst, const uint8_t* bits, uint32_t pixels, unsigned first_bit) {
  const Params& p = p_;
  const bool transparent = p.mode & kTransparent;
  const uint8_t invert = (p.modeext & kExpandInvert) ? 0xFF : 0x00;
  with_rop(p.rop, [&](auto op) {
    for (uint32_t x = 0; x < pixels; ++x) {
      uint32_t b = x + first_bit;
      bool set = ((bits[b / 8] ^ invert) >> (7 - (b & 7))) & 1;
      if (!set && transparent) continue;
      uint32_t c = set ? p.fg : p.bg;
      uint8_t* d = dst + size_t(x) * p.bpp;
      for (uint32_t k = 0; k < p.bpp; ++k) d[k] = op(static_cast<uint8_t>(c >> (8 * k)), d[k]);
    }
  });
}

void CirrusBlitter::cpu_row(const uint8_t* data) {
  const Params& p = p_;
  size_t lo = row_start(p.dst, p.dst_pitch, rows_done_, p.width);
  uint8_t* d = vram_.data() + lo;
  if (p.mode & kColourExpand) {
    expand_row(d, data, p.width / p.bpp, 0);
  } else {
    with_rop(p.rop, [&](auto op) {
      for (uint32_t x = 0; x < p.width; ++x) d[x] = op(data[x], d[x]);
    });
  }
  notify_(lo, p.width);
}

bool CirrusBlitter::feed(uint8_t byte) {
  if (!active_) return false;
  row_buf_.push_back(byte);
  if (row_buf_.size() < row_bytes_) return false;
  cpu_row(row_buf_.data());
  row_buf_.clear();
  if (++rows_done_ < p_.height) return false;
  active_ = false;
  ++done_;
  return true;
}

void CirrusBlitter::reset() {
  active_ = false;
  row_buf_.clear();
  rows_done_ = 0;
}

void CirrusBlitter::save(ByteWriter& w) const {
  const Params& p = p_;
  for (uint32_t v : {p.width, p.height, p.dst_pitch, p.src_pitch, p.dst, p.src, p.bpp, p.fg, p.bg}) w.u32(v);
  w.u8(p.mode);
  w.u8(p.rop);
  w.u8(p.modeext);
  w.u8(active_);
  w.u32(rows_done_);
  w.u32(row_bytes_);
  w.u32(static_cast<uint32_t>(row_buf_.size()));
  w.bytes(row_buf_);
}

void CirrusBlitter::load(ByteReader& r) {
  Params p;
  for (uint32_t* v : {&p.width, &p.height, &p.dst_pitch, &p.src_pitch, &p.dst, &p.src, &p.bpp, &p.fg, &p.bg})
    *v = r.u32();
  p.mode = r.u8();
  p.rop = r.u8();
  p.modeext = r.u8();
  bool active = r.u8() != 0;
  uint32_t rows_done = r.u32(), row_bytes = r.u32(), fill = r.u32();
  if (fill > row_bytes || row_bytes > 0x2000 || p.bpp < 1 || p.bpp > 4) r.fail("blitter state out of range");
  std::vector<uint8_t> buf(fill);
  r.bytes(buf);
  p_ = p;
  if (active && (rows_done >= p.height || !rect_fits(p.dst, p.dst_pitch, p.width, p.height) ||
                 row_bytes == 0 || row_bytes < (p.mode & kColourExpand ? (p.width / p.bpp + 7) / 8 : p.width)))
    r.fail("blitter state describes a blit outside VRAM");
  active_ = active;
  rows_done_ = rows_done;
  row_bytes_ = row_bytes;
  row_buf_ = std::move(buf);
}

}  // namespace rrvm
