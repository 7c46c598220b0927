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
  o.mem_option = cmd.add_option("--mem", o.mem, "guest RAM size (e.g. 32M, 1G; with --kernel 256M by default)")
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
  o.bios_option = cmd.add_option("--bios", o.bios,
                 "boot firmware from the reset vector: FILE, or Debian's SeaBIOS when no FILE follows "
                 "(the PC platform QEMU's pc machine gives SeaBIOS)")
      ->expected(0, 1)
      ->default_str(kDefaultBiosPath);
  cmd.add_option("--vga-bios", o.vga_bios, "the Cirrus VGA BIOS (its PCI option ROM) for --bios")->capture_default_str();
  cmd.add_option("--floppy", o.floppy, "1.44 MB floppy image in drive A: (shorter images are padded); implies --bios");
  cmd.add_option("--disk", o.disk, "raw hard disk image on the primary ATA channel; implies --bios");
  cmd.add_option("--boot", o.boot, "boot device first in the BIOS's order (default: floppy when --floppy is given)")
      ->check(CLI::IsMember({"floppy", "disk"}));
  cmd.add_option("--bios-log", o.bios_log, "write SeaBIOS's debug output (port 0x402) to FILE");
  // Hidden (no group): an ELF test guest opts into the TSC patching that the
  // Linux boot will apply to the kernel (vmm/tsc_sites.h).
  cmd.add_flag("--patch-tsc", o.patch_tsc, "patch the ELF image's rdtsc/rdtscp into exits to rrvm")->group("");
  cmd.add_option("--kernel", o.kernel,
                 "boot a Linux x86_64 kernel (vmlinux ELF or bzImage) by its 64-bit entry, kvm backend only; "
                 "not with IMAGE or --bios");
  cmd.add_option("--initrd", o.initrd, "initial RAM disk (an initramfs cpio) for --kernel");
  o.append_option = cmd.add_option("--append", o.append,
                                   std::string("kernel command line for --kernel (default \"") +
                                       kDefaultKernelCommandLine + "\")");
  cmd.add_option("IMAGE", o.image, "guest image: raw (boot-sector style) or ELF32; not with --bios or --kernel");
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

FILE* open_output(const std::string& path, const char* option) {
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

void GuestOutputs::open(const MachineOptions& o, const std::vector<InputFile>& inputs) {
  // Before anything is opened for writing: an output that is an input.
  for (const auto& [path, option] : {std::pair{o.serial_out, "--serial-out"}, std::pair{o.debugcon_out, "--debugcon-out"},
                                     std::pair{o.bios_log, "--bios-log"}})
    if (!path.empty()) refuse_output_over_input(inputs, path, option);
  if (!o.serial_out.empty()) serial = open_output(o.serial_out, "--serial-out");
  if (!o.debugcon_out.empty()) debugcon = open_output(o.debugcon_out, "--debugcon-out");
  if (!o.bios_log.empty()) bios_log = open_output(o.bios_log, "--bios-log");
}

GuestOutputs::~GuestOutputs() {
  if (serial != stdout) std::fclose(serial);
  if (debugcon != stderr) std::fclose(debugcon);
  if (bios_log) std::fclose(bios_log);
  std::fflush(stdout);
}

SystemConfig make_system_config(const MachineOptions& o, GuestOutputs& outputs) {
  SystemConfig c;
  c.backend = o.backend == "kvm" ? BackendKind::Kvm
              : o.backend == "emu" ? BackendKind::Emu
                                   : BackendKind::Auto;
  c.mem_bytes = o.mem;
  const bool bios_given = o.bios_option && o.bios_option->count() > 0;
  const bool firmware = bios_given || !o.floppy.empty() || !o.disk.empty();
  const bool append_given = o.append_option && o.append_option->count() > 0;
  if (!o.kernel.empty()) {
    if (firmware) throw SystemError("--kernel and --bios/--floppy/--disk exclude each other: rrvm boots Linux without firmware", kExitBadInput);
    if (!o.image.empty()) throw SystemError("--kernel and IMAGE '" + o.image + "' exclude each other", kExitBadInput);
    if (!o.load_addr.empty() || !o.entry.empty())
      throw SystemError("--load-addr and --entry apply to guest images, not to --kernel (the ELF says where it goes)", kExitBadInput);
    if (!o.bios_log.empty() || !o.boot.empty())
      throw SystemError("--bios-log and --boot apply to a firmware boot (--bios)", kExitBadInput);
    LinuxConfig lc;
    lc.kernel_path = o.kernel;
    if (!o.initrd.empty()) lc.initrd_path = o.initrd;
    lc.command_line = append_given ? o.append : kDefaultKernelCommandLine;
    c.linux_boot = std::move(lc);
    if (!(o.mem_option && o.mem_option->count() > 0)) c.mem_bytes = kDefaultLinuxMemBytes;
  } else if (!o.initrd.empty() || append_given) {
    throw SystemError("--initrd and --append apply to --kernel", kExitBadInput);
  } else if (firmware) {
    if (!o.image.empty())
      throw SystemError("IMAGE '" + o.image + "' and --bios exclude each other: a firmware machine boots --floppy or "
                        "--disk (a raw guest image works as a disk: --disk " + o.image + ")",
                        kExitBadInput);
    if (!o.load_addr.empty() || !o.entry.empty())
      throw SystemError("--load-addr and --entry apply to guest images, not to a firmware boot", kExitBadInput);
    FirmwareConfig fw;
    if (!o.bios.empty()) fw.bios_path = o.bios;
    fw.vga_bios_path = o.vga_bios;
    if (!o.floppy.empty()) fw.floppy_path = o.floppy;
    if (!o.disk.empty()) fw.disk_path = o.disk;
    fw.boot = !o.boot.empty() ? o.boot : (!o.floppy.empty() ? "floppy" : "disk");
    c.firmware = std::move(fw);
  } else {
    if (o.image.empty())
      throw SystemError("no guest: give an IMAGE, --kernel FILE, or --bios with --floppy IMG or --disk IMG", kExitBadInput);
    if (!o.bios_log.empty() || !o.boot.empty())
      throw SystemError("--bios-log and --boot apply to a firmware boot (--bios)", kExitBadInput);
  }
  c.image_path = o.image;
  if (!o.load_addr.empty()) c.load.load_address = parse_address(o.load_addr, "--load-addr");
  if (!o.entry.empty()) c.load.entry = parse_address(o.entry, "--entry");
  if (!o.serial_in.empty()) c.serial_in_path = o.serial_in;
  if (o.max_instructions) c.max_instructions = o.max_instructions;
  c.rtc_base = o.rtc_base;
  c.patch_tsc = o.patch_tsc;
  outputs.open(o, input_files(c));
  if (FILE* log = outputs.bios_log) c.firmware->bios_log = [log](uint8_t b) { std::fputc(b, log); };
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
