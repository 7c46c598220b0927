// The compressed kernel inside a bzImage (its setup header's payload) back
// to the ELF it was made from. Debian compresses with XZ; gzip and the
// legacy LZMA format decode too, with the libraries rrvm links anyway. Every
// other format the kernel's build offers (bzip2, LZO, LZ4, zstd) is named in
// a one-line ImageError.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace rrvm {

// The payload's format by its magic bytes: "xz", "gzip", "lzma", "bzip2",
// "lzo", "lz4", "zstd", or "unknown".
std::string kernel_payload_format(std::span<const uint8_t> payload);

// Decompresses `payload` (the last 4 bytes are the uncompressed size, little
// endian, as the kernel's build appends it) into at most `max_bytes`.
// `what` names the file in errors ("kernel 'PATH'").
std::vector<uint8_t> decompress_kernel_payload(std::span<const uint8_t> payload, const std::string& what,
                                               uint64_t max_bytes);

}  // namespace rrvm
