#include <gtest/gtest.h>

#include <string>

#include "devices/pic_8259.h"
#include "devices/serial_16550.h"
#include "tests/devices/test_util.h"

namespace rrvm {
namespace {

using test::IrqRecorder;

enum : unsigned { RBR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };
constexpr uint8_t kOut2 = 0x08, kLoop = 0x10;

struct SerialFixture : ::testing::Test {
  ManualClock clock;
  IrqRecorder irqs{&clock};
  std::string out;
  Serial16550 uart{clock, irqs, 4, [this](uint8_t b) { out.push_back(char(b)); }};
  uint8_t rd(unsigned r) { return uint8_t(uart.io_read(r, 1)); }
  void wr(unsigned r, uint8_t v) { uart.io_write(r, 1, v); }
};

TEST_F(SerialFixture, ScratchAndDivisorLatch) {
  wr(SCR, 0x5A);
  EXPECT_EQ(rd(SCR), 0x5A);
  wr(LCR, 0x83);  // DLAB, 8N1
  wr(0, 12);
  wr(1, 0);
  EXPECT_EQ(rd(0), 12);
  EXPECT_EQ(rd(1), 0);
  EXPECT_EQ(uart.char_time_ns(), 10ull * 1000000000ull * 12 / 115200);
  wr(LCR, 0x03);
  wr(IER, 0x0F);
  EXPECT_EQ(rd(IER), 0x0F);
  wr(LCR, 0x83);
  EXPECT_EQ(rd(1), 0);  // DLM, untouched by the IER write
  EXPECT_EQ(rd(LCR), 0x83);
}

TEST_F(SerialFixture, TransmitGoesToTheSinkAndThrStaysEmpty) {
  wr(0, 'h');
  wr(0, 'i');
  EXPECT_EQ(out, "hi");
  EXPECT_EQ(rd(LSR) & 0x60, 0x60);
}

TEST_F(SerialFixture, ThreInterruptIsGatedByOut2AndClearedByIirRead) {
  wr(IER, 0x02);
  EXPECT_FALSE(irqs.levels[4]);  // OUT2 off: the PC's IRQ line is disconnected
  EXPECT_EQ(rd(IIR), 0x02);      // ...but the UART has it pending (and this read acknowledges)
  EXPECT_EQ(rd(IIR), 0x01);
  wr(MCR, kOut2);
  wr(0, 'x');  // THR empties again at once
  EXPECT_TRUE(irqs.levels[4]);
  EXPECT_EQ(rd(IIR), 0x02);
  EXPECT_FALSE(irqs.levels[4]);
  EXPECT_EQ(rd(IIR), 0x01);
}

TEST_F(SerialFixture, ThreInterruptReachesTheRealPic) {
  Pic8259Pair pic;
  test::init_pc_pics(pic);
  Serial16550 u(clock, pic, 4);
  u.io_write(MCR, 1, kOut2);
  u.io_write(IER, 1, 0x02);
  ASSERT_TRUE(pic.has_pending_interrupt());
  EXPECT_EQ(pic.acknowledge_interrupt(), 0x0C);
}

TEST_F(SerialFixture, LoopbackEchoesAndMirrorsModemLines) {
  wr(MCR, kLoop | 0x0F);
  EXPECT_EQ(rd(MSR) & 0xF0, 0xF0);
  wr(0, 'Q');
  EXPECT_EQ(out, "");
  EXPECT_EQ(rd(LSR) & 0x01, 0x01);
  EXPECT_EQ(rd(RBR), 'Q');
  EXPECT_EQ(rd(LSR) & 0x01, 0x00);
  wr(MCR, kLoop | 0x02);  // RTS only -> CTS only
  EXPECT_EQ(rd(MSR), 0x10 | 0x02 | 0x08 | 0x04);  // CTS + delta DSR, delta DCD, RI trailing edge
  EXPECT_EQ(rd(MSR), 0x10);                       // deltas clear on read
}

TEST_F(SerialFixture, InterruptIdentificationPriorities) {
  wr(MCR, kLoop | kOut2);  // loopback; DCD follows OUT2 -> modem delta
  wr(IER, 0x0F);
  wr(0, 'a');
  wr(0, 'b');  // no FIFO: one-byte holding register overruns
  EXPECT_EQ(rd(IIR), 0x06);  // line status first
  EXPECT_EQ(rd(LSR) & 0x03, 0x03);
  EXPECT_EQ(rd(IIR), 0x04);  // then received data
  EXPECT_EQ(rd(RBR), 'a');
  EXPECT_EQ(rd(IIR), 0x02);  // then THR empty (acknowledged by this read)
  EXPECT_EQ(rd(IIR), 0x00);  // then modem status
  rd(MSR);
  EXPECT_EQ(rd(IIR), 0x01);
}

TEST_F(SerialFixture, InputArrivesOneCharacterTimeApart) {
  FileByteSource src(std::vector<uint8_t>{'a', 'b', 'c'});
  Serial16550 u(clock, irqs, 4, {}, &src);
  u.start();  // the machine starts: input connected
  u.io_write(MCR, 1, kOut2);
  u.io_write(IER, 1, 0x01);
  uint64_t ct = u.char_time_ns();  // divisor 1 at reset
  EXPECT_EQ(u.next_deadline_ns(), ct);
  clock.set(ct - 1);
  u.advance_to(clock.now_ns());
  EXPECT_EQ(u.rx_fifo_count(), 0u);
  EXPECT_FALSE(irqs.levels[4]);
  clock.set(ct);
  u.advance_to(clock.now_ns());
  EXPECT_EQ(u.rx_fifo_count(), 1u);  // no FIFO: holds one byte, waits for a read
  EXPECT_TRUE(irqs.levels[4]);
  EXPECT_EQ(irqs.rises[4].back(), ct);
  EXPECT_EQ(u.io_read(IIR, 1), 0x04u);
  EXPECT_FALSE(u.next_deadline_ns().has_value());
  clock.set(5 * ct);
  EXPECT_EQ(u.io_read(RBR, 1), uint64_t('a'));
  EXPECT_FALSE(irqs.levels[4]);
  EXPECT_EQ(u.next_deadline_ns(), 6 * ct);  // the next byte one character after the read
}

// Every clock reading is a trace event (and jittery bytes on kvm): a UART
// with nothing time-dependent in flight must not read the clock, however
// often the guest polls it; one with input pending must.
TEST(SerialClock, ReadsTheClockOnlyWhenItsStateDependsOnTime) {
  struct CountingClock final : Clock {
    uint64_t now = 0;
    int reads = 0;
    uint64_t now_ns() override {
      ++reads;
      return now;
    }
  };
  ManualClock irq_clock;
  IrqRecorder irqs{&irq_clock};
  CountingClock clock;
  std::string out;
  Serial16550 idle(clock, irqs, 4, [&](uint8_t b) { out.push_back(char(b)); });
  clock.reads = 0;
  for (char c : std::string("polled")) {
    EXPECT_EQ(idle.io_read(LSR, 1) & 0x20, 0x20u);
    idle.io_write(RBR, 1, uint8_t(c));  // THR
  }
  EXPECT_EQ(out, "polled");
  EXPECT_EQ(clock.reads, 0);

  FileByteSource src(std::vector<uint8_t>{'a'});
  Serial16550 fed(clock, irqs, 4, {}, &src);
  fed.start();  // the machine starts: input connected
  clock.reads = 0;
  clock.now = fed.char_time_ns();
  EXPECT_EQ(fed.io_read(LSR, 1) & 0x01, 0x01u);  // the byte has arrived: time was read
  EXPECT_EQ(clock.reads, 1);
  EXPECT_EQ(fed.io_read(RBR, 1), uint64_t('a'));
}

// A replay feeds the recorded bytes from a source that cannot tell when the
// recording's input ended: the UART must read the clock at the same accesses
// whether or not its source says it is at its end.
TEST(SerialClock, ClockReadsDoNotDependOnWhetherTheSourceKnowsItsEnd) {
  struct CountingClock final : Clock {
    uint64_t now = 0;
    std::vector<uint64_t> reads;  // access number at each read
    uint64_t access = 0;
    uint64_t now_ns() override {
      reads.push_back(access);
      return now;
    }
  };
  struct EndlessSource final : ByteSource {  // like the replay's
    std::vector<uint8_t> bytes;
    size_t next = 0;
    std::optional<uint8_t> next_byte() override {
      return next < bytes.size() ? std::optional<uint8_t>(bytes[next++]) : std::nullopt;
    }
    bool at_end() override { return false; }
  };
  auto drive = [](ByteSource& src) {
    ManualClock irq_clock;
    IrqRecorder irqs{&irq_clock};
    CountingClock clock;
    Serial16550 u(clock, irqs, 4, [](uint8_t) {}, &src);
    u.start();  // the machine starts: input connected
    clock.reads.clear();
    const uint64_t ct = u.char_time_ns();
    for (int i = 0; i < 12; ++i) {
      clock.access = uint64_t(i);
      clock.now = (uint64_t(i) + 1) * ct / 2;
      if (u.io_read(LSR, 1) & 0x01) u.io_read(RBR, 1);
      u.advance_to(clock.now);
    }
    return clock.reads;
  };
  FileByteSource file(std::vector<uint8_t>{'o', 'k'});
  EndlessSource endless;
  endless.bytes = {'o', 'k'};
  auto recorded = drive(file), replayed = drive(endless);
  EXPECT_FALSE(recorded.empty());
  EXPECT_EQ(recorded, replayed);
}

TEST_F(SerialFixture, FifoTriggerLevelAndCapacity) {
  std::vector<uint8_t> data(40);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i);
  FileByteSource src(data);
  Serial16550 u(clock, irqs, 4, {}, &src);
  u.start();  // the machine starts: input connected
  u.io_write(FCR, 1, 0x81);  // FIFO on, trigger 8
  u.io_write(MCR, 1, kOut2);
  u.io_write(IER, 1, 0x01);
  uint64_t ct = u.char_time_ns();
  clock.set(7 * ct);
  u.advance_to(clock.now_ns());
  EXPECT_EQ(u.rx_fifo_count(), 7u);
  EXPECT_EQ(u.io_read(IIR, 1), 0xC1u);
  clock.set(8 * ct);
  u.advance_to(clock.now_ns());
  EXPECT_EQ(u.io_read(IIR, 1), 0xC4u);
  EXPECT_TRUE(irqs.levels[4]);
  clock.set(100 * ct);
  u.advance_to(clock.now_ns());
  EXPECT_EQ(u.rx_fifo_count(), 16u);  // full: input waits, nothing is lost
  for (unsigned i = 0; i < 16; ++i) EXPECT_EQ(u.io_read(RBR, 1), i);
  EXPECT_EQ(u.io_read(LSR, 1) & 0x03, 0u);  // no overrun
  clock.set(101 * ct);
  u.advance_to(clock.now_ns());
  EXPECT_EQ(u.io_read(RBR, 1), 16u);
}

TEST_F(SerialFixture, CharacterTimeoutBelowTrigger) {
  FileByteSource src(std::vector<uint8_t>{1, 2, 3});
  Serial16550 u(clock, irqs, 4, {}, &src);
  u.start();  // the machine starts: input connected
  u.io_write(FCR, 1, 0xC1);  // trigger 14
  u.io_write(MCR, 1, kOut2);
  u.io_write(IER, 1, 0x01);
  uint64_t ct = u.char_time_ns();
  test::run_deadlines(clock, u, 3 * ct + 4 * ct - 1);
  EXPECT_EQ(u.rx_fifo_count(), 3u);
  EXPECT_FALSE(irqs.levels[4]);
  test::run_deadlines(clock, u, 7 * ct);
  EXPECT_TRUE(irqs.levels[4]);
  EXPECT_EQ(irqs.rises[4].back(), 7 * ct);  // four character times after the last byte
  EXPECT_EQ(u.io_read(IIR, 1), 0xCCu);
  u.io_read(RBR, 1);
  EXPECT_EQ(u.io_read(IIR, 1), 0xC1u);
}

TEST_F(SerialFixture, StateRoundTrip) {
  wr(FCR, 0x41);
  wr(MCR, kLoop | kOut2);
  wr(IER, 0x05);
  wr(0, 'z');
  wr(SCR, 9);
  Serial16550 other(clock, irqs, 4);
  other.load_state(uart.save_state());
  EXPECT_EQ(other.save_state(), uart.save_state());
  EXPECT_EQ(other.io_read(RBR, 1), uint64_t('z'));
  EXPECT_EQ(other.io_read(SCR, 1), 9u);
  auto bytes = uart.save_state();
  bytes[6] = 200;  // FIFO count beyond 16
  EXPECT_THROW(other.load_state(bytes), std::runtime_error);
}

}  // namespace
}  // namespace rrvm
