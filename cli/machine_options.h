// Options shared by the subcommands that build a machine (run, record).
#pragma once
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "system/input_files.h"
#include "system/pc_system.h"

namespace rrvm::cli {

struct MachineOptions {
  std::string backend = "auto";
  uint64_t mem = 32ull << 20;
  CLI::Option* mem_option = nullptr;  // given: a Linux machine takes it instead of its own default
  std::string serial_in;
  std::string serial_out;
  std::string debugcon_out;
  uint64_t max_instructions = 0;
  std::string load_addr;
  std::string entry;
  int64_t rtc_base = kDefaultRtcBase;
  std::string image;
  // Firmware boot (--bios; --floppy or --disk alone imply it).
  CLI::Option* bios_option = nullptr;  // given with or without a FILE
  std::string bios;
  std::string vga_bios = kDefaultVgaBiosPath;
  std::string floppy;
  std::string disk;
  std::string boot;  // "floppy" or "disk"; default: the floppy when there is one
  std::string bios_log;
  bool patch_tsc = false;  // hidden: for test guests until --kernel does it
  // Linux boot (--kernel; QEMU's option names).
  std::string kernel;
  std::string initrd;
  CLI::Option* append_option = nullptr;
  std::string append;
};

// Guest RAM of a Linux machine without --mem: Debian's kernel alone spans
// 16-75 MiB, and the rest is its page cache, the initramfs and its tmpfs.
constexpr uint64_t kDefaultLinuxMemBytes = 256ull << 20;

void add_machine_options(CLI::App& cmd, MachineOptions& o);

// Output files opened for the guest's serial port and debug console. Closed
// (flushed) when destroyed, so output written before an error is kept.
// Whether two paths name the same file (device and inode; the same string
// when either does not exist).
bool same_file(const std::string& a, const std::string& b);
// `path` opened for writing; SystemError (kExitBadInput) naming `option` when it
// cannot be.
FILE* open_output(const std::string& path, const char* option);

struct GuestOutputs {
  GuestOutputs() = default;
  GuestOutputs(const GuestOutputs&) = delete;
  GuestOutputs& operator=(const GuestOutputs&) = delete;
  ~GuestOutputs();
  // Opens the files `o` names; SystemError when one is one of `inputs`.
  void open(const MachineOptions& o, const std::vector<InputFile>& inputs);
  FILE* serial = stdout;
  FILE* debugcon = stderr;
  FILE* bios_log = nullptr;  // --bios-log; none: SeaBIOS's debug output is dropped
};

// Builds the SystemConfig and opens `outputs` (refusing an output that is one
// of the machine's inputs); throws SystemError for malformed option values.
SystemConfig make_system_config(const MachineOptions& o, GuestOutputs& outputs);

// "rrvm: backend emu (auto: ...)" on stderr.
void announce_backend(const PcSystem& sys);

}  // namespace rrvm::cli
