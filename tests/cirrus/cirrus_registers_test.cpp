#include <gtest/gtest.h>

#include "tests/cirrus/cirrus_rig.h"

namespace rrvm::test {
namespace {

TEST(CirrusRegisters, AttributeFlipFlopAlternatesIndexAndData) {
  CirrusRig rig;
  rig.in8(0x3DA);
  rig.out8(0x3C0, 0x05);
  rig.out8(0x3C0, 0x2A);  // data
  rig.out8(0x3C0, 0x06);  // index again
  EXPECT_EQ(rig.in8(0x3C0), 0x06);
  rig.out8(0x3C0, 0x11);  // data for index 6
  rig.out8(0x3C0, 0x05);
  EXPECT_EQ(rig.in8(0x3C1), 0x2A);
  rig.out8(0x3C0, 0x00);  // pending data write...
  rig.in8(0x3DA);         // ...cancelled by reading input status 1
  rig.out8(0x3C0, 0x06);  // so this is an index
  EXPECT_EQ(rig.in8(0x3C1), 0x11);
}

TEST(CirrusRegisters, CrtcProtectBitGuardsCr0ToCr7ExceptLineCompareBit) {
  CirrusRig rig;
  rig.crtc(0x01, 0x4F);
  rig.crtc(0x11, 0x80);
  rig.crtc(0x01, 0x10);
  rig.out8(0x3D4, 0x01);
  EXPECT_EQ(rig.in8(0x3D5), 0x4F);
  rig.crtc(0x07, 0xFF);
  rig.out8(0x3D4, 0x07);
  EXPECT_EQ(rig.in8(0x3D5), 0x10);
  rig.out8(0x3D4, 0x27);
  EXPECT_EQ(rig.in8(0x3D5), 0xB8);  // CL-GD5446
}

TEST(CirrusRegisters, DacAutoIncrementsReadAndWriteIndexes) {
  CirrusRig rig;
  rig.out8(0x3C8, 10);
  for (uint8_t v : {1, 2, 3, 4, 5, 0x46}) rig.out8(0x3C9, v);
  EXPECT_EQ(rig.in8(0x3C8), 12);
  rig.out8(0x3C7, 10);
  EXPECT_EQ(rig.in8(0x3C7), 3);  // read mode
  for (uint8_t v : {1, 2, 3, 4, 5, 0x06}) EXPECT_EQ(rig.in8(0x3C9), v);  // 6 bits kept
  auto s = rig.vga.display_state();
  EXPECT_EQ(s.palette[33], 4);
}

TEST(CirrusRegisters, HiddenDacNeedsFourPixelMaskReads) {
  CirrusRig rig;
  rig.out8(0x3C6, 0xF0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(rig.in8(0x3C6), 0xF0);
  rig.out8(0x3C6, 0xC1);
  EXPECT_EQ(rig.vga.display_state().hidden_dac, 0xC1);
  EXPECT_EQ(rig.vga.display_state().pixel_mask, 0xF0);
  // Another port access in between breaks the sequence.
  for (int i = 0; i < 3; ++i) rig.in8(0x3C6);
  rig.in8(0x3C8);
  rig.in8(0x3C6);
  rig.out8(0x3C6, 0x00);
  EXPECT_EQ(rig.vga.display_state().hidden_dac, 0xC1);
  EXPECT_EQ(rig.vga.display_state().pixel_mask, 0x00);
}

TEST(CirrusRegisters, VerticalRetraceFollowsTheClockAt60Hz) {
  CirrusRig rig;
  rig.clock.set(100'000);  // inside the retrace at the top of a frame
  EXPECT_TRUE(rig.in8(0x3DA) & 0x08);
  rig.clock.set(8'000'000);  // mid frame
  EXPECT_FALSE(rig.in8(0x3DA) & 0x08);
  rig.clock.set(16'666'667 + 200'000);  // next frame's retrace
  EXPECT_TRUE(rig.in8(0x3DA) & 0x08);
}

TEST(CirrusRegisters, MonoPortsDecodeOnlyInMonoMode) {
  CirrusRig rig;  // colour mode after reset
  rig.out8(0x3B4, 0x0C);
  rig.out8(0x3B5, 0x12);
  rig.out8(0x3D4, 0x0C);
  EXPECT_EQ(rig.in8(0x3D5), 0x00);
  EXPECT_EQ(rig.in8(0x3B5), 0xFF);
}

TEST(CirrusRegisters, UnlockAndCursorPositionUseIndexHighBits) {
  CirrusRig rig;
  rig.out8(0x3C4, 0x06);
  EXPECT_EQ(rig.in8(0x3C5), 0x0F);
  rig.seq(0x06, 0x12);
  EXPECT_EQ(rig.in8(0x3C5), 0x12);
  // X = 803 = 100 * 8 + 3: index 0x10 | 3 << 5.
  rig.seq(0x10 | (3 << 5), 100);
  rig.seq(0x11 | (5 << 5), 20);
  auto s = rig.vga.display_state();
  EXPECT_EQ(s.cursor_x, 803);
  EXPECT_EQ(s.cursor_y, 165);
}

TEST(CirrusRegisters, WordPortWritesSetIndexThenData) {
  CirrusRig rig;
  rig.out16(0x3CE, 0x3F05);  // GR5 = 0x3F
  rig.out8(0x3CE, 0x05);
  EXPECT_EQ(rig.in8(0x3CF), 0x3F);
}

TEST(CirrusRegisters, SaveLoadRoundTripsRegistersAndMappings) {
  CirrusRig a;
  a.enable_bars();
  a.set_extended_mode(640, 480, 16);
  a.dac(7, 1, 2, 3);
  a.seq(0x12, 0x05);
  std::vector<uint8_t> saved = a.vga.save_state();

  CirrusRig b;
  b.vga.load_state(saved);
  EXPECT_EQ(b.vga.display_state(), a.vga.display_state());
  EXPECT_EQ(b.memory.slot_by_name("vram")->guest_base, CirrusRig::kLfb);
  EXPECT_TRUE(b.memory.slot_by_name("vram")->mapped);
  EXPECT_NE(b.mmio.find(CirrusRig::kMmio), nullptr);
  EXPECT_EQ(b.vga.save_state(), saved);

  std::vector<uint8_t> cut(saved.begin(), saved.begin() + 100);
  EXPECT_THROW(b.vga.load_state(cut), std::runtime_error);
  saved[0] ^= 1;
  EXPECT_THROW(b.vga.load_state(saved), std::runtime_error);
}

}  // namespace
}  // namespace rrvm::test
