// A directory of frame-NNNNNN.png files: the naming and --every selection
// shared by `rrvm frames` (frames rebuilt from the trace) and `rrvm replay
// --frames` (frames the replayed device renders), so the two directories
// compare file by file. Frame N is the trace's Nth display-frame event.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "system/input_files.h"

namespace rrvm::cli {

class FrameFiles {
 public:
  // Creates `dir` (and parents) and checks a file can be written there.
  // Throws std::runtime_error with one line naming `option` and `dir`, and
  // SystemError when a frame-NNNNNN.png there is one of `inputs` (writing
  // frames would destroy it).
  FrameFiles(std::string dir, uint64_t every, const std::string& option, const std::vector<InputFile>& inputs = {});

  // Whether `path` would be one of this directory's frame files.
  bool names_a_frame_file(const std::string& path) const;

  // Whether frame `index` is selected by --every.
  bool selected(uint64_t index) const { return index % every_ == 0; }
  // Writes `png`, frame `index` encoded, as dir/frame-NNNNNN.png. Throws
  // std::runtime_error (one line naming the file) on failure.
  void write(uint64_t index, std::span<const uint8_t> png);

  const std::string& dir() const { return dir_; }
  uint64_t written() const { return written_; }

 private:
  std::string dir_;
  uint64_t every_;
  uint64_t written_ = 0;
};

}  // namespace rrvm::cli
