#include "cli/frame_files.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "display/png_writer.h"
#include "vmm/exit_status.h"

namespace rrvm::cli {

namespace {
bool is_frame_file_name(const std::string& name) {
  // frame-NNNNNN.png, six digits or more (the index is at least six wide)
  if (name.size() < 16 || name.rfind("frame-", 0) != 0 || name.substr(name.size() - 4) != ".png") return false;
  return std::all_of(name.begin() + 6, name.end() - 4, [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

FrameFiles::FrameFiles(std::string dir, uint64_t every, const std::string& option, const std::vector<InputFile>& inputs)
    : dir_(std::move(dir)), every_(every ? every : 1) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw OutputError(option + ": cannot create '" + dir_ + "': " + ec.message());
  // An input among the frame names (a trace saved as frame-000003.png, or a
  // link to it) would be overwritten by that frame: refused before any is.
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec))
    if (is_frame_file_name(entry.path().filename().string()))
      refuse_output_over_input(inputs, entry.path().string(), option);
  // Fail now, not at the first frame, when the directory is not writable.
  std::string probe = dir_ + "/.rrvm-write-test";
  FILE* f = std::fopen(probe.c_str(), "wb");
  if (!f) throw OutputError(option + ": cannot write in '" + dir_ + "': " + std::strerror(errno));
  std::fclose(f);
  std::remove(probe.c_str());
}

bool FrameFiles::names_a_frame_file(const std::string& path) const {
  const std::filesystem::path p(path);
  std::error_code ec;
  const std::filesystem::path parent = p.has_parent_path() ? p.parent_path() : ".";
  return is_frame_file_name(p.filename().string()) && std::filesystem::equivalent(parent, dir_, ec);
}

void FrameFiles::write(uint64_t index, std::span<const uint8_t> png) {
  write_png_file(fmt::format("{}/frame-{:06}.png", dir_, index), png);
  ++written_;
}

}  // namespace rrvm::cli
