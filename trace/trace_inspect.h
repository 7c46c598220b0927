// What `rrvm info` and `rrvm dump` show: a summary and the events one per
// line (text or JSON lines). The console output (`rrvm serial`) is rebuilt
// by system/console_rebuild, which runs the device models.
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


}  // namespace rrvm
