// Device state for keyframes: every device can write its state to bytes and
// read it back. The bytes start with a per-device tag and a version so a
// keyframe taken by another build is rejected with a clear message instead of
// being misread.
#pragma once
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace rrvm {

class DeviceState {
 public:
  virtual ~DeviceState() = default;
  virtual std::vector<uint8_t> save_state() const = 0;
  // Throws std::runtime_error (one line) on a bad tag, version or size.
  virtual void load_state(std::span<const uint8_t> bytes) = 0;
};

// Little-endian writer for save_state().
class StateWriter {
 public:
  StateWriter(const char* tag, uint16_t version) {
    for (int i = 0; i < 4; ++i) u8(uint8_t(tag[i]));
    u16(version);
  }
  void u8(uint8_t v) { out_.push_back(v); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void bytes(const uint8_t* p, size_t n) { out_.insert(out_.end(), p, p + n); }
  std::vector<uint8_t> take() { return std::move(out_); }

 private:
  void put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(uint8_t(v >> (8 * i)));
  }
  std::vector<uint8_t> out_;
};

// Bounds-checked reader for load_state(); checks tag and version up front.
class StateReader {
 public:
  StateReader(std::span<const uint8_t> in, const char* tag, uint16_t version) : in_(in) {
    name_ = std::string(tag, 4);
    if (in_.size() < 6 || std::memcmp(in_.data(), tag, 4) != 0)
      fail("saved state is not a " + name_ + " state (wrong tag)");
    pos_ = 4;
    uint16_t v = u16();
    if (v != version)
      fail("saved state version " + std::to_string(v) + " is not the supported version " +
           std::to_string(version) + "; take the keyframe again with this build");
  }
  uint8_t u8() { need(1); return in_[pos_++]; }
  bool boolean() { return u8() != 0; }
  uint16_t u16() { return uint16_t(get(2)); }
  uint32_t u32() { return uint32_t(get(4)); }
  uint64_t u64() { return get(8); }
  void bytes(uint8_t* p, size_t n) {
    need(n);
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  // Call after the last field: trailing bytes mean a mismatched layout.
  void finish() {
    if (pos_ != in_.size())
      fail("saved state has " + std::to_string(in_.size() - pos_) + " unexpected trailing bytes");
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(name_ + " load_state: " + what);
  }

 private:
  void need(size_t n) {
    if (in_.size() - pos_ < n)
      fail("saved state is truncated (" + std::to_string(in_.size()) + " bytes)");
  }
  uint64_t get(int n) {
    need(size_t(n));
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t(in_[pos_++]) << (8 * i);
    return v;
  }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  std::string name_;
};

}  // namespace rrvm
