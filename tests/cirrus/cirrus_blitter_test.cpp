// The BitBLT engine, driven through its registers (ports and BAR1) as
// cirrusfb does, plus a fuzz run over random register programming.
#include <gtest/gtest.h>

#include <random>

#include "tests/cirrus/cirrus_rig.h"

namespace rrvm::test {
namespace {

using namespace rrvm::blt;

struct Blit {
  uint32_t width = 1, height = 1;  // bytes, rows
  uint32_t dst_pitch = 0, src_pitch = 0, dst = 0, src = 0;
  uint8_t mode = 0, rop = kRopSrc, modeext = 0;
  uint32_t fg = 0, bg = 0;
};

// Programs and starts a blit through BAR1 (the MMIO register block).
void run_mmio(CirrusRig& rig, const Blit& b) {
  auto w8 = [&](uint32_t off, uint32_t v) { rig.mmio.write(CirrusRig::kMmio + 0x100 + off, 1, v & 0xFF); };
  for (int i = 0; i < 4; ++i) {
    w8(i, b.bg >> (8 * i));
    w8(4 + i, b.fg >> (8 * i));
  }
  rig.mmio.write(CirrusRig::kMmio + 0x108, 2, b.width - 1);
  rig.mmio.write(CirrusRig::kMmio + 0x10A, 2, b.height - 1);
  rig.mmio.write(CirrusRig::kMmio + 0x10C, 2, b.dst_pitch);
  rig.mmio.write(CirrusRig::kMmio + 0x10E, 2, b.src_pitch);
  rig.mmio.write(CirrusRig::kMmio + 0x114, 4, b.src);
  w8(0x18, b.mode);
  w8(0x1A, b.rop);
  w8(0x1B, b.modeext);
  rig.mmio.write(CirrusRig::kMmio + 0x110, 4, b.dst);  // GR2A last, as drivers do
  w8(0x40, kStart);
}

// The same through the graphics-controller ports.
void run_ports(CirrusRig& rig, const Blit& b) {
  rig.gr(0x00, static_cast<uint8_t>(b.bg));
  rig.gr(0x10, static_cast<uint8_t>(b.bg >> 8));
  rig.gr(0x01, static_cast<uint8_t>(b.fg));
  rig.gr(0x11, static_cast<uint8_t>(b.fg >> 8));
  auto w16 = [&](uint8_t i, uint32_t v) {
    rig.gr(i, static_cast<uint8_t>(v));
    rig.gr(static_cast<uint8_t>(i + 1), static_cast<uint8_t>(v >> 8));
  };
  w16(0x20, b.width - 1);
  w16(0x22, b.height - 1);
  w16(0x24, b.dst_pitch);
  w16(0x26, b.src_pitch);
  w16(0x28, b.dst);
  rig.gr(0x2A, static_cast<uint8_t>(b.dst >> 16));
  w16(0x2C, b.src);
  rig.gr(0x2E, static_cast<uint8_t>(b.src >> 16));
  rig.gr(0x30, b.mode);
  rig.gr(0x32, b.rop);
  rig.gr(0x33, b.modeext);
  rig.gr(0x31, kStart);
}

class CirrusBlit : public ::testing::Test {
 protected:
  CirrusBlit() {
    rig.enable_bars();
    rig.set_extended_mode(640, 480, 8);
  }
  uint8_t* vram() { return rig.vga.vram().data(); }
  CirrusRig rig;
};

TEST_F(CirrusBlit, SolidFill16bppTouchesOnlyTheRectangle) {
  Blit b;
  b.width = 20;  // 10 pixels of 2 bytes
  b.height = 5;
  b.dst_pitch = 1280;
  b.dst = 3 * 1280 + 8;
  b.mode = kColourExpand | kPatternCopy | 0x10;
  b.modeext = kSolidFill;
  b.fg = 0x1234;
  run_mmio(rig, b);
  for (uint32_t y = 0; y < 5; ++y)
    for (uint32_t x = 0; x < 20; ++x) ASSERT_EQ(vram()[b.dst + y * 1280 + x], x % 2 ? 0x12 : 0x34);
  EXPECT_EQ(vram()[b.dst - 1], 0);
  EXPECT_EQ(vram()[b.dst + 20], 0);
  EXPECT_EQ(vram()[b.dst + 5 * 1280], 0);
  rig.out8(0x3CE, 0x31);
  EXPECT_EQ(rig.in8(0x3CF) & (kStart | kBusy), 0);  // finished synchronously
  EXPECT_EQ(rig.vga.blitter().blits_done(), 1u);
}

TEST_F(CirrusBlit, CopyForwardScrollsUp) {
  for (uint32_t i = 0; i < 640 * 20; ++i) vram()[i] = static_cast<uint8_t>(i / 640);  // row number
  Blit b;
  b.width = 640;
  b.height = 19;
  b.dst_pitch = b.src_pitch = 640;
  b.dst = 0;
  b.src = 640;
  run_ports(rig, b);
  for (uint32_t y = 0; y < 19; ++y) ASSERT_EQ(vram()[y * 640 + 17], y + 1);
  EXPECT_EQ(vram()[19 * 640], 19);
}

TEST_F(CirrusBlit, BackwardCopyShiftsRightWithoutSmearing) {
  for (int i = 0; i < 16; ++i) vram()[1000 + i] = static_cast<uint8_t>(i + 1);
  Blit b;
  b.width = 10;
  b.dst_pitch = b.src_pitch = 640;
  b.src = 1000 + 9;  // backward blits give the last byte
  b.dst = 1002 + 9;
  b.mode = kBackwards;
  run_mmio(rig, b);
  const uint8_t want[14] = {1, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14};
  for (int i = 0; i < 14; ++i) EXPECT_EQ(vram()[1000 + i], want[i]) << i;
  // The same overlap forward smears the first two bytes, as the chip does.
  for (int i = 0; i < 16; ++i) vram()[2000 + i] = static_cast<uint8_t>(i + 1);
  b.mode = 0;
  b.src = 2000;
  b.dst = 2002;
  run_mmio(rig, b);
  EXPECT_EQ(vram()[2002], 1);
  EXPECT_EQ(vram()[2004], 1);
  EXPECT_EQ(vram()[2011], 2);
}

TEST_F(CirrusBlit, RasterOperations) {
  const uint8_t s = 0xCA, d = 0x5C;
  struct Case {
    uint8_t rop;
    uint8_t want;
  };
  // Expected values written from the operation names, not from the device.
  const Case cases[] = {
      {kRop0, 0x00},           {kRopSrcAndDst, s & d},          {kRopNop, d},
      {kRopSrcAndNotDst, static_cast<uint8_t>(s & ~d)},         {kRopNotDst, static_cast<uint8_t>(~d)},
      {kRopSrc, s},            {kRop1, 0xFF},                   {kRopNotSrcAndDst, static_cast<uint8_t>(~s & d)},
      {kRopSrcXorDst, s ^ d},  {kRopSrcOrDst, s | d},           {kRopNotSrcOrNotDst, static_cast<uint8_t>(~s | ~d)},
      {kRopSrcXnorDst, static_cast<uint8_t>(~(s ^ d))},         {kRopSrcOrNotDst, static_cast<uint8_t>(s | ~d)},
      {kRopNotSrc, static_cast<uint8_t>(~s)},                   {kRopNotSrcOrDst, static_cast<uint8_t>(~s | d)},
      {kRopNotSrcAndNotDst, static_cast<uint8_t>(~(s | d))},
  };
  for (const Case& c : cases) {
    vram()[100] = s;
    vram()[200] = d;
    Blit b;
    b.src = 100;
    b.dst = 200;
    b.rop = c.rop;
    run_mmio(rig, b);
    EXPECT_EQ(vram()[200], c.want) << "rop 0x" << std::hex << int(c.rop);
  }
}

TEST_F(CirrusBlit, ColourExpansionOpaqueTransparentAndInverted) {
  vram()[50000] = 0b10110000;  // one source byte per row, 8 pixels
  vram()[50001] = 0b00000001;
  Blit b;
  b.width = 8;
  b.height = 2;
  b.dst_pitch = 640;
  b.dst = 0;
  b.src = 50000;
  b.mode = kColourExpand;
  b.fg = 0xAA;
  b.bg = 0x11;
  run_mmio(rig, b);
  const uint8_t row0[8] = {0xAA, 0x11, 0xAA, 0xAA, 0x11, 0x11, 0x11, 0x11};
  for (int x = 0; x < 8; ++x) EXPECT_EQ(vram()[x], row0[x]) << x;
  EXPECT_EQ(vram()[640 + 7], 0xAA);
  EXPECT_EQ(vram()[640 + 6], 0x11);

  for (int x = 0; x < 8; ++x) vram()[1000 + x] = 0x77;
  b.dst = 1000;
  b.height = 1;
  b.mode = kColourExpand | kTransparent;
  run_mmio(rig, b);
  EXPECT_EQ(vram()[1000], 0xAA);
  EXPECT_EQ(vram()[1001], 0x77);  // zero bit: untouched
  b.modeext = kExpandInvert;      // now the zero bits draw
  run_mmio(rig, b);
  EXPECT_EQ(vram()[1001], 0xAA);
  EXPECT_EQ(vram()[1000], 0xAA);
}

TEST_F(CirrusBlit, PatternFillRepeatsEightByEight) {
  for (int i = 0; i < 64; ++i) vram()[0x10000 + i] = static_cast<uint8_t>(i);
  Blit b;
  b.width = 20;
  b.height = 10;
  b.dst_pitch = 640;
  b.dst = 0x20000;
  b.src = 0x10000;
  b.mode = kPatternCopy;
  run_mmio(rig, b);
  for (uint32_t y = 0; y < 10; ++y)
    for (uint32_t x = 0; x < 20; ++x) ASSERT_EQ(vram()[0x20000 + y * 640 + x], (y & 7) * 8 + (x & 7));
}

TEST_F(CirrusBlit, SystemToScreenColourExpandThroughHiddenLfb) {
  // A console glyph: 16 pixels wide (2 bytes per row), 3 rows, as cirrusfb's imageblit.
  Blit b;
  b.width = 16;
  b.height = 3;
  b.dst_pitch = 640;
  b.dst = 640 * 10 + 100;
  b.mode = kColourExpand | kMemSysSrc;
  b.fg = 0x0F;
  b.bg = 0x01;
  int changes = rig.map_changes;
  run_mmio(rig, b);
  EXPECT_TRUE(rig.vga.blit_waiting_for_cpu());
  EXPECT_FALSE(rig.memory.slot_by_name("vram")->mapped);  // LFB writes must trap now
  EXPECT_GT(rig.map_changes, changes);
  // Six bytes of bits, sent as dwords to the framebuffer address (padding at the end).
  rig.store32(CirrusRig::kLfb, 0x0081'FF80u);  // rows: 80 FF | 81 00 ...
  EXPECT_TRUE(rig.vga.blit_waiting_for_cpu());
  rig.store32(CirrusRig::kLfb + 4, 0x0000'C300u);
  EXPECT_FALSE(rig.vga.blit_waiting_for_cpu());
  EXPECT_TRUE(rig.memory.slot_by_name("vram")->mapped);
  const uint8_t* row0 = vram() + b.dst;
  EXPECT_EQ(row0[0], 0x0F);
  EXPECT_EQ(row0[1], 0x01);
  EXPECT_EQ(row0[8], 0x0F);
  EXPECT_EQ(row0[15], 0x0F);
  const uint8_t* row1 = row0 + 640;  // bytes 0x81 0x00
  EXPECT_EQ(row1[0], 0x0F);
  EXPECT_EQ(row1[7], 0x0F);
  EXPECT_EQ(row1[8], 0x01);
  const uint8_t* row2 = row0 + 1280;  // bytes 0x00 0xC3
  EXPECT_EQ(row2[0], 0x01);
  EXPECT_EQ(row2[8], 0x0F);
  EXPECT_EQ(row2[10], 0x01);
  // The page the blit drew is reported dirty.
  DirtyBitmap d = rig.memory.collect_dirty(rig.vga.vram_slot());
  EXPECT_TRUE(d[0] & (1ull << (b.dst / kPageSize)));
}

TEST_F(CirrusBlit, SystemToScreenCopyThroughLegacyWindow) {
  Blit b;
  b.width = 4;
  b.height = 2;
  b.dst_pitch = 640;
  b.dst = 5000;
  b.mode = kMemSysSrc;
  b.rop = kRopSrcXorDst;
  vram()[5000] = 0xF0;
  run_ports(rig, b);
  for (uint8_t v : {1, 2, 3, 4, 5, 6, 7, 8}) rig.store8(0xA0000, v);
  EXPECT_EQ(vram()[5000], 0xF1);
  EXPECT_EQ(vram()[5003], 4);
  EXPECT_EQ(vram()[5640], 5);
  EXPECT_EQ(vram()[5643], 8);
  EXPECT_FALSE(rig.vga.blit_waiting_for_cpu());
}

TEST_F(CirrusBlit, OutOfRangeBlitsAreRefusedWhole) {
  const uint32_t end = CirrusVga::kVramSize;
  Blit b;
  b.width = 100;
  b.height = 2047 + 1;
  b.dst_pitch = 8191;
  b.dst = end - 100 * 8191;  // the rows run past the end of VRAM
  b.mode = kColourExpand | kPatternCopy;
  b.modeext = kSolidFill;
  b.fg = 0xEE;
  run_mmio(rig, b);
  EXPECT_EQ(vram()[b.dst], 0);  // nothing drawn, not even the rows that fit
  EXPECT_EQ(rig.vga.blitter().blits_refused(), 1u);
  // Backward blits that would run below address 0.
  b = Blit{};
  b.width = 64;
  b.height = 4;
  b.src_pitch = b.dst_pitch = 640;
  b.src = 100;
  b.dst = 2000;
  b.mode = kBackwards;
  vram()[2000] = 0x55;
  run_mmio(rig, b);
  EXPECT_EQ(vram()[2000], 0x55);
  EXPECT_EQ(rig.vga.blitter().blits_refused(), 2u);
  // Source past the end.
  b = Blit{};
  b.width = 64;
  b.src = end - 10;
  b.dst = 0;
  run_mmio(rig, b);
  EXPECT_EQ(rig.vga.blitter().blits_refused(), 3u);
}

// Random register programming against a heap-allocated VRAM (so ASan sees
// every byte outside it), thousands of blits, fixed seed.
TEST(CirrusBlitFuzz, RandomProgrammingNeverLeavesVram) {
  constexpr size_t kSize = 4u << 20;
  std::vector<uint8_t> vram(kSize);
  size_t bad_notifications = 0;
  CirrusBlitter blitter(vram, [&](size_t off, size_t len) {
    if (off > kSize || len > kSize - off) ++bad_notifications;
  });
  std::mt19937 rng(20240611);
  auto r = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  const uint8_t rops[] = {kRop0, kRopSrcAndDst, kRopNop, kRopSrcAndNotDst, kRopNotDst, kRopSrc, kRop1,
                          kRopNotSrcAndDst, kRopSrcXorDst, kRopSrcOrDst, kRopNotSrcOrNotDst, kRopSrcXnorDst,
                          kRopSrcOrNotDst, kRopNotSrc, kRopNotSrcOrDst, kRopNotSrcAndNotDst};
  std::array<uint8_t, 64> gr{};
  int awaited = 0;
  for (int i = 0; i < 6000; ++i) {
    for (auto& g : gr) g = static_cast<uint8_t>(rng());
    auto set16 = [&](int idx, uint32_t v) {
      gr[idx] = static_cast<uint8_t>(v);
      gr[idx + 1] = static_cast<uint8_t>(v >> 8);
    };
    auto set24 = [&](int idx, uint32_t v) {
      set16(idx, v);
      gr[idx + 2] = static_cast<uint8_t>(v >> 16);
    };
    // Mostly small blits (fast), addresses biased to the edges of VRAM.
    if (r(4)) set16(0x20, r(64));
    if (r(4)) set16(0x22, r(16));
    if (r(2)) set16(0x24, r(2048));
    if (r(2)) set16(0x26, r(2048));
    auto edge_addr = [&]() -> uint32_t {
      switch (r(3)) {
        case 0: return static_cast<uint32_t>(kSize - 1 - r(70000));
        case 1: return r(70000);
        default: return r(1u << 22);
      }
    };
    set24(0x28, edge_addr());
    set24(0x2C, edge_addr());
    if (r(2)) gr[0x32] = rops[r(sizeof rops)];
    if (blitter.start(gr) == CirrusBlitter::Outcome::AwaitingCpuData) {
      ++awaited;
      uint32_t n = r(3000);
      for (uint32_t k = 0; k < n && blitter.active(); ++k) blitter.feed(static_cast<uint8_t>(rng()));
      if (r(2)) blitter.reset();
    }
  }
  EXPECT_EQ(bad_notifications, 0u);
  EXPECT_GT(blitter.blits_done(), 1000u);
  EXPECT_GT(blitter.blits_refused(), 100u);
  EXPECT_GT(awaited, 100);
}

// The same through the device's own register paths, with random MMIO/port
// traffic including the LFB trap while transfers are pending.
TEST(CirrusBlitFuzz, DeviceRegisterTrafficKeepsMappingsConsistent) {
  CirrusRig rig;
  rig.enable_bars();
  rig.set_extended_mode(640, 480, 8);
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    uint32_t off = rng() % 0x48;
    rig.mmio.write(CirrusRig::kMmio + 0x100 + off, 1, rng() & 0xFF);
    if (rng() % 8 == 0) rig.mmio.write(CirrusRig::kMmio + 0x100 + 0x40, 1, kStart);
    if (rig.vga.blit_waiting_for_cpu()) {
      ASSERT_FALSE(rig.memory.slot_by_name("vram")->mapped);
      for (int k = rng() % 64; k > 0; --k) rig.store32(CirrusRig::kLfb + (rng() % 4096) * 4, rng());
    } else {
      ASSERT_TRUE(rig.memory.slot_by_name("vram")->mapped);
    }
  }
}

}  // namespace
}  // namespace rrvm::test
