// Every guest of the oracle (tests/guests/expected, checked against QEMU by
// qemu_crosscheck) runs under rrvm on every available backend with the
// output and exit status the oracle specifies; emu is deterministic; kvm
// and emu agree.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/integration/test_support.h"
#include "vmm/run_tap.h"

using namespace rrvm;
using namespace rrvm::test;

namespace {

struct Case {
  std::string guest, backend;
};
// How gtest prints the parameter (in ctest names and failures).
void PrintTo(const Case& c, std::ostream* os) { *os << c.guest << " on " << c.backend; }

std::vector<Case> cases() {
  std::vector<Case> c;
  for (const auto& spec : guests::load_guest_specs())
    for (const auto& b : available_backends()) c.push_back({spec.name, b});
  return c;
}

class GuestRunTest : public ::testing::TestWithParam<Case> {};

TEST_P(GuestRunTest, OutputAndExitStatusMatchTheOracle) {
  auto specs = guests::load_guest_specs();
  const auto& spec = guests::find_guest_spec(specs, GetParam().guest);
  GuestRun run = run_guest(spec, GetParam().backend);
  ASSERT_EQ(run.result.reason, StopReason::DebugExit) << run.result.message;
  EXPECT_EQ(run.result.exit_status, guests::debug_exit_code(spec.exit_status));
  EXPECT_EQ(guests::check_guest_output(spec, "serial", run.serial), "");
  EXPECT_EQ(guests::check_guest_output(spec, "debug console", run.debugcon), "");
}

INSTANTIATE_TEST_SUITE_P(AllGuests, GuestRunTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.guest + "_" + i.param.backend; });

// Code in VRAM rewritten by the device (a write through the 0xA0000 window,
// a BitBLT) runs as rewritten: guests/cirrus/vramcode.asm prints the byte its
// routine holds each time it runs it.
class DeviceWrittenCodeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DeviceWrittenCodeTest, CodeInVramRewrittenByTheDeviceRunsTheNewBytes) {
  guests::GuestSpec spec;
  spec.name = "vramcode";
  spec.image_path = std::string(RRVM_GUEST_DIR) + "/vramcode.bin";
  GuestRun run = run_guest(spec, GetParam());
  ASSERT_EQ(run.result.reason, StopReason::DebugExit) << run.result.message;
  EXPECT_EQ(run.debugcon, "vramcode: ABC\n") << "A: copied by the CPU; B: the window; C: the blitter";
}

INSTANTIATE_TEST_SUITE_P(Vram, DeviceWrittenCodeTest, ::testing::ValuesIn(available_backends()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return "vramcode_" + i.param; });

// Records where interrupts were injected.
struct InjectionLog : RunTap {
  std::vector<std::pair<uint64_t, uint8_t>> points;  // (icount, vector)
  void on_interrupt(const Position& pos, uint8_t vector, const Registers*) override {
    points.emplace_back(pos.icount.value_or(~0ull), vector);
  }
};

TEST(EmuDeterminism, SameGuestTwiceIsIdentical) {
  auto specs = guests::load_guest_specs();
  for (const char* name : {"timer", "echo", "pm32", "cmos"}) {
    const auto& spec = guests::find_guest_spec(specs, name);
    GuestRun a = run_guest(spec, "emu"), b = run_guest(spec, "emu");
    ASSERT_TRUE(a.icount && b.icount);
    EXPECT_EQ(*a.icount, *b.icount) << name;
    EXPECT_EQ(a.ram, b.ram) << name;
    EXPECT_EQ(a.regs, b.regs) << name;
    EXPECT_EQ(a.serial, b.serial) << name;
  }
}

TEST(EmuDeterminism, TimerTicksLandAtTheSameInstructionsInsideTheComputeLoop) {
  auto specs = guests::load_guest_specs();
  const auto& spec = guests::find_guest_spec(specs, "timer");
  std::vector<std::pair<uint64_t, uint8_t>> first;
  std::set<uint64_t> distinct_rips;
  for (int round = 0; round < 2; ++round) {
    GuestRun run;
    auto sys = PcSystem::create(guest_config(spec, "emu", run, ""));
    InjectionLog log;
    struct RipLog : RunTap {
      Vcpu* vcpu;
      std::set<uint64_t>* rips;
      void on_interrupt(const Position& pos, uint8_t, const Registers* regs) override {
        if (pos.async && regs) rips->insert(regs->rip);
      }
    } rips;
    rips.vcpu = &sys->machine().vcpu();
    rips.rips = &distinct_rips;
    sys->machine().add_tap(&log);
    sys->machine().add_tap(&rips);
    RunResult r = sys->run();
    ASSERT_EQ(r.reason, StopReason::DebugExit) << r.message;
    ASSERT_GT(log.points.size(), 20u);
    if (round == 0)
      first = log.points;
    else
      EXPECT_EQ(first, log.points);
  }
  // Ticks arrived inside the compute loop at many different instructions,
  // not only at exits.
  EXPECT_GT(distinct_rips.size(), 3u);
}

TEST(CrossBackend, KvmAndEmuProduceTheSameOutputAndMemory) {
  auto backends = available_backends();
  if (backends.size() < 2) GTEST_SKIP() << "kvm is not available here (runs inside the nested harness)";
  auto specs = guests::load_guest_specs();
  for (const auto& spec : specs) {
    if (spec.name == "garbage") continue;  // writes every port: output includes junk bytes by design
    // Ticks at up to 600 kHz: live on nested KVM (milliseconds of exits per
    // tick) their timer handlers would run back to back; rep_irq_1k is the
    // kvm-side rep guest.
    if (spec.name == "rep_irq" || spec.name == "rep_irq_io" || spec.name == "irq_windows" || spec.name == "shadow_irq")
      continue;
    GuestRun e = run_guest(spec, "emu"), k = run_guest(spec, "kvm");
    EXPECT_EQ(e.serial, k.serial) << spec.name;
    EXPECT_EQ(e.result.exit_status, k.result.exit_status) << spec.name;
    // Guests without interrupts leave identical memory; where interrupts land
    // at timing-dependent points, stack contents legitimately differ.
    if (spec.name == "hello" || spec.name == "exceptions" || spec.name == "flat32") {
      EXPECT_EQ(e.ram, k.ram) << spec.name;
    }
  }
}

}  // namespace
