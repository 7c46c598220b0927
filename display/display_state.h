// Everything the renderer needs to turn VRAM into a picture: the VGA register
// files, the DAC, and the Cirrus extensions. A plain value so frames can be
// rebuilt from a trace with no device at all.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace rrvm {

struct DisplayState {
  static constexpr uint32_t kVersion = 1;

  std::array<uint8_t, 32> seq{};    // SR00-SR1F (SR10/SR11 hold cursor X/Y bits 10:3)
  std::array<uint8_t, 64> gc{};     // GR00-GR3F
  std::array<uint8_t, 32> attr{};   // AR00-AR14 (rest unused)
  uint8_t attr_index = 0;           // bit 5: palette address source (0 blanks the screen)
  std::array<uint8_t, 64> crtc{};   // CR00-CR3F
  uint8_t misc = 0;                 // miscellaneous output register
  std::array<uint8_t, 768> palette{};        // DAC, 6 bits per component, RGB order
  uint8_t pixel_mask = 0xFF;                 // 0x3C6
  uint8_t hidden_dac = 0;                    // Cirrus hidden DAC register (pixel format)
  std::array<uint8_t, 48> cursor_palette{};  // Cirrus extended DAC: entry 0 bg, 15 fg
  uint16_t cursor_x = 0;                     // hardware cursor position, pixels
  uint16_t cursor_y = 0;

  bool operator==(const DisplayState&) const = default;
};

// Versioned little-endian encoding ("RRDS", version, fields).
std::vector<uint8_t> serialize(const DisplayState& state);
// Throws std::runtime_error with one line saying what is wrong.
DisplayState deserialize_display_state(std::span<const uint8_t> bytes);

}  // namespace rrvm
