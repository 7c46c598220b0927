// The recorder: a tap on the run loop that writes everything that entered
// the guest, and everything it wrote, into a trace (DESIGN.md "The trace").
//
// Stream semantics (the replayer relies on them): events appear in the order
// the run loop produced them. Every guest-caused exit is one ExitEvent (reads
// carry the value the guest received). A ClockSample is a value a device read
// from the clock while the preceding exit was dispatched. A ServicePoint is a
// moment the timed devices were brought up to date; an Interrupt is an
// injection. A TscRead is the value a patched rdtsc/rdtscp received
// (vmm/tsc_sites.h), right after the exit of its out. Service points and
// interrupts carry their position: the number of exits before them and,
// when they happened inside guest execution (async), the instruction count
// (emu), the linear pc and a hash of the CPU state (full registers at the
// first and every kTraceFullRegistersEvery-th point, rCX at the others on a
// rep string instruction) and, on kvm, a hash of
// the pages changed since the last async point: how a backend without
// instruction counts finds the point again.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "trace/changed_pages_digest.h"
#include "trace/trace_events.h"
#include "trace/trace_writer.h"
#include "vmm/machine.h"

namespace rrvm {

// Default keyframe spacing, in instructions (README "Keyframes": measured
// trace growth and record overhead against the seek time it buys).
inline constexpr uint64_t kDefaultKeyframeInterval = 50'000'000;
// On backends that count no instructions (kvm), in milliseconds of host time
// (README "Keyframes").
inline constexpr uint64_t kDefaultKeyframeIntervalMs = 1000;
// A kvm keyframe compares all of RAM with the previous one (~0.2 s for 36 MiB
// in the nested harness, more for a larger guest): unless the user set the
// spacing, the next one waits at least this many times as long as the last
// one took, so keyframes take at most 1/(1+this) = 5% of a recording's time.
inline constexpr unsigned kKeyframeCostSpacing = 19;

// Host time from the end of one kvm keyframe to the earliest next one.
std::chrono::nanoseconds kvm_keyframe_spacing(uint64_t interval_ms, std::chrono::nanoseconds last_cost,
                                              bool adapts);

struct RecorderOptions {
  // A CpuChecksum event every this many exits (0: never).
  uint64_t checksum_interval = 1024;
  // A keyframe at the first instruction boundary at or after every this many
  // retired instructions (0: none). Only on backends that count
  // instructions (emu).
  uint64_t keyframe_interval = kDefaultKeyframeInterval;
  // Backends without a count (kvm): a keyframe right after the first
  // guest-caused exit this many ms of host time after the previous one (the
  // start, for the first) where the exit's instruction can be completed
  // without running on (Machine::request_exit_boundary); 0: none.
  uint64_t keyframe_interval_ms = kDefaultKeyframeIntervalMs;
  // Whether keyframe_interval_ms stretches with the keyframes' cost
  // (kKeyframeCostSpacing): the default, not when the user set the spacing.
  bool keyframe_spacing_adapts = true;
  // Set (from a SIGINT handler) when the user interrupts the recording: the
  // run stops after the next guest-caused exit, where a replay can stop too,
  // with StopReason::Interrupted and a complete trace.
  const std::atomic<bool>* interrupt = nullptr;
};

class Recorder final : public RunTap {
 public:
  Recorder(TraceWriter& writer, Machine& machine, RecorderOptions options = {});

  void on_exit(const Position& pos, const Exit& exit) override;
  void on_read(const Position& pos, const Exit& exit, uint64_t value) override;
  void on_service(const Position& pos, uint64_t now_ns, const Registers* async_regs) override;
  void on_clock_read(const Position& pos, uint64_t now_ns) override;
  void on_tsc_read(const Position& pos, uint64_t value) override;
  void on_interrupt(const Position& pos, uint8_t vector, const Registers* async_regs) override;
  void on_serial_input(uint8_t byte) override;
  // Writes a keyframe when one is due (see RecorderOptions).
  bool on_boundary(const Position& pos) override;
  // Stops the run when the trace can no longer be written, or after an exit
  // once the user interrupted the recording.
  bool wants_stop(RunResult* result) override;
  void on_stop(const Position& pos, const RunResult& result) override;

  // Writes one event (also the display sampler's frames). A write failure
  // is kept, not thrown through the run loop: the run stops at the next
  // exit with kExitIoError and everything written before stays readable.
  void append(const TraceEvent& event);
  // Why the trace could not be written, if it could not.
  const std::optional<std::string>& write_error() const { return write_error_; }
  bool closed() const { return closed_; }
  // The run loop starts now: the end record carries the wall time from here.
  void mark_run_start();
  uint64_t keyframes_written() const { return keyframes_; }
  // Host time spent taking and writing keyframes, seconds.
  double keyframe_seconds() const { return keyframe_seconds_; }
  // Whether this recording writes keyframes (an interval for the backend:
  // instructions where it counts them, host time where not).
  bool writes_keyframes() const { return keyframes_on_; }
  // Why keyframes stopped before the end (a snapshot could not be taken).
  const std::optional<std::string>& keyframe_error() const { return keyframe_error_; }

 private:
  std::optional<KickState> async_state(const Position& pos, const Registers* regs);
  KickState async_point(const Registers& regs);
  // Whether the instruction at regs' pc is a rep string instruction.
  bool at_rep_string(const Registers& regs);

  TraceWriter& writer_;
  Machine& machine_;
  RecorderOptions options_;
  bool closed_ = false;
  std::optional<std::string> write_error_;
  std::optional<std::chrono::steady_clock::time_point> run_started_;
  std::optional<ChangedPagesDigest> changed_pages_;  // backends without an instruction count
  void write_keyframe(const Position& pos);
  bool keyframes_on_ = false;
  std::optional<std::string> keyframe_error_;
  uint64_t next_keyframe_ = 0;       // icount at or after which the next one is due
  std::chrono::steady_clock::time_point next_keyframe_time_;  // the same without a count
  uint64_t keyframes_ = 0;
  double keyframe_seconds_ = 0;
  uint64_t replay_clock_ns_ = 0;     // latest service-point or clock-sample time written
  uint64_t async_points_ = 0;        // distinct asynchronous points written
  std::optional<KickState> last_point_;  // the latest one (no digest)
  // The previous keyframe's machine (the machine as built, before the first):
  // the next keyframe stores only the pages that differ from its RAM.
  std::optional<MachineSnapshot> previous_;
};


}  // namespace rrvm
