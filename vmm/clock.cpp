#include "vmm/clock.h"

#include <ctime>

namespace rrvm {

uint64_t HostClock::host_monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

HostClock::HostClock() : start_(host_monotonic_ns()) {}

uint64_t HostClock::now_ns() { return host_monotonic_ns() - start_; }

}  // namespace rrvm
