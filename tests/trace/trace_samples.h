// Sample trace content for the trace tests, the fixture generator and the
// size benchmark: every field set to something recognisable.
#pragma once
#include <string>
#include <vector>

#include "trace/trace_events.h"

namespace rrvm::trace_samples {

TraceHeader header();
Registers registers(uint64_t seed);
// Every event kind and exit kind, a kicked interrupt, edge values.
std::vector<TraceEvent> every_kind_events();
// Service points and asynchronous points in every form format version 5
// stores (full registers, a repeat, pc and hash, a digest).
std::vector<TraceEvent> async_point_events();
// A display frame whose pages are the given byte pattern.
TraceEvent display_frame(uint64_t ns, std::vector<uint32_t> pages, uint8_t fill);
Keyframe keyframe();
TraceEnd end();

TraceEvent port_out(uint16_t port, uint64_t value, uint8_t size = 1);
TraceEvent port_in(uint16_t port, uint64_t value, uint8_t size = 1);

// A unique path under the test temp dir.
std::string temp_path(const std::string& name);

}  // namespace rrvm::trace_samples
