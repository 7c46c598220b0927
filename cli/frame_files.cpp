#include "cli/frame_files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "display/png_writer.h"
#include "vmm/exit_status.h"

namespace rrvm::cli {

FrameFiles::FrameFiles(std::string dir, uint64_t every, const std::string& option)
    : dir_(std::move(dir)), every_(every ? every : 1) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw OutputError(option + ": cannot create '" + dir_ + "': " + ec.message());
  // Fail now, not at the first frame, when the directory is not writable.
  std::string probe = dir_ + "/.rrvm-write-test";
  FILE* f = std::fopen(probe.c_str(), "wb");
  if (!f) throw OutputError(option + ": cannot write in '" + dir_ + "': " + std::strerror(errno));
  std::fclose(f);
  std::remove(probe.c_str());
}

void FrameFiles::write(uint64_t index, std::span<const uint8_t> png) {
  write_png_file(fmt::format("{}/frame-{:06}.png", dir_, index), png);
  ++written_;
}

}  // namespace rrvm::cli
