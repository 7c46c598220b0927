#include "vmm/kernel_payload.h"

#include <lzma.h>
#include <zlib.h>

#include <cstring>

#include "vmm/file_read.h"

namespace rrvm {

namespace {

bool starts_with(std::span<const uint8_t> b, std::initializer_list<uint8_t> magic) {
  if (b.size() < magic.size()) return false;
  return std::equal(magic.begin(), magic.end(), b.begin());
}

// The size the kernel's build appends (arch/x86/boot/compressed/Makefile:
// size_append), a hint for the output buffer only: the decoder's own end
// is what counts.
uint64_t appended_size(std::span<const uint8_t> p) {
  if (p.size() < 4) return 0;
  const uint8_t* t = p.data() + p.size() - 4;
  return uint64_t(t[0]) | uint64_t(t[1]) << 8 | uint64_t(t[2]) << 16 | uint64_t(t[3]) << 24;
}

std::vector<uint8_t> inflate_xz(std::span<const uint8_t> p, bool legacy_lzma, const std::string& what,
                                uint64_t max_bytes) {
  lzma_stream s = LZMA_STREAM_INIT;
  const lzma_ret init = legacy_lzma ? lzma_alone_decoder(&s, UINT64_MAX) : lzma_stream_decoder(&s, UINT64_MAX, 0);
  if (init != LZMA_OK) throw ImageError(what + ": cannot start the " + (legacy_lzma ? "LZMA" : "XZ") + " decoder");
  std::vector<uint8_t> out(std::min<uint64_t>(std::max<uint64_t>(appended_size(p), 1 << 20), max_bytes));
  s.next_in = p.data();
  s.avail_in = p.size();
  s.next_out = out.data();
  s.avail_out = out.size();
  lzma_ret r = LZMA_OK;
  while (true) {
    r = lzma_code(&s, LZMA_FINISH);
    if (r == LZMA_STREAM_END) break;
    if (r != LZMA_OK && r != LZMA_BUF_ERROR) break;
    if (s.avail_out == 0) {
      if (out.size() >= max_bytes) {
        lzma_end(&s);
        throw ImageError(what + ": the decompressed kernel is larger than " + std::to_string(max_bytes >> 20) + " MiB");
      }
      const size_t used = out.size();
      out.resize(std::min<uint64_t>(used * 2, max_bytes));
      s.next_out = out.data() + used;
      s.avail_out = out.size() - used;
    } else if (r == LZMA_BUF_ERROR) {
      break;  // input ended before the stream did
    }
  }
  const size_t produced = out.size() - s.avail_out;
  lzma_end(&s);
  // The XZ stream ends before the appended size; anything else is damage.
  if (r != LZMA_STREAM_END)
    throw ImageError(what + ": the " + std::string(legacy_lzma ? "LZMA" : "XZ") +
                     " payload is damaged or truncated (decoder status " + std::to_string(int(r)) + ")");
  out.resize(produced);
  return out;
}

std::vector<uint8_t> inflate_gzip(std::span<const uint8_t> p, const std::string& what, uint64_t max_bytes) {
  z_stream s{};
  if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) throw ImageError(what + ": cannot start the gzip decoder");
  std::vector<uint8_t> out(std::min<uint64_t>(std::max<uint64_t>(appended_size(p), 1 << 20), max_bytes));
  s.next_in = const_cast<Bytef*>(p.data());
  s.avail_in = static_cast<uInt>(p.size());
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  int r = Z_OK;
  while (true) {
    r = inflate(&s, Z_NO_FLUSH);
    if (r == Z_STREAM_END) break;
    if (r != Z_OK && r != Z_BUF_ERROR) break;
    if (s.avail_out == 0) {
      if (out.size() >= max_bytes) {
        inflateEnd(&s);
        throw ImageError(what + ": the decompressed kernel is larger than " + std::to_string(max_bytes >> 20) + " MiB");
      }
      const size_t used = out.size();
      out.resize(std::min<uint64_t>(used * 2, max_bytes));
      s.next_out = out.data() + used;
      s.avail_out = static_cast<uInt>(out.size() - used);
    } else if (r == Z_BUF_ERROR) {
      break;
    }
  }
  const size_t produced = out.size() - s.avail_out;
  inflateEnd(&s);
  if (r != Z_STREAM_END)
    throw ImageError(what + ": the gzip payload is damaged or truncated (zlib status " + std::to_string(r) + ")");
  out.resize(produced);
  return out;
}

}  // namespace

std::string kernel_payload_format(std::span<const uint8_t> p) {
  if (starts_with(p, {0xFD, '7', 'z', 'X', 'Z', 0x00})) return "xz";
  if (starts_with(p, {0x1F, 0x8B})) return "gzip";
  if (starts_with(p, {0x5D, 0x00, 0x00})) return "lzma";
  if (starts_with(p, {'B', 'Z', 'h'})) return "bzip2";
  if (starts_with(p, {0x89, 'L', 'Z', 'O'})) return "lzo";
  if (starts_with(p, {0x02, 0x21, 0x4C, 0x18})) return "lz4";
  if (starts_with(p, {0x28, 0xB5, 0x2F, 0xFD})) return "zstd";
  return "unknown";
}

std::vector<uint8_t> decompress_kernel_payload(std::span<const uint8_t> payload, const std::string& what,
                                               uint64_t max_bytes) {
  const std::string format = kernel_payload_format(payload);
  if (format == "xz") return inflate_xz(payload, false, what, max_bytes);
  if (format == "lzma") return inflate_xz(payload, true, what, max_bytes);
  if (format == "gzip") return inflate_gzip(payload, what, max_bytes);
  if (format == "unknown")
    throw ImageError(what + ": the bzImage payload is in no compression format rrvm knows (magic bytes do not match)");
  throw ImageError(what + ": the bzImage payload is " + format +
                   "-compressed, which rrvm does not decompress (it reads xz, lzma and gzip); pass the "
                   "uncompressed vmlinux ELF instead");
}

}  // namespace rrvm
