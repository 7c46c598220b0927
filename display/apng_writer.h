// RGB888 frames to one animated PNG (APNG: acTL, fcTL, fdAT chunks), written
// as frames arrive: only the frame being added is held in memory, and the
// frame count in acTL is filled in by finish(). libpng compresses each frame;
// this file only frames its image data in APNG chunks.
//
// Every frame covers the whole canvas. A frame smaller than the canvas (the
// guest changed mode) is padded with black on the right and at the bottom, so
// each frame replaces the picture completely (dispose none, blend source) and
// every decoder shows the same pixels without compositing subtleties.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

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
  // Ends the file and records the frame count. Throws when no frame was
  // added (an APNG holds at least one) or the file cannot be completed.
  void finish();

  uint32_t frames() const { return frames_; }
  const std::string& path() const { return path_; }

 private:
  void write_chunk(const char type[4], const uint8_t* prefix, size_t prefix_size, const uint8_t* data,
                   size_t size);
  void write_bytes(const void* data, size_t size);
  void write_actl();
  [[noreturn]] void fail(const std::string& what) const;

  std::string path_;
  FILE* file_ = nullptr;
  uint32_t width_, height_, plays_;
  uint32_t frames_ = 0;
  uint32_t sequence_ = 0;  // fcTL and fdAT share one sequence
  Frame padded_;           // reused for frames smaller than the canvas
  std::vector<uint8_t> png_;  // the current frame as libpng wrote it
};

}  // namespace rrvm
