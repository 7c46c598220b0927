// CLI11 checks for numeric options, with messages a user can act on:
// unsigned options must not take "-5" (CLI11 converts it to a huge number).
#pragma once
#include <CLI/CLI.hpp>

#include <charconv>
#include <string>

namespace rrvm::cli {

// A whole number >= `min` in decimal, or in hex with 0x.
inline CLI::Validator whole_number(uint64_t min = 0) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        const bool hexadecimal = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
        const char* begin = text.data() + (hexadecimal ? 2 : 0);
        const char* end = text.data() + text.size();
        uint64_t v = 0;
        auto [stop, ec] = std::from_chars(begin, end, v, hexadecimal ? 16 : 10);
        if (ec == std::errc::result_out_of_range) return "'" + text + "' is too large";
        if (ec != std::errc() || stop != end || begin == end)
          return "'" + text + "' is not a whole number" + (min ? " >= " + std::to_string(min) : std::string(" >= 0"));
        if (v < min) return "'" + text + "' must be at least " + std::to_string(min);
        if (hexadecimal) text = std::to_string(v);  // CLI11's own conversion is decimal
        return {};
      },
      min ? "N>=" + std::to_string(min) : "N>=0");
}

}  // namespace rrvm::cli
