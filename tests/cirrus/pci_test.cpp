#include <gtest/gtest.h>

#include "tests/cirrus/cirrus_rig.h"

namespace rrvm::test {
namespace {

TEST(PciHost, FindsHostBridgeAndCirrusByConfigMechanism1) {
  CirrusRig rig;
  EXPECT_EQ(rig.cfg_read(0, 0x00), 0x12378086u);
  EXPECT_EQ(rig.cfg_read(2, 0x00), 0x00B81013u);
  EXPECT_EQ(rig.cfg_read(2, 0x08) >> 8, 0x030000u);  // VGA display controller
  EXPECT_EQ(rig.cfg_read(5, 0x00), 0xFFFFFFFFu);       // empty slot
  // Byte and word reads of the data window pick the right bytes.
  rig.ports.write(0xCF8, 4, 0x80000000u | (2 << 11));
  EXPECT_EQ(rig.ports.read(0xCFE, 2), 0x00B8u);
  EXPECT_EQ(rig.ports.read(0xCFD, 1), 0x10u);
  // Disabled configuration cycles see nothing.
  rig.ports.write(0xCF8, 4, (2 << 11));
  EXPECT_EQ(rig.ports.read(0xCFC, 4), 0xFFFFFFFFu);
}

TEST(PciHost, BarSizingReportsSizeAndType) {
  CirrusRig rig;
  rig.cfg_write(2, 0x10, 0xFFFFFFFF);
  rig.cfg_write(2, 0x14, 0xFFFFFFFF);
  EXPECT_EQ(rig.cfg_read(2, 0x10), 0xFFC00008u);  // 4 MiB, prefetchable memory
  EXPECT_EQ(rig.cfg_read(2, 0x14), 0xFFFFF000u);  // 4 KiB memory
  rig.cfg_write(2, 0x18, 0xFFFFFFFF);
  EXPECT_EQ(rig.cfg_read(2, 0x18), 0u);  // unimplemented BAR
}

TEST(PciHost, Bar0MovesTheVramSlotOnlyWhileMemoryDecodes) {
  CirrusRig rig;
  const MemorySlot* vram = rig.memory.slot_by_name("vram");
  ASSERT_NE(vram, nullptr);
  EXPECT_TRUE(vram->log_dirty);
  EXPECT_FALSE(vram->mapped);
  rig.cfg_write(2, 0x10, CirrusRig::kLfb);
  EXPECT_FALSE(rig.memory.slot_by_name("vram")->mapped);  // decoding still off
  int before = rig.map_changes;
  rig.cfg_write(2, 0x04, 0x0002);
  vram = rig.memory.slot_by_name("vram");
  EXPECT_TRUE(vram->mapped);
  EXPECT_EQ(vram->guest_base, CirrusRig::kLfb);
  EXPECT_GT(rig.map_changes, before);
  // A store through the slot lands in VRAM with no exit and is dirty-logged.
  rig.store8(CirrusRig::kLfb + 0x1234, 0x5A);
  EXPECT_EQ(rig.vga.vram()[0x1234], 0x5A);
  DirtyBitmap d = rig.memory.collect_dirty(rig.vga.vram_slot());
  EXPECT_TRUE(d[0] & 2);  // page 1
  // Reprogramming BAR0 moves the slot; contents follow.
  rig.cfg_write(2, 0x10, 0xD0000000);
  EXPECT_EQ(rig.memory.slot_by_name("vram")->guest_base, 0xD0000000u);
  EXPECT_EQ(rig.load8(0xD0001234), 0x5A);
  // Disabling memory decoding hides it.
  rig.cfg_write(2, 0x04, 0);
  EXPECT_FALSE(rig.memory.slot_by_name("vram")->mapped);
  EXPECT_EQ(rig.memory.host_ptr(0xD0001234, 1), nullptr);
}

TEST(PciHost, Bar0OverRamStaysHidden) {
  CirrusRig rig;
  rig.cfg_write(2, 0x10, 0x00000000 | 0x00400000);  // inside nothing... 4 MiB is free
  rig.cfg_write(2, 0x04, 0x0002);
  EXPECT_TRUE(rig.memory.slot_by_name("vram")->mapped);
  rig.memory.add_slot(0x10000000, 1 << 22, "other");
  rig.cfg_write(2, 0x10, 0x10000000);  // overlaps "other": refused, VRAM hidden
  EXPECT_FALSE(rig.memory.slot_by_name("vram")->mapped);
  EXPECT_EQ(rig.memory.slot_by_name("other")->guest_base, 0x10000000u);
}

TEST(PciHost, Bar1ClaimsBlitterRegistersOnTheMmioBus) {
  CirrusRig rig;
  rig.enable_bars();
  // BAR1 0x100 + 0x08 is the blit width (GR20); 0x00-0x1F mirror ports 0x3C0-0x3DF.
  rig.mmio.write(CirrusRig::kMmio + 0x108, 1, 0x7F);
  rig.out8(0x3CE, 0x20);
  EXPECT_EQ(rig.in8(0x3CF), 0x7F);
  rig.mmio.write(CirrusRig::kMmio + 0x04, 1, 0x07);  // 0x3C4: sequencer index
  EXPECT_EQ(rig.in8(0x3C4), 0x07);
  rig.cfg_write(2, 0x04, 0);
  EXPECT_EQ(rig.mmio.find(CirrusRig::kMmio), nullptr);
}

}  // namespace
}  // namespace rrvm::test
