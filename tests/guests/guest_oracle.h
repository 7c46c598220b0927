// The guests' specification (tests/guests/expected/) as data: which image,
// what it is fed on COM1, which exit status and output it must produce.
// qemu_crosscheck checks QEMU against it; rrvm's run tests reuse it.
#pragma once
#include <string>
#include <vector>

namespace rrvm::guests {

struct GuestSpec {
  std::string name;
  std::string image_path;  // built image under the build tree's guests/
  bool elf = false;
  int exit_status = 0;     // value written to the debug-exit port 0xF4
  std::string input;       // bytes fed to COM1 (empty: none)
  std::string expected;    // exact text, or a regex when expected_is_regex
  bool expected_is_regex = false;
};

// Reads expected/guests.txt and the per-guest files; throws
// std::runtime_error with one line naming the file on any problem.
std::vector<GuestSpec> load_guest_specs(const std::string& expected_dir = RRVM_GUEST_EXPECTED_DIR,
                                        const std::string& guest_dir = RRVM_GUEST_DIR);
const GuestSpec& find_guest_spec(const std::vector<GuestSpec>& specs, const std::string& name);

// "" when `output` (from `channel`, e.g. "serial") meets the spec, else one
// line saying what differs.
std::string check_guest_output(const GuestSpec& spec, const std::string& channel,
                               const std::string& output);

// Process exit code of QEMU's isa-debug-exit for a guest status.
constexpr int debug_exit_code(int status) { return (status << 1) | 1; }

std::string read_text_file(const std::string& path);

}  // namespace rrvm::guests
