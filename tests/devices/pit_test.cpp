#include <gtest/gtest.h>

#include "devices/pic_8259.h"
#include "devices/pit_8254.h"
#include "tests/devices/test_util.h"

namespace rrvm {
namespace {

using test::IrqRecorder;
using test::run_deadlines;

struct PitFixture : ::testing::Test {
  ManualClock clock;
  IrqRecorder irqs{&clock};
  Pit8254 pit{clock, irqs};

  void at_tick(uint64_t tick) { clock.set(std::max(clock.now_ns(), Pit8254::ns_at_tick(tick))); }
  void program(unsigned channel, uint8_t control_low_bits, uint16_t count) {
    pit.io_write(3, 1, uint8_t(channel << 6 | 0x30 | control_low_bits));
    pit.io_write(channel, 1, count & 0xFF);
    pit.io_write(channel, 1, count >> 8);
  }
  uint16_t read16(unsigned channel) {
    uint16_t lo = uint16_t(pit.io_read(channel, 1));
    return uint16_t(lo | pit.io_read(channel, 1) << 8);
  }
};

TEST(Pit8254Time, TickConversionIsExact) {
  EXPECT_EQ(Pit8254::ticks_at(1000000000), Pit8254::kInputHz);
  for (uint64_t k : {1ull, 2ull, 1193ull, 65536ull, 1193182ull, 123456789ull}) {
    uint64_t ns = Pit8254::ns_at_tick(k);
    EXPECT_EQ(Pit8254::ticks_at(ns), k);
    EXPECT_EQ(Pit8254::ticks_at(ns - 1), k - 1);
  }
}

TEST_F(PitFixture, Mode0CountsDownAndRaisesOnceAtTerminalCount) {
  program(0, 0x00, 100);
  EXPECT_FALSE(pit.output(0));
  at_tick(40);
  EXPECT_EQ(read16(0), 60);
  ASSERT_EQ(pit.next_deadline_ns(), Pit8254::ns_at_tick(100));
  run_deadlines(clock, pit, Pit8254::ns_at_tick(5000));
  ASSERT_EQ(irqs.rises[0].size(), 1u);
  EXPECT_EQ(irqs.rises[0][0], Pit8254::ns_at_tick(100));
  EXPECT_TRUE(irqs.levels[0]);
  EXPECT_EQ(pit.count(0), 65536u + 100 - 5000);  // keeps counting down past zero
  EXPECT_FALSE(pit.next_deadline_ns().has_value());
}

TEST_F(PitFixture, Mode2IsPeriodicWithOneTickLowPulse) {
  program(0, 0x04, 1000);
  at_tick(250);
  EXPECT_EQ(read16(0), 750);
  EXPECT_TRUE(pit.output(0));
  at_tick(999);
  EXPECT_FALSE(pit.output(0));
  at_tick(1000);
  EXPECT_TRUE(pit.output(0));
  EXPECT_EQ(pit.count(0), 1000u);

  ManualClock c2;
  IrqRecorder r2(&c2);
  Pit8254 p2(c2, r2);
  p2.io_write(3, 1, 0x34);
  p2.io_write(0, 1, 1000 & 0xFF);
  p2.io_write(0, 1, 1000 >> 8);
  run_deadlines(c2, p2, Pit8254::ns_at_tick(5500));
  ASSERT_EQ(r2.rises[0].size(), 5u);
  for (uint64_t k = 1; k <= 5; ++k) EXPECT_EQ(r2.rises[0][k - 1], Pit8254::ns_at_tick(1000 * k));
}

TEST_F(PitFixture, Mode2WakesOncePerPeriodAtTheRise) {
  program(0, 0x04, 1000);
  ASSERT_EQ(pit.next_deadline_ns(), Pit8254::ns_at_tick(1000));
  pit.advance_to(Pit8254::ns_at_tick(999));  // inside the low pulse: still the rise next
  ASSERT_EQ(pit.next_deadline_ns(), Pit8254::ns_at_tick(1000));
  pit.advance_to(Pit8254::ns_at_tick(1000));
  EXPECT_EQ(pit.next_deadline_ns(), Pit8254::ns_at_tick(2000));
  EXPECT_EQ(irqs.rises[0].size(), 1u);
}

TEST_F(PitFixture, Mode3IsASquareWave) {
  program(0, 0x06, 100);
  at_tick(10);
  EXPECT_TRUE(pit.output(0));
  EXPECT_EQ(pit.count(0), 80u);  // counts by two
  at_tick(49);
  EXPECT_TRUE(pit.output(0));
  at_tick(50);
  EXPECT_FALSE(pit.output(0));
  at_tick(99);
  EXPECT_FALSE(pit.output(0));
  at_tick(100);
  EXPECT_TRUE(pit.output(0));
}

TEST_F(PitFixture, Mode3IrqEdgesEveryPeriod) {
  program(0, 0x06, 0);  // 65536: the BIOS's 18.2 Hz tick
  run_deadlines(clock, pit, Pit8254::ns_at_tick(3 * 65536 + 10));
  ASSERT_EQ(irqs.rises[0].size(), 3u);
  EXPECT_EQ(irqs.rises[0][2], Pit8254::ns_at_tick(3 * 65536));
}

TEST_F(PitFixture, LateServiceStillDeliversTheEdge) {
  program(0, 0x06, 100);
  at_tick(160);  // past the rise at 100, output low again
  pit.advance_to(clock.now_ns());
  EXPECT_EQ(irqs.rises[0].size(), 1u);
}

TEST_F(PitFixture, LatchFreezesTheReadValue) {
  program(0, 0x00, 100);
  at_tick(10);
  pit.io_write(3, 1, 0x00);  // latch counter 0
  at_tick(50);
  EXPECT_EQ(read16(0), 90);
  EXPECT_EQ(read16(0), 50);  // latch released after both bytes
}

TEST_F(PitFixture, ReadBackReturnsStatusThenCount) {
  program(0, 0x04, 500);
  at_tick(100);
  pit.io_write(3, 1, 0xC2);  // read-back: count and status of counter 0
  uint8_t status = uint8_t(pit.io_read(0, 1));
  EXPECT_EQ(status & 0x80, 0x80);      // output high
  EXPECT_EQ(status & 0x40, 0);         // count loaded
  EXPECT_EQ((status >> 4) & 3, 3);     // lo/hi access
  EXPECT_EQ((status >> 1) & 7, 2);     // mode 2
  at_tick(200);
  EXPECT_EQ(read16(0), 400);
  pit.io_write(3, 1, 0xE2);  // status only
  at_tick(300);
  EXPECT_EQ(pit.io_read(0, 1) & 0x3F, 0x34u);
  EXPECT_EQ(read16(0), 200);  // live count again
}

TEST_F(PitFixture, LowOnlyAndHighOnlyAccess) {
  pit.io_write(3, 1, 0x10);  // lo only, mode 0
  pit.io_write(0, 1, 50);
  EXPECT_EQ(pit.count(0), 50u);
  EXPECT_EQ(pit.io_read(0, 1), 50u);
  EXPECT_EQ(pit.io_read(0, 1), 50u);  // no flip-flop
  pit.io_write(3, 1, 0x20);           // hi only
  pit.io_write(0, 1, 2);
  EXPECT_EQ(pit.count(0), 512u);
  EXPECT_EQ(pit.io_read(0, 1), 2u);
}

TEST_F(PitFixture, FirstByteOfModeZeroCountStopsCounting) {
  program(0, 0x00, 10);
  at_tick(20);
  EXPECT_TRUE(pit.output(0));
  pit.io_write(0, 1, 100);
  EXPECT_FALSE(pit.output(0));
  pit.io_write(0, 1, 0);
  at_tick(60);
  EXPECT_EQ(pit.count(0), 60u);
}

TEST_F(PitFixture, BcdCounting) {
  pit.io_write(3, 1, 0x31);  // lo/hi, mode 0, BCD
  pit.io_write(0, 1, 0x00);
  pit.io_write(0, 1, 0x10);  // 1000 decimal
  at_tick(1);
  EXPECT_EQ(read16(0), 0x0999);
  at_tick(1001);
  EXPECT_EQ(read16(0), 0x9999);  // wraps in decimal
}

TEST_F(PitFixture, Channel2GateAndOutputThroughPort61) {
  auto& p61 = pit.port61();
  p61.io_write(0, 1, 0x00);   // gate low
  program(2, 0x00, 10);       // mode 0
  at_tick(50);
  EXPECT_EQ(pit.count(2), 10u);  // not counting without the gate
  p61.io_write(0, 1, 0x01);
  at_tick(55);
  EXPECT_EQ(pit.count(2), 5u);
  EXPECT_EQ(p61.io_read(0, 1) & 0x21, 0x01u);
  at_tick(60);
  EXPECT_EQ(p61.io_read(0, 1) & 0x20, 0x20u);  // out2 high at terminal count
  EXPECT_EQ(irqs.rises[0].size(), 0u);         // channel 2 raises no IRQ
}

TEST_F(PitFixture, Mode1FiresFromTheGate) {
  pit.port61().io_write(0, 1, 0x00);
  program(2, 0x02, 30);  // mode 1
  at_tick(10);
  EXPECT_TRUE(pit.output(2));
  pit.port61().io_write(0, 1, 0x01);  // trigger
  EXPECT_FALSE(pit.output(2));
  at_tick(10 + 30);
  EXPECT_TRUE(pit.output(2));
}

TEST_F(PitFixture, Irq0ThroughRealPic) {
  Pic8259Pair pic;
  test::init_pc_pics(pic);
  ManualClock c;
  Pit8254 p(c, pic);
  p.io_write(3, 1, 0x34);
  p.io_write(0, 1, 100);
  p.io_write(0, 1, 0);
  run_deadlines(c, p, Pit8254::ns_at_tick(99));
  EXPECT_FALSE(pic.has_pending_interrupt());
  run_deadlines(c, p, Pit8254::ns_at_tick(100));
  ASSERT_TRUE(pic.has_pending_interrupt());
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x08);
}

TEST_F(PitFixture, StateRoundTrip) {
  program(0, 0x04, 1234);
  program(2, 0x06, 77);
  at_tick(500);
  pit.io_write(3, 1, 0x00);
  Pit8254 other(clock, irqs);
  other.load_state(pit.save_state());
  EXPECT_EQ(other.save_state(), pit.save_state());
  at_tick(900);
  EXPECT_EQ(other.count(0), pit.count(0));
  EXPECT_EQ(other.io_read(0, 1), pit.io_read(0, 1));  // the latch came along
  EXPECT_EQ(other.next_deadline_ns(), pit.next_deadline_ns());
  EXPECT_THROW(other.load_state(std::vector<uint8_t>{1, 2, 3}), std::runtime_error);
}

}  // namespace
}  // namespace rrvm
