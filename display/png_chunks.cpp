#include "display/png_chunks.h"

#include <isa-l/crc.h>

namespace rrvm {

uint32_t png_crc(uint32_t crc, std::span<const uint8_t> data) {
  return data.empty() ? crc : crc32_gzip_refl(crc, data.data(), data.size());
}

void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(v >> shift));
}

void put_be16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}

void append_png_chunk(std::vector<uint8_t>& out, const char* type, std::span<const uint8_t> prefix,
                      std::span<const uint8_t> data) {
  put_be32(out, uint32_t(prefix.size() + data.size()));
  size_t crc_from = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), prefix.begin(), prefix.end());
  uint32_t crc = png_crc(0, std::span<const uint8_t>(out).subspan(crc_from));
  crc = png_crc(crc, data);
  out.insert(out.end(), data.begin(), data.end());
  put_be32(out, crc);
}

std::vector<uint8_t> png_rgb_header(uint32_t width, uint32_t height) {
  std::vector<uint8_t> ihdr;
  put_be32(ihdr, width);
  put_be32(ihdr, height);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit, RGB, deflate, adaptive filters, no interlace
  return ihdr;
}

}  // namespace rrvm
