// Record every guest on every available backend, then: the trace decodes,
// `serial` rebuilt from the trace alone equals the live output, and replay
// on every backend is exact (exit status, output, final RAM SHA-256 and,
// same-backend, registers). Tampering with one input is reported as a
// divergence at that event; a different image is refused before running.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "system/console_rebuild.h"
#include "trace/trace_inspect.h"
#include "trace/trace_writer.h"
#include "trace/trace_reader.h"
#include "system/record_session.h"
#include "system/replay_session.h"
#include "tests/integration/test_support.h"

using namespace rrvm;
using namespace rrvm::test;

namespace {

struct Recorded {
  GuestRun live;
  RecordOutcome outcome;
  std::string trace;
};

Recorded record_guest(const guests::GuestSpec& spec, const std::string& backend) {
  Recorded r;
  r.trace = temp_path(spec.name + "-" + backend + ".rrt");
  std::string input = spec.input.empty() ? "" : write_temp(spec.name + ".input", spec.input);
  r.outcome = record_to_trace(guest_config(spec, backend, r.live, input), r.trace, {"test"}, false);
  return r;
}

ReplayOutcome replay(const std::string& trace, const std::string& backend, std::string* serial) {
  return replay_with_serial(trace, backend, serial);
}

struct Case {
  std::string guest, record_backend, replay_backend;
};
// How gtest prints the parameter (in ctest names and failures).
void PrintTo(const Case& c, std::ostream* os) { *os << c.guest << " recorded on " << c.record_backend << ", replayed on " << c.replay_backend; }

std::vector<Case> cases() {
  std::vector<Case> c;
  auto backends = available_backends();
  for (const auto& spec : guests::load_guest_specs())
    for (const auto& rb : backends)
      for (const auto& pb : backends) c.push_back({spec.name, rb, pb});
  return c;
}

class RecordReplayTest : public ::testing::TestWithParam<Case> {};

TEST_P(RecordReplayTest, ReplayIsExact) {
  auto specs = guests::load_guest_specs();
  const auto& spec = guests::find_guest_spec(specs, GetParam().guest);
  Recorded rec = record_guest(spec, GetParam().record_backend);
  ASSERT_EQ(rec.outcome.result.reason, StopReason::DebugExit) << rec.outcome.result.message;
  EXPECT_EQ(guests::check_guest_output(spec, "serial", rec.live.serial), "");

  TraceReader reader(rec.trace);
  EXPECT_EQ(reader.status().state, TraceCompleteness::Complete);
  ASSERT_TRUE(reader.end().has_value());
  EXPECT_EQ(reader.end()->exit_status, rec.outcome.result.exit_status);
  ConsoleOutput console = rebuild_console(reader);
  EXPECT_EQ(console.serial, rec.live.serial);
  EXPECT_EQ(console.debug_console, rec.live.debugcon);

  std::string replayed;
  ReplayOutcome out = replay(rec.trace, GetParam().replay_backend, &replayed);
  ASSERT_FALSE(out.divergence.has_value()) << out.divergence->to_string();
  EXPECT_EQ(out.exit_status, 0) << out.message;
  EXPECT_TRUE(out.final_state_checked);
  EXPECT_EQ(out.ram_sha256, reader.end()->ram_sha256);
  EXPECT_EQ(replayed, rec.live.serial);
}

INSTANTIATE_TEST_SUITE_P(AllGuests, RecordReplayTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           return i.param.guest + "_rec_" + i.param.record_backend + "_replay_" +
                                  i.param.replay_backend;
                         });

// kvm finds a point inside guest execution with a breakpoint at the
// recorded RIP and a register compare; RRVM_SEARCH_LIKE_KVM=1 makes the emu
// replay search the same way (the Machine's algorithm, not emu's count).
// Inside a rep string instruction each iteration stops at the same RIP: the
// search runs to the point's iteration in one go, a couple of stops per
// point instead of one per iteration, and the replay stays exact.
TEST(RepSearch, PointsInsideRepsAreFoundInAFewStopsEach) {
  auto specs = guests::load_guest_specs();
  const auto& spec = guests::find_guest_spec(specs, "rep_irq");
  Recorded rec = record_guest(spec, "emu");
  ASSERT_EQ(rec.outcome.result.reason, StopReason::DebugExit) << rec.outcome.result.message;
  TraceReader reader(rec.trace);
  auto replay_like_kvm = [&](bool rep_search) {
    setenv("RRVM_SEARCH_LIKE_KVM", "1", 1);
    setenv("RRVM_REP_SEARCH", rep_search ? "1" : "0", 1);
    std::string serial;
    ReplayOutcome out = replay(rec.trace, "emu", &serial);
    unsetenv("RRVM_SEARCH_LIKE_KVM");
    unsetenv("RRVM_REP_SEARCH");
    EXPECT_FALSE(out.divergence.has_value()) << out.divergence->to_string();
    EXPECT_EQ(out.exit_status, 0) << out.message;
    EXPECT_EQ(out.ram_sha256, reader.end()->ram_sha256);
    EXPECT_EQ(serial, rec.live.serial);
    return out;
  };
  // Format version 6: points on a rep keep rCX, the one register the search
  // reads, and full registers only at the first point (version 5 kept them
  // at every point on a rep: bench_rep's trace was 2.3x its size).
  uint64_t with_rcx = 0, with_registers = 0;
  auto cursor = reader.events();
  while (const TraceEvent* e = cursor.next())
    if (auto* s = std::get_if<ServicePointEvent>(&e->body); s && s->async) {
      with_rcx += s->async->rep_rcx.has_value();
      with_registers += s->async->registers.has_value();
    }
  EXPECT_GE(with_rcx, 20u) << "ticks inside the guest's reps";
  EXPECT_EQ(with_registers, 1u) << "full registers at the first point only";
  const ReplayOutcome fast = replay_like_kvm(true);
  const ReplayOutcome stepping = replay_like_kvm(false);
  const uint64_t fast_stops = fast.search.hits + fast.search.steps;
  const uint64_t stepping_stops = stepping.search.hits + stepping.search.steps;
  ASSERT_GE(fast.search.points, 20u) << "ticks inside the guest's reps";
  EXPECT_EQ(fast.search.points, stepping.search.points);
  EXPECT_LE(fast_stops, 3 * fast.search.points) << "stops per point inside a rep";
  EXPECT_GE(stepping_stops, 50 * stepping.search.points) << "one stop per iteration without the rep search";
}

// delay_loop's ticks land inside counted loops (dec eax; jnz as Linux's
// delay_loop, loop, dec bx; jnz): the recorder keeps full registers at such
// points, and a kvm replay reaches each from the counter
// (vmm/counted_loop.h) in a few stops, not one per pass (a million passes
// per delay: such a replay would not end in the test's time). The pass
// arithmetic itself is checked on the CPU model (CountedLoop.* in
// emu_vcpu_test); this is the path through the Machine, on kvm only.
TEST(CountedLoops, PointsInsideThemAreFoundFromTheCounterOnKvm) {
  auto specs = guests::load_guest_specs();
  const auto& spec = guests::find_guest_spec(specs, "delay_loop");
  const auto backends = available_backends();
  const bool kvm = std::find(backends.begin(), backends.end(), "kvm") != backends.end();
  auto points_with_registers = [](const std::string& trace) {
    uint64_t points = 0, with_registers = 0;
    TraceReader reader(trace);
    auto cursor = reader.events();
    while (const TraceEvent* e = cursor.next()) {
      const KickState* k = nullptr;
      if (auto* s = std::get_if<ServicePointEvent>(&e->body); s && s->async) k = &*s->async;
      if (auto* i = std::get_if<InterruptEvent>(&e->body); i && i->kicked) k = &*i->kicked;
      if (!k) continue;
      ++points;
      with_registers += k->registers.has_value();
    }
    return std::pair(points, with_registers);
  };
  auto replay_on_kvm = [&](const Recorded& rec) {
    std::string serial;
    const ReplayOutcome out = replay(rec.trace, "kvm", &serial);
    EXPECT_FALSE(out.divergence.has_value()) << out.divergence->to_string();
    EXPECT_EQ(out.exit_status, 0) << out.message;
    EXPECT_EQ(serial, rec.live.serial);
    EXPECT_EQ(out.ram_sha256, TraceReader(rec.trace).end()->ram_sha256);
    const uint64_t stops = out.search.hits + out.search.steps;
    std::printf("%s recording on kvm: %llu points, %llu stops (at most %llu for one), %llu loop jumps\n",
                rec.outcome.backend.c_str(), (unsigned long long)out.search.points, (unsigned long long)stops,
                (unsigned long long)out.search.max_stops, (unsigned long long)out.search.loop_jumps);
    EXPECT_GE(out.search.loop_jumps, 1u);
    // A point outside the loops (the outer loops' heads) is hit at most 8
    // times per pass of its own loop; inside one, ~3 stops.
    EXPECT_LE(out.search.max_stops, 20u);
    EXPECT_LE(stops, 8 * out.search.points);
  };
  // On emu the ticks fall at instruction counts: every one inside a loop.
  const Recorded on_emu = record_guest(spec, "emu");
  ASSERT_EQ(on_emu.outcome.result.reason, StopReason::DebugExit) << on_emu.outcome.result.message;
  const auto [emu_points, emu_with_registers] = points_with_registers(on_emu.trace);
  EXPECT_GE(emu_points, 8u);
  EXPECT_EQ(emu_with_registers, emu_points) << "full registers at every point inside a counted loop";
  if (!kvm) GTEST_SKIP() << "no usable kvm: the replays on kvm are not run";
  replay_on_kvm(on_emu);
  const Recorded on_kvm = record_guest(spec, "kvm");
  ASSERT_EQ(on_kvm.outcome.result.reason, StopReason::DebugExit) << on_kvm.outcome.result.message;
  const auto [kvm_points, kvm_with_registers] = points_with_registers(on_kvm.trace);
  EXPECT_GE(kvm_with_registers, 1u);
  std::printf("kvm recording: %llu points, %llu with registers\n", (unsigned long long)kvm_points,
              (unsigned long long)kvm_with_registers);
  replay_on_kvm(on_kvm);
}

// rep_irq_io's ticks (~600 kHz) land at elements of its rep ins; emu lets
// them in only where KVM ends a batch of elements (vmm/rep_string.h), which
// the guest checks against the counts its handler logs (QEMU's TCG lets them
// in anywhere, so the oracle accepts both answers). The recording has no
// point between the elements of a batch (a state kvm never shows) and
// replays exactly.
TEST(RepBatches, TicksEnterRepInsOnlyBetweenKvmsBatches) {
  auto specs = guests::load_guest_specs();
  const auto& spec = guests::find_guest_spec(specs, "rep_irq_io");
  Recorded rec = record_guest(spec, "emu");
  ASSERT_EQ(rec.outcome.result.reason, StopReason::DebugExit) << rec.outcome.result.message;
  const std::string key = "rep_irq: rep ins interrupted 0x";
  const size_t at = rec.live.serial.find(key);
  ASSERT_NE(at, std::string::npos) << rec.live.serial;
  const uint64_t interrupted = std::stoull(rec.live.serial.substr(at + key.size(), 8), nullptr, 16);
  EXPECT_GE(interrupted, 10u) << "ticks inside the guest's rep ins";
  EXPECT_NE(rec.live.serial.find("times, only between KVM's batches: yes"), std::string::npos) << rec.live.serial;
  std::string replayed;
  ReplayOutcome out = replay(rec.trace, "emu", &replayed);
  ASSERT_FALSE(out.divergence.has_value()) << out.divergence->to_string();
  EXPECT_EQ(replayed, rec.live.serial);
}

// Rewrites `trace` into `out` with `edit` applied to every event.
template <typename F>
void rewrite_trace(const std::string& trace, const std::string& out, F edit) {
  TraceReader reader(trace);
  TraceWriter writer(out, reader.header());
  auto cursor = reader.events();
  uint64_t ordinal = 0;
  while (const TraceEvent* e = cursor.next()) {
    TraceEvent copy = *e;
    edit(ordinal++, copy);
    writer.append(copy);
  }
  writer.close(*reader.end());
}

// `rrvm serial` runs the UART and debug-console models over the trace: a
// guest in loopback, with a word out at FCR and word outs straddling the
// devices' first ports, prints there exactly what it printed live.
TEST(ConsoleRebuild, PrintsWhatTheDevicesPrintedLive) {
  guests::GuestSpec spec;
  spec.name = "consoleodd";
  spec.image_path = std::string(RRVM_GUEST_DIR) + "/consoleodd.bin";
  Recorded rec = record_guest(spec, "emu");
  ASSERT_EQ(rec.outcome.result.reason, StopReason::DebugExit) << rec.outcome.result.message;
  EXPECT_EQ(rec.live.serial.find("LOOPED"), std::string::npos) << "loopback bytes never reach the line";
  EXPECT_NE(rec.live.serial.find("after a word out at 0x3FA"), std::string::npos) << rec.live.serial;
  TraceReader reader(rec.trace);
  ConsoleOutput console = rebuild_console(reader);
  EXPECT_FALSE(console.error.has_value());
  EXPECT_EQ(console.serial, rec.live.serial);
  EXPECT_EQ(console.debug_console, rec.live.debugcon);
}

TEST(Tampering, ChangedPortInValueIsADivergenceAtThatEvent) {
  auto specs = guests::load_guest_specs();
  const auto& spec = guests::find_guest_spec(specs, "echo");
  Recorded rec = record_guest(spec, "emu");
  // Find the 5th port read of the UART data register (a received byte).
  std::optional<uint64_t> target;
  {
    TraceReader reader(rec.trace);
    auto cursor = reader.events();
    int seen = 0;
    for (uint64_t ord = 0; const TraceEvent* e = cursor.next(); ++ord) {
      auto* x = std::get_if<ExitEvent>(&e->body);
      if (x && x->kind == TraceExitKind::PortIo && !x->is_write && x->address == 0x3F8 && ++seen == 5) {
        target = ord;
        break;
      }
    }
  }
  ASSERT_TRUE(target.has_value());
  std::string tampered = temp_path("echo-tampered.rrt");
  rewrite_trace(rec.trace, tampered, [&](uint64_t ord, TraceEvent& e) {
    if (ord == *target) std::get<ExitEvent>(e.body).data ^= 0x20;
  });
  std::string serial;
  ReplayOutcome out = replay(tampered, "emu", &serial);
  ASSERT_TRUE(out.divergence.has_value()) << out.message;
  EXPECT_EQ(out.exit_status, 2);
  EXPECT_EQ(out.divergence->event_ordinal, *target) << out.divergence->to_string();
  EXPECT_NE(out.divergence->what.find("0x3f8"), std::string::npos) << out.divergence->what;
  EXPECT_FALSE(out.divergence->bytes_at_rip.empty());
  // The code at RIP, disassembled in the guest's mode (real mode: 16-bit):
  // echo reads the byte with `in al, dx` (ec).
  EXPECT_EQ(out.divergence->bytes_at_rip.front(), 0xEC);
  EXPECT_NE(out.divergence->to_string().find("code at rip (16-bit):\n    0x"), std::string::npos)
      << out.divergence->to_string();
  EXPECT_NE(out.divergence->to_string().find(": in al, dx\n"), std::string::npos) << out.divergence->to_string();
  // The events just before it, oldest first, ending with the one before the target.
  const auto& recent = out.divergence->recent_events;
  ASSERT_FALSE(recent.empty());
  EXPECT_LE(recent.size(), *target);
  EXPECT_EQ(recent.back().rfind(std::to_string(*target - 1) + " ", 0), 0u) << recent.back();
  EXPECT_NE(out.divergence->to_string().find("last events before it"), std::string::npos);
}

TEST(Tampering, ChangedInterruptPointIsADivergence) {
  auto specs = guests::load_guest_specs();
  Recorded rec = record_guest(guests::find_guest_spec(specs, "timer"), "emu");
  std::string tampered = temp_path("timer-tampered.rrt");
  int n = 0;
  rewrite_trace(rec.trace, tampered, [&](uint64_t, TraceEvent& e) {
    if (auto* s = std::get_if<ServicePointEvent>(&e.body); s && s->icount && ++n == 10) *s->icount += 3;
  });
  ASSERT_GE(n, 10);
  std::string serial;
  ReplayOutcome out = replay(tampered, "emu", &serial);
  ASSERT_TRUE(out.divergence.has_value()) << out.message;
  EXPECT_EQ(out.exit_status, 2);
}

TEST(Tampering, DifferentImageIsRefusedBeforeRunning) {
  auto specs = guests::load_guest_specs();
  Recorded rec = record_guest(guests::find_guest_spec(specs, "hello"), "emu");
  ReplaySettings s;
  s.backend = BackendKind::Emu;
  s.image_override = guests::find_guest_spec(specs, "timer").image_path;
  try {
    replay_trace(rec.trace, s);
    FAIL() << "replay accepted a different image";
  } catch (const SystemError& e) {
    EXPECT_NE(std::string(e.what()).find("does not match the recording"), std::string::npos) << e.what();
    EXPECT_EQ(e.status(), 8);
  }
}

TEST(Tampering, TruncatedTraceReplaysUpToItsEnd) {
  auto specs = guests::load_guest_specs();
  Recorded rec = record_guest(guests::find_guest_spec(specs, "timer"), "emu");
  std::string cut = temp_path("timer-cut.rrt");
  {
    std::ifstream in(rec.trace, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    bytes.resize(bytes.size() * 2 / 3);
    std::ofstream(cut, std::ios::binary) << bytes;
  }
  TraceReader reader(cut);
  EXPECT_EQ(reader.status().state, TraceCompleteness::Truncated);
  std::string serial;
  ReplayOutcome out = replay(cut, "emu", &serial);
  EXPECT_FALSE(out.divergence.has_value()) << out.divergence->to_string();
  EXPECT_EQ(out.exit_status, 0) << out.message;
  EXPECT_EQ(out.events, reader.event_count());
}

}  // namespace

namespace {

// The path a kvm recording takes through replay (no instruction counts:
// asynchronous points are found by breakpoint + state compare), exercised on
// emu by stripping the counts from an emu recording of each guest.
class BreakpointReplay : public ::testing::TestWithParam<std::string> {};

TEST_P(BreakpointReplay, AsyncPointsFoundByStateWithoutInstructionCounts) {
  auto specs = guests::load_guest_specs();
  const auto& spec = guests::find_guest_spec(specs, GetParam());
  Recorded rec = record_guest(spec, "emu");
  ASSERT_EQ(rec.outcome.result.reason, StopReason::DebugExit) << rec.outcome.result.message;
  std::string stripped = temp_path(spec.name + "-no-icount.rrt");
  int async_points = 0;
  rewrite_trace(rec.trace, stripped, [&](uint64_t, TraceEvent& e) {
    if (auto* s = std::get_if<ServicePointEvent>(&e.body); s && s->icount) {
      s->icount.reset();
      ++async_points;
    }
    if (auto* i = std::get_if<InterruptEvent>(&e.body)) i->icount.reset();
    if (auto* c = std::get_if<CpuChecksumEvent>(&e.body)) c->icount.reset();
  });
  if (spec.name == "timer") {  // its ticks land inside a compute loop
    EXPECT_GT(async_points, 10);
  }
  std::string serial;
  ReplayOutcome out = replay(stripped, "emu", &serial);
  ASSERT_FALSE(out.divergence.has_value()) << out.divergence->to_string();
  EXPECT_EQ(out.exit_status, 0) << out.message;
  EXPECT_EQ(serial, rec.live.serial);
  TraceReader reader(rec.trace);
  ASSERT_TRUE(reader.end().has_value());
  EXPECT_EQ(out.ram_sha256, reader.end()->ram_sha256);
}

std::vector<std::string> guest_names() {
  std::vector<std::string> names;
  for (const auto& spec : guests::load_guest_specs()) names.push_back(spec.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(AllGuests, BreakpointReplay, ::testing::ValuesIn(guest_names()),
                         [](const auto& info) { return info.param; });

}  // namespace

namespace {

// Every way a recording can end replays to the same end: exit 0, the
// recorded stop reason and status reached again, and the final state
// (registers, RAM SHA-256, exit count) compared with the end record.
struct Ending {
  std::string name, image, input;
  StopReason reason;
  int status;
  std::optional<uint64_t> max_instructions;
  bool interrupt_after_output = false;  // the user interrupts (SIGINT) once the guest printed a line
};
void PrintTo(const Ending& e, std::ostream* os) { *os << e.name; }

std::vector<Ending> endings() {
  return {
      {"debug_exit", "hello.bin", "", StopReason::DebugExit, 1, std::nullopt},
      {"triple_fault", "triple.bin", "", StopReason::Shutdown, 4, std::nullopt},
      {"instruction_limit", "hello.bin", "", StopReason::InstructionLimit, 6, 100},
      {"instruction_limit_in_timer_loop", "timer.bin", "", StopReason::InstructionLimit, 6, 3'000'000},
      {"halted_if0", "halt_cli.bin", "", StopReason::HaltedForever, 10, std::nullopt},
      {"halted_no_source", "halt_idle.bin", "", StopReason::HaltedForever, 10, std::nullopt},
      {"halted_masked_timer", "halt_masked.bin", "", StopReason::HaltedForever, 10, std::nullopt},
      {"halted_waiting_for_input", "echo.bin", "abc", StopReason::HaltedForever, 10, std::nullopt},
      {"backend_error", "paging_on.bin", "", StopReason::BackendError, 12, std::nullopt},
      {"interrupted", "spin.bin", "", StopReason::Interrupted, 18, std::nullopt, true},
  };
}

class Endings : public ::testing::TestWithParam<Ending> {};

TEST_P(Endings, ReplayReachesTheRecordedEnd) {
  const Ending& e = GetParam();
  SystemConfig c;
  c.backend = BackendKind::Emu;
  c.image_path = std::string(RRVM_GUEST_DIR) + "/" + e.image;
  if (!e.input.empty()) c.serial_in_path = write_temp(e.name + ".input", e.input);
  c.max_instructions = e.max_instructions.value_or(2'000'000'000ull);
  std::atomic<bool> interrupt{false};
  std::string serial;
  c.serial_out = [&](uint8_t b) {
    serial.push_back(char(b));
    if (b == '\n' && e.interrupt_after_output && std::count(serial.begin(), serial.end(), '\n') == 20)
      interrupt = true;
  };
  const std::string trace = temp_path("ending-" + e.name + ".rrt");
  RecordOutcome rec = record_to_trace(c, trace, {"test"}, false, {}, kDefaultKeyframeInterval, &interrupt);
  ASSERT_EQ(rec.result.reason, e.reason) << rec.result.message;
  ASSERT_EQ(rec.result.exit_status, e.status) << rec.result.message;

  TraceReader reader(trace);
  ASSERT_EQ(reader.status().state, TraceCompleteness::Complete);
  ASSERT_TRUE(reader.end().has_value());
  EXPECT_EQ(reader.end()->reason, e.reason);

  std::string replayed;
  ReplayOutcome out = replay(trace, "emu", &replayed);
  ASSERT_FALSE(out.divergence.has_value()) << out.divergence->to_string();
  EXPECT_EQ(out.exit_status, 0) << out.message;
  EXPECT_TRUE(out.final_state_checked) << out.message;
  EXPECT_EQ(out.ram_sha256, reader.end()->ram_sha256);
  EXPECT_EQ(out.exits, reader.end()->exit_count);
  EXPECT_EQ(out.instructions, reader.end()->instruction_count);
  EXPECT_EQ(out.events, reader.event_count());
  EXPECT_EQ(replayed, serial);
  // Nothing after the final hlt ran, live or replayed.
  EXPECT_EQ(replayed.find("!"), std::string::npos) << replayed;
}

INSTANTIATE_TEST_SUITE_P(EveryEnding, Endings, ::testing::ValuesIn(endings()),
                         [](const ::testing::TestParamInfo<Ending>& i) { return i.param.name; });

// A timer faster than rrvm's exits (bench_rep: a 20 kHz PIT over rep and loop
// code) recorded on kvm. In the nested harness (~50 us an exit) each tick's
// kick, injection and EOI used to cost more than its period: the guest never
// got on (not finished in 13 minutes). With devices serviced at most once
// per ServiceSpacing it finishes, the missed ticks coalesced, and the
// recording replays exactly on emu. A watchdog asks a recording that has not
// ended in 120 s to stop at its next exit; without the spacing the guest,
// kicked at every deadline, reached no exit at all, and the test hung until
// ctest's timeout (measured: killed at 600 s).
TEST(FastTimer, ATimerFasterThanExitsLeavesTheGuestTimeToFinishOnKvm) {
  const auto backends = available_backends();
  if (std::find(backends.begin(), backends.end(), "kvm") == backends.end()) GTEST_SKIP() << "no usable kvm";
  SystemConfig c;
  c.backend = BackendKind::Kvm;
  c.image_path = std::string(RRVM_GUEST_DIR) + "/bench_rep.bin";
  std::string serial;
  c.serial_out = [&](uint8_t b) { serial.push_back(char(b)); };
  std::atomic<bool> give_up{false};
  std::thread watchdog([&] {
    for (int i = 0; i < 1200 && !give_up; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    give_up = true;
  });
  const std::string trace = temp_path("fast-timer-kvm.rrt");
  RecordOutcome rec = record_to_trace(c, trace, {"test"}, false, {}, kDefaultKeyframeInterval, &give_up);
  const bool gave_up = give_up.exchange(true);
  watchdog.join();
  ASSERT_FALSE(gave_up) << "the recording did not end in 120 s: " << rec.result.message;
  ASSERT_EQ(rec.result.reason, StopReason::DebugExit) << rec.result.message;
  EXPECT_EQ(rec.result.exit_status, 1);
  EXPECT_GT(rec.result.interrupts, 10u) << "the timer ticked inside the work";

  std::string replayed;
  ReplayOutcome out = replay(trace, "emu", &replayed);
  ASSERT_FALSE(out.divergence.has_value()) << out.divergence->to_string();
  EXPECT_EQ(out.exit_status, 0) << out.message;
  EXPECT_TRUE(out.final_state_checked);
  EXPECT_EQ(replayed, serial);
}

}  // namespace

namespace {

// guests/storm.asm: 800 timer interrupts at ~20 kHz into a loop whose
// registers are random at every tick (nothing about them compresses);
// storm_short: the same stopped after 213.
guests::GuestSpec storm_spec(const std::string& name = "storm") {
  guests::GuestSpec spec;
  spec.name = name;
  spec.image_path = std::string(RRVM_GUEST_DIR) + "/" + name + ".bin";
  return spec;
}

uint64_t file_size(const std::string& path) { return std::filesystem::file_size(path); }

// Copies `trace` without instruction counts: the path a kvm recording takes
// through replay (breakpoint at the recorded pc, then the state compare).
std::string strip_icounts(const std::string& trace, const std::string& name) {
  std::string stripped = temp_path(name);
  rewrite_trace(trace, stripped, [&](uint64_t, TraceEvent& e) {
    if (auto* s = std::get_if<ServicePointEvent>(&e.body)) s->icount.reset();
    if (auto* i = std::get_if<InterruptEvent>(&e.body)) i->icount.reset();
    if (auto* c = std::get_if<CpuChecksumEvent>(&e.body)) c->icount.reset();
  });
  return stripped;
}

// Issue #12: an interrupt inside guest execution used to carry the whole
// register file twice (service point and injection, ~88 bytes per
// interrupt on emu). Format version 5 stores the pc and a 64-bit state hash
// once per place; version 6 compresses every frame against a preset
// dictionary, so the fixed part a short trace pays (header, end, footer,
// the first full registers) shrank from ~2.1 KB to ~0.9 KB: on emu the
// whole trace, header and end included, is at most 16 bytes per interrupt,
// for the 800-interrupt storm and for the 213-interrupt one (19 bytes in
// version 5). kvm adds the 8-byte changed-pages digest and host-time service
// points (see README "Trace size per interrupt"). Every recording still
// replays exactly on every backend here, and without instruction counts
// (breakpoint + hash: the path a kvm replay of an emu recording takes).
struct StormCase {
  std::string guest;
  uint64_t interrupts;  // the guest's STORM_TICKS
  std::string backend;
};
void PrintTo(const StormCase& c, std::ostream* os) { *os << c.guest << " on " << c.backend; }
class TraceSize : public ::testing::TestWithParam<StormCase> {};

TEST_P(TraceSize, InterruptStormBytesPerInterrupt) {
  const std::string backend = GetParam().backend;
  Recorded rec = record_guest(storm_spec(GetParam().guest), backend);
  ASSERT_EQ(rec.outcome.result.reason, StopReason::DebugExit) << rec.outcome.result.message;
  EXPECT_EQ(rec.live.serial, "storm: done\n");
  TraceReader reader(rec.trace);
  ASSERT_TRUE(reader.footer().has_value());
  const uint64_t interrupts = reader.footer()->event_counts_by_kind.at(size_t(TraceEventKind::Interrupt));
  const uint64_t exits = reader.footer()->total_exits;
  ASSERT_GE(interrupts, GetParam().interrupts);
  uint64_t async = 0, with_registers = 0;
  auto cursor = reader.events();
  while (const TraceEvent* e = cursor.next())
    if (auto* s = std::get_if<ServicePointEvent>(&e->body); s && s->async) {
      ++async;
      with_registers += s->async->registers.has_value();
    }
  EXPECT_GE(async, interrupts * 9 / 10) << "the storm's ticks land inside guest execution";
  EXPECT_GE(with_registers, 1u);
  EXPECT_LE(with_registers, async / kTraceFullRegistersEvery + 1);
  const double per_interrupt = double(file_size(rec.trace)) / double(interrupts);
  RecordProperty("bytes_per_interrupt", std::to_string(per_interrupt));
  std::printf("%s on %s: %llu bytes, %llu interrupts, %llu exits: %.2f bytes/interrupt, %.2f bytes/exit\n",
              GetParam().guest.c_str(), backend.c_str(), (unsigned long long)file_size(rec.trace),
              (unsigned long long)interrupts,
              (unsigned long long)exits, per_interrupt, double(file_size(rec.trace)) / double(exits));
  EXPECT_LE(per_interrupt, backend == "emu" ? 16.0 : 24.0);

  for (const auto& pb : available_backends()) {
    std::string serial;
    ReplayOutcome out = replay(rec.trace, pb, &serial);
    ASSERT_FALSE(out.divergence.has_value()) << "replay on " << pb << ": " << out.divergence->to_string();
    EXPECT_EQ(out.exit_status, 0) << out.message;
    EXPECT_EQ(out.ram_sha256, reader.end()->ram_sha256);
    EXPECT_EQ(serial, rec.live.serial);
  }
  if (backend != "emu") return;  // kvm recordings have no counts to strip
  std::string stripped = strip_icounts(rec.trace, GetParam().guest + "-no-icount.rrt");
  std::string serial2;
  ReplayOutcome found = replay(stripped, "emu", &serial2);
  ASSERT_FALSE(found.divergence.has_value()) << found.divergence->to_string();
  EXPECT_EQ(found.exit_status, 0) << found.message;
  EXPECT_EQ(found.ram_sha256, reader.end()->ram_sha256);
  EXPECT_EQ(serial2, rec.live.serial);
}

// emu only: in the nested kvm harness the storm's 50 us PIT period is
// shorter than a kick (~200 us), and both 3dbdfb9 and this format record
// service points at one place with no interrupt ever injected (a livelock
// the harness shows, not a trace-format matter); on hardware KVM the bound
// below is unmeasured.
INSTANTIATE_TEST_SUITE_P(Storm, TraceSize,
                         ::testing::Values(StormCase{"storm", 800, "emu"}, StormCase{"storm_short", 213, "emu"}),
                         [](const auto& info) { return info.param.guest + "_" + info.param.backend; });

// The n-th asynchronous service point (1-based) of `trace`, edited.
template <typename F>
std::string tamper_async_point(const std::string& trace, const std::string& name, int n, F edit) {
  std::string out = temp_path(name);
  int seen = 0;
  rewrite_trace(trace, out, [&](uint64_t, TraceEvent& e) {
    if (auto* s = std::get_if<ServicePointEvent>(&e.body); s && s->async && ++seen == n) edit(*s->async);
  });
  EXPECT_GE(seen, n);
  return out;
}

// A point reached by its instruction count is checked against the recorded
// state: a changed hash is a divergence at that point, saying both hashes
// and the pc; where the trace has full registers, it names the register.
TEST(Tampering, ChangedStateHashAtAnInterruptPointIsADivergence) {
  Recorded rec = record_guest(storm_spec(), "emu");
  ASSERT_EQ(rec.outcome.result.reason, StopReason::DebugExit) << rec.outcome.result.message;

  std::string hashed = tamper_async_point(rec.trace, "storm-hash.rrt", 10, [](KickState& k) {
    ASSERT_FALSE(k.registers.has_value());
    k.state_hash ^= 0x100;
  });
  std::string serial;
  ReplayOutcome out = replay(hashed, "emu", &serial);
  ASSERT_TRUE(out.divergence.has_value()) << out.message;
  EXPECT_EQ(out.exit_status, 2);
  EXPECT_TRUE(out.divergence->position.async);
  EXPECT_NE(out.divergence->what.find("CPU state at an asynchronous point"), std::string::npos)
      << out.divergence->to_string();
  EXPECT_NE(out.divergence->expected.find("state hash 0x"), std::string::npos) << out.divergence->expected;
  EXPECT_NE(out.divergence->expected.find(" at pc 0x"), std::string::npos) << out.divergence->expected;

  std::string regs = tamper_async_point(rec.trace, "storm-regs.rrt", 1, [](KickState& k) {
    ASSERT_TRUE(k.registers.has_value()) << "the first point keeps full registers";
    Registers r = *k.registers;
    r.rbx ^= 0x40;
    k = KickState::at(r);
  });
  ReplayOutcome named = replay(regs, "emu", &serial);
  ASSERT_TRUE(named.divergence.has_value()) << named.message;
  EXPECT_NE(named.divergence->actual.find("differs in rbx 0x"), std::string::npos) << named.divergence->to_string();

}

// traces/v5-bench_rep-emu.rrt: bench_rep (traces/v5-bench_rep.bin, its
// image then) recorded by rrvm b49eebd in format version 5, which kept the
// full registers at every point on a rep string instruction where version 6
// keeps rCX. It keeps replaying exactly, by count and by breakpoint (the
// rep search reads the count from those registers).
TEST(OldFormats, Version5RepRecordingReplays) {
  const std::string dir = std::string(RRVM_SOURCE_DIR) + "/traces/";
  TraceReader reader(dir + "v5-bench_rep-emu.rrt");
  EXPECT_EQ(reader.format_version(), 5u);
  ASSERT_TRUE(reader.end().has_value());
  uint64_t with_registers = 0;
  auto cursor = reader.events();
  while (const TraceEvent* e = cursor.next())
    if (auto* s = std::get_if<ServicePointEvent>(&e->body); s && s->async) {
      with_registers += s->async->registers.has_value();
      EXPECT_FALSE(s->async->rep_rcx.has_value());
    }
  EXPECT_GT(with_registers, 20u) << "version 5: full registers at the points on a rep";
  for (bool like_kvm : {false, true}) {
    if (like_kvm) setenv("RRVM_SEARCH_LIKE_KVM", "1", 1);
    ReplaySettings s;
    s.backend = BackendKind::Emu;
    s.image_override = dir + "v5-bench_rep.bin";
    ReplayOutcome out = replay_trace(dir + "v5-bench_rep-emu.rrt", s);
    unsetenv("RRVM_SEARCH_LIKE_KVM");
    ASSERT_FALSE(out.divergence.has_value()) << out.divergence->to_string();
    EXPECT_EQ(out.exit_status, 0) << out.message;
    EXPECT_TRUE(out.final_state_checked);
    EXPECT_EQ(out.ram_sha256, reader.end()->ram_sha256);
  }
}

// traces/v4-timer-emu.rrt: the timer guest (traces/v4-timer.bin, its image
// then) recorded by rrvm 3dbdfb9 in format version 4, every asynchronous
// point with its full registers. It keeps replaying exactly, by count and
// by breakpoint + registers.
TEST(OldFormats, Version4EmuRecordingReplays) {
  const std::string dir = std::string(RRVM_SOURCE_DIR) + "/traces/";
  TraceReader reader(dir + "v4-timer-emu.rrt");
  EXPECT_EQ(reader.format_version(), 4u);
  ASSERT_TRUE(reader.end().has_value());
  uint64_t async = 0;
  auto cursor = reader.events();
  while (const TraceEvent* e = cursor.next())
    if (auto* s = std::get_if<ServicePointEvent>(&e->body); s && s->async) {
      ++async;
      EXPECT_TRUE(s->async->registers.has_value());
      EXPECT_EQ(s->async->pc, s->async->registers->pc_linear());
    }
  EXPECT_GT(async, 5u);
  ReplaySettings s;
  s.backend = BackendKind::Emu;
  s.image_override = dir + "v4-timer.bin";
  std::string serial;
  s.serial_out = [&serial](uint8_t b) { serial.push_back(char(b)); };
  ReplayOutcome out = replay_trace(dir + "v4-timer-emu.rrt", s);
  ASSERT_FALSE(out.divergence.has_value()) << out.divergence->to_string();
  EXPECT_EQ(out.exit_status, 0) << out.message;
  EXPECT_TRUE(out.final_state_checked);
  EXPECT_EQ(out.ram_sha256, reader.end()->ram_sha256);
  EXPECT_NE(serial.find("timer: checksum 0xEEAE9FAF"), std::string::npos) << serial;
}

}  // namespace
