#include "trace/keyframe_chain.h"

#include <string>

namespace rrvm {

std::optional<size_t> latest_keyframe_at_or_before(const TraceReader& reader, uint64_t event) {
  std::optional<size_t> best;
  const auto keyframes = reader.keyframes();
  for (size_t i = 0; i < keyframes.size(); ++i)
    if (keyframes[i].first_event_ordinal <= event) best = i;
  return best;
}

void read_keyframe_chain(const TraceReader& reader, size_t index, const std::function<void(const Keyframe&)>& visit) {
  const auto keyframes = reader.keyframes();
  if (index >= keyframes.size()) throw std::out_of_range("read_keyframe_chain: no keyframe " + std::to_string(index));
  for (size_t i = 0; i <= index; ++i) {
    Keyframe k = reader.read_keyframe(keyframes[i]);
    if (!k.incremental)
      throw KeyframeUnusable("keyframe " + std::to_string(i) + " (event " + std::to_string(k.event_ordinal) +
                             ") holds no machine state to start from (written by an older rrvm)");
    visit(k);
  }
}

}  // namespace rrvm
