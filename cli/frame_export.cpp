#include "cli/frame_export.h"

namespace rrvm::cli {

FrameExport::FrameExport(FrameFiles& files, FrameAnimation* animation, CanvasSize canvas, unsigned workers)
    : pipeline_(
          workers,
          [&files, animation](const EncodedPng& e) {
            files.write(e.label.index, e.png);
            if (animation) animation->add(e.width, e.height, e.canvas_image_data, e.label.guest_ns);
          },
          animation ? canvas.width : 0, animation ? canvas.height : 0) {}

void FrameExport::add(uint64_t index, const Frame& frame, uint64_t guest_ns) {
  if (frame.width == 0 || frame.height == 0) return;
  pipeline_.submit(frame, FrameLabel{index, guest_ns});
}

void FrameExport::add(uint64_t index, const FrameRebuilder& rebuilder, uint64_t guest_ns) {
  ModeInfo mode = rebuilder.mode();  // the size render_into draws
  if (!rebuilder.has_registers() || mode.width == 0 || mode.height == 0) return;
  rebuilder.render_into(pipeline_.frame_to_fill());
  pipeline_.submit_filled(FrameLabel{index, guest_ns});
}

}  // namespace rrvm::cli
