#include "vmm/kvm/kvm_fd.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>

#include "vmm/vcpu.h"

namespace rrvm::kvm {

Fd::~Fd() {
  if (fd_ >= 0) close(fd_);
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

int ioctl_retry(int fd, unsigned long request, void* arg) {
  int r;
  do {
    r = ioctl(fd, request, arg);
  } while (r < 0 && errno == EINTR);
  return r;
}

int ioctl_retry(int fd, unsigned long request, unsigned long arg) {
  int r;
  do {
    r = ioctl(fd, request, arg);
  } while (r < 0 && errno == EINTR);
  return r;
}

void fail(const std::string& what, int err) {
  throw VcpuError("kvm: " + what + " failed: " + std::strerror(err));
}

}  // namespace rrvm::kvm
