// The files a run reads (guest image, firmware, disks, serial input, a
// trace), so that no output of rrvm is ever written over one of them: a
// trace, a log or a frame written to an input's path would destroy it.
#pragma once
#include <string>
#include <vector>

#include "system/pc_system.h"

namespace rrvm {

struct InputFile {
  std::string path;
  std::string what;  // how an error names it: "the guest image", "the floppy image"
};

// Every file the machine `config` builds will read ("-" for stdin excluded).
std::vector<InputFile> input_files(const SystemConfig& config);

// SystemError (kExitBadInput, one line naming `option`, the path and the
// input) when `path` exists and is one of `inputs`: the same file by device
// and inode, so links and other spellings of the path are caught too.
void refuse_output_over_input(const std::vector<InputFile>& inputs, const std::string& path,
                              const std::string& option);

}  // namespace rrvm
