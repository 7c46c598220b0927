#include "display/apng_writer.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "display/png_writer.h"

namespace rrvm {

namespace {

constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
// acTL follows the signature and the 25-byte IHDR chunk; finish() rewrites it.
constexpr long kActlOffset = 8 + 12 + 13;
constexpr uint8_t kDisposeNone = 0, kBlendSource = 0;

void put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(v >> shift));
}
void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}
uint32_t get32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

}  // namespace

ApngDelay apng_delay_from_ns(uint64_t ns) {
  for (uint16_t den : {10000, 1000, 100, 10, 1}) {
    uint64_t unit = 1000000000ull / den;
    uint64_t num = (ns + unit / 2) / unit;
    if (num <= 0xFFFF) return {uint16_t(num), den};
  }
  return {0xFFFF, 1};
}

ApngWriter::ApngWriter(std::string path, uint32_t canvas_width, uint32_t canvas_height, uint32_t plays)
    : path_(std::move(path)), width_(canvas_width), height_(canvas_height), plays_(plays) {
  // PNG limits dimensions to 31 bits; the renderer never exceeds 4096.
  if (width_ == 0 || height_ == 0 || width_ > 0x7FFFFFFF || height_ > 0x7FFFFFFF)
    throw std::runtime_error("cannot write animated PNG '" + path_ + "': bad canvas size " + std::to_string(width_) +
                             "x" + std::to_string(height_));
  file_ = std::fopen(path_.c_str(), "wb");
  if (!file_) throw std::runtime_error("cannot open '" + path_ + "' for writing: " + std::strerror(errno));
  write_bytes(kSignature, sizeof kSignature);
  std::vector<uint8_t> ihdr;
  put32(ihdr, width_);
  put32(ihdr, height_);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit RGB, deflate, adaptive filters, no interlace
  write_chunk("IHDR", nullptr, 0, ihdr.data(), ihdr.size());
  write_actl();  // frame count 0 until finish()
}

ApngWriter::~ApngWriter() {
  if (file_) {
    std::fclose(file_);
    std::remove(path_.c_str());
  }
}

void ApngWriter::fail(const std::string& what) const {
  throw std::runtime_error("cannot write animated PNG '" + path_ + "': " + what);
}

void ApngWriter::write_bytes(const void* data, size_t size) {
  if (std::fwrite(data, 1, size, file_) != size) fail(std::strerror(errno));
}

void ApngWriter::write_chunk(const char type[4], const uint8_t* prefix, size_t prefix_size, const uint8_t* data,
                             size_t size) {
  std::vector<uint8_t> head;
  put32(head, uint32_t(prefix_size + size));
  head.insert(head.end(), type, type + 4);
  head.insert(head.end(), prefix, prefix + prefix_size);
  uLong crc = crc32(0L, head.data() + 4, uInt(head.size() - 4));
  if (size) crc = crc32(crc, data, uInt(size));  // crc32(crc, NULL, 0) would reset to 0
  write_bytes(head.data(), head.size());
  if (size) write_bytes(data, size);
  std::vector<uint8_t> tail;
  put32(tail, uint32_t(crc));
  write_bytes(tail.data(), tail.size());
}

void ApngWriter::write_actl() {
  std::vector<uint8_t> actl;
  put32(actl, frames_);
  put32(actl, plays_);
  write_chunk("acTL", nullptr, 0, actl.data(), actl.size());
}

void ApngWriter::add_frame(const Frame& frame, ApngDelay delay) {
  if (!file_) fail("the file is already finished");
  if (frame.width == 0 || frame.height == 0 || frame.rgb.size() != size_t(frame.width) * frame.height * 3)
    fail("frame " + std::to_string(frames_) + " is empty or malformed (" + std::to_string(frame.width) + "x" +
         std::to_string(frame.height) + ")");
  if (frame.width > width_ || frame.height > height_)
    fail("frame " + std::to_string(frames_) + " (" + std::to_string(frame.width) + "x" +
         std::to_string(frame.height) + ") is larger than the " + std::to_string(width_) + "x" +
         std::to_string(height_) + " canvas");
  const Frame* whole = &frame;
  if (frame.width != width_ || frame.height != height_) {
    padded_.width = width_;
    padded_.height = height_;
    padded_.rgb.assign(size_t(width_) * height_ * 3, 0);
    for (uint32_t y = 0; y < frame.height; ++y)
      std::memcpy(padded_.rgb.data() + size_t(y) * width_ * 3, frame.rgb.data() + size_t(y) * frame.width * 3,
                  size_t(frame.width) * 3);
    whole = &padded_;
  }
  encode_png(*whole, png_);

  std::vector<uint8_t> fctl;
  put32(fctl, sequence_++);
  put32(fctl, width_);
  put32(fctl, height_);
  put32(fctl, 0);  // x offset
  put32(fctl, 0);  // y offset
  put16(fctl, delay.num);
  put16(fctl, delay.den);
  fctl.push_back(kDisposeNone);
  fctl.push_back(kBlendSource);
  write_chunk("fcTL", nullptr, 0, fctl.data(), fctl.size());

  // The first frame is the default image (IDAT); later ones carry the same
  // data as fdAT, each chunk prefixed with its sequence number.
  size_t pos = sizeof kSignature;
  bool image_data = false;
  while (pos + 12 <= png_.size()) {
    uint32_t length = get32(&png_[pos]);
    if (length > png_.size() - pos - 12) fail("libpng produced a malformed chunk");
    const uint8_t* type = &png_[pos + 4];
    const uint8_t* body = &png_[pos + 8];
    if (std::memcmp(type, "IDAT", 4) == 0) {
      image_data = true;
      if (frames_ == 0) {
        write_chunk("IDAT", nullptr, 0, body, length);
      } else {
        std::vector<uint8_t> seq;
        put32(seq, sequence_++);
        write_chunk("fdAT", seq.data(), seq.size(), body, length);
      }
    }
    pos += 12 + size_t(length);
  }
  if (!image_data) fail("libpng produced no image data");
  ++frames_;
}

void ApngWriter::finish() {
  if (!file_) fail("the file is already finished");
  if (frames_ == 0) fail("no frames to animate");
  write_chunk("IEND", nullptr, 0, nullptr, 0);
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
