// Prints the kvm backend's exit rate on a port-I/O loop and the cost of a
// kick (deadline timer and cross-thread kick()). A measurement, not a test:
// run it by hand where /dev/kvm works (e.g. inside the nested-KVM harness).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "kvm_test_support.h"
#include "vmm/clock.h"

using namespace rrvm;
using namespace rrvm::kvmtest;

namespace {

double seconds_since(uint64_t t0) { return double(HostClock::host_monotonic_ns() - t0) / 1e9; }

std::unique_ptr<Vcpu> boot(GuestMemory& mem, const char* guest) {
  auto image = guest_image(guest);
  mem.write(0x7C00, image.data(), image.size());
  auto cpu = create_kvm_vcpu(mem, default_cpuid_table());
  cpu->set_registers(real_mode_at(0x7C00));
  return cpu;
}

}  // namespace

int main(int argc, char** argv) {
  std::string why;
  if (!kvm_available(&why)) {
    std::fprintf(stderr, "kvm_measure: %s\n", why.c_str());
    return 1;
  }
  int exits = argc > 1 ? std::atoi(argv[1]) : 20000;
  int kicks = argc > 2 ? std::atoi(argv[2]) : 200;

  {
    GuestMemory mem;
    mem.add_slot(0, 1 << 20, "ram");
    auto cpu = boot(mem, "io_loop");
    cpu->run({});  // warm-up: first entry faults in the guest pages
    uint64_t t0 = HostClock::host_monotonic_ns();
    for (int i = 0; i < exits; ++i) {
      Exit e = cpu->run({});
      if (e.kind != ExitKind::PortIo) {
        std::fprintf(stderr, "unexpected exit %s\n", exit_kind_name(e.kind));
        return 1;
      }
    }
    double s = seconds_since(t0);
    std::printf("port-io loop: %d exits in %.3f s = %.0f exits/s (%.1f us/exit)\n", exits, s,
                exits / s, s * 1e6 / exits);
  }
  {
    GuestMemory mem;
    mem.add_slot(0, 1 << 20, "ram");
    auto cpu = boot(mem, "spin");
    // Deadline kicks: how late after the deadline run() returns.
    double late_sum = 0, late_max = 0;
    uint64_t t0 = HostClock::host_monotonic_ns();
    for (int i = 0; i < kicks; ++i) {
      RunLimits limits;
      limits.deadline_host_ns = HostClock::host_monotonic_ns() + 200'000;  // 200 us
      Exit e = cpu->run(limits);
      double late = double(HostClock::host_monotonic_ns() - *limits.deadline_host_ns) / 1e3;
      if (e.kind != ExitKind::Kicked) {
        std::fprintf(stderr, "unexpected exit %s\n", exit_kind_name(e.kind));
        return 1;
      }
      late_sum += late;
      late_max = std::max(late_max, late);
    }
    double s = seconds_since(t0);
    std::printf("deadline kick: %d kicks, return %.1f us after the deadline on average "
                "(max %.1f us); %.1f us per 200-us slice round trip\n",
                kicks, late_sum / kicks, late_max, s * 1e6 / kicks);
    // Cross-thread kick(): from the call to run() returning.
    std::atomic<uint64_t> kicked_at{0};
    double lat_sum = 0, lat_max = 0;
    for (int i = 0; i < kicks; ++i) {
      std::thread k([&] {
        std::this_thread::sleep_for(std::chrono::microseconds(300));
        kicked_at = HostClock::host_monotonic_ns();
        cpu->kick();
      });
      Exit e = cpu->run({});
      uint64_t back = HostClock::host_monotonic_ns();
      k.join();
      if (e.kind != ExitKind::Kicked) {
        std::fprintf(stderr, "unexpected exit %s\n", exit_kind_name(e.kind));
        return 1;
      }
      double lat = double(back - kicked_at) / 1e3;
      lat_sum += lat;
      lat_max = std::max(lat_max, lat);
    }
    std::printf("thread kick(): run() returns %.1f us after kick() on average (max %.1f us)\n",
                lat_sum / kicks, lat_max);
  }
  return 0;
}
