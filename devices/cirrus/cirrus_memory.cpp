// VRAM access paths that trap: the legacy window (standard VGA planar /
// chain-4 / odd-even logic, or Cirrus banking in extended modes), the LFB
// while it is hidden, and the blitter registers in BAR1 and at 0xB8000.
#include <cstring>

#include "devices/cirrus/cirrus_vga.h"

namespace rrvm {

namespace {

// Expands a 4-bit plane mask to one byte per plane (plane 0 in the low byte).
constexpr uint32_t expand4(uint32_t m) {
  return ((m & 1) ? 0x000000FFu : 0) | ((m & 2) ? 0x0000FF00u : 0) | ((m & 4) ? 0x00FF0000u : 0) |
         ((m & 8) ? 0xFF000000u : 0);
}

// Memory-mapped blitter register offsets -> graphics-controller index.
constexpr int8_t blt_index(uint32_t off) {
  switch (off) {
    case 0x00: return 0x00;
    case 0x01: return 0x10;
    case 0x02: return 0x12;
    case 0x03: return 0x14;
    case 0x04: return 0x01;
    case 0x05: return 0x11;
    case 0x06: return 0x13;
    case 0x07: return 0x15;
    case 0x08: return 0x20;
    case 0x09: return 0x21;
    case 0x0A: return 0x22;
    case 0x0B: return 0x23;
    case 0x0C: return 0x24;
    case 0x0D: return 0x25;
    case 0x0E: return 0x26;
    case 0x0F: return 0x27;
    case 0x10: return 0x28;
    case 0x11: return 0x29;
    case 0x12: return 0x2A;
    case 0x14: return 0x2C;
    case 0x15: return 0x2D;
    case 0x16: return 0x2E;
    case 0x17: return 0x2F;
    case 0x18: return 0x30;
    case 0x1A: return 0x32;
    case 0x1B: return 0x33;
    case 0x1C: return 0x34;
    case 0x1D: return 0x35;
    case 0x20: return 0x38;
    case 0x21: return 0x39;
    case 0x40: return 0x31;
    default: return -1;
  }
}

constexpr uint32_t kBltWindowLo = 0x18000, kBltWindowHi = 0x18100;  // 0xB8000-0xB80FF

}  // namespace

uint8_t CirrusVga::blt_reg_read(uint32_t offset) const {
  int8_t i = blt_index(offset);
  return i < 0 ? 0xFF : gr_[i];
}

void CirrusVga::blt_reg_write(uint32_t offset, uint8_t value) {
  int8_t i = blt_index(offset);
  if (i >= 0) write_gr(static_cast<uint8_t>(i), value, /*from_mmio=*/true);
}

uint8_t CirrusVga::mmio_read(uint32_t offset) {
  if (offset < 0x100) return offset < 0x20 ? port_read(static_cast<uint16_t>(0x3C0 + offset)) : 0xFF;
  return blt_reg_read(offset - 0x100);
}

void CirrusVga::mmio_write(uint32_t offset, uint8_t value) {
  if (offset < 0x100) {
    if (offset < 0x20) port_write(static_cast<uint16_t>(0x3C0 + offset), value);
    return;
  }
  blt_reg_write(offset - 0x100, value);
}

uint8_t CirrusVga::lfb_read(uint32_t offset) { return offset < kVramSize ? vram_[offset] : 0xFF; }

void CirrusVga::lfb_write(uint32_t offset, uint8_t value) {
  if (blitter_.active()) {
    // System-to-screen data: the address does not matter, only the order.
    if (blitter_.feed(value)) blit_finished();
    return;
  }
  if (offset >= kVramSize) return;
  vram_[offset] = value;
  mark_dirty(offset, 1);
}

uint8_t CirrusVga::window_read(uint32_t offset) {
  if ((sr_[0x17] & 0x44) == 0x04 && offset >= kBltWindowLo && offset < kBltWindowHi)
    return blt_reg_read(offset & 0xFF);
  if (!(sr_[0x07] & 0x01)) return vga_read(offset);
  if (offset >= 0x10000) return 0xFF;
  uint32_t bank = offset >> 15, off = offset & 0x7FFF;
  if (off >= bank_limit_[bank]) return 0xFF;
  uint64_t a = uint64_t(off) + bank_base_[bank];
  if ((gr_[0x0B] & 0x14) == 0x14) a <<= 4;
  else if (gr_[0x0B] & 0x02) a <<= 3;
  return vram_[a & (kVramSize - 1)];
}

void CirrusVga::window_write(uint32_t offset, uint8_t value) {
  if ((sr_[0x17] & 0x44) == 0x04 && offset >= kBltWindowLo && offset < kBltWindowHi) {
    blt_reg_write(offset & 0xFF, value);
    return;
  }
  if (blitter_.active() && offset < 0x10000) {
    if (blitter_.feed(value)) blit_finished();
    return;
  }
  if (!(sr_[0x07] & 0x01)) {
    vga_write(offset, value);
    return;
  }
  if (offset < 0x10000) banked_write(offset, value);
}

void CirrusVga::banked_write(uint32_t offset, uint8_t value) {
  uint32_t bank = offset >> 15, off = offset & 0x7FFF;
  if (off >= bank_limit_[bank]) return;
  uint64_t a = uint64_t(off) + bank_base_[bank];
  const bool wide = (gr_[0x0B] & 0x14) == 0x14;
  if (wide) a <<= 4;
  else if (gr_[0x0B] & 0x02) a <<= 3;
  a &= kVramSize - 1;
  const uint8_t mode = gr_[0x05] & 0x07;
  if ((mode != 4 && mode != 5) || !(gr_[0x0B] & 0x04)) {
    vram_[a] = value;
    mark_dirty(a, 1);
    return;
  }
  // Extended write modes 4/5: each CPU bit becomes a foreground pixel (and,
  // in mode 5, a background pixel for zero bits); SR2 masks pixels.
  const unsigned bpp = wide ? 2 : 1;
  a &= ~uint64_t(8 * bpp - 1);  // stays inside VRAM: VRAM size is a multiple of 16
  uint8_t fg[2] = {gr_[0x01], gr_[0x11]}, bg[2] = {gr_[0x00], gr_[0x10]};
  for (unsigned x = 0; x < 8; ++x) {
    if (!(sr_[0x02] & (0x80 >> x))) continue;
    bool set = value & (0x80 >> x);
    if (!set && mode == 4) continue;
    for (unsigned k = 0; k < bpp; ++k) vram_[a + x * bpp + k] = set ? fg[k] : bg[k];
  }
  mark_dirty(a, 8 * bpp);
}

// Standard VGA memory: the window offset selected by GR6's memory map, then
// chain-4 (mode 13h), odd/even (text) or planar with latches. VRAM is stored
// plane-interleaved: planar address p, plane n lives at byte 4p+n.
uint8_t CirrusVga::vga_read(uint32_t offset) {
  static constexpr uint32_t kMapBase[4] = {0x00000, 0x00000, 0x10000, 0x18000};
  static constexpr uint32_t kMapSize[4] = {0x20000, 0x10000, 0x08000, 0x08000};
  const unsigned map = (gr_[0x06] >> 2) & 3;
  if (offset < kMapBase[map] || offset - kMapBase[map] >= kMapSize[map]) return 0xFF;
  uint32_t a = offset - kMapBase[map];
  if (sr_[0x04] & 0x08) return vram_[a];  // chain-4
  if (gr_[0x05] & 0x10) {                 // odd/even
    uint32_t plane = (gr_[0x04] & 0x02) | (a & 1);
    return vram_[((a & ~1u) << 1) | plane];
  }
  std::memcpy(&latch_, vram_ + size_t(a) * 4, 4);
  if (!(gr_[0x05] & 0x08)) return static_cast<uint8_t>(latch_ >> (8 * (gr_[0x04] & 3)));
  // Read mode 1: colour compare against GR2 in the planes GR7 selects.
  uint32_t diff = (latch_ ^ expand4(gr_[0x02])) & expand4(gr_[0x07]);
  diff |= diff >> 16;
  diff |= diff >> 8;
  return static_cast<uint8_t>(~diff);
}

void CirrusVga::vga_write(uint32_t offset, uint8_t value) {
  static constexpr uint32_t kMapBase[4] = {0x00000, 0x00000, 0x10000, 0x18000};
  static constexpr uint32_t kMapSize[4] = {0x20000, 0x10000, 0x08000, 0x08000};
  const unsigned map = (gr_[0x06] >> 2) & 3;
  if (offset < kMapBase[map] || offset - kMapBase[map] >= kMapSize[map]) return;
  uint32_t a = offset - kMapBase[map];
  if (sr_[0x04] & 0x08) {  // chain-4: address bits 0-1 pick the plane
    if (sr_[0x02] & (1u << (a & 3))) {
      vram_[a] = value;
      mark_dirty(a, 1);
    }
    return;
  }
  if (gr_[0x05] & 0x10) {  // odd/even: address bit 0 picks plane 0/1 (or 2/3)
    uint32_t plane = (gr_[0x04] & 0x02) | (a & 1);
    if (sr_[0x02] & (1u << plane)) {
      uint32_t at = ((a & ~1u) << 1) | plane;
      vram_[at] = value;
      mark_dirty(at, 1);
    }
    return;
  }
  const unsigned write_mode = gr_[0x05] & 3;
  const unsigned rotate = gr_[0x03] & 7;
  const uint8_t rotated = static_cast<uint8_t>((value >> rotate) | (value << ((8 - rotate) & 7)));
  uint32_t v = 0;
  uint8_t bit_mask = gr_[0x08];
  switch (write_mode) {
    case 0: {
      uint32_t enable = expand4(gr_[0x01] & 0x0F);
      v = (rotated * 0x01010101u & ~enable) | (expand4(gr_[0x00] & 0x0F) & enable);
      break;
    }
    case 1: v = latch_; break;
    case 2: v = expand4(value & 0x0F); break;
    case 3:
      bit_mask &= rotated;
      v = expand4(gr_[0x00] & 0x0F);
      break;
  }
  if (write_mode != 1) {
    switch ((gr_[0x03] >> 3) & 3) {
      case 1: v &= latch_; break;
      case 2: v |= latch_; break;
      case 3: v ^= latch_; break;
      default: break;
    }
    uint32_t bm = bit_mask * 0x01010101u;
    v = (v & bm) | (latch_ & ~bm);
  }
  uint32_t plane_mask = expand4(sr_[0x02] & 0x0F);
  uint32_t old;
  std::memcpy(&old, vram_ + size_t(a) * 4, 4);
  uint32_t out = (old & ~plane_mask) | (v & plane_mask);
  std::memcpy(vram_ + size_t(a) * 4, &out, 4);
  mark_dirty(size_t(a) * 4, 4);
}

}  // namespace rrvm
