// PngEncoder, the encoder of every PNG rrvm writes: pictures decode to the
// same pixels through libpng (an independent decoder), chunks are well formed
// (CRCs checked with zlib), and the bytes depend only on the frame, which is
// what lets frames be encoded on any thread or reused.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "display/png_chunks.h"
#include "display/png_encoder.h"
#include "display/png_writer.h"

namespace rrvm::test {
namespace {

Frame noise(uint32_t w, uint32_t h, unsigned seed) {
  Frame f;
  f.width = w;
  f.height = h;
  std::mt19937 rng(seed);
  for (size_t i = 0; i < size_t(w) * h * 3; ++i) f.rgb.push_back(uint8_t(rng()));
  return f;
}

// Screen-like: flat bands and a few edges (what compresses to runs).
Frame bands(uint32_t w, uint32_t h, unsigned shift) {
  Frame f;
  f.width = w;
  f.height = h;
  for (uint32_t y = 0; y < h; ++y)
    for (uint32_t x = 0; x < w; ++x)
      f.rgb.insert(f.rgb.end(), {uint8_t((x + shift) / 37 * 40), uint8_t(y / 23 * 30), uint8_t((x ^ y) & 0x80)});
  return f;
}

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

Frame decode(const std::vector<uint8_t>& png, const std::string& name) {
  std::string path = testing::TempDir() + "rrvm_pngenc_" + std::to_string(getpid()) + "_" + name + ".png";
  write_png_file(path, png);
  Frame back = read_png(path);  // libpng
  std::remove(path.c_str());
  return back;
}

TEST(PngEncoder, PicturesDecodeToTheSamePixels) {
  // Odd widths leave rows that are not a multiple of the filter's 16-byte
  // blocks; 800x600 noise does not compress (stored blocks).
  const std::vector<Frame> frames = {noise(1, 1, 1), noise(17, 5, 2), bands(640, 480, 0), bands(801, 3, 5),
                                     noise(800, 600, 3), bands(4, 300, 1)};
  PngEncoder encoder;
  for (size_t i = 0; i < frames.size(); ++i) {
    std::vector<uint8_t> png;
    encoder.encode(frames[i], png);
    Frame back = decode(png, std::to_string(i));
    EXPECT_EQ(back.width, frames[i].width) << i;
    EXPECT_EQ(back.height, frames[i].height) << i;
    EXPECT_TRUE(back.rgb == frames[i].rgb) << "frame " << i << " pixels differ";
  }
}

TEST(PngEncoder, ChunksAreWellFormed) {
  std::vector<uint8_t> png;
  PngEncoder().encode(noise(120, 90, 4), png);  // ~32 KiB of image data: several IDAT chunks
  ASSERT_GE(png.size(), 8u);
  EXPECT_TRUE(std::equal(kPngSignature, kPngSignature + 8, png.begin()));
  std::vector<std::string> types;
  size_t pos = 8;
  while (pos + 12 <= png.size()) {
    uint32_t n = be32(&png[pos]);
    ASSERT_LE(pos + 12 + n, png.size());
    types.emplace_back(png.begin() + pos + 4, png.begin() + pos + 8);
    uLong crc = crc32(0, &png[pos + 4], uInt(4 + n));  // zlib's CRC: the one PNG specifies
    EXPECT_EQ(uint32_t(crc), be32(&png[pos + 8 + n])) << "bad CRC in " << types.back();
    if (types.back() == "IDAT") {
      EXPECT_LE(n, kPngImageChunkBytes);
    }
    pos += 12 + n;
  }
  EXPECT_EQ(pos, png.size());
  ASSERT_GE(types.size(), 4u);
  EXPECT_EQ(types.front(), "IHDR");
  EXPECT_EQ(types.back(), "IEND");
  EXPECT_GE(std::count(types.begin(), types.end(), "IDAT"), 3);
}

TEST(PngEncoder, CrcIsZlibs) {
  std::vector<uint8_t> data = noise(100, 1, 5).rgb;
  uLong want = crc32(0, data.data(), uInt(data.size()));
  EXPECT_EQ(png_crc(0, data), uint32_t(want));
  // Continued over pieces, as chunks are checksummed (type, then body).
  uint32_t crc = png_crc(0, std::span<const uint8_t>(data).first(7));
  crc = png_crc(crc, std::span<const uint8_t>(data).subspan(7));
  EXPECT_EQ(crc, uint32_t(want));
  EXPECT_EQ(png_crc(crc, {}), crc);
}

TEST(PngEncoder, BytesDependOnlyOnTheFrame) {
  const Frame a = bands(640, 480, 0), b = noise(300, 200, 6), c = bands(640, 480, 9);
  std::vector<uint8_t> fresh_c, after_others, again, file;
  PngEncoder().encode(c, fresh_c);
  PngEncoder used;
  used.encode(a, after_others);
  used.encode(b, after_others);
  used.encode(c, after_others);  // after other sizes and contents
  used.encode(c, again);
  EXPECT_TRUE(after_others == fresh_c);
  EXPECT_TRUE(again == fresh_c);
  // encode() is png_file() around image_data(); encode_png() is the same.
  std::vector<uint8_t> data;
  used.image_data(c, data);
  PngEncoder::png_file(c.width, c.height, data, file);
  EXPECT_TRUE(file == fresh_c);
  encode_png(c, file);
  EXPECT_TRUE(file == fresh_c);
}

TEST(PngEncoder, ScreenContentCompresses) {
  std::vector<uint8_t> png;
  PngEncoder().encode(bands(800, 600, 0), png);
  EXPECT_LT(png.size(), 800u * 600 * 3 / 50) << "flat bands should compress at least 50x";
}

TEST(PngEncoder, MalformedFramesAreOneLineErrors) {
  Frame bad = noise(4, 4, 7);
  bad.rgb.pop_back();
  std::vector<uint8_t> out;
  for (const Frame& f : {Frame{}, bad}) {
    try {
      PngEncoder().encode(f, out);
      ADD_FAILURE() << "expected an error";
    } catch (const std::runtime_error& e) {
      std::string m = e.what();
      EXPECT_NE(m.find("empty or malformed"), std::string::npos) << m;
      EXPECT_EQ(m.find('\n'), std::string::npos);
    }
  }
}

TEST(PngWriter, AFullDiskIsOneLineNamingTheFile) {
  if (!std::ifstream("/dev/full").good()) GTEST_SKIP() << "no /dev/full";
  std::vector<uint8_t> png;
  PngEncoder().encode(noise(64, 64, 8), png);
  try {
    write_png_file("/dev/full", png);  // every write fails with ENOSPC
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("'/dev/full'"), std::string::npos) << m;
    EXPECT_NE(m.find("No space left on device"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace rrvm::test
