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
#include "system/pc_system.h"

namespace rrvm {

struct ReplaySettings {
  BackendKind backend = BackendKind::Auto;
  ReplayOptions options;
  std::function<void(uint8_t)> serial_out;
  std::function<void(uint8_t)> debug_out;
  // Replaces the image path stored in the trace (the file must still match
  // the recorded SHA-256): the guest image, or for a firmware machine the
  // image of the role named in image_overrides.
  std::optional<std::string> image_override;
  // Role ("bios", "vga-bios", "floppy", "disk", "guest") -> path.
  std::vector<std::pair<std::string, std::string>> image_overrides;
  // Where the replayed SeaBIOS's debug port 0x402 output goes.
  std::function<void(uint8_t)> bios_log;
  // Called every few thousand exits and at the end with (events consumed,
  // events in the trace).
  std::function<void(uint64_t, uint64_t)> progress;
  // When set, the replayed display is sampled at the recorded frame points
  // and every frame handed here (guest ns, picture).
  std::function<void(uint64_t, const Frame&)> on_frame;
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
};

// Throws SystemError (bad trace, image mismatch, backend unavailable).
ReplayOutcome replay_trace(const std::string& trace_path, const ReplaySettings& settings);

// The machine a trace describes, its images checked by SHA-256 (settings:
// backend, serial_out, debug_out, image_override). Throws SystemError.
std::unique_ptr<PcSystem> replay_system(const TraceReader& reader, const ReplaySettings& settings);
// Opens a trace for replay; a trace that cannot be read is a SystemError.
std::unique_ptr<TraceReader> open_replay_trace(const std::string& trace_path);

}  // namespace rrvm
