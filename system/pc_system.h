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
#include "vmm/image_loader.h"
#include "vmm/machine.h"
#include "vmm/vcpu.h"

namespace rrvm {

class PcBoard;
class PciHost;
class CirrusVga;

struct SystemConfig {
  BackendKind backend = BackendKind::Auto;
  uint64_t mem_bytes = 32ull << 20;
  std::string image_path;
  LoadOptions load;
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
  const LoadedImage& image() const { return image_; }
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
  SystemConfig config_;
  LoadedImage image_;
  std::string backend_, backend_reason_;
  std::unique_ptr<Machine> machine_;
  std::unique_ptr<PcBoard> board_;
  std::unique_ptr<PciHost> pci_;
  std::unique_ptr<CirrusVga> vga_;
};

// Chooses the backend: kvm when /dev/kvm opens (for Auto), emu otherwise.
// Throws SystemError when kvm is demanded but unavailable.
BackendKind resolve_backend(BackendKind requested, std::string* reason);

}  // namespace rrvm
