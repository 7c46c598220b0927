#include "devices/cirrus/vga_text_mode.h"

#include <initializer_list>
#include <utility>

#include "devices/cirrus/cirrus_vga.h"

namespace rrvm {

namespace {

constexpr uint16_t kMisc = 0x3C2, kSeq = 0x3C4, kCrtc = 0x3D4, kGc = 0x3CE, kAttr = 0x3C0, kInputStatus1 = 0x3DA;
constexpr uint16_t kDacWriteIndex = 0x3C8, kDacData = 0x3C9;

void indexed(CirrusVga& vga, uint16_t port, std::initializer_list<std::pair<uint8_t, uint8_t>> regs) {
  for (auto [index, value] : regs) {
    vga.port_write(port, index);
    vga.port_write(uint16_t(port + 1), value);
  }
}

}  // namespace

void set_vga_text_mode(CirrusVga& vga) {
  indexed(vga, kSeq, {{0x06, 0x12}, {0x07, 0x00}});  // unlock, leave the extended modes
  vga.port_write(kMisc, 0x67);
  indexed(vga, kSeq, {{0x00, 0x01}, {0x01, 0x01}, {0x02, 0x03}, {0x03, 0x00}, {0x04, 0x02}, {0x00, 0x03}});
  indexed(vga, kCrtc,
          {{0x11, 0x0E}, {0x00, 0x5F}, {0x01, 0x4F}, {0x02, 0x50}, {0x03, 0x82}, {0x04, 0x55}, {0x05, 0x81},
           {0x06, 0xBF}, {0x07, 0x1F}, {0x08, 0x00}, {0x09, 0x4F}, {0x0A, 0x0D}, {0x0B, 0x0E}, {0x0C, 0x00},
           {0x0D, 0x00}, {0x0E, 0x00}, {0x0F, 0x00}, {0x10, 0x9C}, {0x12, 0x8F}, {0x13, 0x28}, {0x14, 0x1F},
           {0x15, 0x96}, {0x16, 0xB9}, {0x17, 0xA3}, {0x18, 0xFF}, {0x1A, 0x00}, {0x1B, 0x00}, {0x1D, 0x00},
           {0x11, 0x8E}});
  indexed(vga, kGc,
          {{0x00, 0x00}, {0x01, 0x00}, {0x02, 0x00}, {0x03, 0x00}, {0x04, 0x00}, {0x05, 0x10}, {0x06, 0x0E},
           {0x07, 0x00}, {0x08, 0xFF}});
  static constexpr uint8_t kAttrRegs[21] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A,
                                            0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00};
  vga.port_read(kInputStatus1);  // the attribute flip-flop to "index"
  for (uint8_t i = 0; i < sizeof kAttrRegs; ++i) {
    vga.port_write(kAttr, i);
    vga.port_write(kAttr, kAttrRegs[i]);
  }
  vga.port_write(kAttr, 0x20);  // palette address source: the screen on
  // The 16 CGA colours at the DAC indices the attribute registers name.
  static constexpr uint8_t kDac[16][4] = {
      {0x00, 0, 0, 0},    {0x01, 0, 0, 42},   {0x02, 0, 42, 0},   {0x03, 0, 42, 42},  {0x04, 42, 0, 0},
      {0x05, 42, 0, 42},  {0x14, 42, 21, 0},  {0x07, 42, 42, 42}, {0x38, 21, 21, 21}, {0x39, 21, 21, 63},
      {0x3A, 21, 63, 21}, {0x3B, 21, 63, 63}, {0x3C, 63, 21, 21}, {0x3D, 63, 21, 63}, {0x3E, 63, 63, 21},
      {0x3F, 63, 63, 63}};
  for (const auto& c : kDac) {
    vga.port_write(kDacWriteIndex, c[0]);
    for (int k = 1; k < 4; ++k) vga.port_write(kDacData, c[k]);
  }
  // The font into plane 2 (sequential addressing, 32 bytes a cell).
  indexed(vga, kSeq, {{0x02, 0x04}, {0x04, 0x06}});
  indexed(vga, kGc, {{0x04, 0x02}, {0x05, 0x00}, {0x06, 0x04}});
  for (const VgaGlyphRange& r : kVgaFontRanges)
    for (unsigned g = 0; g < r.count; ++g)
      for (unsigned row = 0; row < 16; ++row) vga.window_write((r.first + g) * 32 + row, r.rows[g * 16 + row]);
  indexed(vga, kSeq, {{0x02, 0x03}, {0x04, 0x02}});
  indexed(vga, kGc, {{0x04, 0x00}, {0x05, 0x10}, {0x06, 0x0E}});
  // A blank screen: grey spaces through odd/even at 0xB8000.
  for (uint32_t cell = 0; cell < 80 * 25; ++cell) {
    vga.window_write(0x18000 + cell * 2, ' ');
    vga.window_write(0x18000 + cell * 2 + 1, 0x07);
  }
}

}  // namespace rrvm
