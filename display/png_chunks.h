// PNG chunk framing shared by the PNG and animated PNG writers: length, type,
// data, CRC-32 (ISA-L's: the CRC zlib computes, several times faster, which
// matters for incompressible frames whose image data is as large as the
// picture).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace rrvm {

inline constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
// Image data is split into chunks of this size, as libpng splits it: a
// decoder never needs a large chunk whole.
inline constexpr size_t kPngImageChunkBytes = 8192;

// The PNG (zlib) CRC-32 of `data`, continuing `crc` (0 to start).
uint32_t png_crc(uint32_t crc, std::span<const uint8_t> data);

void put_be32(std::vector<uint8_t>& out, uint32_t v);
void put_be16(std::vector<uint8_t>& out, uint16_t v);

// Appends one chunk to `out`: length, `type` (4 letters), `prefix` then
// `data` as its body, and the CRC of type and body.
void append_png_chunk(std::vector<uint8_t>& out, const char* type, std::span<const uint8_t> prefix,
                      std::span<const uint8_t> data);

// The IHDR body of an 8-bit RGB image: deflate, adaptive filters, no interlace.
std::vector<uint8_t> png_rgb_header(uint32_t width, uint32_t height);

}  // namespace rrvm
