// RGB888 frames to one animated PNG (APNG: acTL, fcTL, fdAT chunks), written
// as frames arrive: only the frame being added is held in memory, and the
// frame count in acTL is filled in by finish(). PngEncoder compresses each
// frame (here, or on another thread: add_image_data); this file only frames
// its image data in APNG chunks.
//
// Every frame covers the whole canvas. A frame smaller than the canvas (the
// guest changed mode) is padded with black on the right and at the bottom, so
// each frame replaces the picture completely (dispose none, blend source) and
// every decoder shows the same pixels without compositing subtleties.
#pragma once
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "display/png_encoder.h"
#include "display/renderer.h"

namespace rrvm {

// How long a frame is shown: delay_num / delay_den seconds.
struct ApngDelay {
  uint16_t num = 0;
  uint16_t den = 1;
  bool operator==(const ApngDelay&) const = default;
};

// `ns` as the fraction with the finest denominator of 10000, 1000, 100, 10, 1
// whose rounded numerator fits 16 bits (100 us steps up to 6.5 s); delays over
// 65535 s become 65535 s.
ApngDelay apng_delay_from_ns(uint64_t ns);

// The image data an animation on a `canvas_width` x `canvas_height` canvas
// shows for `frame` (which must fit it): `frame`'s own when it is the canvas
// size, else that of `frame` padded with black into `scratch`. For encoding
// frames apart from the writer, then adding them with add_image_data.
void apng_canvas_image_data(PngEncoder& encoder, const Frame& frame, uint32_t canvas_width,
                            uint32_t canvas_height, Frame& scratch, std::vector<uint8_t>& out);

class ApngWriter {
 public:
  // Creates `path` and writes the header. `plays` 0 loops forever. Throws
  // std::runtime_error (one line naming the file) when it cannot.
  ApngWriter(std::string path, uint32_t canvas_width, uint32_t canvas_height, uint32_t plays = 0);
  // A file that was not finished is incomplete and is removed.
  ~ApngWriter();
  ApngWriter(const ApngWriter&) = delete;
  ApngWriter& operator=(const ApngWriter&) = delete;

  // Appends `frame`, shown for `delay`. Throws when the frame is empty,
  // malformed or larger than the canvas, or the write fails.
  void add_frame(const Frame& frame, ApngDelay delay);
  // Appends a frame of `frame_width` x `frame_height` already encoded:
  // `image_data` is what apng_canvas_image_data gives for it. Throws like
  // add_frame.
  void add_image_data(uint32_t frame_width, uint32_t frame_height, std::span<const uint8_t> image_data,
                      ApngDelay delay);
  // Ends the file and records the frame count. Throws when no frame was
  // added (an APNG holds at least one) or the file cannot be completed.
  void finish();

  uint32_t frames() const { return frames_; }
  const std::string& path() const { return path_; }

 private:
  void check_size(uint32_t frame_width, uint32_t frame_height) const;
  void write_bytes(const std::vector<uint8_t>& bytes);
  void write_actl();
  [[noreturn]] void fail(const std::string& what) const;

  std::string path_;
  FILE* file_ = nullptr;
  uint32_t width_, height_, plays_;
  uint32_t frames_ = 0;
  uint32_t sequence_ = 0;  // fcTL and fdAT share one sequence
  PngEncoder encoder_;
  Frame padded_;                // reused for frames smaller than the canvas
  std::vector<uint8_t> image_;  // add_frame's image data
  std::vector<uint8_t> chunks_;  // what one write puts in the file
};

}  // namespace rrvm
