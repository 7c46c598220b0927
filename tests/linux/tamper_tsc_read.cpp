// tamper_tsc_read IN OUT K: copies trace IN to OUT with its K-th TSC read
// event (0-based) set one below the read before it (a value no clock can
// give: a replay must diverge at that event), and prints that event's
// ordinal. The Linux boot test (linux_boot.sh) uses it on a kernel's trace.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "trace/trace_reader.h"
#include "trace/trace_writer.h"

using namespace rrvm;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: tamper_tsc_read IN OUT K\n");
    return 2;
  }
  try {
    const uint64_t wanted = std::stoull(argv[3]);
    if (wanted == 0) throw std::invalid_argument("K must be at least 1 (the read before it is the reference)");
    TraceReader reader(argv[1]);
    TraceWriter writer(argv[2], reader.header());
    auto cursor = reader.events();
    uint64_t reads = 0, previous = 0;
    std::optional<uint64_t> tampered;
    while (const TraceEvent* e = cursor.next()) {
      TraceEvent copy = *e;
      if (auto* t = std::get_if<TscReadEvent>(&copy.body)) {
        if (reads++ == wanted) {
          t->value = previous - 1;
          tampered = cursor.ordinal();
        }
        previous = std::get<TscReadEvent>(e->body).value;
      }
      writer.append(copy);
    }
    if (!reader.end()) throw std::runtime_error("the trace has no end record");
    writer.close(*reader.end());
    if (!tampered) throw std::runtime_error("the trace has only " + std::to_string(reads) + " TSC reads");
    std::printf("%llu\n", (unsigned long long)*tampered);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tamper_tsc_read: %s\n", e.what());
    return 1;
  }
}
