// PNG files: RGB888 frames written with PngEncoder, PNG bytes written to a
// file, and 8-bit RGB PNGs read back with libpng (an independent decoder).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "display/renderer.h"

namespace rrvm {

// Throws std::runtime_error with one line (path and reason) on failure.
void write_png(const std::string& path, const Frame& frame);
// The same PNG file, into `out` (replacing its content). Throws like write_png.
void encode_png(const Frame& frame, std::vector<uint8_t>& out);
// Writes `png` (an encoded PNG file) to `path`, replacing it. Throws
// std::runtime_error with one line naming `path` when the file cannot be
// created, written or closed (a full disk shows at the write or the close).
void write_png_file(const std::string& path, std::span<const uint8_t> png);

// Reads an 8-bit RGB PNG back (tests, reference images). Throws on failure.
Frame read_png(const std::string& path);

}  // namespace rrvm
