// The frames `rrvm frames` and `rrvm replay --frames` export, encoded on
// worker threads while the command goes on rendering: each becomes a
// frame-NNNNNN.png file (FrameFiles) and, when an animation is asked for, a
// frame of it (FrameAnimation). Files and animation are written in frame
// order by one thread at a time, so what is written does not depend on the
// number of threads; a failed write is rethrown here, on the command's thread.
#pragma once
#include <cstdint>
#include <memory>

#include "cli/frame_animation.h"
#include "cli/frame_files.h"
#include "display/png_pipeline.h"
#include "replay/frame_rebuilder.h"

namespace rrvm::cli {

class FrameExport {
 public:
  // `files` and `animation` (none: nullptr) must outlive this object.
  // `canvas` is the animation's (ignored without one).
  FrameExport(FrameFiles& files, FrameAnimation* animation, CanvasSize canvas = {},
              unsigned workers = PngPipeline::default_workers());

  // Queues frame `index` (one --every selected), shown from `guest_ns` on.
  // A frame with no picture (0x0) is skipped. Throws the first error of an
  // earlier frame (std::runtime_error, one line naming the file).
  void add(uint64_t index, const Frame& frame, uint64_t guest_ns);
  // The same for the picture `rebuilder` shows, rendered straight into the
  // encoders' next frame (no copy).
  void add(uint64_t index, const FrameRebuilder& rebuilder, uint64_t guest_ns);
  // Waits until every frame is written; throws the first error.
  void finish() { pipeline_.finish(); }

  // Frames identical to the one before, whose PNG was reused.
  uint64_t reused() const { return pipeline_.reused(); }

 private:
  PngPipeline pipeline_;
};

}  // namespace rrvm::cli
