// Not a test: instructions/s on a compute loop and exits/s on a port loop.
#include <chrono>
#include <cstdio>

#include "tests/emu/emu_harness.h"

using namespace rrvm;
using namespace rrvm::emutest;

static double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int main() {
  {
    Harness h("compute", Mode::Flat32);
    Registers r = h.cpu->get_registers();
    r.rcx = 5'000'000;
    h.cpu->set_registers(r);
    auto t0 = std::chrono::steady_clock::now();
    Exit e = h.run();
    double s = seconds_since(t0);
    std::printf("compute loop: %s, %llu instructions in %.3f s = %.1f M instr/s\n", exit_kind_name(e.kind),
                static_cast<unsigned long long>(*h.cpu->instruction_count()), s, *h.cpu->instruction_count() / s / 1e6);
  }
  {
    Harness h("portloop", Mode::Flat32);
    Registers r = h.cpu->get_registers();
    r.rcx = 1'000'000;
    h.cpu->set_registers(r);
    uint64_t exits = 0;
    auto t0 = std::chrono::steady_clock::now();
    while (h.run().kind == ExitKind::PortIo) ++exits;
    double s = seconds_since(t0);
    std::printf("port loop: %llu exits in %.3f s = %.2f M exits/s\n", static_cast<unsigned long long>(exits), s,
                exits / s / 1e6);
  }
  return 0;
}
