// Each display mode, programmed through the ports and drawn through the path a
// guest uses for it, renders the pixels we reason out by hand.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "tests/cirrus/cirrus_rig.h"
#include "tests/cirrus/reference_image.h"

namespace rrvm::test {
namespace {

uint8_t c8(uint8_t v6) { return static_cast<uint8_t>((v6 << 2) | (v6 >> 4)); }
uint32_t rgb6(uint8_t r, uint8_t g, uint8_t b) { return uint32_t(c8(r)) << 16 | uint32_t(c8(g)) << 8 | c8(b); }

// The 64-entry EGA palette: index bits 0-2 are 2/3-intensity B,G,R, bits 3-5 1/3.
void load_ega_dac(CirrusRig& rig) {
  for (int i = 0; i < 64; ++i) {
    auto comp = [&](int hi, int lo) { return static_cast<uint8_t>(((i >> hi) & 1) * 42 + ((i >> lo) & 1) * 21); };
    rig.dac(static_cast<uint8_t>(i), comp(2, 5), comp(1, 4), comp(0, 3));
  }
}

struct StdMode {
  uint8_t misc;
  uint8_t seq[5];
  uint8_t crtc[25];
  uint8_t gc[9];
  uint8_t ac[21];
};

void set_std_mode(CirrusRig& rig, const StdMode& m) {
  rig.out8(0x3C2, m.misc);
  for (int i = 0; i < 5; ++i) rig.seq(static_cast<uint8_t>(i), m.seq[i]);
  rig.crtc(0x11, 0x00);
  for (int i = 0; i < 25; ++i) rig.crtc(static_cast<uint8_t>(i), m.crtc[i]);
  for (int i = 0; i < 9; ++i) rig.gr(static_cast<uint8_t>(i), m.gc[i]);
  for (int i = 0; i < 21; ++i) rig.attr(static_cast<uint8_t>(i), m.ac[i]);
  rig.screen_on();
}

// Standard BIOS register tables (8-dot text for a 640x400 picture).
constexpr StdMode kMode03 = {
    0x67, {0x03, 0x01, 0x03, 0x00, 0x02},
    {0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
     0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
     0x0C, 0x00, 0x0F, 0x08, 0x00}};
constexpr StdMode kMode12 = {
    0xE3, {0x03, 0x01, 0x0F, 0x00, 0x06},
    {0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0B, 0x3E, 0x00, 0x40, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0xEA, 0x0C, 0xDF, 0x28, 0x00, 0xE7, 0x04, 0xE3, 0xFF},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0F, 0xFF},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
     0x01, 0x00, 0x0F, 0x00, 0x00}};
constexpr StdMode kMode13 = {
    0x63, {0x03, 0x01, 0x0F, 0x00, 0x0E},
    {0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x9C, 0x0E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
     0x41, 0x00, 0x0F, 0x00, 0x00}};

constexpr uint64_t kWin = 0xA0000;

TEST(CirrusModes, Text80x25WithFontInPlane2AndCursor) {
  CirrusRig rig;
  set_std_mode(rig, kMode03);
  load_ega_dac(rig);
  // Load glyphs as a BIOS does: sequential plane-2 access at 0xA0000.
  rig.seq(0x02, 0x04);
  rig.seq(0x04, 0x06);
  rig.gr(0x04, 0x02);
  rig.gr(0x05, 0x00);
  rig.gr(0x06, 0x04);
  for (int row = 0; row < 16; ++row) {
    rig.store8(kWin + 0x01 * 32 + row, 0xFF);  // glyph 1: solid block
    rig.store8(kWin + 0x02 * 32 + row, 0xAA);  // glyph 2: vertical stripes
    rig.store8(kWin + 0x20 * 32 + row, 0x00);  // space
  }
  rig.seq(0x02, 0x03);
  rig.seq(0x04, 0x02);
  rig.gr(0x04, 0x00);
  rig.gr(0x05, 0x10);
  rig.gr(0x06, 0x0E);
  // Screen: odd/even at 0xB8000, character then attribute.
  for (int i = 0; i < 80 * 25; ++i) {
    rig.store8(0xB8000 + i * 2, 0x20);
    rig.store8(0xB8000 + i * 2 + 1, 0x07);
  }
  rig.store8(0xB8000, 0x01);
  rig.store8(0xB8001, 0x1E);  // yellow on blue
  rig.store8(0xB8002, 0x02);
  rig.store8(0xB8003, 0x1E);
  rig.store8(0xB8000 + (24 * 80 + 79) * 2, 0x01);
  rig.store8(0xB8000 + (24 * 80 + 79) * 2 + 1, 0x4F);  // white on red, last cell
  rig.crtc(0x0E, 0);
  rig.crtc(0x0F, 2);  // cursor on cell 2; CR0A/0B = 0x0D/0x0E: rows 13-14
  // The text really sits in planes 0/1 and the font in plane 2.
  EXPECT_EQ(rig.vga.vram()[0], 0x01);
  EXPECT_EQ(rig.vga.vram()[1], 0x1E);
  EXPECT_EQ(rig.vga.vram()[0x01 * 32 * 4 + 2], 0xFF);

  Frame f = rig.frame();
  ASSERT_EQ(f.width, 640u);
  ASSERT_EQ(f.height, 400u);
  const uint32_t yellow = rgb6(63, 63, 21), blue = rgb6(0, 0, 42), grey = rgb6(42, 42, 42);
  EXPECT_EQ(pixel(f, 3, 7), yellow);
  EXPECT_EQ(pixel(f, 8, 0), yellow);  // 0xAA: bit 7 set
  EXPECT_EQ(pixel(f, 9, 0), blue);
  EXPECT_EQ(pixel(f, 17, 13), grey);  // cursor line in the cell's foreground
  EXPECT_EQ(pixel(f, 17, 12), 0u);
  EXPECT_EQ(pixel(f, 639, 399), rgb6(63, 63, 63));
  EXPECT_EQ(pixel(f, 632, 384), rgb6(63, 63, 63));
  EXPECT_EQ(pixel(f, 631, 399), 0u);
  expect_matches_reference("text80x25", f);
}

TEST(CirrusModes, Planar640x480x16ThroughWriteMode2AndLatches) {
  CirrusRig rig;
  set_std_mode(rig, kMode12);
  load_ega_dac(rig);
  rig.gr(0x05, 0x02);  // write mode 2: CPU bits 0-3 are the colour
  for (int y = 0; y < 480; ++y) {
    for (int x = 0; x < 640; ++x) {
      uint8_t colour = static_cast<uint8_t>((x / 40 + y / 240) & 15);
      rig.gr(0x08, static_cast<uint8_t>(0x80 >> (x & 7)));  // one pixel
      uint64_t a = kWin + y * 80 + x / 8;
      rig.load8(a);  // fill the latches so the other pixels survive
      rig.store8(a, colour);
    }
  }
  Frame f = rig.frame();
  ASSERT_EQ(f.width, 640u);
  ASSERT_EQ(f.height, 480u);
  // Colour c goes through the attribute palette (AR6 = 0x14 is brown).
  EXPECT_EQ(pixel(f, 0, 0), 0u);
  EXPECT_EQ(pixel(f, 45, 10), rgb6(0, 0, 42));    // colour 1
  EXPECT_EQ(pixel(f, 39, 10), 0u);                // still colour 0
  EXPECT_EQ(pixel(f, 245, 3), rgb6(42, 21, 0));   // colour 6 -> DAC 0x14
  EXPECT_EQ(pixel(f, 605, 3), rgb6(63, 63, 63));  // colour 15
  EXPECT_EQ(pixel(f, 5, 300), rgb6(0, 0, 42));    // lower half shifted by one
  // Read mode 1 (colour compare) finds colour 1 in pixels 40-47 of row 0.
  rig.gr(0x05, 0x08);
  rig.gr(0x02, 0x01);
  rig.gr(0x07, 0x0F);
  EXPECT_EQ(rig.load8(kWin + 5), 0xFF);
  EXPECT_EQ(rig.load8(kWin + 4), 0x00);
  expect_matches_reference("planar640x480", f);
}

TEST(CirrusModes, Mode13hChain4ThroughLegacyWindow) {
  CirrusRig rig;
  set_std_mode(rig, kMode13);
  for (int i = 0; i < 256; ++i)
    rig.dac(static_cast<uint8_t>(i), static_cast<uint8_t>(i & 63), static_cast<uint8_t>((i >> 2) & 63),
            static_cast<uint8_t>(63 - (i & 63)));
  for (int y = 0; y < 200; ++y)
    for (int x = 0; x < 320; ++x) rig.store8(kWin + y * 320 + x, static_cast<uint8_t>(x / 20 + 16 * (y / 25)));
  Frame f = rig.frame();
  ASSERT_EQ(f.width, 320u);
  ASSERT_EQ(f.height, 200u);
  // (45, 60): x/20 = 2, y/25 = 2 -> colour 34 -> DAC (34, 8, 29).
  EXPECT_EQ(pixel(f, 45, 60), rgb6(34, 8, 29));
  EXPECT_EQ(pixel(f, 319, 199), rgb6(127 & 63, 127 >> 2, 63 - (127 & 63)));
  EXPECT_EQ(rig.vga.vram()[25 * 320 + 21], 17);  // chain-4: linear in VRAM
  expect_matches_reference("mode13h", f);
}

// Draws a 8x6 grid of palette colours: index = column + 8 * (row & 1).
void draw_grid8(CirrusRig& rig, unsigned w, unsigned h) {
  for (int i = 0; i < 16; ++i)
    rig.dac(static_cast<uint8_t>(i), static_cast<uint8_t>(i * 4), static_cast<uint8_t>(63 - i * 4),
            static_cast<uint8_t>((i * 8) & 63));
  for (unsigned y = 0; y < h; ++y)
    for (unsigned x = 0; x < w; ++x)
      rig.store8(CirrusRig::kLfb + y * w + x, static_cast<uint8_t>((x / 100) + 8 * ((y / 100) & 1)));
}

TEST(CirrusModes, Linear800x600x8ThroughTheLfbSlot) {
  CirrusRig rig;
  rig.enable_bars();
  rig.set_extended_mode(800, 600, 8);
  draw_grid8(rig, 800, 600);
  Frame f = rig.frame();
  ASSERT_EQ(f.width, 800u);
  ASSERT_EQ(f.height, 600u);
  EXPECT_EQ(pixel(f, 150, 250), rgb6(4, 59, 8));     // index 1
  EXPECT_EQ(pixel(f, 799, 599), rgb6(60, 3, 56));    // index 7 + 8 = 15
  EXPECT_EQ(pixel(f, 0, 100), rgb6(32, 31, 0));      // index 8
  expect_matches_reference("linear800x600x8", f);
  // The pixel mask applies to the DAC index.
  rig.out8(0x3C6, 0x07);
  EXPECT_EQ(pixel(rig.frame(), 150, 150), rgb6(4, 59, 8));  // 9 & 7 = 1
}

TEST(CirrusModes, Linear640x480x16And15) {
  CirrusRig rig;
  rig.enable_bars();
  rig.set_extended_mode(640, 480, 16);
  for (unsigned y = 0; y < 480; ++y)
    for (unsigned x = 0; x < 640; ++x) {
      uint16_t p = x < 213 ? 0xF800 : x < 426 ? 0x07E0 : 0x001F;
      if (x == y) p = 0xFFFF;
      if (y >= 400) p = static_cast<uint16_t>((x >> 4) << 11 | (x >> 4) << 6 | (x >> 4));  // grey ramp
      rig.store8(CirrusRig::kLfb + (y * 640 + x) * 2, static_cast<uint8_t>(p));
      rig.store8(CirrusRig::kLfb + (y * 640 + x) * 2 + 1, static_cast<uint8_t>(p >> 8));
    }
  Frame f = rig.frame();
  ASSERT_EQ(f.width, 640u);
  ASSERT_EQ(f.height, 480u);
  EXPECT_EQ(pixel(f, 100, 5), 0xFF0000u);
  EXPECT_EQ(pixel(f, 300, 5), 0x00FF00u);
  EXPECT_EQ(pixel(f, 500, 5), 0x0000FFu);
  EXPECT_EQ(pixel(f, 50, 50), 0xFFFFFFu);
  // x = 160: 10 in each 5-bit field -> (10<<3|10>>2) = 82; green 20 of 6 bits -> 81.
  EXPECT_EQ(pixel(f, 160, 450), 0x525152u);
  expect_matches_reference("linear640x480x16", f);
  // The same bytes read as 5:5:5 (hidden DAC 0xC0): 0xF800 is red 30, green 0;
  // 0x07E0 is red 1, green 31.
  rig.set_hidden_dac(0xC0);
  Frame g = rig.frame();
  EXPECT_EQ(pixel(g, 100, 5), 0xF70000u);
  EXPECT_EQ(pixel(g, 300, 5), 0x08FF00u);
  EXPECT_EQ(pixel(g, 500, 5), 0x0000FFu);
}

TEST(CirrusModes, Linear24And32Bpp) {
  for (unsigned bpp : {24u, 32u}) {
    CirrusRig rig;
    rig.enable_bars();
    rig.set_extended_mode(320, 200, bpp);
    unsigned bytes = bpp / 8;
    // Memory order is blue, green, red (, unused).
    uint64_t at = CirrusRig::kLfb + (10 * 320 + 7) * bytes;
    rig.store8(at, 0x11);
    rig.store8(at + 1, 0x22);
    rig.store8(at + 2, 0x33);
    Frame f = rig.frame();
    ASSERT_EQ(f.width, 320u);
    EXPECT_EQ(pixel(f, 7, 10), 0x332211u) << bpp;
    EXPECT_EQ(pixel(f, 8, 10), 0u) << bpp;
  }
}

TEST(CirrusModes, HardwareCursorOverlay) {
  CirrusRig rig;
  rig.enable_bars();
  rig.set_extended_mode(800, 600, 8);
  draw_grid8(rig, 800, 600);
  // Cursor colours live in the extended DAC (SR12 bit 1): entry 0 bg, 15 fg.
  rig.seq(0x12, 0x02);
  rig.dac(0x00, 0, 0, 63);
  rig.dac(0x0F, 63, 63, 0);
  // 32x32 pattern 0 at the end of VRAM - 16 KiB: plane 0 then the 128-byte mask plane.
  const uint64_t pat = CirrusRig::kLfb + CirrusVga::kVramSize - 16384;
  for (int y = 0; y < 32; ++y) {
    rig.store8(pat + y * 4 + 0, 0xFF);        // colour bits: pixels 0-7
    rig.store8(pat + y * 4 + 1, 0xFF);        // pixels 8-15
    rig.store8(pat + 128 + y * 4 + 0, 0xFF);  // mask: pixels 0-7 opaque (fg)
    rig.store8(pat + 128 + y * 4 + 2, 0xFF);  // pixels 16-23 opaque with colour 0 (bg)
  }
  rig.seq(0x13, 0x00);
  rig.seq(0x10 | (2 << 5), 40);  // x = 322
  rig.seq(0x11, 10);             // y = 80
  rig.seq(0x12, 0x01);           // enable, 32x32, normal DAC access
  Frame f = rig.frame();
  EXPECT_EQ(pixel(f, 322, 80), rgb6(63, 63, 0));  // foreground
  EXPECT_EQ(pixel(f, 340, 90), rgb6(0, 0, 63));   // background
  // Pixels 8-15 invert the screen: index 3 -> DAC (12, 51, 24).
  EXPECT_EQ(pixel(f, 332, 85), rgb6(12, 51, 24) ^ 0xFFFFFFu);
  EXPECT_EQ(pixel(f, 350, 85), rgb6(12, 51, 24));  // transparent
  EXPECT_EQ(pixel(f, 321, 80), rgb6(12, 51, 24));  // left of the cursor
  expect_matches_reference("cursor800x600x8", f);
}

TEST(CirrusModes, BlankWhenPaletteAddressSourceIsClear) {
  CirrusRig rig;
  rig.enable_bars();
  rig.set_extended_mode(640, 480, 8);
  rig.dac(1, 63, 63, 63);
  rig.store8(CirrusRig::kLfb, 1);
  EXPECT_EQ(pixel(rig.frame(), 0, 0), 0xFFFFFFu);
  rig.in8(0x3DA);
  rig.out8(0x3C0, 0x00);  // PAS clear: the attribute controller owns the palette
  EXPECT_EQ(decode_mode(rig.vga.display_state()).mode, DisplayMode::Blank);
  EXPECT_EQ(pixel(rig.frame(), 0, 0), 0u);
}

TEST(CirrusModes, GuestChosenStartAndPitchNeverReadOutsideVram) {
  CirrusRig rig;
  rig.enable_bars();
  rig.set_extended_mode(2048, 2048, 32);
  rig.crtc(0x0C, 0xFF);
  rig.crtc(0x0D, 0xFF);
  rig.crtc(0x1B, 0x1F);
  rig.crtc(0x1D, 0x80);
  rig.crtc(0x13, 0xFF);
  // Render from a heap copy so ASan sees any read past the end.
  std::vector<uint8_t> copy(rig.vga.vram().begin(), rig.vga.vram().end());
  Frame f = render(rig.vga.display_state(), copy.data(), copy.size());
  EXPECT_EQ(f.width, 2048u);
  // Tiny VRAM and no VRAM are also safe.
  EXPECT_EQ(render(rig.vga.display_state(), copy.data(), 3).width, 2048u);
  EXPECT_EQ(render(rig.vga.display_state(), nullptr, 0).rgb[0], 0);
}

double frames_per_second(CirrusRig& rig) {
  Frame f;
  auto v = rig.vga.vram();
  DisplayState s = rig.vga.display_state();
  render_into(s, v.data(), v.size(), f);
  int n = 0;
  auto t0 = std::chrono::steady_clock::now();
  double secs = 0;
  do {
    render_into(s, v.data(), v.size(), f);
    ++n;
    secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } while (secs < 0.3);
  return n / secs;
}

TEST(CirrusModes, RenderSpeed) {
  CirrusRig rig;
  rig.enable_bars();
  rig.set_extended_mode(800, 600, 8);
  double fps8 = frames_per_second(rig);
  rig.set_extended_mode(640, 480, 16);
  double fps16 = frames_per_second(rig);
  std::printf("render fps: 800x600x8 %.0f, 640x480x16 %.0f\n", fps8, fps16);
  RecordProperty("fps_800x600x8", static_cast<int>(fps8));
  RecordProperty("fps_640x480x16", static_cast<int>(fps16));
  EXPECT_GT(fps8, 20.0);  // only a sanity floor; sanitizer builds are slow
  EXPECT_GT(fps16, 20.0);
}

}  // namespace
}  // namespace rrvm::test
