#include "cli/frame_animation.h"

#include <algorithm>

#include "replay/frame_rebuilder.h"

namespace rrvm::cli {

CanvasSize animation_canvas(const TraceReader& reader, const std::function<bool(uint64_t)>& selected) {
  // The same rebuilder as the rendering pass, so a damaged trace fails here
  // with the same message; only the registers are read (the mode), not the
  // pages' bytes, which are most of the work of reading a trace.
  FrameRebuilder rebuilder;
  CanvasSize canvas;
  uint64_t index = 0;
  auto cursor = reader.events(0, false);
  while (const TraceEvent* e = cursor.next()) {
    auto* f = std::get_if<DisplayFrameEvent>(&e->body);
    if (!f) continue;
    rebuilder.apply_registers(*f);
    ModeInfo m = rebuilder.mode();
    if (selected(index++) && m.width && m.height) {
      canvas.width = std::max(canvas.width, m.width);
      canvas.height = std::max(canvas.height, m.height);
    }
  }
  return canvas;
}

FrameAnimation::FrameAnimation(const std::string& path, CanvasSize canvas)
    : writer_(path, canvas.width, canvas.height) {}

void FrameAnimation::add(uint32_t width, uint32_t height, std::span<const uint8_t> image_data, uint64_t guest_ns) {
  if (has_pending_)  // guest time never goes back in a sound trace; a damaged one shows 0
    writer_.add_image_data(pending_width_, pending_height_, pending_,
                           apng_delay_from_ns(guest_ns > pending_ns_ ? guest_ns - pending_ns_ : 0));
  pending_width_ = width;
  pending_height_ = height;
  pending_.assign(image_data.begin(), image_data.end());
  pending_ns_ = guest_ns;
  has_pending_ = true;
}

void FrameAnimation::finish() {
  if (has_pending_) writer_.add_image_data(pending_width_, pending_height_, pending_, apng_delay_from_ns(kLastFrameNs));
  has_pending_ = false;
  writer_.finish();
}

}  // namespace rrvm::cli
