// A replay that can go anywhere in its trace: forward by running the replay,
// backward by restoring the nearest earlier checkpoint and running forward
// from it to the point wanted (rr's ReplayTimeline is the model). The gdb
// server (debug/) asks it for everything it needs; it knows nothing of gdb.
//
// Points. The replay runs on a backend that counts instructions (emu, or kvm
// counting its single steps), so a point is exact: (icount, after_interrupt) is the instruction boundary where
// `icount` instructions have retired and, where an interrupt was delivered
// there, the state just after the delivery (the CPU at the handler's first
// instruction) as a second point with the same count. Every point is reached
// the same way whatever breakpoints are armed, so a point found once can be
// found again.
//
// Checkpoints (in memory). One at the start; one every `checkpoint_interval`
// instructions as the replay moves forward; one wherever the timeline stops
// for its user. When they cost more than `checkpoint_memory`, the one whose
// removal leaves the smallest gap relative to its distance from the current
// point goes: checkpoints stay dense near where the user is and thin out
// with distance, so their number grows with the logarithm of the distance
// travelled (rr's policy), and going back a little is always cheap.
#pragma once
#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <functional>

#include "display/renderer.h"
#include "system/replay_session.h"
#include "vmm/machine_snapshot.h"

namespace rrvm {

struct TimelinePosition {
  uint64_t icount = 0;
  bool after_interrupt = false;
  auto operator<=>(const TimelinePosition&) const = default;
};

enum class TimelineStopKind {
  Step,        // the point asked for (a step, a goto)
  Breakpoint,  // an instruction at a breakpoint address is next
  Watchpoint,  // forward: the instruction before touched a watched byte;
               // backward: the next instruction touches one
  Start,       // nothing earlier: the start of the trace
  End,         // nothing later: the end of the trace (or where the replay stopped)
  Interrupted, // the user asked a continue to stop (gdb's Ctrl-C)
};

struct TimelineStop {
  TimelineStopKind kind = TimelineStopKind::Step;
  uint64_t watch_address = 0;  // Watchpoint: the first watched byte accessed
  bool watch_write = false;    // Watchpoint: it was written (else read)
};

struct TimelineOptions {
  uint64_t checkpoint_memory = uint64_t{1} << 30;  // bytes the checkpoints may hold
  // Instructions between periodic checkpoints; 0: the backend's default
  // (kDefaultCheckpointInterval on emu, kDefaultSteppingCheckpointInterval
  // on kvm, where each instruction is a single step).
  uint64_t checkpoint_interval = 0;
  // Emu (Auto too) or Kvm: kvm counts instructions by single-stepping
  // (vmm/stepping_vcpu.h), exact but at one trap per instruction.
  BackendKind backend = BackendKind::Emu;
  ReplaySettings replay;  // serial_out, debug_out, image_override (backend: the field above)
};

constexpr uint64_t kDefaultCheckpointInterval = 2'000'000;        // ~10 ms of emu replay
constexpr uint64_t kDefaultSteppingCheckpointInterval = 20'000;   // ~40 ms of kvm single steps on hardware

struct CheckpointInfo {
  TimelinePosition position;
  uint64_t event = 0;  // trace events consumed there
  uint64_t bytes = 0;  // what it costs on top of the checkpoint before it
};

class ReplayTimeline {
 public:
  // Throws SystemError (unreadable trace, image mismatch, no emu backend).
  ReplayTimeline(const std::string& trace_path, TimelineOptions options = {});
  ~ReplayTimeline();
  ReplayTimeline(const ReplayTimeline&) = delete;
  ReplayTimeline& operator=(const ReplayTimeline&) = delete;

  TimelinePosition position();
  // The backend replaying: "emu", or "kvm" (counting by single steps).
  const char* backend() const { return system_->machine().vcpu().backend_name(); }
  // Read and access watchpoints work (emu); kvm's stepping sees only writes.
  bool watches_reads() const { return !stepping_; }
  uint64_t checkpoint_interval() const { return options_.checkpoint_interval; }
  uint64_t event() const;  // trace events consumed up to here
  const TraceReader& trace() const { return *reader_; }
  // Set while the timeline stands at the end of the replay: how it ended.
  const std::optional<RunResult>& end() const { return end_; }
  // A replay that disagreed with its trace (a defect in rrvm or a damaged
  // trace), reported once; the timeline stays where it stopped.
  const std::string& divergence() const { return divergence_; }

  Registers registers();
  // x87/SSE state (the reset state where the replay ended inside an
  // instruction: the debug-exit port write).
  FpuState fpu() {
    Vcpu& v = system_->machine().vcpu();
    return v.at_instruction_boundary() ? v.save_cpu().fpu : FpuState{};
  }
  Sha256Digest ram_sha256() const { return system_->ram_sha256(); }
  // Guest memory at linear addresses (segment bases applied, which is what
  // gdb's addresses are), through the page tables when paging is on: how many
  // bytes from the start have RAM or ROM behind them (vmm's read_linear).
  size_t read_linear(uint64_t linear, std::span<uint8_t> out);
  Frame screen();
  // The guest-physical address of a linear one (nullopt: not mapped).
  std::optional<uint64_t> translate(uint64_t linear) { return system_->machine().vcpu().translate(linear); }
  std::vector<CheckpointInfo> checkpoints() const;
  uint64_t checkpoint_bytes() const;

  // Armed for cont, reverse_cont and (watchpoints) step.
  void set_breakpoints(std::vector<uint64_t> linear);
  void set_watchpoints(std::vector<Vcpu::Watchpoint> watch);
  // Asked every kInterruptPollInstructions instructions of a cont and
  // between the segments a reverse_cont scans: true stops it where it is
  // (Interrupted).
  void set_interrupt_check(std::function<bool()> check) { interrupt_check_ = std::move(check); }
  // ~5 ms of replay on emu: Ctrl-C answers within that, and the poll (one
  // system call) costs nothing measurable.
  static constexpr uint64_t kInterruptPollInstructions = 1'000'000;
  // On kvm each instruction is a single step (~50 us nested, ~2 us on
  // hardware): poll after far fewer.
  static constexpr uint64_t kSteppingInterruptPollInstructions = 1'000;
  uint64_t interrupt_poll_instructions() const {
    return stepping_ ? kSteppingInterruptPollInstructions : kInterruptPollInstructions;
  }

  TimelineStop step();
  TimelineStop cont();
  TimelineStop reverse_step();
  TimelineStop reverse_cont();
  // Goes to the point (forward or back); Start/End when it lies beyond.
  TimelineStop seek(TimelinePosition target);
  // The first point at which `event` trace events have been consumed.
  TimelineStop goto_event(uint64_t event);

 private:
  class Tap;
  friend class Tap;
  struct Checkpoint;
  enum class Mode { Target, Step, Continue, Scan };
  struct Hit {
    TimelinePosition position;
    TimelineStop stop;
  };

  bool at_boundary(uint64_t icount, bool after_interrupt);
  // The point before `p` (p itself at the start).
  TimelinePosition previous_position(TimelinePosition p) const;
  // Runs forward from here; returns how it stopped.
  TimelineStop run(Mode mode, std::optional<TimelinePosition> target, std::optional<uint64_t> until_event = {});
  void restore(const Checkpoint& c);
  const Checkpoint* latest_before(TimelinePosition p, bool inclusive) const;
  void take_checkpoint(TimelinePosition p);
  void thin_checkpoints();
  void arm(bool stops);
  void plan_pause();

  TimelineOptions options_;
  bool stepping_ = false;
  // Instructions retired, as the vCPU counts them (single steps on kvm).
  uint64_t retired() const { return system_->machine().vcpu().retired_count().value_or(0); }
  std::function<bool()> interrupt_check_;
  uint64_t next_poll_icount_ = 0;
  std::unique_ptr<TraceReader> reader_;
  std::unique_ptr<PcSystem> system_;
  std::unique_ptr<Replayer> replayer_;
  std::unique_ptr<Tap> tap_;
  std::vector<Checkpoint> checkpoints_;  // in position order, the start first
  std::vector<uint64_t> breakpoints_;    // sorted
  std::vector<Vcpu::Watchpoint> watchpoints_;
  std::set<uint64_t> interrupts_at_;     // icounts where an interrupt was delivered (seen so far)
  std::optional<RunResult> end_;
  std::string divergence_;

  // The run under way.
  Mode mode_ = Mode::Target;
  std::optional<TimelinePosition> start_;  // the point this run began at (not a stop)
  std::optional<TimelinePosition> target_;
  std::optional<uint64_t> until_event_;
  std::optional<uint64_t> step_icount_;
  std::optional<uint64_t> last_icount_;  // of the last boundary seen (reset by a restore)
  TimelinePosition here_;
  TimelineStop pause_;
  std::optional<Exit> watch_hit_;
  std::vector<Hit> hits_;  // Scan: every stop on the way
  uint64_t last_checkpoint_icount_ = 0;
};

}  // namespace rrvm
