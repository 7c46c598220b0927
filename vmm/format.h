// Text formatting for messages: libfmt, plus the one helper every layer
// used to copy (addresses and values in hex, "0x" prefixed).
#pragma once
#include <fmt/format.h>

#include <cstdint>
#include <string>

namespace rrvm {

inline std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

}  // namespace rrvm
