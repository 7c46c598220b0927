// The animated PNG writer, checked chunk by chunk: CRCs, the sequence that
// fcTL and fdAT share, the frame count patched into acTL, and each frame's
// pixels, decoded by libpng from a plain PNG rebuilt out of that frame's data
// (so the check does not go through the writer's own code).
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "display/apng_writer.h"
#include "display/png_writer.h"

namespace rrvm::test {
namespace {

// zlib's crc32 of `type` then `data`; crc32(crc, NULL, 0) would reset to 0.
uint32_t chunk_crc(const uint8_t* type, const std::vector<uint8_t>& data) {
  uLong crc = crc32(0, type, 4);
  if (!data.empty()) crc = crc32(crc, data.data(), uInt(data.size()));
  return uint32_t(crc);
}

struct Chunk {
  std::string type;
  std::vector<uint8_t> data;
};

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Splits a PNG file into chunks, failing the test on a bad CRC.
std::vector<Chunk> chunks_of(const std::vector<uint8_t>& file) {
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<Chunk> out;
  EXPECT_TRUE(file.size() >= 8 && std::equal(sig, sig + 8, file.begin()));
  size_t pos = 8;
  while (pos + 12 <= file.size()) {
    uint32_t n = be32(&file[pos]);
    if (pos + 12 + n > file.size()) break;
    Chunk c{std::string(file.begin() + pos + 4, file.begin() + pos + 8),
            {file.begin() + pos + 8, file.begin() + pos + 8 + n}};
    uint32_t crc = chunk_crc(&file[pos + 4], c.data);
    EXPECT_EQ(crc, be32(&file[pos + 8 + n])) << "bad CRC in " << c.type;
    out.push_back(std::move(c));
    pos += 12 + n;
  }
  EXPECT_EQ(pos, file.size()) << "trailing bytes";
  return out;
}

void put_chunk(std::vector<uint8_t>& out, const std::string& type, const std::vector<uint8_t>& data) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(data.size() >> s));
  out.insert(out.end(), type.begin(), type.end());
  out.insert(out.end(), data.begin(), data.end());
  uint32_t crc = chunk_crc(reinterpret_cast<const uint8_t*>(type.data()), data);
  for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(crc >> s));
}

Frame solid(uint32_t w, uint32_t h, uint8_t r, uint8_t g, uint8_t b) {
  Frame f;
  f.width = w;
  f.height = h;
  for (size_t i = 0; i < size_t(w) * h; ++i) f.rgb.insert(f.rgb.end(), {r, g, b});
  return f;
}

Frame noise(uint32_t w, uint32_t h, unsigned seed) {
  Frame f;
  f.width = w;
  f.height = h;
  std::mt19937 rng(seed);
  for (size_t i = 0; i < size_t(w) * h * 3; ++i) f.rgb.push_back(uint8_t(rng()));
  return f;
}

// `f` on a black canvas of `w` x `h`, at 0,0.
Frame padded(const Frame& f, uint32_t w, uint32_t h) {
  Frame out = solid(w, h, 0, 0, 0);
  for (uint32_t y = 0; y < f.height; ++y)
    std::copy_n(f.rgb.begin() + size_t(y) * f.width * 3, f.width * 3, out.rgb.begin() + size_t(y) * w * 3);
  return out;
}

std::string temp_path(const std::string& name) {
  return testing::TempDir() + "rrvm_apng_" + std::to_string(getpid()) + "_" + name;
}

TEST(ApngDelay, PicksTheFinestDenominatorThatFits) {
  EXPECT_EQ(apng_delay_from_ns(0), (ApngDelay{0, 10000}));
  EXPECT_EQ(apng_delay_from_ns(16666667), (ApngDelay{167, 10000}));  // 60 Hz
  EXPECT_EQ(apng_delay_from_ns(40000000), (ApngDelay{400, 10000}));
  EXPECT_EQ(apng_delay_from_ns(6553500000ull), (ApngDelay{65535, 10000}));
  EXPECT_EQ(apng_delay_from_ns(10000000000ull), (ApngDelay{10000, 1000}));
  EXPECT_EQ(apng_delay_from_ns(100000000000000ull), (ApngDelay{65535, 1}));  // saturates
}

TEST(ApngWriter, FramesSequenceAndPixelsDecode) {
  const std::vector<Frame> frames = {noise(120, 90, 1), solid(50, 40, 10, 200, 30), noise(120, 90, 2),
                                     noise(120, 60, 3)};
  const std::vector<ApngDelay> delays = {{167, 10000}, {400, 10000}, {0, 10000}, {1, 1}};
  std::string path = temp_path("four.png");
  {
    ApngWriter w(path, 120, 90);
    for (size_t i = 0; i < frames.size(); ++i) w.add_frame(frames[i], delays[i]);
    EXPECT_EQ(w.frames(), 4u);
    w.finish();
  }
  std::vector<Chunk> chunks = chunks_of(slurp(path));
  ASSERT_GE(chunks.size(), 4u);
  ASSERT_EQ(chunks[0].type, "IHDR");
  EXPECT_EQ(be32(&chunks[0].data[0]), 120u);
  EXPECT_EQ(be32(&chunks[0].data[4]), 90u);
  EXPECT_EQ(chunks[0].data[8], 8);  // bit depth
  EXPECT_EQ(chunks[0].data[9], 2);  // RGB
  ASSERT_EQ(chunks[1].type, "acTL");
  EXPECT_EQ(be32(&chunks[1].data[0]), 4u);  // patched in by finish()
  EXPECT_EQ(be32(&chunks[1].data[4]), 0u);  // loop forever
  EXPECT_EQ(chunks.back().type, "IEND");

  // Walk the frames: fcTL, then IDAT (frame 0) or fdAT chunks.
  uint32_t next_sequence = 0;
  int frame = -1;
  std::vector<std::vector<uint8_t>> image_data(frames.size());
  size_t fdat_chunks = 0;
  for (size_t i = 2; i + 1 < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    if (c.type == "fcTL") {
      ++frame;
      ASSERT_LT(frame, int(frames.size()));
      ASSERT_EQ(c.data.size(), 26u);
      EXPECT_EQ(be32(&c.data[0]), next_sequence++);
      EXPECT_EQ(be32(&c.data[4]), 120u);
      EXPECT_EQ(be32(&c.data[8]), 90u);
      EXPECT_EQ(be32(&c.data[12]), 0u);
      EXPECT_EQ(be32(&c.data[16]), 0u);
      EXPECT_EQ(be16(&c.data[20]), delays[frame].num);
      EXPECT_EQ(be16(&c.data[22]), delays[frame].den);
      EXPECT_EQ(c.data[24], 0);  // dispose none
      EXPECT_EQ(c.data[25], 0);  // blend source
    } else if (c.type == "IDAT") {
      EXPECT_EQ(frame, 0) << "IDAT outside the first frame";
      image_data[0].insert(image_data[0].end(), c.data.begin(), c.data.end());
    } else if (c.type == "fdAT") {
      ASSERT_GE(frame, 1) << "fdAT in the first frame";
      EXPECT_EQ(be32(&c.data[0]), next_sequence++);
      image_data[frame].insert(image_data[frame].end(), c.data.begin() + 4, c.data.end());
      ++fdat_chunks;
    } else {
      ADD_FAILURE() << "unexpected chunk " << c.type;
    }
  }
  EXPECT_EQ(frame, int(frames.size()) - 1);
  EXPECT_GT(fdat_chunks, frames.size() - 1) << "noise frames should span several chunks each";

  // Each frame as a plain PNG (the IHDR, its data as one IDAT) through libpng.
  for (size_t i = 0; i < frames.size(); ++i) {
    std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    put_chunk(png, "IHDR", chunks[0].data);
    put_chunk(png, "IDAT", image_data[i]);
    put_chunk(png, "IEND", {});
    std::string one = temp_path("frame" + std::to_string(i) + ".png");
    std::ofstream(one, std::ios::binary).write(reinterpret_cast<const char*>(png.data()), png.size());
    Frame back = read_png(one);
    std::remove(one.c_str());
    Frame want = padded(frames[i], 120, 90);
    EXPECT_EQ(back.width, want.width);
    EXPECT_EQ(back.height, want.height);
    EXPECT_TRUE(back.rgb == want.rgb) << "frame " << i << " pixels differ";
  }
  std::remove(path.c_str());
}

TEST(ApngWriter, ErrorsAreOneLineNamingTheFile) {
  auto message = [](auto&& action) -> std::string {
    try {
      action();
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  };
  std::string m = message([] { ApngWriter("/nonexistent-dir/a.png", 4, 4); });
  EXPECT_NE(m.find("/nonexistent-dir/a.png"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos);

  std::string path = temp_path("errors.png");
  m = message([&] {
    ApngWriter w(path, 4, 4);
    w.add_frame(solid(5, 4, 1, 2, 3), {1, 10});
  });
  EXPECT_NE(m.find(path), std::string::npos) << m;
  EXPECT_NE(m.find("larger than the 4x4 canvas"), std::string::npos) << m;
  EXPECT_NE(message([&] { ApngWriter(path, 4, 4).add_frame(Frame{}, {1, 10}); }).find("empty"), std::string::npos);
  EXPECT_NE(message([&] { ApngWriter(path, 0, 4); }).find("canvas"), std::string::npos);
  m = message([&] { ApngWriter(path, 4, 4).finish(); });
  EXPECT_NE(m.find("no frames"), std::string::npos) << m;
  // Neither a failed nor an unfinished file is left behind.
  EXPECT_FALSE(std::ifstream(path).good());
  {
    ApngWriter w(path, 4, 4);
    w.add_frame(solid(4, 4, 1, 2, 3), {1, 10});
  }
  EXPECT_FALSE(std::ifstream(path).good());
}

}  // namespace
}  // namespace rrvm::test
