#include "display/renderer.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace rrvm {

namespace {

constexpr uint32_t kMaxDim = 4096;

inline uint8_t c6to8(uint8_t v) {
  v &= 0x3F;
  return static_cast<uint8_t>((v << 2) | (v >> 4));
}

inline uint32_t pack(uint8_t r, uint8_t g, uint8_t b) { return (uint32_t(r) << 16) | (uint32_t(g) << 8) | b; }

inline void put(uint8_t* d, uint32_t rgb) {
  d[0] = static_cast<uint8_t>(rgb >> 16);
  d[1] = static_cast<uint8_t>(rgb >> 8);
  d[2] = static_cast<uint8_t>(rgb);
}

// A pixel as the bytes it takes in the frame (R, G, B) and one spare byte.
struct Rgb4 {
  uint8_t b[4];
};
inline Rgb4 bytes_of(uint32_t rgb) { return {{uint8_t(rgb >> 16), uint8_t(rgb >> 8), uint8_t(rgb), 0}}; }

// Writes a row of `n` pixels, `pixel(x)` giving each: one 4-byte store per
// pixel, whose spare byte the next pixel's store overwrites, and 3 bytes for
// the last so the row never writes past its end. Three byte stores per pixel
// made rendering the slowest step of `rrvm frames` at 800x600.
template <typename Pixel>
inline void put_row(uint8_t* d, uint32_t n, Pixel pixel) {
  if (n == 0) return;
  for (uint32_t x = 0; x + 1 < n; ++x, d += 3) std::memcpy(d, pixel(x).b, 4);
  std::memcpy(d, pixel(n - 1).b, 3);
}

// DAC entries as packed RGB, with the pixel mask applied to the index.
struct Palette {
  uint32_t rgb[256];
  explicit Palette(const DisplayState& s) {
    for (int i = 0; i < 256; ++i) {
      int e = (i & s.pixel_mask) * 3;
      rgb[i] = pack(c6to8(s.palette[e]), c6to8(s.palette[e + 1]), c6to8(s.palette[e + 2]));
    }
  }
};

// Attribute-controller mapping of a 4-bit colour to a DAC index.
inline uint8_t attr_to_dac(const DisplayState& s, uint8_t colour) {
  uint8_t v = s.attr[colour & 0x0F];
  if (s.attr[0x10] & 0x80)
    v = static_cast<uint8_t>((v & 0x0F) | ((s.attr[0x14] & 0x03) << 4));
  else
    v &= 0x3F;
  return static_cast<uint8_t>(v | ((s.attr[0x14] & 0x0C) << 4));
}

// Reads VRAM with wrap-around so guest-chosen start addresses never leave it.
struct Vram {
  const uint8_t* p;
  size_t size;
  uint8_t at(size_t off) const { return size ? p[off % size] : 0; }
  // Pointer to [off, off+len) when it lies inside VRAM, else nullptr.
  const uint8_t* span(size_t off, size_t len) const {
    return (off <= size && len <= size - off) ? p + off : nullptr;
  }
};

uint32_t scan_repeat(const DisplayState& s) {
  return ((s.crtc[0x09] & 0x1Fu) + 1) << (s.crtc[0x09] >> 7);
}

void render_text(const DisplayState& s, const ModeInfo& m, const Vram& v, Frame& f, const Palette& pal) {
  const uint32_t cw = (s.seq[0x01] & 0x01) ? 8 : 9;
  const uint32_t ch = (s.crtc[0x09] & 0x1Fu) + 1;
  const uint32_t cols = m.width / cw, rows = m.height / ch;
  // Character map A (SR3 bits 5,3,2) in plane-2 addresses.
  const uint32_t sel = ((s.seq[0x03] >> 5) & 1) | ((s.seq[0x03] >> 1) & 6);
  static constexpr uint32_t kFontOffsets[8] = {0x0000, 0x4000, 0x8000, 0xC000, 0x2000, 0x6000, 0xA000, 0xE000};
  const size_t font_base = size_t(kFontOffsets[sel]) * 4 + 2;
  const uint32_t cursor_addr = (uint32_t(s.crtc[0x0E]) << 8) | s.crtc[0x0F];
  const bool cursor_on = !(s.crtc[0x0A] & 0x20);
  const uint32_t cur_start = s.crtc[0x0A] & 0x1F, cur_end = s.crtc[0x0B] & 0x1F;
  const bool blink_enabled = s.attr[0x10] & 0x08;
  const bool line_graphics = s.attr[0x10] & 0x04;
  const uint32_t start_chars = m.start / 4;
  for (uint32_t r = 0; r < rows; ++r) {
    for (uint32_t c = 0; c < cols; ++c) {
      size_t cell = size_t(m.start) + size_t(r) * m.line_offset + size_t(c) * 4;
      uint8_t code = v.at(cell), at = v.at(cell + 1);
      uint8_t fgc = at & 0x0F, bgc = at >> 4;
      if (blink_enabled) bgc &= 0x07;  // bit 7 means blink; blink is shown "on" (static)
      uint32_t fg = pal.rgb[attr_to_dac(s, fgc)], bg = pal.rgb[attr_to_dac(s, bgc)];
      uint32_t cell_index = start_chars + r * (m.line_offset / 4) + c;
      bool has_cursor = cursor_on && cell_index == cursor_addr;
      for (uint32_t y = 0; y < ch; ++y) {
        uint8_t bits = v.at(font_base + (size_t(code) * 32 + y) * 4);
        if (has_cursor && y >= cur_start && y <= cur_end) bits = 0xFF;
        uint8_t* d = f.rgb.data() + ((size_t(r) * ch + y) * f.width + size_t(c) * cw) * 3;
        for (uint32_t x = 0; x < 8; ++x) put(d + x * 3, (bits & (0x80 >> x)) ? fg : bg);
        if (cw == 9) {
          bool dup = line_graphics && code >= 0xC0 && code <= 0xDF && (bits & 1);
          put(d + 24, dup ? fg : bg);
        }
      }
    }
  }
}

void render_planar16(const DisplayState& s, const ModeInfo& m, const Vram& v, Frame& f, const Palette& pal) {
  const uint8_t plane_enable = s.attr[0x12] & 0x0F;
  uint32_t colour[16];
  for (int i = 0; i < 16; ++i) colour[i] = pal.rgb[attr_to_dac(s, static_cast<uint8_t>(i))];
  const uint32_t rep = scan_repeat(s);
  const bool half_clock = s.seq[0x01] & 0x08;
  for (uint32_t y = 0; y < m.height; ++y) {
    size_t line = size_t(m.start) + size_t(y) * m.line_offset;
    uint8_t* d = f.rgb.data() + size_t(y) * f.width * 3;
    (void)rep;
    for (uint32_t x = 0; x < m.width; ++x) {
      uint32_t px = half_clock ? x / 2 : x;
      size_t a = line + size_t(px / 8) * 4;
      unsigned bit = 7 - (px & 7);
      uint8_t idx = 0;
      for (unsigned p = 0; p < 4; ++p) idx |= ((v.at(a + p) >> bit) & 1) << p;
      put(d + size_t(x) * 3, colour[idx & plane_enable]);
    }
  }
}

void render_8(const ModeInfo& m, const Vram& v, Frame& f, const uint32_t* lut) {
  Rgb4 bytes[256];
  for (int i = 0; i < 256; ++i) bytes[i] = bytes_of(lut[i]);
  for (uint32_t y = 0; y < m.height; ++y) {
    size_t line = size_t(m.start) + size_t(y) * m.line_offset;
    uint8_t* d = f.rgb.data() + size_t(y) * f.width * 3;
    if (const uint8_t* src = v.span(line, m.width)) {
      put_row(d, m.width, [&](uint32_t x) { return bytes[src[x]]; });
    } else {
      put_row(d, m.width, [&](uint32_t x) { return bytes[v.at(line + x)]; });
    }
  }
}

// `convert` maps a pixel's little-endian value to its Rgb4.
template <int Bytes, typename Convert>
void render_direct(const ModeInfo& m, const Vram& v, Frame& f, Convert convert) {
  for (uint32_t y = 0; y < m.height; ++y) {
    size_t line = size_t(m.start) + size_t(y) * m.line_offset;
    uint8_t* d = f.rgb.data() + size_t(y) * f.width * 3;
    if (const uint8_t* src = v.span(line, size_t(m.width) * Bytes)) {
      put_row(d, m.width, [&](uint32_t x) {
        uint32_t px = 0;
        if constexpr (Bytes == 2) px = uint32_t(src[x * 2]) | uint32_t(src[x * 2 + 1]) << 8;
        if constexpr (Bytes == 3) px = uint32_t(src[x * 3]) | uint32_t(src[x * 3 + 1]) << 8 | uint32_t(src[x * 3 + 2]) << 16;
        if constexpr (Bytes == 4) std::memcpy(&px, src + x * 4, 4);
        return convert(px);
      });
    } else {
      put_row(d, m.width, [&](uint32_t x) {
        uint32_t px = 0;
        for (int b = 0; b < Bytes; ++b) px |= uint32_t(v.at(line + size_t(x) * Bytes + b)) << (8 * b);
        return convert(px);
      });
    }
  }
}

// 16-bit pixels go through a table built once: one load per pixel.
template <uint32_t (*Convert)(uint32_t)>
const Rgb4* lut16() {
  static const std::vector<Rgb4> table = [] {
    std::vector<Rgb4> t(65536);
    for (uint32_t i = 0; i < 65536; ++i) t[i] = bytes_of(Convert(i));
    return t;
  }();
  return table.data();
}

inline uint32_t from565(uint32_t p) {
  uint32_t r = (p >> 11) & 0x1F, g = (p >> 5) & 0x3F, b = p & 0x1F;
  return pack(static_cast<uint8_t>((r << 3) | (r >> 2)), static_cast<uint8_t>((g << 2) | (g >> 4)),
              static_cast<uint8_t>((b << 3) | (b >> 2)));
}
inline uint32_t from555(uint32_t p) {
  uint32_t r = (p >> 10) & 0x1F, g = (p >> 5) & 0x1F, b = p & 0x1F;
  return pack(static_cast<uint8_t>((r << 3) | (r >> 2)), static_cast<uint8_t>((g << 3) | (g >> 2)),
              static_cast<uint8_t>((b << 3) | (b >> 2)));
}

// Cirrus hardware cursor: two bit planes; (mask,colour) = 00 screen, 01 invert,
// 10 background (extended DAC entry 0), 11 foreground (entry 15).
void draw_cursor(const DisplayState& s, const Vram& v, Frame& f) {
  if (!(s.seq[0x12] & 0x01) || v.size < 16384) return;
  const bool large = s.seq[0x12] & 0x04;
  const uint32_t size = large ? 64 : 32;
  size_t base = v.size - 16384 + size_t(s.seq[0x13] & (large ? 0x3C : 0x3F)) * 256;
  auto col = [&](int e) {
    return pack(c6to8(s.cursor_palette[e * 3]), c6to8(s.cursor_palette[e * 3 + 1]), c6to8(s.cursor_palette[e * 3 + 2]));
  };
  const uint32_t bg = col(0), fg = col(15);
  for (uint32_t y = 0; y < size; ++y) {
    uint32_t sy = s.cursor_y + y;
    if (sy >= f.height) break;
    for (uint32_t x = 0; x < size; ++x) {
      uint32_t sx = s.cursor_x + x;
      if (sx >= f.width) break;
      size_t p0, p1;
      if (large) {
        p0 = base + y * 16 + x / 8;
        p1 = p0 + 8;
      } else {
        p0 = base + y * 4 + x / 8;
        p1 = p0 + 128;
      }
      unsigned bit = 7 - (x & 7);
      bool c = (v.at(p0) >> bit) & 1, mask = (v.at(p1) >> bit) & 1;
      uint8_t* d = f.rgb.data() + (size_t(sy) * f.width + sx) * 3;
      if (mask) {
        put(d, c ? fg : bg);
      } else if (c) {
        d[0] = static_cast<uint8_t>(~d[0]);
        d[1] = static_cast<uint8_t>(~d[1]);
        d[2] = static_cast<uint8_t>(~d[2]);
      }
    }
  }
}

}  // namespace

const char* display_mode_name(DisplayMode mode) {
  switch (mode) {
    case DisplayMode::Blank: return "blank";
    case DisplayMode::Text: return "text";
    case DisplayMode::Planar16: return "planar16";
    case DisplayMode::Vga256: return "vga256";
    case DisplayMode::Linear8: return "linear8";
    case DisplayMode::Linear15: return "linear15";
    case DisplayMode::Linear16: return "linear16";
    case DisplayMode::Linear24: return "linear24";
    case DisplayMode::Linear32: return "linear32";
  }
  return "?";
}

ModeInfo decode_mode(const DisplayState& s) {
  ModeInfo m;
  const auto& cr = s.crtc;
  uint32_t dots = (uint32_t(cr[0x01]) + 1) * 8;
  uint32_t lines = (uint32_t(cr[0x12]) | ((cr[0x07] & 0x02u) << 7) | ((cr[0x07] & 0x40u) << 3)) + 1;
  m.line_offset = (uint32_t(cr[0x13]) | ((cr[0x1B] & 0x10u) << 4)) * 8;
  m.start = ((uint32_t(cr[0x0C]) << 8) | cr[0x0D] | ((cr[0x1B] & 0x01u) << 16) | ((cr[0x1B] & 0x0Cu) << 15) |
             ((cr[0x1D] & 0x80u) << 12)) * 4;
  const bool extended = s.seq[0x07] & 0x01;
  if (extended) {
    m.width = dots;
    m.height = lines;
    if (cr[0x1A] & 0x01) m.height *= 2;  // interlaced
    switch (s.seq[0x07] & 0x0E) {
      case 0x02:
      case 0x06: m.mode = (s.hidden_dac & 0x0F) == 1 ? DisplayMode::Linear16 : DisplayMode::Linear15; break;
      case 0x04: m.mode = DisplayMode::Linear24; break;
      case 0x08: m.mode = DisplayMode::Linear32; break;
      default: m.mode = DisplayMode::Linear8; break;
    }
  } else if (!(s.gc[0x06] & 0x01)) {
    m.mode = DisplayMode::Text;
    uint32_t cw = (s.seq[0x01] & 0x01) ? 8 : 9;
    uint32_t ch = (cr[0x09] & 0x1Fu) + 1;
    m.width = (uint32_t(cr[0x01]) + 1) * cw;
    m.height = lines / ch * ch;
  } else {
    m.height = lines / scan_repeat(s);
    if (s.gc[0x05] & 0x40) {
      m.mode = DisplayMode::Vga256;
      m.width = dots / 2;
    } else {
      m.mode = DisplayMode::Planar16;
      m.width = (s.seq[0x01] & 0x08) ? dots : dots;
    }
  }
  m.width = std::min(m.width, kMaxDim);
  m.height = std::min(m.height, kMaxDim);
  if (!(s.attr_index & 0x20) || (s.seq[0x01] & 0x20)) m.mode = DisplayMode::Blank;
  return m;
}

void render_into(const DisplayState& s, const uint8_t* vram, size_t vram_size, Frame& f) {
  ModeInfo m = decode_mode(s);
  f.width = m.width;
  f.height = m.height;
  f.rgb.resize(size_t(m.width) * m.height * 3);
  if (f.rgb.empty()) return;
  Vram v{vram, vram ? vram_size : 0};
  if (m.mode == DisplayMode::Blank || v.size == 0) {
    std::fill(f.rgb.begin(), f.rgb.end(), 0);
    return;
  }
  Palette pal(s);
  switch (m.mode) {
    case DisplayMode::Text: render_text(s, m, v, f, pal); break;
    case DisplayMode::Planar16: render_planar16(s, m, v, f, pal); break;
    case DisplayMode::Vga256:
    case DisplayMode::Linear8: render_8(m, v, f, pal.rgb); break;
    case DisplayMode::Linear15: {
      const Rgb4* t = lut16<from555>();
      render_direct<2>(m, v, f, [t](uint32_t p) { return t[p & 0xFFFF]; });
      break;
    }
    case DisplayMode::Linear16: {
      const Rgb4* t = lut16<from565>();
      render_direct<2>(m, v, f, [t](uint32_t p) { return t[p & 0xFFFF]; });
      break;
    }
    case DisplayMode::Linear24: render_direct<3>(m, v, f, [](uint32_t p) { return bytes_of(p & 0xFFFFFF); }); break;
    case DisplayMode::Linear32: render_direct<4>(m, v, f, [](uint32_t p) { return bytes_of(p & 0xFFFFFF); }); break;
    case DisplayMode::Blank: break;
  }
  bool extended = s.seq[0x07] & 0x01;
  if (extended) draw_cursor(s, v, f);
}

Frame render(const DisplayState& s, const uint8_t* vram, size_t vram_size) {
  Frame f;
  render_into(s, vram, vram_size, f);
  return f;
}

}  // namespace rrvm
