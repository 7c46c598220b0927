#include <gtest/gtest.h>

#include "devices/cmos_rtc.h"
#include "devices/pic_8259.h"
#include "tests/devices/test_util.h"

namespace rrvm {
namespace {

using test::IrqRecorder;

// 2024-03-05 13:45:30 UTC, a Tuesday: 64 days after 2024-01-01 (1704067200).
constexpr int64_t kBase = 1704067200 + 64 * 86400 + 13 * 3600 + 45 * 60 + 30;
constexpr uint64_t kSecond = 1000000000ull;

struct RtcFixture : ::testing::Test {
  ManualClock clock;
  IrqRecorder irqs{&clock};
  CmosRtc rtc{clock, irqs, kBase};
  uint8_t rd(uint8_t index) {
    rtc.io_write(0, 1, index);
    return uint8_t(rtc.io_read(1, 1));
  }
  void wr(uint8_t index, uint8_t v) {
    rtc.io_write(0, 1, index);
    rtc.io_write(1, 1, v);
  }
};

TEST_F(RtcFixture, BcdTwentyFourHourByDefault) {
  EXPECT_EQ(rd(0x00), 0x30);
  EXPECT_EQ(rd(0x02), 0x45);
  EXPECT_EQ(rd(0x04), 0x13);
  EXPECT_EQ(rd(0x06), 0x03);  // Tuesday (Sunday = 1)
  EXPECT_EQ(rd(0x07), 0x05);
  EXPECT_EQ(rd(0x08), 0x03);
  EXPECT_EQ(rd(0x09), 0x24);
  EXPECT_EQ(rd(0x32), 0x20);
  EXPECT_EQ(rd(0x0D), 0x80);
}

TEST_F(RtcFixture, TimeFollowsTheClock) {
  clock.set(31 * kSecond + 5);
  EXPECT_EQ(rd(0x00), 0x01);
  EXPECT_EQ(rd(0x02), 0x46);
  clock.set((10 * 3600 + 14 * 60 + 30) * kSecond);  // past midnight
  EXPECT_EQ(rd(0x04), 0x00);
  EXPECT_EQ(rd(0x07), 0x06);
  EXPECT_EQ(rd(0x06), 0x04);
}

TEST_F(RtcFixture, BinaryAndTwelveHourFormats) {
  wr(0x0B, 0x06);  // binary, 24h
  EXPECT_EQ(rd(0x00), 30);
  EXPECT_EQ(rd(0x04), 13);
  EXPECT_EQ(rd(0x09), 24);
  wr(0x0B, 0x00);  // BCD, 12h
  EXPECT_EQ(rd(0x04), 0x81);  // 1 PM
  wr(0x0B, 0x04);  // binary, 12h
  EXPECT_EQ(rd(0x04), 0x81);
  clock.set((22 * 3600 + 14 * 60 + 30) * kSecond);  // 12:00 noon next day
  EXPECT_EQ(rd(0x04), 0x8C);
  clock.set((10 * 3600 + 14 * 60 + 30) * kSecond);  // midnight
  EXPECT_EQ(rd(0x04), 12);
}

TEST_F(RtcFixture, SettingTheTime) {
  wr(0x0B, 0x82);  // SET: updates stop
  wr(0x04, 0x08);
  wr(0x02, 0x00);
  wr(0x00, 0x00);
  wr(0x07, 0x31);
  wr(0x08, 0x12);
  wr(0x09, 0x99);
  wr(0x32, 0x19);
  clock.set(5 * kSecond);
  EXPECT_EQ(rd(0x00), 0x00);  // frozen while SET
  wr(0x0B, 0x02);
  clock.set(7 * kSecond);
  EXPECT_EQ(rd(0x00), 0x02);
  EXPECT_EQ(rd(0x04), 0x08);
  EXPECT_EQ(rd(0x07), 0x31);
  EXPECT_EQ(rd(0x08), 0x12);
  EXPECT_EQ(rd(0x09), 0x99);
  EXPECT_EQ(rd(0x32), 0x19);
  EXPECT_EQ(rtc.current_time(), 946684800 - 16 * 3600 + 2);  // 1999-12-31 08:00:02
}

TEST_F(RtcFixture, UpdateInProgressWindow) {
  clock.set(kSecond - CmosRtc::kUpdateWindowNs - 1);
  EXPECT_EQ(rd(0x0A) & 0x80, 0);
  clock.set(kSecond - CmosRtc::kUpdateWindowNs);
  EXPECT_EQ(rd(0x0A) & 0x80, 0x80);
  clock.set(kSecond - 1);
  EXPECT_EQ(rd(0x0A) & 0x80, 0x80);
  clock.set(kSecond);
  EXPECT_EQ(rd(0x0A), 0x26);
}

TEST_F(RtcFixture, NmiMaskBitIsKeptApartFromTheIndex) {
  EXPECT_FALSE(rtc.nmi_masked());
  rtc.io_write(0, 1, 0x80 | 0x0A);
  EXPECT_TRUE(rtc.nmi_masked());
  EXPECT_EQ(rtc.io_read(1, 1), 0x26u);
  rtc.io_write(0, 1, 0x0A);
  EXPECT_FALSE(rtc.nmi_masked());
}

TEST_F(RtcFixture, CmosBytesAndReadOnlyRegisters) {
  wr(0x40, 0xAB);
  EXPECT_EQ(rd(0x40), 0xAB);
  wr(0x0D, 0x00);
  EXPECT_EQ(rd(0x0D), 0x80);
  wr(0x0A, 0xFF);
  EXPECT_EQ(rd(0x0A) & 0x7F, 0x7F);
}

TEST_F(RtcFixture, UpdateInterruptAndRegisterCClearsOnRead) {
  wr(0x0B, 0x12);  // UIE
  EXPECT_EQ(rtc.next_deadline_ns(), kSecond);
  test::run_deadlines(clock, rtc, kSecond);
  EXPECT_TRUE(irqs.levels[8]);
  EXPECT_EQ(irqs.rises[8].back(), kSecond);
  EXPECT_FALSE(rtc.next_deadline_ns().has_value());  // line high until C is read
  EXPECT_EQ(rd(0x0C) & 0xB0, 0x90);  // IRQF + UF (PF runs too, at the default rate)
  EXPECT_FALSE(irqs.levels[8]);
  EXPECT_EQ(rd(0x0C), 0x00);
}

TEST_F(RtcFixture, UpdateFlagIsSetWithoutInterrupts) {
  clock.set(3 * kSecond);
  EXPECT_EQ(rd(0x0C) & 0xB0, 0x10);  // UF without IRQF
  EXPECT_FALSE(irqs.levels[8]);
}

TEST_F(RtcFixture, PeriodicInterruptRate) {
  wr(0x0A, 0x26);  // 1024 Hz
  wr(0x0B, 0x42);  // PIE
  uint64_t period = (32 * kSecond + 32767) / 32768;
  EXPECT_EQ(rtc.next_deadline_ns(), period);
  test::run_deadlines(clock, rtc, period);
  EXPECT_TRUE(irqs.levels[8]);
  EXPECT_EQ(rd(0x0C) & 0xC0, 0xC0);
}

TEST_F(RtcFixture, AlarmInterrupt) {
  wr(0x01, 0x35);  // at :35 seconds
  wr(0x03, 0xC0);  // any minute
  wr(0x05, 0xC0);  // any hour
  wr(0x0B, 0x22);  // AIE
  test::run_deadlines(clock, rtc, 4 * kSecond);
  EXPECT_FALSE(irqs.levels[8]);
  test::run_deadlines(clock, rtc, 5 * kSecond);
  EXPECT_TRUE(irqs.levels[8]);
  EXPECT_EQ(rd(0x0C) & 0xA0, 0xA0);
}

TEST_F(RtcFixture, Irq8ThroughRealPic) {
  Pic8259Pair pic;
  test::init_pc_pics(pic);
  CmosRtc r(clock, pic, kBase);
  r.io_write(0, 1, 0x0B);
  r.io_write(1, 1, 0x12);
  test::run_deadlines(clock, r, kSecond);
  ASSERT_TRUE(pic.has_pending_interrupt());
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x70);
}

TEST_F(RtcFixture, StateRoundTrip) {
  wr(0x0B, 0x86);
  wr(0x04, 5);
  wr(0x50, 7);
  rtc.io_write(0, 1, 0x8B);
  CmosRtc other(clock, irqs, 0);
  other.load_state(rtc.save_state());
  EXPECT_EQ(other.save_state(), rtc.save_state());
  EXPECT_TRUE(other.nmi_masked());
  EXPECT_EQ(other.current_time(), rtc.current_time());
  EXPECT_THROW(other.load_state(std::vector<uint8_t>(10, 0)), std::runtime_error);
}

}  // namespace
}  // namespace rrvm
