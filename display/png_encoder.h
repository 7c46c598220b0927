// RGB888 frames to PNG, fast enough to export a thousand 800x600 frames a
// second on two cores: every row but the first is filtered with Up (screens
// repeat rows, which then become runs of zeros) and deflated by ISA-L's igzip
// at level 1. On rrvm's frames that is 5-10x faster than libdeflate's fastest
// level or zlib's (libpng) and about the size of libpng's level 3 files; see
// README "Display".
//
// The bytes depend only on the frame, never on what the encoder encoded
// before, so frames encoded on different threads, or an identical frame's
// bytes reused, are what a fresh encoder writes.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "display/renderer.h"

struct isal_zstream;

namespace rrvm {

class PngEncoder {
 public:
  PngEncoder();
  ~PngEncoder();
  PngEncoder(const PngEncoder&) = delete;
  PngEncoder& operator=(const PngEncoder&) = delete;

  // The zlib stream of the frame's filtered rows, into `out` (replacing its
  // content): what IDAT (and animated PNG fdAT) chunks carry. Throws
  // std::runtime_error (one line) when the frame is empty or malformed.
  void image_data(const Frame& frame, std::vector<uint8_t>& out);
  // The whole PNG file of `frame` into `out`. Throws like image_data.
  void encode(const Frame& frame, std::vector<uint8_t>& out);

  // A PNG file around `image_data` (from image_data() of a width x height
  // frame): signature, IHDR, the data in IDAT chunks, IEND.
  static void png_file(uint32_t width, uint32_t height, std::span<const uint8_t> image_data,
                       std::vector<uint8_t>& out);

 private:
  std::unique_ptr<isal_zstream> stream_;  // ISA-L's state, reused: it is large
  std::vector<uint8_t> filtered_;         // filter byte + filtered row, per row
  std::vector<uint8_t> compressed_;       // sized for the worst case, never shrunk
  std::vector<uint8_t> image_;            // encode()'s image data
};

}  // namespace rrvm
