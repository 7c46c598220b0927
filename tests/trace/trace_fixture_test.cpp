// The committed fixture traces/v1-timer-serial.rrt (written by
// make_fixture.cpp with format version 1) must read the same forever.
// Expected values follow from the scenario make_fixture.cpp describes.
#include <gtest/gtest.h>

#include <sstream>

#include "system/console_rebuild.h"
#include "trace/trace_inspect.h"
#include "trace/trace_reader.h"
#include "vmm/guest_memory.h"

namespace rrvm {
namespace {

const std::string kFixture = std::string(RRVM_SOURCE_DIR) + "/traces/v1-timer-serial.rrt";

TEST(TraceFixtureV1, HeaderReads) {
  TraceReader reader(kFixture);
  const TraceHeader& h = reader.header();
  EXPECT_EQ(reader.format_version(), 1u);
  EXPECT_EQ(h.backend, "emu");
  EXPECT_EQ(h.rrvm_version, "0.1.0");
  EXPECT_EQ(h.machine.memory_size, 1u << 20);
  EXPECT_EQ(h.machine.rtc_base_seconds, 1700000000);
  EXPECT_TRUE(h.machine.serial_input);
  ASSERT_EQ(h.memory_map.size(), 2u);
  EXPECT_EQ(h.memory_map[1].name, "vram");
  EXPECT_EQ(h.memory_map[1].base, 0xE0000000u);
  EXPECT_TRUE(h.memory_map[1].log_dirty);
  ASSERT_EQ(h.devices.size(), 3u);
  EXPECT_EQ(h.devices[2].name, "debug-exit");
  ASSERT_EQ(h.images.size(), 1u);
  EXPECT_EQ(h.images[0].sha256, sha256("fixture image", 13));
  EXPECT_FALSE(h.images[0].elf);
  EXPECT_EQ(h.initial_registers.rip, 0x7C00u);
  EXPECT_FALSE(h.cpuid.empty());
  EXPECT_EQ(h.command_line.back(), "guests/timer_serial.bin");
}

TEST(TraceFixtureV1, EventsAndEndRead) {
  TraceReader reader(kFixture);
  EXPECT_EQ(reader.status().state, TraceCompleteness::Complete);
  EXPECT_TRUE(reader.status().footer_used);
  int counts[kTraceEventKindCount] = {};
  uint64_t exits = 0, last_icount = 0, halts = 0;
  std::vector<uint64_t> pit_reads;
  EventCursor cursor = reader.events();
  while (const TraceEvent* e = cursor.next()) {
    counts[static_cast<int>(e->kind())]++;
    if (const auto* x = std::get_if<ExitEvent>(&e->body)) {
      ++exits;
      halts += x->kind == TraceExitKind::Halt;
      if (x->address == 0x40 && !x->is_write) pit_reads.push_back(x->data);
    }
    if (const auto* i = std::get_if<InterruptEvent>(&e->body)) {
      EXPECT_EQ(i->vector, 0x08);
      EXPECT_EQ(i->exit_ordinal, exits) << "injected right after the halt exit";
      ASSERT_TRUE(i->icount.has_value());
      EXPECT_GT(*i->icount, last_icount);
      last_icount = *i->icount;
    }
    if (const auto* d = std::get_if<DisplayFrameEvent>(&e->body)) {
      ASSERT_EQ(d->pages.size(), 2u);
      EXPECT_EQ(d->pages[1].index, 5u);
      EXPECT_EQ(d->pages[1].bytes, std::vector<uint8_t>(kPageSize, 0xF0));
    }
  }
  // 4 UART setup + 12 x (LSR poll + THR) + 4 debug bytes + 3 PIT setup,
  // 50 x (halt, EOI, counter read), the RBR read, the debug exit.
  EXPECT_EQ(exits, 4u + 24 + 4 + 3 + 150 + 1 + 1);
  EXPECT_EQ(halts, 50u);
  EXPECT_EQ(counts[static_cast<int>(TraceEventKind::Interrupt)], 50);
  EXPECT_EQ(counts[static_cast<int>(TraceEventKind::ClockSample)], 50);
  EXPECT_EQ(counts[static_cast<int>(TraceEventKind::SerialInput)], 1);
  EXPECT_EQ(counts[static_cast<int>(TraceEventKind::CpuChecksum)], 1);
  EXPECT_EQ(counts[static_cast<int>(TraceEventKind::DisplayFrame)], 1);
  ASSERT_EQ(pit_reads.size(), 50u);
  EXPECT_EQ(pit_reads.front(), 1192u);
  EXPECT_EQ(pit_reads.back(), 1143u);

  ASSERT_TRUE(reader.end().has_value());
  EXPECT_EQ(reader.end()->reason, StopReason::DebugExit);
  EXPECT_EQ(reader.end()->exit_status, 3);
  EXPECT_EQ(reader.end()->exit_count, exits);
}

TEST(TraceFixtureV1, KeyframeReads) {
  TraceReader reader(kFixture);
  auto keyframes = reader.keyframes();
  ASSERT_EQ(keyframes.size(), 1u);
  Keyframe k = reader.read_keyframe(keyframes[0]);
  ASSERT_EQ(k.memory.size(), 1u);
  ASSERT_EQ(k.memory[0].bytes.size(), 4 * kPageSize);
  for (size_t i = 0; i < kPageSize; ++i) ASSERT_EQ(k.memory[0].bytes[kPageSize + i], static_cast<uint8_t>(i));
  EXPECT_EQ(k.memory[0].bytes[0], 0);
  ASSERT_EQ(k.devices.size(), 2u);
  EXPECT_EQ(k.devices[1].state, (std::vector<uint8_t>{0x34, 0xA9, 0x04}));
  EXPECT_EQ(k.registers.rip, 0x7C40u);
}

TEST(TraceFixtureV1, ConsoleRebuiltFromTheTraceAlone) {
  TraceReader reader(kFixture);
  ConsoleOutput out = rebuild_console(reader);
  // The divisor byte written with DLAB=1 is not output.
  EXPECT_EQ(out.serial, "Hello, rrvm\n");
  EXPECT_EQ(out.debug_console, "dbg\n");
  EXPECT_FALSE(out.error.has_value());
}

}  // namespace
}  // namespace rrvm
