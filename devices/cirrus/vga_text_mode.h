// What a VGA BIOS leaves behind for an operating system that boots without
// one: the card in mode 3 (80x25 colour text at 0xB8000, 16-line cells), the
// 16 CGA colours in the DAC, a font in plane 2 and a blank screen. rrvm's
// Linux machines start this way, so that the kernel's vgacon (told so by
// the zero page's screen_info) finds the console it expects. The register
// values are those of guests/cirrus/cirrus-text.asm's mode 3 (IBM's).
#pragma once
#include <cstdint>

namespace rrvm {

class CirrusVga;

struct VgaGlyphRange {
  uint8_t first;
  uint8_t count;
  uint8_t rows[96 * 16];
};
// The built-in 8x16 font (vga_font8x16.cpp): 0x20-0x7F, 0xB0-0xDF.
extern const VgaGlyphRange kVgaFontRanges[2];

// Programs `vga` through its register entry points (no guest, no exits).
void set_vga_text_mode(CirrusVga& vga);

}  // namespace rrvm
