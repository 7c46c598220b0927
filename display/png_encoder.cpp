#include "display/png_encoder.h"

#include <isa-l/igzip_lib.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "display/png_chunks.h"

namespace rrvm {

namespace {

constexpr uint8_t kFilterNone = 0, kFilterUp = 2;

// Up filter: each byte minus the byte above it. Written as fixed 16-byte
// blocks so that -O2 (whose cost model skips loops of unknown length)
// vectorizes it; the filter would otherwise cost as much as the deflate.
void filter_up(uint8_t* __restrict out, const uint8_t* __restrict row, const uint8_t* __restrict above,
               size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (size_t k = 0; k < 16; ++k) out[i + k] = uint8_t(row[i + k] - above[i + k]);
  for (; i < n; ++i) out[i] = uint8_t(row[i] - above[i]);
}

}  // namespace

PngEncoder::PngEncoder() : stream_(std::make_unique<isal_zstream>()) {}
PngEncoder::~PngEncoder() = default;

void PngEncoder::image_data(const Frame& frame, std::vector<uint8_t>& out) {
  const size_t stride = size_t(frame.width) * 3;
  if (frame.width == 0 || frame.height == 0 || frame.rgb.size() != stride * frame.height)
    throw std::runtime_error("PNG encoder: frame is empty or malformed (" + std::to_string(frame.width) +
                             "x" + std::to_string(frame.height) + ")");
  const size_t filtered_size = (stride + 1) * frame.height;
  if (filtered_size > 0x7FFFFFFF)  // ISA-L counts bytes in 32 bits
    throw std::runtime_error("PNG encoder: frame is too large (" + std::to_string(frame.width) + "x" +
                             std::to_string(frame.height) + ")");
  filtered_.resize(filtered_size);  // same size as last time: no work
  for (uint32_t y = 0; y < frame.height; ++y) {
    uint8_t* line = filtered_.data() + y * (stride + 1);
    const uint8_t* row = frame.rgb.data() + y * stride;
    if (y == 0) {
      line[0] = kFilterNone;
      std::memcpy(line + 1, row, stride);
    } else {
      line[0] = kFilterUp;
      filter_up(line + 1, row, row - stride, stride);
    }
  }
  // Stateless deflate falls back to stored blocks: at most the input, a
  // 5-byte header per 64 KiB block, the zlib header and trailer.
  const size_t bound = filtered_size + (filtered_size / 0xFFFF + 2) * 5 + ISAL_DEF_MAX_HDR_SIZE + 64;
  if (compressed_.size() < bound) compressed_.resize(bound);
  isal_zstream& z = *stream_;
  isal_deflate_stateless_init(&z);
  z.level = 1;
  z.gzip_flag = IGZIP_ZLIB;
  z.end_of_stream = 1;
  z.flush = NO_FLUSH;
  z.next_in = filtered_.data();
  z.avail_in = uint32_t(filtered_size);
  z.next_out = compressed_.data();
  z.avail_out = uint32_t(compressed_.size());
  int rc = isal_deflate_stateless(&z);
  if (rc != COMP_OK || z.avail_in != 0)
    throw std::runtime_error("PNG encoder: ISA-L deflate failed (status " + std::to_string(rc) + ")");
  out.assign(compressed_.data(), compressed_.data() + z.total_out);
}

void PngEncoder::encode(const Frame& frame, std::vector<uint8_t>& out) {
  image_data(frame, image_);
  png_file(frame.width, frame.height, image_, out);
}

void PngEncoder::png_file(uint32_t width, uint32_t height, std::span<const uint8_t> image_data,
                          std::vector<uint8_t>& out) {
  out.clear();
  out.reserve(sizeof kPngSignature + 25 + image_data.size() + (image_data.size() / kPngImageChunkBytes + 1) * 12 +
              12);
  out.insert(out.end(), kPngSignature, kPngSignature + sizeof kPngSignature);
  append_png_chunk(out, "IHDR", {}, png_rgb_header(width, height));
  for (size_t pos = 0; pos < image_data.size(); pos += kPngImageChunkBytes)
    append_png_chunk(out, "IDAT", {}, image_data.subspan(pos, std::min(kPngImageChunkBytes, image_data.size() - pos)));
  append_png_chunk(out, "IEND", {}, {});
}

}  // namespace rrvm
