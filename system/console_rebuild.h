// `rrvm serial`: what the guest printed on COM1 and the 0xE9 debug console,
// rebuilt from the trace alone by running those two device models over the
// recorded port I/O in order. The devices decide what a write means (THR or
// divisor latch, loopback into the receiver, a wide access at the edge of a
// claim), so the result is what they printed live, not a second decoding of
// the ports.
#pragma once
#include <optional>
#include <string>

#include "trace/trace_reader.h"

namespace rrvm {

struct ConsoleOutput {
  std::string serial;
  std::string debug_console;
  std::optional<std::string> error;  // a damaged frame cut the output short
};

ConsoleOutput rebuild_console(const TraceReader& reader);

}  // namespace rrvm
