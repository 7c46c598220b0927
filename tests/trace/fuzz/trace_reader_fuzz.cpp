// libFuzzer target: any bytes given to the trace reader and the inspection
// functions end in a TraceError or a result, never a crash, hang, leak or
// out-of-bounds access. Each input runs twice: with checksums verified (the
// real path) and without (so mutated frames reach LZ4 and Cap'n Proto).
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <ostream>
#include <streambuf>
#include <string>

#include "system/console_rebuild.h"
#include "trace/trace_inspect.h"
#include "trace/trace_reader.h"

namespace {
class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c; }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static int fd = memfd_create("rrvm-trace-fuzz", 0);
  if (fd < 0 || ftruncate(fd, 0) != 0) return 0;
  if (size > 0 && pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) return 0;
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  NullBuffer null_buffer;
  std::ostream null_out(&null_buffer);
  for (bool verify : {true, false}) {
    rrvm::TraceReaderOptions options;
    options.verify_checksums = verify;
    options.max_keyframe_memory = 1 << 20;
    try {
      rrvm::TraceReader reader(path, options);
      rrvm::trace_info(reader, null_out);
      rrvm::rebuild_console(reader);
      for (const auto& k : reader.keyframes()) {
        try {
          reader.read_keyframe(k);
        } catch (const rrvm::TraceError&) {
        }
      }
      rrvm::DumpOptions dump;
      dump.json = true;
      dump.from = reader.event_count() / 2;
      rrvm::dump_events(reader, dump, null_out);
    } catch (const rrvm::TraceError&) {
    }
  }
  return 0;
}
