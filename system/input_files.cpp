#include "system/input_files.h"

#include <sys/stat.h>

#include "vmm/exit_status.h"

namespace rrvm {

std::vector<InputFile> input_files(const SystemConfig& config) {
  std::vector<InputFile> inputs;
  if (!config.image_path.empty()) inputs.push_back({config.image_path, "the guest image"});
  if (config.serial_in_path && *config.serial_in_path != "-")
    inputs.push_back({*config.serial_in_path, "the --serial-in file"});
  if (const auto& lc = config.linux_boot) {
    inputs.push_back({lc->kernel_path, "the kernel"});
    if (lc->initrd_path) inputs.push_back({*lc->initrd_path, "the initrd"});
  }
  if (const auto& fw = config.firmware) {
    inputs.push_back({fw->bios_path, "the BIOS image"});
    inputs.push_back({fw->vga_bios_path, "the VGA BIOS image"});
    if (fw->floppy_path) inputs.push_back({*fw->floppy_path, "the floppy image"});
    if (fw->disk_path) inputs.push_back({*fw->disk_path, "the disk image"});
  }
  return inputs;
}

void refuse_output_over_input(const std::vector<InputFile>& inputs, const std::string& path,
                              const std::string& option) {
  struct stat out {};
  if (::stat(path.c_str(), &out) != 0) return;  // a new file is no input
  for (const InputFile& input : inputs) {
    struct stat in {};
    if (::stat(input.path.c_str(), &in) != 0 || in.st_dev != out.st_dev || in.st_ino != out.st_ino) continue;
    throw SystemError(option + " '" + path + "' is " + input.what + " '" + input.path +
                          "'; writing it would destroy that input: give another output path",
                      kExitBadInput);
  }
}

}  // namespace rrvm
