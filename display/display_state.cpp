#include "display/display_state.h"

#include "vmm/state_bytes.h"

namespace rrvm {

namespace {
constexpr uint32_t kMagic = 0x53445252;  // "RRDS"
}

std::vector<uint8_t> serialize(const DisplayState& s) {
  ByteWriter w;
  w.u32(kMagic);
  w.u32(DisplayState::kVersion);
  w.bytes(s.seq);
  w.bytes(s.gc);
  w.bytes(s.attr);
  w.u8(s.attr_index);
  w.bytes(s.crtc);
  w.u8(s.misc);
  w.bytes(s.palette);
  w.u8(s.pixel_mask);
  w.u8(s.hidden_dac);
  w.bytes(s.cursor_palette);
  w.u16(s.cursor_x);
  w.u16(s.cursor_y);
  return w.take();
}

DisplayState deserialize_display_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "display state");
  if (r.u32() != kMagic) r.fail("bad magic (not an RRDS display state)");
  uint32_t version = r.u32();
  if (version != DisplayState::kVersion)
    r.fail("unsupported version " + std::to_string(version) + " (this build reads " +
           std::to_string(DisplayState::kVersion) + ")");
  DisplayState s;
  r.bytes(s.seq);
  r.bytes(s.gc);
  r.bytes(s.attr);
  s.attr_index = r.u8();
  r.bytes(s.crtc);
  s.misc = r.u8();
  r.bytes(s.palette);
  s.pixel_mask = r.u8();
  s.hidden_dac = r.u8();
  r.bytes(s.cursor_palette);
  s.cursor_x = r.u16();
  s.cursor_y = r.u16();
  if (r.remaining() != 0) r.fail(std::to_string(r.remaining()) + " trailing bytes");
  return s;
}

}  // namespace rrvm
