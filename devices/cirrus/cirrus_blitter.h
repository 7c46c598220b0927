// The CL-GD5446 BitBLT engine (GR20-GR3F). Works on a VRAM span it never
// leaves: every guest-chosen address, pitch, width and height is checked
// against the span before a byte moves, and a blit that would leave VRAM is
// refused whole (the class of bug behind CVE-2017-2615/2620, 2016-9921).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace rrvm {

class ByteReader;
class ByteWriter;

namespace blt {
// GR30 mode bits
constexpr uint8_t kBackwards = 0x01;
constexpr uint8_t kMemSysDest = 0x02;
constexpr uint8_t kMemSysSrc = 0x04;
constexpr uint8_t kTransparent = 0x08;
constexpr uint8_t kPixelWidthMask = 0x30;
constexpr uint8_t kPatternCopy = 0x40;
constexpr uint8_t kColourExpand = 0x80;
// GR31 status/control bits
constexpr uint8_t kBusy = 0x01;
constexpr uint8_t kStart = 0x02;
constexpr uint8_t kReset = 0x04;
constexpr uint8_t kFifoUsed = 0x10;
constexpr uint8_t kAutoStart = 0x80;
// GR33 extended mode bits
constexpr uint8_t kExpandInvert = 0x02;
constexpr uint8_t kSolidFill = 0x04;
// GR32 raster operations (the codes Linux cirrusfb and X drivers use)
constexpr uint8_t kRop0 = 0x00, kRopSrcAndDst = 0x05, kRopNop = 0x06, kRopSrcAndNotDst = 0x09,
                  kRopNotDst = 0x0B, kRopSrc = 0x0D, kRop1 = 0x0E, kRopNotSrcAndDst = 0x50,
                  kRopSrcXorDst = 0x59, kRopSrcOrDst = 0x6D, kRopNotSrcOrNotDst = 0x90,
                  kRopSrcXnorDst = 0x95, kRopSrcOrNotDst = 0xAD, kRopNotSrc = 0xD0,
                  kRopNotSrcOrDst = 0xD6, kRopNotSrcAndNotDst = 0xDA;
}  // namespace blt

class CirrusBlitter {
 public:
  enum class Outcome { Done, Refused, AwaitingCpuData };
  // Called with each VRAM byte range the engine wrote.
  using WriteNotify = std::function<void(size_t offset, size_t length)>;

  CirrusBlitter(std::span<uint8_t> vram, WriteNotify notify);

  // Starts the blit the graphics-controller registers describe.
  Outcome start(const std::array<uint8_t, 64>& gr);
  // A system-to-screen blit is waiting for CPU data.
  bool active() const { return active_; }
  // One byte of CPU data; returns true when that byte completed the blit.
  bool feed(uint8_t byte);
  // Abandons a blit in progress (GR31 reset).
  void reset();

  uint64_t blits_done() const { return done_; }
  uint64_t blits_refused() const { return refused_; }

  void save(ByteWriter& w) const;
  void load(ByteReader& r);

 private:
  struct Params {
    uint32_t width = 0, height = 0;  // bytes, rows
    uint32_t dst_pitch = 0, src_pitch = 0;
    uint32_t dst = 0, src = 0;
    uint8_t mode = 0, rop = 0, modeext = 0;
    uint32_t bpp = 1;
    uint32_t fg = 0, bg = 0;
  };
  bool rect_fits(uint32_t addr, uint32_t pitch, uint32_t width, uint32_t height) const;
  size_t row_start(uint32_t addr, uint32_t pitch, uint32_t row, uint32_t width) const;
  void copy_rows();
  void fill_rows();
  bool pattern_rows();  // false: the pattern lies outside VRAM
  void expand_row(uint8_t* dst, const uint8_t* bits, uint32_t pixels, unsigned first_bit);
  void cpu_row(const uint8_t* data);
  Outcome refuse();

  std::span<uint8_t> vram_;
  WriteNotify notify_;
  Params p_;
  bool active_ = false;
  uint32_t rows_done_ = 0;
  uint32_t row_bytes_ = 0;  // CPU bytes per row
  std::vector<uint8_t> row_buf_;
  uint64_t done_ = 0, refused_ = 0;
};

}  // namespace rrvm
