#include "replay/frame_rebuilder.h"

#include <algorithm>
#include <cstring>

#include "vmm/guest_memory.h"

namespace rrvm {

void FrameRebuilder::check_page(const DisplayFrameEvent& e, const VramPage& p, bool with_bytes) const {
  if ((with_bytes && p.bytes.size() != kPageSize) || uint64_t(p.index + 1) * kPageSize > vram_.size())
    throw TraceError("display frame at " + std::to_string(e.guest_ns) + " ns: VRAM page " +
                     std::to_string(p.index) + " lies outside the 4 MiB VRAM; the trace is damaged");
}

void FrameRebuilder::set_registers(const DisplayFrameEvent& e) {
  if (!e.display_registers.empty()) {
    try {
      state_ = deserialize_display_state(e.display_registers);
    } catch (const std::exception& err) {
      throw TraceError("display frame at " + std::to_string(e.guest_ns) + " ns: " + err.what());
    }
  }
}

void FrameRebuilder::apply(const DisplayFrameEvent& e) {
  for (const VramPage& p : e.pages) {
    check_page(e, p, true);
    std::memcpy(vram_.data() + uint64_t(p.index) * kPageSize, p.bytes.data(), kPageSize);
  }
  set_registers(e);
}

void FrameRebuilder::apply_keyframe(const KeyframeDisplay& d) {
  for (const KeyframePage& p : d.pages) {
    if (p.bytes.size() != kPageSize || uint64_t(p.index + 1) * kPageSize > vram_.size())
      throw TraceError("keyframe: VRAM page " + std::to_string(p.index) +
                       " lies outside the 4 MiB VRAM; the trace is damaged");
    std::memcpy(vram_.data() + uint64_t(p.index) * kPageSize, p.bytes.data(), kPageSize);
  }
  if (!d.registers.empty()) {
    try {
      state_ = deserialize_display_state(d.registers);
    } catch (const std::exception& err) {
      throw TraceError(std::string("keyframe: display registers: ") + err.what());
    }
  }
}

void FrameRebuilder::apply_registers(const DisplayFrameEvent& e) {
  for (const VramPage& p : e.pages) check_page(e, p, false);
  set_registers(e);
}

const Frame& FrameRebuilder::render() {
  render_into(frame_);
  return frame_;
}

void FrameRebuilder::render_into(Frame& out) const {
  if (state_) rrvm::render_into(*state_, vram_.data(), vram_.size(), out);
}

}  // namespace rrvm
