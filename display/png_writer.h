// RGB888 frames to PNG files (libpng).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "display/renderer.h"

namespace rrvm {

// Throws std::runtime_error with one line (path and reason) on failure.
void write_png(const std::string& path, const Frame& frame);
// The same PNG file, into `out` (replacing its content): for containers that
// carry PNG data, such as the animated PNG writer. Throws like write_png.
void encode_png(const Frame& frame, std::vector<uint8_t>& out);

// Reads an 8-bit RGB PNG back (tests, reference images). Throws on failure.
Frame read_png(const std::string& path);

}  // namespace rrvm
