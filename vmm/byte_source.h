// Where a serial port's input comes from: a whole file (deterministic) or the
// host's stdin (non-blocking; what arrives is recorded, not reproduced).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rrvm {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // The next byte if one is available now.
  virtual std::optional<uint8_t> next_byte() = 0;
  // No byte will ever come again.
  virtual bool at_end() = 0;
  // Blocks up to `timeout_ns` of host time until a byte may be there: true
  // for a source fed in real time (stdin) once it waited, false for one
  // that never has more later than now (a file).
  virtual bool wait_ready(uint64_t /*timeout_ns*/) { return false; }
};

// All bytes of a file, read at construction. Throws std::runtime_error if the
// file cannot be read.
class FileByteSource final : public ByteSource {
 public:
  explicit FileByteSource(const std::string& path);
  explicit FileByteSource(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  std::optional<uint8_t> next_byte() override;
  bool at_end() override { return pos_ >= bytes_.size(); }
  size_t position() const { return pos_; }

 private:
  std::vector<uint8_t> bytes_;
  size_t pos_ = 0;
};

// Host stdin, polled without blocking.
class StdinByteSource final : public ByteSource {
 public:
  std::optional<uint8_t> next_byte() override;
  bool at_end() override { return eof_; }
  bool wait_ready(uint64_t timeout_ns) override;

 private:
  bool eof_ = false;
};

}  // namespace rrvm
