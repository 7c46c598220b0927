// Time travel: every point of a replay is reached the same way forward and
// backward. Stepping back retraces a forward single-step log exactly; seeking
// back from the end (restoring checkpoints) gives the registers and RAM a
// forward replay had there; breakpoints and watchpoints found going back are
// the last ones found going forward.
#include <gtest/gtest.h>

#include <map>

#include "system/record_session.h"
#include "system/replay_timeline.h"
#include "tests/integration/test_support.h"
#include "vmm/cpu_state.h"

namespace rrvm::test {
namespace {

std::string record_emu(const std::string& name) {
  static std::map<std::string, std::string> done;
  if (auto it = done.find(name); it != done.end()) return it->second;
  auto specs = guests::load_guest_specs();
  const auto& spec = guests::find_guest_spec(specs, name);
  GuestRun live;
  std::string trace = temp_path(name + "-timeline.rrt");
  std::string input = spec.input.empty() ? "" : write_temp(name + ".timeline-input", spec.input);
  record_to_trace(guest_config(spec, "emu", live, input), trace, {"test"}, false);
  return done[name] = trace;
}

TimelineOptions small_checkpoints() {
  TimelineOptions o;
  o.checkpoint_interval = 5000;  // many checkpoints on a small guest
  return o;
}

struct Point {
  TimelinePosition position;
  Registers regs;
  uint64_t event = 0;
};

void expect_same(const Registers& want, const Registers& got, const std::string& where) {
  EXPECT_TRUE(same_execution_point(want, got)) << where << "\n  expected " << format_registers(want) << "\n  got      "
                                               << format_registers(got);
}

class TimelineTest : public ::testing::TestWithParam<std::string> {};

// The linear address of the real-mode handler of `vector` (the IVT as the
// guest set it up by `at`).
uint64_t ivt_handler(ReplayTimeline& t, uint8_t vector) {
  uint8_t entry[4];
  if (t.read_linear(vector * 4u, entry) != sizeof entry) return 0;
  return (uint64_t(entry[2] | entry[3] << 8) << 4) + (entry[0] | entry[1] << 8);
}

constexpr uint8_t kTimerVector = 0x20;

// Where the steps start: for the timer guest, shortly before its first tick.
TimelinePosition steps_from(ReplayTimeline& t, const std::string& guest) {
  if (guest != "timer") return {0, false};
  t.seek({20000, false});
  uint64_t handler = ivt_handler(t, kTimerVector);
  if (!handler) return {0, false};
  t.set_breakpoints({handler});
  TimelineStop s = t.cont();
  t.set_breakpoints({});
  if (s.kind != TimelineStopKind::Breakpoint) return {0, false};
  return {t.position().icount > 1500 ? t.position().icount - 1500 : 0, false};
}

TEST_P(TimelineTest, ReverseStepsRetraceTheForwardSteps) {
  ReplayTimeline t(record_emu(GetParam()), small_checkpoints());
  const TimelinePosition from = steps_from(t, GetParam());
  ASSERT_EQ(t.seek(from).kind, TimelineStopKind::Step);
  std::vector<Point> log{{t.position(), t.registers(), t.event()}};
  bool ended = false;
  int interrupts = 0;
  for (int i = 0; i < 3000; ++i) {
    TimelineStop s = t.step();
    if (s.kind == TimelineStopKind::End) {
      ASSERT_TRUE(t.divergence().empty()) << t.divergence();
      ASSERT_TRUE(t.end());
      ended = true;
      break;
    }
    ASSERT_EQ(s.kind, TimelineStopKind::Step);
    ASSERT_LT(log.back().position, t.position()) << "a step moves forward";
    const Registers now = t.registers();
    const Registers& before = log.back().regs;
    // An interrupt frame: IF cleared and six bytes pushed in one step.
    if ((before.rflags & 0x200) && !(now.rflags & 0x200) && uint16_t(before.rsp - 6) == uint16_t(now.rsp))
      ++interrupts;
    log.push_back({t.position(), now, t.event()});
  }
  ASSERT_GT(log.size(), 400u);
  if (GetParam() == "timer") {
    EXPECT_GE(interrupts, 1) << "the steps cross the first timer interrupt";
  }
  // Back from the end of the trace, or from the last step.
  size_t i = log.size() - 1;
  if (ended) {
    ASSERT_EQ(t.reverse_step().kind, TimelineStopKind::Step);
    ASSERT_EQ(t.position(), log[i].position) << "one step back from the end";
    expect_same(log[i].regs, t.registers(), "one step back from the end");
  }
  for (; i > 0; --i) {
    TimelineStop s = t.reverse_step();
    const bool at_start = log[i - 1].position == TimelinePosition{0, false};
    ASSERT_EQ(s.kind, at_start ? TimelineStopKind::Start : TimelineStopKind::Step) << "step back to " << i - 1;
    ASSERT_EQ(t.position(), log[i - 1].position);
    expect_same(log[i - 1].regs, t.registers(), "after stepping back to point " + std::to_string(i - 1));
    ASSERT_EQ(t.event(), log[i - 1].event);
  }
  if (from == TimelinePosition{0, false}) {
    EXPECT_EQ(t.reverse_step().kind, TimelineStopKind::Start) << "nothing before the start";
  }
}

TEST_P(TimelineTest, SeekingBackGivesWhatTheForwardReplayHad) {
  const std::string trace = record_emu(GetParam());
  std::string straight_serial;
  ReplaySettings straight_settings;
  straight_settings.backend = BackendKind::Emu;
  straight_settings.serial_out = [&](uint8_t b) { straight_serial.push_back(char(b)); };
  ReplayOutcome straight = replay_trace(trace, straight_settings);
  ASSERT_EQ(straight.exit_status, 0) << straight.message;
  ASSERT_TRUE(straight.instructions);

  std::string serial;
  TimelineOptions o = small_checkpoints();
  o.checkpoint_interval = std::max<uint64_t>(20, *straight.instructions / 8);
  o.replay.serial_out = [&](uint8_t b) { serial.push_back(char(b)); };
  ReplayTimeline t(trace, o);
  struct State {
    TimelinePosition position;
    Registers regs;
    Sha256Digest ram;
  };
  std::vector<State> forward;
  const uint64_t total = *straight.instructions;
  for (uint64_t k = 1; k <= 12; ++k) {
    TimelinePosition p{total * k / 13, false};
    ASSERT_EQ(t.seek(p).kind, TimelineStopKind::Step);
    forward.push_back({t.position(), t.registers(), t.ram_sha256()});
  }
  ASSERT_EQ(t.cont().kind, TimelineStopKind::End);
  ASSERT_TRUE(t.end());
  EXPECT_EQ(t.ram_sha256(), straight.ram_sha256) << "the timeline's replay ends where a straight replay does";
  EXPECT_EQ(serial, straight_serial);
  EXPECT_GE(t.checkpoints().size(), 3u);
  for (size_t i = forward.size(); i-- > 0;) {
    ASSERT_EQ(t.seek(forward[i].position).kind, TimelineStopKind::Step);
    EXPECT_EQ(t.position(), forward[i].position);
    expect_same(forward[i].regs, t.registers(), "seek back to point " + std::to_string(i));
    EXPECT_EQ(t.ram_sha256(), forward[i].ram) << "RAM at point " << i;
  }
  // From an early point to the end again: the same end, the same output
  // after it.
  serial.clear();
  ASSERT_EQ(t.cont().kind, TimelineStopKind::End);
  EXPECT_EQ(t.ram_sha256(), straight.ram_sha256);
  EXPECT_TRUE(t.divergence().empty()) << t.divergence();
  EXPECT_FALSE(serial.empty() && !straight_serial.empty()) << "the guest's output is produced again";
  EXPECT_TRUE(straight_serial.size() >= serial.size() &&
              straight_serial.compare(straight_serial.size() - serial.size(), serial.size(), serial) == 0)
      << "output replayed from a checkpoint is the end of the straight replay's output";
}

INSTANTIATE_TEST_SUITE_P(Guests, TimelineTest, ::testing::Values("hello", "timer", "echo", "cmos", "pm32"),
                         [](const auto& info) { return info.param; });

// Breakpoint hits found by reverse-continue are those forward continue found,
// in reverse order, also where an interrupt handler is the breakpoint.
TEST(TimelineStops, ReverseContinueFindsTheForwardHitsInReverse) {
  ReplayTimeline t(record_emu("timer"), small_checkpoints());
  ASSERT_EQ(t.seek({20000, false}).kind, TimelineStopKind::Step);
  const uint64_t handler = ivt_handler(t, kTimerVector);
  ASSERT_NE(handler, 0u) << "the timer guest set its IVT entry";
  ASSERT_EQ(t.seek({0, false}).kind, TimelineStopKind::Step);
  t.set_breakpoints({handler});
  std::vector<TimelinePosition> hits;
  for (;;) {
    TimelineStop s = t.cont();
    if (s.kind == TimelineStopKind::End) break;
    ASSERT_EQ(s.kind, TimelineStopKind::Breakpoint);
    ASSERT_EQ(t.registers().pc_linear(), handler);
    hits.push_back(t.position());
  }
  ASSERT_GE(hits.size(), 3u);
  for (size_t i = hits.size(); i-- > 0;) {
    TimelineStop s = t.reverse_cont();
    ASSERT_EQ(s.kind, TimelineStopKind::Breakpoint) << "hit " << i;
    EXPECT_EQ(t.position(), hits[i]);
    EXPECT_EQ(t.registers().pc_linear(), handler);
  }
  EXPECT_EQ(t.reverse_cont().kind, TimelineStopKind::Start);
  EXPECT_EQ(t.position(), (TimelinePosition{0, false}));
}

// A write watchpoint on a stack word: forward continue stops after every
// instruction that writes it; reverse-continue from the end finds the last.
TEST(TimelineStops, WriteWatchpointForwardAndBack) {
  ReplayTimeline t(record_emu("timer"), small_checkpoints());
  const Registers start = t.registers();
  // A word a little below the initial stack pointer: interrupt frames land there.
  const uint64_t sp = start.ss.base + (start.rsp & 0xFFFF);
  Vcpu::Watchpoint w;
  w.address = sp - 6;
  w.size = 2;
  t.set_watchpoints({w});
  std::vector<TimelinePosition> hits;
  for (;;) {
    TimelineStop s = t.cont();
    if (s.kind == TimelineStopKind::End) break;
    ASSERT_EQ(s.kind, TimelineStopKind::Watchpoint);
    EXPECT_TRUE(s.watch_write);
    EXPECT_GE(s.watch_address, w.address);
    EXPECT_LT(s.watch_address, w.address + w.size);
    hits.push_back(t.position());
    if (hits.size() > 50) break;
  }
  ASSERT_GE(hits.size(), 3u);
  // Going back, each stop is just before the write: one step forward from
  // it writes (the watchpoint fires there), and the value there is the one
  // before the write.
  if (!t.end()) {
    ASSERT_EQ(t.seek(hits.back()).kind, TimelineStopKind::Step);
  }
  for (size_t i = hits.size(); i-- > hits.size() - 3;) {
    TimelineStop s = t.reverse_cont();
    ASSERT_EQ(s.kind, TimelineStopKind::Watchpoint) << "write " << i;
    const TimelinePosition before = t.position();
    EXPECT_LT(before, hits[i]);
    ASSERT_EQ(t.step().kind, TimelineStopKind::Watchpoint) << "the next instruction writes the word";
    EXPECT_EQ(t.position(), hits[i]);
    ASSERT_EQ(t.seek(before).kind, TimelineStopKind::Step);
  }
}

TEST(TimelineStops, GotoEventLandsWhereThatManyEventsWereConsumed) {
  ReplayTimeline t(record_emu("timer"), small_checkpoints());
  const uint64_t events = t.trace().event_count();
  ASSERT_GT(events, 20u);
  ASSERT_EQ(t.goto_event(events / 2).kind, TimelineStopKind::Step);
  EXPECT_GE(t.event(), events / 2);
  const TimelinePosition middle = t.position();
  const Registers regs = t.registers();
  ASSERT_EQ(t.goto_event(events / 4).kind, TimelineStopKind::Step);
  EXPECT_LT(t.position(), middle);
  ASSERT_EQ(t.goto_event(events / 2).kind, TimelineStopKind::Step);
  EXPECT_EQ(t.position(), middle);
  expect_same(regs, t.registers(), "the same event twice");
}

TEST(TimelineStops, AnInterruptRequestStopsAContinueAtTheNextPoll) {
  ReplayTimeline t(record_emu("timer"));
  int polls = 0;
  t.set_interrupt_check([&] { return ++polls == 3; });
  const TimelinePosition start = t.position();
  TimelineStop s = t.cont();
  ASSERT_EQ(s.kind, TimelineStopKind::Interrupted);
  EXPECT_EQ(polls, 3);
  // Polled once per kInterruptPollInstructions: the third poll is there.
  EXPECT_GE(t.position().icount, start.icount + 3 * ReplayTimeline::kInterruptPollInstructions);
  EXPECT_LT(t.position().icount, start.icount + 4 * ReplayTimeline::kInterruptPollInstructions);
  // The timeline goes on from there: back one instruction, then to the end.
  const TimelinePosition here = t.position();
  ASSERT_EQ(t.reverse_step().kind, TimelineStopKind::Step);
  EXPECT_LT(t.position(), here);
  t.set_interrupt_check({});
  EXPECT_EQ(t.cont().kind, TimelineStopKind::End);
}

}  // namespace
}  // namespace rrvm::test
