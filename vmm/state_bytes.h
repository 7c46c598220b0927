// Little-endian byte writer and bounds-checked reader for versioned state
// blobs: device states in snapshots, the display registers in the trace. One
// format helper for every device and the display. The reader throws
// std::runtime_error with one line (what, why, at which byte) instead of
// reading past the end.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace rrvm {

class ByteWriter {
 public:
  // A 4-character tag and a version first: what ByteReader::header checks.
  void header(const char (&tag)[5], uint16_t version) {
    out_.insert(out_.end(), tag, tag + 4);
    u16(version);
  }
  void u8(uint8_t v) { out_.push_back(v); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void u16(uint16_t v) { le(v, 2); }
  void u32(uint32_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void bytes(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  std::vector<uint8_t> take() { return std::move(out_); }

 private:
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> out_;
};

class ByteReader {
 public:
  // `what` names the blob in errors ("pic state").
  ByteReader(std::span<const uint8_t> in, std::string what) : in_(in), what_(std::move(what)) {}
  // Checks the tag and version ByteWriter::header wrote.
  void header(const char (&tag)[5], uint16_t version) {
    if (remaining() < 6 || std::memcmp(in_.data() + pos_, tag, 4) != 0)
      fail(std::string("not a ") + tag + " state (wrong tag)");
    pos_ += 4;
    if (uint16_t v = u16(); v != version)
      fail("version " + std::to_string(v) + " is not the supported version " + std::to_string(version));
  }
  uint8_t u8() { return static_cast<uint8_t>(le(1)); }
  bool boolean() { return u8() != 0; }
  uint16_t u16() { return static_cast<uint16_t>(le(2)); }
  uint32_t u32() { return static_cast<uint32_t>(le(4)); }
  uint64_t u64() { return le(8); }
  void bytes(std::span<uint8_t> dst) {
    need(dst.size());
    if (dst.empty()) return;  // an empty span may have no storage (memcpy from/to null is undefined)
    std::memcpy(dst.data(), in_.data() + pos_, dst.size());
    pos_ += dst.size();
  }
  size_t remaining() const { return in_.size() - pos_; }
  // After the last field: trailing bytes mean a mismatched layout.
  void finish() {
    if (remaining() != 0) fail(std::to_string(remaining()) + " unexpected trailing bytes");
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error(what_ + ": " + why + " at byte " + std::to_string(pos_) +
                             "; the data is corrupt or from another rrvm version");
  }

 private:
  void need(size_t n) {
    if (n > remaining())
      fail("truncated (needs " + std::to_string(n) + " more bytes, has " + std::to_string(remaining()) + ")");
  }
  uint64_t le(int n) {
    need(static_cast<size_t>(n));
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(in_[pos_ + i]) << (8 * i);
    pos_ += static_cast<size_t>(n);
    return v;
  }
  std::span<const uint8_t> in_;
  std::string what_;
  size_t pos_ = 0;
};

}  // namespace rrvm
