// Compares a rendered frame with a committed PNG under tests/cirrus/reference.
// RRVM_UPDATE_REFERENCE=1 rewrites the file instead (only after the test's
// own pixel assertions, which are the real check, pass).
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "display/png_writer.h"

namespace rrvm::test {

inline void expect_matches_reference(const std::string& name, const Frame& f) {
  std::string path = std::string(RRVM_CIRRUS_REFERENCE_DIR) + "/" + name + ".png";
  if (std::getenv("RRVM_UPDATE_REFERENCE")) {
    write_png(path, f);
    return;
  }
  Frame ref = read_png(path);
  ASSERT_EQ(ref.width, f.width) << path;
  ASSERT_EQ(ref.height, f.height) << path;
  size_t mismatches = 0, first = 0;
  for (size_t i = 0; i < f.rgb.size(); ++i)
    if (f.rgb[i] != ref.rgb[i] && mismatches++ == 0) first = i;
  EXPECT_EQ(mismatches, 0u) << path << ": first differing byte at pixel " << first / 3;
}

inline uint32_t pixel(const Frame& f, uint32_t x, uint32_t y) {
  const uint8_t* p = f.rgb.data() + (size_t(y) * f.width + x) * 3;
  return uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2];
}

}  // namespace rrvm::test
