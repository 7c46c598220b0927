// The replayer: the machine's input authority during a replay, and a tap on
// the same run loop the recorder tapped. Every guest read is answered from
// the trace while the device models still run and their own answers are
// compared; time, timer service points, serial input and interrupts come
// from the trace at their recorded positions; outputs and the exit sequence
// are checked. The first disagreement stops the run with a DivergenceReport.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "replay/divergence_report.h"
#include "trace/changed_pages_digest.h"
#include "trace/trace_reader.h"
#include "vmm/input_authority.h"
#include "vmm/machine.h"

namespace rrvm {

struct ReplayOptions {
  std::optional<uint64_t> until_event;   // stop after this many trace events
  std::optional<uint64_t> until_icount;  // (emu) stop at this instruction count
  // CPU checksums are compared only when replaying on the backend that
  // recorded (undefined-flag and mid-instruction differences otherwise).
  bool verify_cpu_checksums = true;
};

// Where a replay stands in its trace: what a checkpoint keeps of the
// replayer beside the machine's snapshot.
struct ReplayerState {
  uint64_t consumed = 0;
  uint64_t last_clock = 0;
  uint8_t recorded_vector = 0;
  bool target_reached = false;
  std::deque<std::pair<uint64_t, TraceEvent>> recent;
  // Backends without an instruction count (kvm), which check the recorded
  // changed-pages digests: the digest's reference pages that differ from
  // RAM where the state was taken (a keyframe's digestReference; empty for
  // a keyframe of a recording with counts, which has no digests).
  std::optional<std::vector<ChangedPagesDigest::ReferencePage>> digest_reference;
  uint64_t last_tsc = 0;  // the latest TSC read's value (0 from a keyframe: the clock bounds it)
};

class Replayer final : public RunTap, public InputAuthority {
 public:
  Replayer(const TraceReader& reader, Machine& machine, ReplayOptions options = {});

  // RunTap
  void on_exit(const Position& pos, const Exit& exit) override;
  bool wants_stop(RunResult* result) override;

  // InputAuthority
  uint64_t read_value(const Position& pos, const Exit& exit, uint64_t device_value) override;
  uint64_t clock_read(const Position& pos) override;
  // The recorded value, checked against the trace's TSC invariants (see
  // trace.capnp EventBatch.tscReads): a value below the previous TSC read or
  // the latest recorded guest time, or above the next one in its frame, is a
  // divergence at this event.
  uint64_t tsc_read(const Position& pos) override;
  std::optional<uint64_t> service_time(const Position& pos) override;
  InterruptAction interrupt_action(const Position& pos, bool pending, bool cpu_ready) override;
  std::optional<uint8_t> vector_to_inject(const Position& pos, std::optional<uint8_t> acknowledged,
                                          bool cpu_ready) override;
  StopPlan next_stop(uint64_t exit_ordinal) override;
  bool at_async_target(const Registers& regs) override;
  std::optional<std::string> halt_ends_run(const Position& pos) override;
  IdleOutcome idle_wait(uint64_t deadline_ns) override;
  // Serial input recorded at this point; the source never ends (the
  // recording's did, but only the trace's positions say when).
  std::optional<uint8_t> serial_byte() override;
  bool serial_at_end() override { return false; }

  const std::optional<DivergenceReport>& divergence() const { return divergence_; }
  uint64_t events_consumed() const { return consumed_; }
  // True once every readable event was consumed.
  bool at_end();

  // Checkpoints (a timeline's; on a backend without a count the state
  // carries the changed-pages digest's reference). Throws std::logic_error
  // after a divergence.
  ReplayerState save_state() const;
  // Also on a backend without a count, from a keyframe: the state then
  // carries the digest's reference (std::logic_error without it).
  void restore_state(const ReplayerState& state);

 private:
  const TraceEvent* peek();
  void consume();
  void diverge(const std::string& what, const std::string& expected, const std::string& actual);
  bool check_point_state(const TraceEvent& e);
  bool async_matches(const Position& pos, uint64_t exit_ordinal, const std::optional<uint64_t>& icount,
                     bool async);
  void skip_checksums();
  bool expect_exit(const Exit& exit, bool check_data);
  std::optional<AsyncTarget> next_async_target(uint64_t exit_ordinal);

  const TraceReader& reader_;
  Machine& machine_;
  ReplayOptions options_;
  EventCursor cursor_;
  std::optional<TraceEvent> peeked_;
  bool ended_ = false;
  uint64_t consumed_ = 0;
  uint64_t last_clock_ = 0;
  uint64_t last_tsc_ = 0;
  uint8_t recorded_vector_ = 0;  // between interrupt_action and vector_to_inject
  bool target_reached_ = false;  // at_async_target() found the point (until the vCPU moves)
  std::optional<DivergenceReport> divergence_;
  std::deque<std::pair<uint64_t, TraceEvent>> recent_;  // (ordinal, event), oldest first
  std::optional<ChangedPagesDigest> changed_pages_;  // backends without an instruction count
  // Why the last stop at the recorded RIP was not the point (for the report).
  std::string candidate_note_;
  uint64_t candidate_misses_ = 0;
};

}  // namespace rrvm
