#include "cli/machine_options.h"

#include <sys/stat.h>

#include <cstdio>
#include <utility>
#include <cstring>

#include "cli/option_checks.h"

namespace rrvm::cli {

void add_machine_options(CLI::App& cmd, MachineOptions& o) {
  cmd.add_option("--backend", o.backend, "vCPU backend: auto (kvm when /dev/kvm opens), kvm, emu")
      ->check(CLI::IsMember({"auto", "kvm", "emu"}))
      ->capture_default_str();
  cmd.add_option("--mem", o.mem, "guest RAM size (e.g. 32M, 1G)")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("32M");
  cmd.add_option("--serial-in", o.serial_in, "file fed to the guest's serial port (- for stdin)");
  cmd.add_option("--serial-out", o.serial_out, "write the guest's serial output to FILE (default stdout)");
  cmd.add_option("--debugcon-out", o.debugcon_out,
                 "write the guest's debug console (port 0xE9) to FILE (default stderr)");
  cmd.add_option("--max-instructions", o.max_instructions, "stop the guest after N instructions (emu; exact)")
      ->check(whole_number(1));
  cmd.add_option("--load-addr", o.load_addr, "load address of a raw image (default 0x7C00)");
  cmd.add_option("--entry", o.entry, "entry point (real mode 0000:ENTRY for raw images; EIP for ELF)");
  cmd.add_option("--rtc-base", o.rtc_base,
                 "RTC time at guest start, seconds since 1970 (default 2026-01-01T00:00:00Z)")
      ->capture_default_str();
  cmd.add_option("IMAGE", o.image, "guest image: raw (boot-sector style) or ELF32")->required();
}

static uint64_t parse_address(const std::string& text, const char* option) {
  try {
    size_t used = 0;
    uint64_t v = std::stoull(text, &used, 0);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw SystemError(std::string(option) + ": '" + text + "' is not a number (use e.g. 0x7c00)",
                    kExitBadInput);
}

static FILE* open_output(const std::string& path, const char* option) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f)
    throw SystemError(std::string(option) + ": cannot write '" + path + "': " + std::strerror(errno),
                      kExitBadInput);
  return f;
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return a == b;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

GuestOutputs::GuestOutputs(const MachineOptions& o) {
  // Before anything is opened for writing: an output that is an input.
  for (const auto& [path, option] : {std::pair{o.serial_out, "--serial-out"}, std::pair{o.debugcon_out, "--debugcon-out"}}) {
    if (path.empty()) continue;
    if (same_file(path, o.image))
      throw SystemError(std::string(option) + " '" + path + "' is the guest image; writing it would destroy the image: "
                        "give another output path",
                        kExitBadInput);
    if (!o.serial_in.empty() && o.serial_in != "-" && same_file(path, o.serial_in))
      throw SystemError(std::string(option) + " '" + path + "' is the --serial-in file; writing it would destroy the "
                        "input: give another output path",
                        kExitBadInput);
  }
  if (!o.serial_out.empty()) serial = open_output(o.serial_out, "--serial-out");
  if (!o.debugcon_out.empty()) debugcon = open_output(o.debugcon_out, "--debugcon-out");
}

GuestOutputs::~GuestOutputs() {
  if (serial != stdout) std::fclose(serial);
  if (debugcon != stderr) std::fclose(debugcon);
  std::fflush(stdout);
}

SystemConfig make_system_config(const MachineOptions& o, GuestOutputs& outputs) {
  SystemConfig c;
  c.backend = o.backend == "kvm" ? BackendKind::Kvm
              : o.backend == "emu" ? BackendKind::Emu
                                   : BackendKind::Auto;
  c.mem_bytes = o.mem;
  c.image_path = o.image;
  if (!o.load_addr.empty()) c.load.load_address = parse_address(o.load_addr, "--load-addr");
  if (!o.entry.empty()) c.load.entry = parse_address(o.entry, "--entry");
  if (!o.serial_in.empty()) c.serial_in_path = o.serial_in;
  if (o.max_instructions) c.max_instructions = o.max_instructions;
  c.rtc_base = o.rtc_base;
  FILE* serial = outputs.serial;
  FILE* debugcon = outputs.debugcon;
  c.serial_out = [serial](uint8_t b) {
    std::fputc(b, serial);
    if (b == '\n') std::fflush(serial);
  };
  c.debug_out = [debugcon](uint8_t b) {
    std::fputc(b, debugcon);
    if (b == '\n') std::fflush(debugcon);
  };
  return c;
}

void announce_backend(const PcSystem& sys) {
  std::fprintf(stderr, "rrvm: backend %s (%s)\n", sys.backend().c_str(), sys.backend_reason().c_str());
}

}  // namespace rrvm::cli
