// Patched TSC reads (vmm/tsc_sites.h, issue #15): the tsc_reads guest's
// rdtsc/rdtscp patched into exits (--patch-tsc) on every available backend:
// every read is a TSC read event, the replay on every backend is exact, and
// a trace with one TSC value changed is a divergence at that event. On kvm
// (the nested harness: kvm_tsc_patch) this is the point: KVM does not trap
// RDTSC, and without the patch the guest's printed values are unrecorded.
#include <gtest/gtest.h>

#include <cstdio>

#include "system/record_session.h"
#include "system/replay_session.h"
#include "tests/integration/test_support.h"
#include "trace/trace_reader.h"
#include "trace/trace_writer.h"

using namespace rrvm;
using namespace rrvm::test;

namespace {

constexpr uint64_t kReads = 8 + 2000 + 1;  // tsc_reads.asm: shown, looped, rdtscp

struct Recorded {
  std::string trace, serial;
  RecordOutcome outcome;
};

SystemConfig tsc_config(const std::string& backend, std::string* serial, bool patch = true) {
  SystemConfig c;
  c.backend = backend_kind(backend);
  c.image_path = RRVM_GUEST_DIR "/tsc_reads.elf";
  c.serial_out = [serial](uint8_t b) { serial->push_back(char(b)); };
  c.patch_tsc = patch;
  return c;
}

Recorded record(const std::string& backend, const std::string& name) {
  Recorded r;
  r.trace = temp_path(name + "-" + backend + ".rrt");
  r.outcome = record_to_trace(tsc_config(backend, &r.serial), r.trace, {"test"}, false);
  return r;
}

ReplayOutcome replay(const std::string& trace, const std::string& backend, std::string* serial) {
  return replay_with_serial(trace, backend, serial);
}

// The TSC read events' ordinals and values.
std::vector<std::pair<uint64_t, uint64_t>> tsc_events(const std::string& trace) {
  TraceReader reader(trace);
  std::vector<std::pair<uint64_t, uint64_t>> out;
  auto cursor = reader.events();
  while (const TraceEvent* e = cursor.next())
    if (auto* t = std::get_if<TscReadEvent>(&e->body)) out.emplace_back(cursor.ordinal(), t->value);
  return out;
}

// A copy of `trace` with event `ordinal` (a TSC read) holding `value`.
std::string tamper(const std::string& trace, uint64_t ordinal, uint64_t value, const std::string& name) {
  const std::string out = temp_path(name);
  TraceReader reader(trace);
  TraceWriter writer(out, reader.header());
  auto cursor = reader.events();
  while (const TraceEvent* e = cursor.next()) {
    TraceEvent copy = *e;
    if (cursor.ordinal() == ordinal) std::get<TscReadEvent>(copy.body).value = value;
    writer.append(copy);
  }
  writer.close(*reader.end());
  return out;
}

class TscPatch : public ::testing::TestWithParam<std::string> {};

TEST_P(TscPatch, EveryReadIsRecordedAndReplaysExactlyOnEveryBackend) {
  const Recorded rec = record(GetParam(), "tsc");
  ASSERT_EQ(rec.outcome.result.reason, StopReason::DebugExit) << rec.outcome.result.message;
  EXPECT_EQ(rec.outcome.result.exit_status, 1) << rec.serial;  // EXIT 0
  EXPECT_NE(rec.serial.find("tsc_reads: rdtscp aux 0 and later: yes"), std::string::npos) << rec.serial;
  EXPECT_NE(rec.serial.find("tsc_reads: immediate intact: yes"), std::string::npos) << rec.serial;
  const auto reads = tsc_events(rec.trace);
  ASSERT_EQ(reads.size(), kReads);
  for (size_t i = 1; i < reads.size(); ++i) EXPECT_GE(reads[i].second, reads[i - 1].second) << i;
  EXPECT_GT(reads.back().second, reads.front().second);
  TraceReader reader(rec.trace);
  EXPECT_TRUE(reader.header().machine.patch_tsc);
  std::printf("%s: %zu TSC reads, trace %llu bytes, %.2f bytes per read (whole trace)\n", GetParam().c_str(),
              reads.size(), (unsigned long long)rec.outcome.trace_bytes,
              double(rec.outcome.trace_bytes) / double(reads.size()));
  for (const auto& backend : available_backends()) {
    std::string serial;
    const ReplayOutcome out = replay(rec.trace, backend, &serial);
    ASSERT_FALSE(out.divergence.has_value()) << backend << ": " << out.divergence->to_string();
    EXPECT_EQ(out.exit_status, 0) << backend << ": " << out.message;
    EXPECT_TRUE(out.final_state_checked);
    EXPECT_EQ(out.ram_sha256, reader.end()->ram_sha256) << backend;
    EXPECT_EQ(serial, rec.serial) << backend;
  }
}

TEST_P(TscPatch, OneTamperedValueDivergesAtThatEvent) {
  const Recorded rec = record(GetParam(), "tsc-tamper");
  ASSERT_EQ(rec.outcome.result.reason, StopReason::DebugExit) << rec.outcome.result.message;
  const auto reads = tsc_events(rec.trace);
  ASSERT_EQ(reads.size(), kReads);
  // One in the shown part moved back before its predecessor, one in the loop
  // moved past the two after it: each found at its own event. (One raised
  // less, above the next read only, is found at the next read, which is then
  // below its predecessor: replay/replayer.cpp tsc_read.)
  const std::pair<size_t, uint64_t> edits[] = {{3, reads[2].second - 1}, {500, reads[502].second + 1}};
  for (const auto& [index, value] : edits) {
    const std::string bad = tamper(rec.trace, reads[index].first, value, "tsc-tampered.rrt");
    for (const auto& backend : available_backends()) {
      std::string serial;
      const ReplayOutcome out = replay(bad, backend, &serial);
      ASSERT_TRUE(out.divergence.has_value()) << backend << " read " << index << ": " << out.message;
      EXPECT_EQ(out.exit_status, kExitDivergence);
      EXPECT_EQ(out.divergence->event_ordinal, reads[index].first) << out.divergence->to_string();
      EXPECT_NE(out.divergence->what.find("TSC read"), std::string::npos) << out.divergence->to_string();
      EXPECT_EQ(out.divergence->actual, std::to_string(value));
    }
  }
}

// Without --patch-tsc the guest's rdtsc run natively: no TSC read events
// (on emu the instruction count, so it still replays; on kvm the host's
// unrecorded TSC, the hole the patching closes).
TEST_P(TscPatch, WithoutThePatchNoReadIsAnEvent) {
  std::string serial;
  const std::string trace = temp_path("tsc-unpatched-" + GetParam() + ".rrt");
  const RecordOutcome out = record_to_trace(tsc_config(GetParam(), &serial, false), trace, {"test"}, false);
  // (Unpatched, rdtscp is #UD on emu and in rrvm's kvm CPUID table, which
  // offer no RDTSCP, and the guest has no IDT: it ends in a triple fault.)
  EXPECT_NE(out.result.reason, StopReason::BackendError) << out.result.message;
  EXPECT_TRUE(tsc_events(trace).empty());
  EXPECT_FALSE(TraceReader(trace).header().machine.patch_tsc);
}

INSTANTIATE_TEST_SUITE_P(Backends, TscPatch, ::testing::ValuesIn(available_backends()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
