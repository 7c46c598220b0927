// Time-travel latency on a recorded trace (a benchmark, never a test):
// the first pass to the end (checkpoints taken on the way), `monitor goto`
// to random points, and reverse-stepi at random points, each timed alone.
// Usage: timeline_bench TRACE [SAMPLES] [CHECKPOINT_INTERVAL] [emu|kvm]
// (kvm: counting by single steps; where /dev/kvm is hardware KVM, or inside
// tests/nested/run_nested.sh)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "system/replay_timeline.h"

using namespace rrvm;

namespace {
double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}
void report(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::printf("%-28s median %8.2f ms   p90 %8.2f ms   max %8.2f ms   (%zu samples)\n", what, v[v.size() / 2],
              v[v.size() * 9 / 10], v.back(), v.size());
}
}  // namespace

int run(int argc, char** argv);

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "timeline_bench: %s\n", e.what());
    return 1;
  }
}

int run(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: timeline_bench TRACE [SAMPLES] [CHECKPOINT_INTERVAL] [emu|kvm]\n");
    return 2;
  }
  const int samples = argc > 2 ? std::stoi(argv[2]) : 25;
  TimelineOptions o;
  if (argc > 3) o.checkpoint_interval = std::stoull(argv[3]);  // 0: the backend's default
  if (argc > 4) o.backend = std::string(argv[4]) == "kvm" ? BackendKind::Kvm : BackendKind::Emu;
  auto t0 = std::chrono::steady_clock::now();
  ReplayTimeline t(argv[1], o);
  std::printf("open: %.1f ms (backend %s, a checkpoint every %llu instructions)\n", ms_since(t0), t.backend(),
              (unsigned long long)t.checkpoint_interval());
  t0 = std::chrono::steady_clock::now();
  TimelineStop end = t.cont();
  const double first_pass = ms_since(t0);
  if (end.kind != TimelineStopKind::End || !t.divergence().empty()) {
    std::fprintf(stderr, "the replay did not reach the end cleanly: %s\n", t.divergence().c_str());
    return 1;
  }
  const uint64_t total = t.position().icount;
  std::printf("first pass to the end: %.1f ms for %llu instructions (%.1f M/s), %zu checkpoints, %.1f MiB\n",
              first_pass, (unsigned long long)total, double(total) / first_pass / 1e3, t.checkpoints().size(),
              double(t.checkpoint_bytes()) / (1 << 20));
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<uint64_t> point(1, total - 1);
  std::vector<double> gotos, reverse_steps;
  for (int i = 0; i < samples; ++i) {
    const uint64_t target = point(rng);
    t0 = std::chrono::steady_clock::now();
    t.seek({target, false});
    gotos.push_back(ms_since(t0));
  }
  for (int i = 0; i < samples; ++i) {
    t.seek({point(rng), false});
    t0 = std::chrono::steady_clock::now();
    t.reverse_step();
    reverse_steps.push_back(ms_since(t0));
  }
  report("goto icount (random)", gotos);
  report("reverse-stepi (random point)", reverse_steps);
  std::printf("checkpoints after: %zu, %.1f MiB\n", t.checkpoints().size(), double(t.checkpoint_bytes()) / (1 << 20));
  return 0;
}
