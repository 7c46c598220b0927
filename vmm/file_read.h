// Reading a whole input file the guest will see (an image, a BIOS, a disk):
// its kind and size are checked before a byte is read, so /dev/zero, a pipe
// or a directory gets one clear line instead of an endless read or an error
// from inside the stream library.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace rrvm {

// One-line message naming the file and what is wrong.
class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads the regular file `path` whole. `what` names it in errors ("guest
// image", "BIOS image"): ImageError "WHAT 'PATH': why" when it cannot be
// opened, is not a regular file, is empty, is larger than `max_bytes`, or
// changes size while it is read.
std::vector<uint8_t> read_regular_file(const std::string& path, const std::string& what, uint64_t max_bytes);

}  // namespace rrvm
