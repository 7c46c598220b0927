// What `rrvm trace ...` shows: a summary, the events one per line (text or
// JSON lines), and the guest's console output rebuilt from the trace alone.
#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>

#include "trace/trace_events.h"
#include "trace/trace_reader.h"

namespace rrvm {

// Header summary, counts per event kind, guest duration, sizes, bytes per
// exit, and whether the trace is complete. Reads every event; a damaged
// frame ends the counts and is reported, not thrown.
void trace_info(const TraceReader& reader, std::ostream& out);

struct DumpOptions {
  uint64_t from = 0;                                  // first ordinal shown
  uint64_t to = std::numeric_limits<uint64_t>::max();  // one past the last
  std::optional<TraceEventKind> kind;                  // only this kind
  bool json = false;                                   // JSON lines
};
// One event per line. Throws TraceError at a damaged frame (after printing
// the events before it).
void dump_events(const TraceReader& reader, const DumpOptions& options, std::ostream& out);

std::string format_event_text(uint64_t ordinal, const TraceEvent& event);
std::string format_event_json(uint64_t ordinal, const TraceEvent& event);

// What the guest printed: bytes written to the 16550 at 0x3F8 (THR, while
// LCR.DLAB = 0; LCR writes at 0x3FB are tracked) and to the 0xE9 debug
// console.
struct ConsoleOutput {
  std::string serial;
  std::string debug_console;
  std::optional<std::string> error;  // a damaged frame cut the output short
};
ConsoleOutput rebuild_serial(const TraceReader& reader);

}  // namespace rrvm
