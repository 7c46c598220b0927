// Small helpers shared by the kvm backend's files: an owning file descriptor
// and ioctl wrappers that turn failures into one-line errors.
#pragma once
#include <cerrno>
#include <string>

namespace rrvm::kvm {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// ioctl that retries on EINTR (for every request except KVM_RUN, where EINTR
// is the kick and must be seen).
int ioctl_retry(int fd, unsigned long request, void* arg);
int ioctl_retry(int fd, unsigned long request, unsigned long arg);

// Throws VcpuError("kvm: <what> failed: <strerror(err)>").
[[noreturn]] void fail(const std::string& what, int err = errno);

}  // namespace rrvm::kvm
