#include "vmm/file_read.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rrvm {

std::vector<uint8_t> read_regular_file(const std::string& path, const std::string& what, uint64_t max_bytes) {
  auto fail = [&](const std::string& why) { throw ImageError(what + " '" + path + "': " + why); };
  // O_NONBLOCK: opening a FIFO must not wait for a writer before the type check.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail(std::string("cannot open (") + std::strerror(errno) + "); check the path");
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(std::string("cannot stat (") + std::strerror(errno) + ")");
  if (!S_ISREG(st.st_mode))
    fail(std::string("not a regular file (") + (S_ISDIR(st.st_mode) ? "a directory" : "a device, pipe or socket") +
         "); give an image file");
  const uint64_t size = uint64_t(st.st_size);
  if (size == 0) fail("file is empty");
  if (size > max_bytes)
    fail(std::to_string(size) + " bytes is more than the " + std::to_string(max_bytes) + " rrvm accepts here");
  std::vector<uint8_t> bytes(size);
  uint64_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, bytes.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(std::string("read error (") + std::strerror(errno) + ")");
    if (n == 0) fail("file shrank while it was read");
    done += uint64_t(n);
  }
  // A file that grew while it was read is not the file whose size was checked.
  uint8_t extra;
  if (::read(fd, &extra, 1) > 0) fail("file grew while it was read");
  return bytes;
}

}  // namespace rrvm
