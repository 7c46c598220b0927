// Turns VRAM + display registers into an RGB888 frame. Pure: no device, so a
// trace can be turned into pictures offline.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "display/display_state.h"

namespace rrvm {

struct Frame {
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3, row-major, R G B
};

enum class DisplayMode { Blank, Text, Planar16, Vga256, Linear8, Linear15, Linear16, Linear24, Linear32 };

struct ModeInfo {
  DisplayMode mode = DisplayMode::Blank;
  uint32_t width = 0;        // pixels
  uint32_t height = 0;       // pixels
  uint32_t line_offset = 0;  // bytes of VRAM per scanline (interleaved-plane bytes)
  uint32_t start = 0;        // VRAM byte offset of the first pixel / cell
};

const char* display_mode_name(DisplayMode mode);
// What the registers select; dimensions are capped at 4096x4096.
ModeInfo decode_mode(const DisplayState& s);

Frame render(const DisplayState& s, const uint8_t* vram, size_t vram_size);
// Same, reusing `out`'s buffer (no allocation when the size is unchanged).
void render_into(const DisplayState& s, const uint8_t* vram, size_t vram_size, Frame& out);

}  // namespace rrvm
