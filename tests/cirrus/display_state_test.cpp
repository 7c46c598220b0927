#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "display/png_writer.h"
#include "tests/cirrus/cirrus_rig.h"

namespace rrvm::test {
namespace {

TEST(DisplayState, SerializeRoundTripsEveryField) {
  CirrusRig rig;
  rig.enable_bars();
  rig.set_extended_mode(800, 600, 16);
  rig.dac(3, 10, 20, 30);
  rig.seq(0x12, 0x02);
  rig.dac(15, 1, 2, 3);
  rig.seq(0x10 | (1 << 5), 7);
  DisplayState s = rig.vga.display_state();
  std::vector<uint8_t> bytes = serialize(s);
  DisplayState back = deserialize_display_state(bytes);
  EXPECT_EQ(back, s);
  EXPECT_EQ(back.cursor_x, 57);
  EXPECT_EQ(back.cursor_palette[45], 1);
  EXPECT_EQ(back.hidden_dac, 0xC1);
  // A frame rebuilt from the bytes alone equals the live one.
  auto v = rig.vga.vram();
  EXPECT_EQ(render(back, v.data(), v.size()).rgb, rig.frame().rgb);
}

TEST(DisplayState, BadInputThrowsOneClearLine) {
  std::vector<uint8_t> bytes = serialize(DisplayState{});
  auto message = [](std::vector<uint8_t> b) -> std::string {
    try {
      deserialize_display_state(b);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message({bytes.begin(), bytes.begin() + 40}).find("truncated"), std::string::npos);
  auto bad_version = bytes;
  bad_version[4] = 99;
  EXPECT_NE(message(bad_version).find("unsupported version 99"), std::string::npos);
  auto bad_magic = bytes;
  bad_magic[0] = 0;
  EXPECT_NE(message(bad_magic).find("bad magic"), std::string::npos);
  auto trailing = bytes;
  trailing.push_back(0);
  EXPECT_NE(message(trailing).find("trailing"), std::string::npos);
  EXPECT_EQ(message({}).find('\n'), std::string::npos);
}

TEST(PngWriter, WritesAPngThatStandardDecodersRead) {
  Frame f;
  f.width = 3;
  f.height = 2;
  f.rgb = {255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::string path = testing::TempDir() + "rrvm_png_" + std::to_string(getpid()) + ".png";
  write_png(path, f);
  Frame back = read_png(path);  // libpng's own decoder
  EXPECT_EQ(back.width, 3u);
  EXPECT_EQ(back.height, 2u);
  EXPECT_EQ(back.rgb, f.rgb);
  // python3's zlib-based check of the chunk structure, when python3 exists.
  if (std::system("command -v python3 >/dev/null 2>&1") == 0) {
    std::string cmd =
        "python3 -c \"import sys,zlib,struct;d=open(sys.argv[1],'rb').read();"
        "assert d[:8]==b'\\x89PNG\\r\\n\\x1a\\n';w,h=struct.unpack('>II',d[16:24]);"
        "assert (w,h)==(3,2);i=d.index(b'IDAT');n=struct.unpack('>I',d[i-4:i])[0];"
        "raw=zlib.decompress(d[i+4:i+4+n]);assert raw[1:4]==bytes([255,0,0])\" " + path;
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
  std::remove(path.c_str());
}

TEST(PngWriter, IoFailureIsOneClearLine) {
  Frame f;
  f.width = f.height = 1;
  f.rgb = {1, 2, 3};
  try {
    write_png("/nonexistent-dir/x.png", f);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("/nonexistent-dir/x.png"), std::string::npos);
    EXPECT_NE(m.find("No such file"), std::string::npos);
  }
  Frame empty;
  EXPECT_THROW(write_png(testing::TempDir() + "empty.png", empty), std::runtime_error);
}

}  // namespace
}  // namespace rrvm::test
