// `rrvm replay`: rebuilds the machine a trace describes (images checked by
// SHA-256 before anything runs), taps the Replayer onto it, runs it, and
// checks the final state against the trace's end record.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "display/renderer.h"
#include "replay/replayer.h"
#include "system/input_files.h"
#include "system/pc_system.h"

namespace rrvm {

// Where a replay started (replay --from).
struct ReplayStart {
  bool from_keyframe = false;       // false: from the start of the trace
  uint64_t keyframe = 0;            // its number among the trace's keyframes (0 = first)
  uint64_t event = 0;               // trace events before it
  std::optional<uint64_t> icount;   // instructions retired there
  uint64_t display_frames = 0;      // display-frame events before it (the next frame's index)
  std::string note;                 // one line: where and why
};

struct ReplaySettings {
  BackendKind backend = BackendKind::Auto;
  // On kvm, count instructions by single-stepping (a timeline on kvm).
  bool count_by_stepping = false;
  ReplayOptions options;
  // Start at the latest keyframe at or before this trace event (restore the
  // machine and the replayer there, then replay forward); from the start
  // when the trace has none. Beyond the trace's events: SystemError.
  std::optional<uint64_t> from_event;
  // Start at exactly this keyframe (its number in reader.keyframes());
  // beyond the last: SystemError. Tests and benchmarks use it.
  std::optional<size_t> from_keyframe;
  // Called once before the replay runs, with where it starts.
  std::function<void(const ReplayStart&)> on_start;
  std::function<void(uint8_t)> serial_out;
  std::function<void(uint8_t)> debug_out;
  // Replaces the image path stored in the trace (the file must still match
  // the recorded SHA-256): the guest image, or for a firmware machine the
  // image of the role named in image_overrides.
  std::optional<std::string> image_override;
  // Role ("bios", "vga-bios", "floppy", "disk", "guest", "kernel", "initrd") -> path.
  std::vector<std::pair<std::string, std::string>> image_overrides;
  // A Linux machine's LinuxConfig::after_load (what the recording ran).
  std::function<void(GuestMemory&, const LoadedKernel&)> kernel_after_load;
  // Where the replayed SeaBIOS's debug port 0x402 output goes.
  std::function<void(uint8_t)> bios_log;
  // Called every few thousand exits and at the end with (events consumed,
  // events in the trace).
  std::function<void(uint64_t, uint64_t)> progress;
  // When set, the replayed display is sampled at the recorded frame points
  // and every frame handed here (guest ns, picture).
  std::function<void(uint64_t, const Frame&)> on_frame;
  // When set, called for each point inside guest execution found by a
  // breakpoint search (no instruction count): the trace event it is, its
  // linear pc, the stops it took.
  std::function<void(uint64_t event, uint64_t pc, uint64_t stops)> on_search_point;
};

struct ReplayOutcome {
  int exit_status = 0;            // 0: replayed exactly; 2: divergence; ...
  std::string message;            // one line
  std::optional<DivergenceReport> divergence;
  std::string backend;            // replay backend
  std::string recorded_backend;
  uint64_t events = 0;
  uint64_t exits = 0;
  std::optional<uint64_t> instructions;
  bool final_state_checked = false;  // end record present and compared
  double wall_seconds = 0;         // this replay's run loop
  double record_wall_seconds = 0;  // the recording's run loop (from the trace); 0: unknown
  Sha256Digest ram_sha256{};
  ReplayStart start;
  Machine::SearchStats search;  // finding points recorded without an instruction count
};

// Throws SystemError (bad trace, image mismatch, backend unavailable).
ReplayOutcome replay_trace(const std::string& trace_path, const ReplaySettings& settings);

// The machine a trace describes, its images checked by SHA-256 (settings:
// backend, serial_out, debug_out, image_override). Throws SystemError.
std::unique_ptr<PcSystem> replay_system(const TraceReader& reader, const ReplaySettings& settings);
// Puts a machine built by replay_system (its time not started, not run yet)
// and its replayer where keyframe `index` (into reader.keyframes()) was
// taken. Throws SystemError (a keyframe that cannot be read or restored),
// KeyframeUnusable (one that holds no machine state).
ReplayStart restore_keyframe(const TraceReader& reader, size_t index, PcSystem& sys, Replayer& replayer);
// The files a replay of `reader` with `settings` reads: the trace and every
// image it names (or its override).
std::vector<InputFile> replay_input_files(const TraceReader& reader, const ReplaySettings& settings);
// Opens a trace for replay; a trace that cannot be read is a SystemError.
std::unique_ptr<TraceReader> open_replay_trace(const std::string& trace_path);

}  // namespace rrvm
