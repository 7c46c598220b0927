// SHA-256 through OpenSSL's libcrypto (a maintained implementation; we do
// not write our own hash).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace rrvm {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t len);
  Sha256Digest finish();

 private:
  void* ctx_;
};

Sha256Digest sha256(const void* data, size_t len);
std::string to_hex(const Sha256Digest& d);

}  // namespace rrvm
