// The recorder: a tap on the run loop that writes everything that entered
// the guest, and everything it wrote, into a trace (DESIGN.md "The trace").
//
// Stream semantics (the replayer relies on them): events appear in the order
// the run loop produced them. Every guest-caused exit is one ExitEvent (reads
// carry the value the guest received). A ClockSample is a value a device read
// from the clock while the preceding exit was dispatched. A ServicePoint is a
// moment the timed devices were brought up to date; an Interrupt is an
// injection. Both carry their position: the number of exits before them and,
// when they happened inside guest execution (async), the instruction count
// (emu) and the CPU state plus a hash of the pages dirtied since the last
// async point, which is how a backend without instruction counts finds the
// point again.
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

struct RecorderOptions {
  // A CpuChecksum event every this many exits (0: never).
  uint64_t checksum_interval = 1024;
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
  void on_interrupt(const Position& pos, uint8_t vector, const Registers* async_regs) override;
  void on_serial_input(uint8_t byte) override;
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
  void mark_run_start() { run_started_ = std::chrono::steady_clock::now(); }

 private:
  std::optional<KickState> async_state(const Position& pos, const Registers* regs);

  TraceWriter& writer_;
  Machine& machine_;
  RecorderOptions options_;
  bool closed_ = false;
  std::optional<std::string> write_error_;
  std::optional<std::chrono::steady_clock::time_point> run_started_;
  std::optional<ChangedPagesDigest> changed_pages_;  // backends without an instruction count
};


}  // namespace rrvm
