#include <gtest/gtest.h>

#include "devices/pic_8259.h"
#include "tests/devices/test_util.h"

namespace rrvm {
namespace {

using test::init_pc_pics;

constexpr uint8_t kNonSpecificEoi = 0x20;
uint8_t specific_eoi(unsigned ir) { return uint8_t(0x60 | ir); }
uint8_t read_irr(Pic8259Chip& c) { c.io_write(0, 1, 0x0A); return uint8_t(c.io_read(0, 1)); }
uint8_t read_isr(Pic8259Chip& c) { c.io_write(0, 1, 0x0B); return uint8_t(c.io_read(0, 1)); }

TEST(Pic8259, NothingIsDeliveredUntilInitialized) {
  Pic8259Pair pic;
  pic.set_irq(1, true);
  EXPECT_FALSE(pic.has_pending_interrupt());  // masked at reset
  pic.master().io_write(0, 1, 0x11);            // ICW1
  EXPECT_EQ(pic.master().io_read(1, 1), 0u);  // ICW1 clears the mask
  pic.set_irq(1, false);
  pic.set_irq(1, true);
  EXPECT_FALSE(pic.has_pending_interrupt());  // still waiting for ICW2-4
  pic.master().io_write(1, 1, 0x20);
  pic.master().io_write(1, 1, 0x04);
  pic.master().io_write(1, 1, 0x01);
  EXPECT_TRUE(pic.master().initialized());
  EXPECT_EQ(pic.master().vector_base(), 0x20);
  ASSERT_TRUE(pic.has_pending_interrupt());
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x21);
}

TEST(Pic8259, CascadedSlaveRanksAtIrq2) {
  Pic8259Pair pic;
  init_pc_pics(pic);
  pic.set_irq(3, true);
  pic.set_irq(8, true);
  // IRQ8 comes in on IR2, which outranks IR3.
  ASSERT_TRUE(pic.has_pending_interrupt());
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x70);
  EXPECT_EQ(pic.master().isr(), 0x04);
  EXPECT_EQ(pic.slave().isr(), 0x01);
  // IR3 waits for the cascade's EOI; IRQ0 outranks it and nests.
  EXPECT_FALSE(pic.has_pending_interrupt());
  pic.set_irq(0, true);
  ASSERT_TRUE(pic.has_pending_interrupt());
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x08);
  pic.master().io_write(0, 1, kNonSpecificEoi);  // ends IRQ0 (highest in service)
  EXPECT_EQ(pic.master().isr(), 0x04);
  EXPECT_FALSE(pic.has_pending_interrupt());
  pic.slave().io_write(0, 1, kNonSpecificEoi);
  pic.master().io_write(0, 1, kNonSpecificEoi);
  ASSERT_TRUE(pic.has_pending_interrupt());
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x0B);
}

TEST(Pic8259, SlaveRequestsKeepTheirOrderBehindTheCascade) {
  Pic8259Pair pic;
  init_pc_pics(pic);
  pic.set_irq(12, true);
  pic.set_irq(9, true);
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x71);  // IRQ9 before IRQ12
  EXPECT_FALSE(pic.has_pending_interrupt());
  pic.slave().io_write(0, 1, specific_eoi(1));
  pic.master().io_write(0, 1, specific_eoi(2));
  ASSERT_TRUE(pic.has_pending_interrupt());
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x74);
}

TEST(Pic8259, SpecificEoiClearsOnlyTheNamedLevel) {
  Pic8259Pair pic;
  init_pc_pics(pic);
  pic.set_irq(5, true);
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x0D);
  pic.set_irq(1, true);
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x09);
  EXPECT_EQ(read_isr(pic.master()), 0x22);
  pic.master().io_write(0, 1, specific_eoi(5));
  EXPECT_EQ(read_isr(pic.master()), 0x02);
  pic.master().io_write(0, 1, kNonSpecificEoi);
  EXPECT_EQ(read_isr(pic.master()), 0x00);
}

TEST(Pic8259, MaskedRequestsWaitInIrr) {
  Pic8259Pair pic;
  init_pc_pics(pic);
  pic.master().io_write(1, 1, 0x10);  // mask IRQ4
  EXPECT_EQ(pic.master().io_read(1, 1), 0x10u);
  pic.set_irq(4, true);
  EXPECT_FALSE(pic.has_pending_interrupt());
  EXPECT_EQ(read_irr(pic.master()), 0x10);
  pic.master().io_write(1, 1, 0x00);
  ASSERT_TRUE(pic.has_pending_interrupt());
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x0C);
  EXPECT_EQ(read_irr(pic.master()), 0x00);  // edge latch consumed
  EXPECT_EQ(read_isr(pic.master()), 0x10);
}

TEST(Pic8259, EdgeTriggeredNeedsANewEdge) {
  Pic8259Pair pic;
  init_pc_pics(pic);
  pic.set_irq(6, true);
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x0E);
  pic.master().io_write(0, 1, kNonSpecificEoi);
  pic.set_irq(6, true);  // still high: no edge
  EXPECT_FALSE(pic.has_pending_interrupt());
  pic.set_irq(6, false);
  pic.set_irq(6, true);
  EXPECT_TRUE(pic.has_pending_interrupt());
}

TEST(Pic8259, LevelModeFromElcrRepeatsWhileHigh) {
  Pic8259Pair pic;
  init_pc_pics(pic);
  pic.elcr().io_write(1, 1, 0x08);  // IRQ11 level-triggered
  EXPECT_EQ(pic.elcr().io_read(1, 1), 0x08u);
  pic.elcr().io_write(0, 1, 0xFF);
  EXPECT_EQ(pic.elcr().io_read(0, 1), 0xF8u);  // IRQ0-2 cannot be level
  pic.set_irq(11, true);
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x73);
  pic.slave().io_write(0, 1, kNonSpecificEoi);
  pic.master().io_write(0, 1, kNonSpecificEoi);
  ASSERT_TRUE(pic.has_pending_interrupt());  // line still high
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x73);
}

TEST(Pic8259, RequestGoneBeforeAcknowledgeIsSpuriousIrq7) {
  Pic8259Pair pic;
  init_pc_pics(pic);
  pic.set_irq(3, true);
  ASSERT_TRUE(pic.has_pending_interrupt());
  pic.set_irq(3, false);
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x0F);
  EXPECT_EQ(read_isr(pic.master()), 0x00);  // a spurious IRQ7 sets no ISR bit
}

TEST(Pic8259, SlaveRequestGoneBeforeAcknowledgeIsSpuriousIrq15) {
  Pic8259Pair pic;
  init_pc_pics(pic);
  pic.set_irq(10, true);
  ASSERT_TRUE(pic.has_pending_interrupt());
  pic.set_irq(10, false);
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x77);
  EXPECT_EQ(read_isr(pic.slave()), 0x00);
  EXPECT_EQ(read_isr(pic.master()), 0x04);  // the master took the cascade; the OS EOIs it
}

TEST(Pic8259, AutoEoiLeavesIsrClear) {
  Pic8259Pair pic;
  pic.master().io_write(0, 1, 0x11);
  pic.master().io_write(1, 1, 0x08);
  pic.master().io_write(1, 1, 0x04);
  pic.master().io_write(1, 1, 0x03);  // 8086 mode + auto-EOI
  pic.master().io_write(1, 1, 0x00);
  pic.set_irq(1, true);
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x09);
  EXPECT_EQ(read_isr(pic.master()), 0x00);
  pic.set_irq(4, true);  // lower priority, not blocked by an ISR bit
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x0C);
}

TEST(Pic8259, PollCommandActsAsAcknowledge) {
  Pic8259Pair pic;
  init_pc_pics(pic);
  pic.set_irq(5, true);
  pic.master().io_write(0, 1, 0x0C);  // OCW3 poll
  EXPECT_EQ(pic.master().io_read(0, 1), 0x85u);
  EXPECT_EQ(read_isr(pic.master()), 0x20);
  pic.master().io_write(0, 1, 0x0C);
  EXPECT_EQ(pic.master().io_read(0, 1), 0x00u);  // nothing left
}

TEST(Pic8259, RotateOnNonSpecificEoiMakesLevelLowest) {
  Pic8259Pair pic;
  init_pc_pics(pic);
  pic.set_irq(1, true);
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x09);
  pic.master().io_write(0, 1, 0xA0);  // rotate on non-specific EOI: IR1 now lowest
  pic.set_irq(1, false);
  pic.set_irq(1, true);
  pic.set_irq(3, true);
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x0B);  // IR3 outranks IR1 now
}

TEST(Pic8259, StateRoundTrip) {
  Pic8259Pair a;
  init_pc_pics(a);
  a.set_irq(9, true);
  a.set_irq(4, true);
  a.master().io_write(1, 1, 0x10);
  Pic8259Pair b;
  b.load_state(a.save_state());
  EXPECT_EQ(b.save_state(), a.save_state());
  EXPECT_EQ(b.acknowledge_interrupt(), a.acknowledge_interrupt());
  auto bytes = a.save_state();
  bytes.pop_back();
  EXPECT_THROW(b.load_state(bytes), std::runtime_error);
  bytes = a.save_state();
  bytes[4] = 99;  // version
  EXPECT_THROW(b.load_state(bytes), std::runtime_error);
}

}  // namespace
}  // namespace rrvm
