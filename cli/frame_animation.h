// `rrvm frames --animation`: the frames `rrvm frames` writes as PNG files,
// also as one animated PNG that plays at the guest's pace. Each frame is
// shown for the guest time until the next frame written; the last one for
// 1 s, since the trace does not say how long it stayed on screen.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "display/apng_writer.h"
#include "trace/trace_reader.h"

namespace rrvm::cli {

struct CanvasSize {
  uint32_t width = 0;
  uint32_t height = 0;
};

// The largest width and the largest height among the frames `selected` picks
// (by display-frame index) that have a picture: the canvas an animation of
// them needs. A pass over the trace that reads registers but renders nothing.
CanvasSize animation_canvas(const TraceReader& reader, const std::function<bool(uint64_t)>& selected);

class FrameAnimation {
 public:
  static constexpr uint64_t kLastFrameNs = 1'000'000'000;

  // Throws std::runtime_error (one line naming the file) when it cannot.
  FrameAnimation(const std::string& path, CanvasSize canvas);
  // Adds a `width` x `height` frame already encoded for the canvas
  // (apng_canvas_image_data). Frames are written one behind: a frame's delay
  // needs the next one's time.
  void add(uint32_t width, uint32_t height, std::span<const uint8_t> image_data, uint64_t guest_ns);
  // Writes the last frame and completes the file. Throws when no frame was
  // added or the file cannot be completed.
  void finish();

  uint32_t frames() const { return writer_.frames() + (has_pending_ ? 1 : 0); }
  const std::string& path() const { return writer_.path(); }

 private:
  ApngWriter writer_;
  uint32_t pending_width_ = 0, pending_height_ = 0;
  std::vector<uint8_t> pending_;
  uint64_t pending_ns_ = 0;
  bool has_pending_ = false;
};

}  // namespace rrvm::cli
