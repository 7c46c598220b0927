#include "display/apng_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "display/png_chunks.h"
#include "vmm/exit_status.h"

namespace rrvm {

namespace {

// acTL follows the signature and the 25-byte IHDR chunk; finish() rewrites it.
constexpr long kActlOffset = 8 + 12 + 13;
constexpr uint8_t kDisposeNone = 0, kBlendSource = 0;

}  // namespace

ApngDelay apng_delay_from_ns(uint64_t ns) {
  for (uint16_t den : {10000, 1000, 100, 10, 1}) {
    uint64_t unit = 1000000000ull / den;
    uint64_t num = (ns + unit / 2) / unit;
    if (num <= 0xFFFF) return {uint16_t(num), den};
  }
  return {0xFFFF, 1};
}

void apng_canvas_image_data(PngEncoder& encoder, const Frame& frame, uint32_t canvas_width,
                            uint32_t canvas_height, Frame& scratch, std::vector<uint8_t>& out) {
  const Frame* whole = &frame;
  if (frame.width != canvas_width || frame.height != canvas_height) {
    scratch.width = canvas_width;
    scratch.height = canvas_height;
    scratch.rgb.assign(size_t(canvas_width) * canvas_height * 3, 0);
    for (uint32_t y = 0; y < std::min(frame.height, canvas_height); ++y)
      std::memcpy(scratch.rgb.data() + size_t(y) * canvas_width * 3, frame.rgb.data() + size_t(y) * frame.width * 3,
                  size_t(std::min(frame.width, canvas_width)) * 3);
    whole = &scratch;
  }
  encoder.image_data(*whole, out);
}

ApngWriter::ApngWriter(std::string path, uint32_t canvas_width, uint32_t canvas_height, uint32_t plays)
    : path_(std::move(path)), width_(canvas_width), height_(canvas_height), plays_(plays) {
  // PNG limits dimensions to 31 bits; the renderer never exceeds 4096.
  if (width_ == 0 || height_ == 0 || width_ > 0x7FFFFFFF || height_ > 0x7FFFFFFF)
    throw std::runtime_error("cannot write animated PNG '" + path_ + "': bad canvas size " + std::to_string(width_) +
                             "x" + std::to_string(height_));
  file_ = std::fopen(path_.c_str(), "wb");
  if (!file_) throw OutputError("cannot open '" + path_ + "' for writing: " + std::strerror(errno));
  chunks_.assign(kPngSignature, kPngSignature + sizeof kPngSignature);
  append_png_chunk(chunks_, "IHDR", {}, png_rgb_header(width_, height_));
  write_bytes(chunks_);
  write_actl();  // frame count 0 until finish()
}

ApngWriter::~ApngWriter() {
  if (file_) {
    std::fclose(file_);
    std::remove(path_.c_str());
  }
}

void ApngWriter::fail(const std::string& what) const {
  throw OutputError("cannot write animated PNG '" + path_ + "': " + what);
}

void ApngWriter::write_bytes(const std::vector<uint8_t>& bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) fail(std::strerror(errno));
}

void ApngWriter::write_actl() {
  std::vector<uint8_t> actl, chunk;
  put_be32(actl, frames_);
  put_be32(actl, plays_);
  append_png_chunk(chunk, "acTL", {}, actl);
  write_bytes(chunk);
}

void ApngWriter::check_size(uint32_t frame_width, uint32_t frame_height) const {
  if (!file_) fail("the file is already finished");
  if (frame_width == 0 || frame_height == 0)
    fail("frame " + std::to_string(frames_) + " is empty or malformed (" + std::to_string(frame_width) + "x" +
         std::to_string(frame_height) + ")");
  if (frame_width > width_ || frame_height > height_)
    fail("frame " + std::to_string(frames_) + " (" + std::to_string(frame_width) + "x" +
         std::to_string(frame_height) + ") is larger than the " + std::to_string(width_) + "x" +
         std::to_string(height_) + " canvas");
}

void ApngWriter::add_frame(const Frame& frame, ApngDelay delay) {
  check_size(frame.width, frame.height);
  if (frame.rgb.size() != size_t(frame.width) * frame.height * 3)
    fail("frame " + std::to_string(frames_) + " is empty or malformed (" + std::to_string(frame.width) + "x" +
         std::to_string(frame.height) + ")");
  apng_canvas_image_data(encoder_, frame, width_, height_, padded_, image_);
  add_image_data(frame.width, frame.height, image_, delay);
}

void ApngWriter::add_image_data(uint32_t frame_width, uint32_t frame_height, std::span<const uint8_t> image_data,
                                ApngDelay delay) {
  check_size(frame_width, frame_height);
  if (image_data.empty()) fail("frame " + std::to_string(frames_) + " has no image data");
  chunks_.clear();
  std::vector<uint8_t> fctl;
  put_be32(fctl, sequence_++);
  put_be32(fctl, width_);
  put_be32(fctl, height_);
  put_be32(fctl, 0);  // x offset
  put_be32(fctl, 0);  // y offset
  put_be16(fctl, delay.num);
  put_be16(fctl, delay.den);
  fctl.push_back(kDisposeNone);
  fctl.push_back(kBlendSource);
  append_png_chunk(chunks_, "fcTL", {}, fctl);

  // The first frame is the default image (IDAT); later ones carry the same
  // data as fdAT, each chunk prefixed with its sequence number.
  for (size_t pos = 0; pos < image_data.size(); pos += kPngImageChunkBytes) {
    auto piece = image_data.subspan(pos, std::min(kPngImageChunkBytes, image_data.size() - pos));
    if (frames_ == 0) {
      append_png_chunk(chunks_, "IDAT", {}, piece);
    } else {
      std::vector<uint8_t> seq;
      put_be32(seq, sequence_++);
      append_png_chunk(chunks_, "fdAT", seq, piece);
    }
  }
  write_bytes(chunks_);
  ++frames_;
}

void ApngWriter::finish() {
  if (!file_) fail("the file is already finished");
  if (frames_ == 0) fail("no frames to animate");
  chunks_.clear();
  append_png_chunk(chunks_, "IEND", {}, {});
  write_bytes(chunks_);
  if (std::fseek(file_, kActlOffset, SEEK_SET) != 0) fail(std::string("cannot seek back: ") + std::strerror(errno));
  write_actl();
  FILE* f = file_;
  file_ = nullptr;
  bool flushed = std::fflush(f) == 0 && !std::ferror(f);
  int flush_errno = errno;
  if (std::fclose(f) != 0 || !flushed) {
    std::remove(path_.c_str());
    fail(std::strerror(flushed ? errno : flush_errno));
  }
}

}  // namespace rrvm
