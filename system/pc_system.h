// Assembles a runnable PC from user options: guest RAM, the image, the vCPU
// backend (auto/kvm/emu), the board's devices and the Cirrus display. The CLI
// and the integration tests build machines only through here, so `run`,
// `record` and `replay` construct identical machines.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "devices/cmos_rtc.h"
#include "vmm/cpuid.h"
#include "vmm/image_loader.h"
#include "vmm/tsc_sites.h"
#include "vmm/linux_loader.h"
#include "vmm/machine.h"
#include "vmm/vcpu.h"

namespace rrvm {

class PcBoard;
class PciHost;
class CirrusVga;
class FirmwareBoard;
class DiskImage;

// Debian's seabios package: the BIOS QEMU's pc machine uses, and SeaVGABIOS
// for the Cirrus.
constexpr const char* kDefaultBiosPath = "/usr/share/seabios/bios.bin";
constexpr const char* kDefaultVgaBiosPath = "/usr/share/seabios/vgabios-cirrus.bin";

// A machine that boots real firmware from the reset vector (instead of
// starting a guest image at 0x7C00).
struct FirmwareConfig {
  std::string bios_path = kDefaultBiosPath;
  std::string vga_bios_path = kDefaultVgaBiosPath;
  std::optional<std::string> floppy_path;  // 1.44 MB image (shorter ones are padded)
  std::optional<std::string> disk_path;    // raw hard disk image
  std::string boot = "floppy";             // "floppy" or "disk": first in the boot order
  std::function<void(uint8_t)> bios_log;   // SeaBIOS's debug port 0x402
};

// A machine that boots a Linux kernel by its 64-bit entry (vmm/linux_loader.h),
// on kvm only.
struct LinuxConfig {
  std::string kernel_path;  // vmlinux ELF or bzImage
  std::optional<std::string> initrd_path;
  std::string command_line;
  // Runs on guest memory once everything is loaded, before the vCPU first
  // runs, on record and replay alike (the hook for patching the loaded
  // kernel's code: LoadedKernel keeps its ELF and where each part went).
  std::function<void(GuestMemory&, const LoadedKernel&)> after_load;
};

// What a machine gets when no --append is given: the serial console (rrvm's
// COM1 is all a Linux machine's user sees besides the screen).
constexpr const char* kDefaultKernelCommandLine = "console=ttyS0";

// An image the machine loaded, for the trace header.
struct SystemImage {
  std::string role;  // "guest", "bios", "vga-bios", "floppy", "disk", "kernel", "initrd"
  std::string path;
  Sha256Digest sha256{};
  uint64_t size = 0;
  bool elf = false;
};

struct SystemConfig {
  BackendKind backend = BackendKind::Auto;
  uint64_t mem_bytes = 32ull << 20;
  std::string image_path;  // the guest image (machines without firmware)
  LoadOptions load;
  std::optional<FirmwareConfig> firmware;
  std::optional<LinuxConfig> linux_boot;  // excludes firmware and image_path
  // The CPUID table (a replay takes the recording's); default: the one the
  // machine kind uses (vmm/cpuid.h).
  std::optional<std::vector<CpuidEntry>> cpuid;
  std::optional<std::string> serial_in_path;  // "-" = stdin (live runs)
  // Replay: the UART has an input whose bytes the replayer takes from the
  // trace (the recording had one).
  bool serial_from_trace = false;
  std::function<void(uint8_t)> serial_out;    // guest serial output
  std::function<void(uint8_t)> debug_out;     // guest debug console (0xE9)
  std::optional<uint64_t> max_instructions;
  int64_t rtc_base = kDefaultRtcBase;
  // Dirty-page logging on RAM where the backend counts no instructions (kvm
  // record/replay: memory digests at kicks). Ignored on emu.
  bool log_ram_dirty = false;
  // kvm: count instructions by single-stepping (vmm/stepping_vcpu.h), for a
  // timeline on kvm. Ignored on emu, which counts.
  bool count_by_stepping = false;
  // Patch the ELF guest's rdtsc/rdtscp into exits (vmm/tsc_sites.h) and turn
  // the machine's TSC ports on: every TSC read is then an input. The trace
  // header says so (replay patches the same image the same way).
  bool patch_tsc = false;
};

// Errors in what the user gave us (bad image, unavailable backend, bad
// option): one line, exit status kExitBadInput or kExitBackendError.
class SystemError : public std::runtime_error {
 public:
  SystemError(const std::string& what, int status) : std::runtime_error(what), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

class PcSystem {
 public:
  static std::unique_ptr<PcSystem> create(const SystemConfig& config);
  ~PcSystem();

  Machine& machine() { return *machine_; }
  PcBoard& board() { return *board_; }
  CirrusVga& vga() { return *vga_; }
  // Firmware machines only (else null).
  FirmwareBoard* firmware_board() { return firmware_.get(); }
  // Linux machines only (else null): the kernel as loaded.
  const LoadedKernel* kernel() const { return kernel_ ? &*kernel_ : nullptr; }
  // The guest image's load result; for firmware machines, the reset vector;
  // for Linux machines, the kernel's entry state.
  const LoadedImage& image() const { return image_; }
  // Every image loaded, in order (the trace header's list).
  const std::vector<SystemImage>& images() const { return images_; }
  const std::vector<CpuidEntry>& cpuid() const { return cpuid_; }
  // With SystemConfig::patch_tsc: the sites found and what was patched.
  const TscScan& tsc_scan() const { return tsc_scan_; }
  const TscPatchResult& tsc_patch() const { return tsc_patch_; }
  const SystemConfig& config() const { return config_; }
  // "emu" or "kvm", and why auto chose it.
  const std::string& backend() const { return backend_; }
  const std::string& backend_reason() const { return backend_reason_; }

  RunResult run() { return machine_->run(); }
  // (name, configuration) of every device, for the trace header.
  std::vector<std::pair<std::string, std::string>> device_descriptions() const;
  // SHA-256 over every RAM slot's contents, in slot order.
  Sha256Digest ram_sha256() const { return machine_->memory().content_sha256(); }

 private:
  PcSystem() = default;
  void load_firmware(GuestMemory& memory);
  void build_firmware_board();
  void load_kernel(GuestMemory& memory);

  SystemConfig config_;
  TscScan tsc_scan_;
  TscPatchResult tsc_patch_;
  LoadedImage image_;
  std::optional<LoadedKernel> kernel_;
  std::vector<SystemImage> images_;
  std::vector<CpuidEntry> cpuid_;
  // Firmware machines: what load_firmware read, until the boards take it.
  std::optional<uint32_t> bios_slot_;
  std::vector<uint8_t> vga_bios_;
  std::unique_ptr<DiskImage> floppy_, disk_;
  std::string backend_, backend_reason_;
  std::unique_ptr<Machine> machine_;
  std::unique_ptr<PcBoard> board_;
  std::unique_ptr<PciHost> pci_;
  std::unique_ptr<CirrusVga> vga_;
  std::unique_ptr<FirmwareBoard> firmware_;
};

// Chooses the backend: kvm when /dev/kvm opens (for Auto), emu otherwise.
// Throws SystemError when kvm is demanded but unavailable.
BackendKind resolve_backend(BackendKind requested, std::string* reason);

}  // namespace rrvm
