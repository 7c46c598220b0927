// Starting a reader or a replay at a keyframe. The recorder's keyframes are
// incremental (trace.capnp Keyframe): each holds the memory pages changed
// since the one before it, so the state at keyframe k is the machine as
// built plus the pages of keyframes 0..k applied in file order, with k's
// devices, CPU and counters.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>

#include "trace/trace_reader.h"

namespace rrvm {

// A keyframe that holds no machine state to start from (a full keyframe of
// an older writer, without devices and counters).
class KeyframeUnusable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The index (into reader.keyframes()) of the latest keyframe at or before
// trace event `event`: of several at the same event (a guest computing
// without events between them), the last. nullopt when there is none.
std::optional<size_t> latest_keyframe_at_or_before(const TraceReader& reader, uint64_t event);

// Reads keyframes 0..index in file order and hands each to `visit`. Throws
// TraceError (a keyframe that cannot be read: damaged) or KeyframeUnusable
// (one of them is not incremental).
void read_keyframe_chain(const TraceReader& reader, size_t index, const std::function<void(const Keyframe&)>& visit);

}  // namespace rrvm
