// Rebuilds what the guest's screen showed from a trace alone: no CPU, no
// device models. Applies each DisplayFrame event (changed VRAM pages, display
// registers when they changed) to a VRAM image and renders it.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "display/display_state.h"
#include "display/renderer.h"
#include "trace/trace_events.h"

namespace rrvm {

class FrameRebuilder {
 public:
  static constexpr uint64_t kVramSize = 4ull << 20;
  FrameRebuilder() : vram_(kVramSize, 0) {}

  // Throws TraceError when the event is malformed (page outside VRAM, bad
  // register block).
  void apply(const DisplayFrameEvent& e);
  // Only the registers (page indices are checked, page bytes ignored): what
  // mode() needs, for events read without page bytes. Throws like apply.
  void apply_registers(const DisplayFrameEvent& e);
  // A keyframe's display part (trace.capnp KeyframeDisplay): applied for
  // every keyframe from the first up to the one a reader starts at, it gives
  // the picture the display frames before that keyframe built. Throws
  // TraceError like apply.
  void apply_keyframe(const KeyframeDisplay& d);
  bool has_registers() const { return state_.has_value(); }
  // What the registers select; render() returns a frame of this size (a
  // Blank mode with no size before the first registers).
  ModeInfo mode() const { return state_ ? decode_mode(*state_) : ModeInfo{}; }
  const Frame& render();
  // The same picture, into `out` (a buffer the caller hands on, such as the
  // PNG encoders' next frame: no copy). Nothing is drawn without registers.
  void render_into(Frame& out) const;

 private:
  void check_page(const DisplayFrameEvent& e, const VramPage& p, bool with_bytes) const;
  void set_registers(const DisplayFrameEvent& e);

  std::vector<uint8_t> vram_;
  std::optional<DisplayState> state_;
  Frame frame_;
};

}  // namespace rrvm
