#include "system/pc_system.h"

#include <fmt/format.h>

#include "vmm/byte_source.h"
#include "devices/cirrus/cirrus_vga.h"
#include "devices/pc_board.h"
#include "devices/pci/pci_host.h"
#include "vmm/cpuid.h"
#include "vmm/emu/emu_vcpu.h"
#include "vmm/kvm/kvm_vcpu.h"

namespace rrvm {

BackendKind resolve_backend(BackendKind requested, std::string* reason) {
  switch (requested) {
    case BackendKind::Emu:
      *reason = "requested";
      return BackendKind::Emu;
    case BackendKind::Kvm: {
      KvmAvailability a = kvm_availability(unsupported_kvm_allowed());
      if (!a.usable)
        throw SystemError("--backend kvm: " + a.detail +
                              ", which rrvm's kvm backend does not support; use --backend emu, or a host with "
                              "hardware KVM (VT-x or AMD-V: kvm_intel or kvm_amd)",
                          kExitBackendUnavailable);
      *reason = a.hardware ? "requested; " + a.detail
                           : "requested; UNSUPPORTED: " + a.detail + ", allowed by " + kAllowUnsupportedKvmEnv +
                                 "=1 for experiments: runs and recordings may misbehave";
      return BackendKind::Kvm;
    }
    case BackendKind::Auto: {
      // auto never takes an unsupported KVM, opt-in or not.
      KvmAvailability a = kvm_availability(false);
      if (a.usable) {
        *reason = "auto: " + a.detail;
        return BackendKind::Kvm;
      }
      *reason = "auto: " + a.detail + "; the kvm backend needs hardware KVM (kvm_intel or kvm_amd)";
      return BackendKind::Emu;
    }
  }
  return BackendKind::Emu;
}

std::unique_ptr<PcSystem> PcSystem::create(const SystemConfig& config) {
  std::unique_ptr<PcSystem> sys(new PcSystem());
  sys->config_ = config;
  if (config.mem_bytes < (2ull << 20) || config.mem_bytes > (3ull << 30) || config.mem_bytes % kPageSize)
    throw SystemError("--mem must be a multiple of 4 KiB between 2 MiB and 3 GiB", kExitBadInput);

  auto memory = std::make_unique<GuestMemory>();
  add_pc_memory(*memory, config.mem_bytes);
  try {
    sys->image_ = load_image(*memory, config.image_path, config.load);
  } catch (const ImageError& e) {
    throw SystemError(e.what(), kExitBadInput);
  }

  BackendKind kind = resolve_backend(config.backend, &sys->backend_reason_);
  // Only a backend without instruction counts needs it; on emu every logged
  // store is a hook call (bench_compute records 2x slower with it).
  if (config.log_ram_dirty && kind == BackendKind::Kvm)
    for (const auto& slot : memory->slots()) memory->set_log_dirty(slot.id, true);
  std::unique_ptr<Vcpu> vcpu;
  try {
    if (kind == BackendKind::Kvm) {
      vcpu = create_kvm_vcpu(*memory, default_cpuid_table());
      sys->backend_ = "kvm";
    } else {
      vcpu = create_emu_vcpu(*memory, default_cpuid_table());
      sys->backend_ = "emu";
    }
  } catch (const std::exception& e) {
    throw SystemError(e.what(), kExitBackendError);
  }

  sys->machine_ = std::make_unique<Machine>(std::move(memory), std::move(vcpu));
  Machine& m = *sys->machine_;
  m.set_instruction_limit(config.max_instructions);

  if (config.serial_in_path) {
    try {
      if (*config.serial_in_path == "-")
        m.live_inputs().set_serial_source(std::make_unique<StdinByteSource>());
      else
        m.live_inputs().set_serial_source(std::make_unique<FileByteSource>(*config.serial_in_path));
    } catch (const std::exception& e) {
      throw SystemError(e.what(), kExitBadInput);
    }
  }
  PcBoardConfig board;
  board.serial_output = config.serial_out;
  board.debug_console = config.debug_out;
  // The UART reads through the machine, whose input authority (the user's
  // file or the trace) supplies the bytes and whose taps log them.
  if (config.serial_in_path || config.serial_from_trace) board.serial_input = &m.serial_input();
  board.rtc_base_seconds = config.rtc_base;
  sys->board_ = std::make_unique<PcBoard>(m, board);

  // PCI host (its bridge at 00:00.0) with the Cirrus CL-GD5446 in slot 2,
  // as on QEMU's pc machine.
  sys->pci_ = std::make_unique<PciHost>();
  Vcpu* vcpu_ptr = &m.vcpu();
  sys->vga_ = std::make_unique<CirrusVga>(m.memory(), m.clock(), [vcpu_ptr] { vcpu_ptr->sync_memory_map(); });
  sys->pci_->attach(m.ports());
  sys->pci_->add_device(2, sys->vga_.get());
  sys->vga_->attach(m.ports(), m.mmio());

  // Every device with state, for snapshots (stable names: keyframes carry them).
  for (const auto& d : sys->board_->devices()) m.add_device_state(d.name, d.state);
  m.add_device_state("pci-host", sys->pci_.get());
  m.add_device_state("cirrus-vga", sys->vga_.get());

  m.vcpu().sync_memory_map();
  m.vcpu().set_registers(sys->image_.initial);
  return sys;
}

PcSystem::~PcSystem() = default;

std::vector<std::pair<std::string, std::string>> PcSystem::device_descriptions() const {
  std::vector<std::pair<std::string, std::string>> d;
  for (const auto& c : board_->port_claims())
    d.emplace_back(c.device->device_name(), fmt::format("ports={:#x}-{:#x}", c.base, c.base + c.length - 1));
  d.emplace_back("pci-host", "ports=0xcf8-0xcff host-bridge=00:00.0");
  d.emplace_back("cirrus-vga", "pci=00:02.0 vendor=0x1013 device=0x00b8 vram=4MiB");
  return d;
}


}  // namespace rrvm
