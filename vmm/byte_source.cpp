#include "vmm/byte_source.h"

#include <poll.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace rrvm {

FileByteSource::FileByteSource(const std::string& path) {
  // A device (/dev/zero) or a directory would be read without end or fail
  // inside the stream library: refused before reading. /dev/null is the
  // empty input users give for "none".
  struct stat st {};
  const bool dev_null = ::stat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
  if (dev_null) return;
  if (::stat(path.c_str(), &st) == 0 && (S_ISDIR(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
    throw std::runtime_error("serial input file " + path + " is a " + (S_ISDIR(st.st_mode) ? "directory" : "device") +
                             ", not a file; give a file, or - for stdin");
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && uint64_t(st.st_size) > (1ull << 30))
    throw std::runtime_error("serial input file " + path + " is larger than 1 GiB; give a smaller file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("serial input file " + path + " cannot be opened: " +
                             std::strerror(errno) + "; check the path given for serial input");
  bytes_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::optional<uint8_t> FileByteSource::next_byte() {
  if (pos_ >= bytes_.size()) return std::nullopt;
  return bytes_[pos_++];
}

std::optional<uint8_t> StdinByteSource::next_byte() {
  if (eof_) return std::nullopt;
  pollfd p{STDIN_FILENO, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0) return std::nullopt;
  if (!(p.revents & (POLLIN | POLLHUP))) return std::nullopt;
  uint8_t b;
  ssize_t n = read(STDIN_FILENO, &b, 1);
  if (n == 1) return b;
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) eof_ = true;
  return std::nullopt;
}

bool StdinByteSource::wait_ready(uint64_t timeout_ns) {
  if (eof_) return false;
  pollfd p{STDIN_FILENO, POLLIN, 0};
  const int ms = static_cast<int>(std::min<uint64_t>((timeout_ns + 999'999) / 1'000'000, 1000));
  poll(&p, 1, ms);
  return true;
}

}  // namespace rrvm
