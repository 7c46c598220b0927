// RGB888 frames to PNG files (libpng).
#pragma once
#include <string>

#include "display/renderer.h"

namespace rrvm {

// Throws std::runtime_error with one line (path and reason) on failure.
void write_png(const std::string& path, const Frame& frame);

// Reads an 8-bit RGB PNG back (tests, reference images). Throws on failure.
Frame read_png(const std::string& path);

}  // namespace rrvm
