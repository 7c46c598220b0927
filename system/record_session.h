// `rrvm record`: a PcSystem with the Recorder tapped onto its run loop,
// writing TRACE. Used by the CLI and the integration tests alike.
#pragma once
#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "display/renderer.h"
#include "record/recorder.h"
#include "trace/trace_events.h"
#include "system/pc_system.h"

namespace rrvm {

struct RecordOutcome {
  RunResult result;
  std::string backend;
  uint64_t trace_bytes = 0;
  uint64_t events = 0;
  double wall_seconds = 0;
  uint64_t frames = 0;  // display frames written
  uint64_t keyframes = 0;  // keyframes written
  // --patch-tsc: TSC read sites found and patched in the image, and the
  // reads the run made through them (each a TSC read event).
  uint64_t tsc_sites = 0, tsc_patched = 0, tsc_reads = 0;
  double keyframe_seconds = 0;  // host time taking them
  bool keyframes_on = false;  // the recording wrote keyframes (an interval for its backend)
  std::optional<std::string> keyframe_error;  // why keyframes stopped before the end
  // The trace could not be written (from this point on): the recording is
  // readable up to its last whole frame and rrvm exits with kExitIoError.
  std::optional<std::string> write_error;
};

// Receives every display frame as it is recorded, with the picture the live
// device showed at that moment.
using FrameObserver = std::function<void(const DisplayFrameEvent&, const Frame&)>;

// Throws SystemError (bad input) or TraceWriteError (cannot create the trace).
RecordOutcome record_to_trace(const SystemConfig& config, const std::string& trace_path,
                              const std::vector<std::string>& command_line, bool announce,
                              FrameObserver on_frame = {},
                              uint64_t keyframe_interval = kDefaultKeyframeInterval,
                              const std::atomic<bool>* interrupt = nullptr,
                              uint64_t keyframe_interval_ms = kDefaultKeyframeIntervalMs,
                              bool keyframe_spacing_adapts = true);

}  // namespace rrvm
