// Benchmark (not a test): trace bytes per exit for synthetic exit streams
// shaped like two guests rrvm runs, and writer throughput.
//  - port-io loop: a guest that polls the UART's LSR and prints a message
//    forever, bumping a POST code at port 0x80 each line;
//  - timer guest: PIT at 1 kHz; each tick: hlt, (clock sample), interrupt,
//    EOI to the PIC, a read of the PIT counter with host-time jitter (the
//    kvm case: the least compressible value), sometimes an irq window.
// Usage: trace_size_bench [EXITS]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "trace/trace_writer.h"

using namespace rrvm;

namespace {

TraceHeader bench_header() {
  TraceHeader h;
  h.rrvm_version = "bench";
  h.backend = "emu";
  h.memory_map = {{"ram", 0, 16 << 20, false, true}};
  h.cpuid = default_cpuid_table();
  return h;
}

void exit_event(TraceWriter& w, bool write, uint16_t port, uint64_t data, uint64_t* exits) {
  w.append(TraceEvent{ExitEvent{TraceExitKind::PortIo, write, 1, port, data}});
  ++*exits;
}

template <typename Fn>
void run(const char* name, uint64_t target_exits, Fn&& body) {
  std::string path = (std::filesystem::temp_directory_path() / "rrvm_trace_bench.rrt").string();
  uint64_t exits = 0, events = 0;
  auto start = std::chrono::steady_clock::now();
  {
    TraceWriter w(path, bench_header());
    while (exits < target_exits) body(w, &exits);
    events = w.events_written();
    w.close(TraceEnd{});
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto size = std::filesystem::file_size(path);
  std::printf("%-14s %10llu exits %10llu events %10llu bytes  %.3f bytes/exit  %.1f M events/s\n", name,
              (unsigned long long)exits, (unsigned long long)events, (unsigned long long)size,
              static_cast<double>(size) / static_cast<double>(exits), static_cast<double>(events) / seconds / 1e6);
  std::filesystem::remove(path);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t target = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 2'000'000;
  const std::string message = "The quick brown fox jumps over the lazy dog 0123456789\n";

  uint64_t line = 0;
  run("port-io loop", target, [&](TraceWriter& w, uint64_t* exits) {
    exit_event(w, true, 0x80, line++ & 0xFF, exits);
    for (char c : message) {
      exit_event(w, false, 0x3FD, 0x60, exits);
      exit_event(w, true, 0x3F8, static_cast<uint8_t>(c), exits);
    }
  });

  std::mt19937_64 rng(1);
  uint64_t tick = 0, icount = 0;
  run("timer guest", target, [&](TraceWriter& w, uint64_t* exits) {
    ++tick;
    w.append(TraceEvent{ExitEvent{TraceExitKind::Halt, false, 0, 0, 0}});
    ++*exits;
    w.append(TraceEvent{ClockSampleEvent{tick * 1'000'000 + rng() % 2000}});
    icount += 40 + rng() % 3;
    w.append(TraceEvent{InterruptEvent{0x08, *exits, icount, std::nullopt}});
    exit_event(w, true, 0x20, 0x20, exits);
    exit_event(w, false, 0x40, 1193 - 40 - rng() % 8, exits);
    if (tick % 16 == 0) {
      w.append(TraceEvent{ExitEvent{TraceExitKind::IrqWindow, false, 0, 0, 0}});
      ++*exits;
    }
  });

  tick = 0;
  run("timer (emu)", target, [&](TraceWriter& w, uint64_t* exits) {
    // Instruction clock: the same program gives the same numbers each tick.
    ++tick;
    w.append(TraceEvent{ExitEvent{TraceExitKind::Halt, false, 0, 0, 0}});
    ++*exits;
    w.append(TraceEvent{ClockSampleEvent{tick * 1'000'000}});
    w.append(TraceEvent{InterruptEvent{0x08, *exits, tick * 1193, std::nullopt}});
    exit_event(w, true, 0x20, 0x20, exits);
    exit_event(w, false, 0x40, 1150, exits);
  });
  return 0;
}
