#include "system/pc_system.h"

#include <fmt/format.h>

#include "devices/cirrus/cirrus_vga.h"
#include "devices/cirrus/vga_text_mode.h"
#include "devices/disk_image.h"
#include "devices/firmware_board.h"
#include "devices/pc_board.h"
#include "devices/pci/pci_host.h"
#include "vmm/byte_source.h"
#include "vmm/cpuid.h"
#include "vmm/emu/emu_vcpu.h"
#include "vmm/file_read.h"
#include "vmm/firmware_loader.h"
#include "vmm/kvm/kvm_vcpu.h"
#include "vmm/stepping_vcpu.h"

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

  if (config.linux_boot) {
    // Before the kernel is read (a bzImage is decompressed): the one
    // backend that can run it.
    std::string reason;
    if (resolve_backend(config.backend, &reason) != BackendKind::Kvm)
      throw SystemError("--kernel: Linux runs on the kvm backend only (backend emu: " + reason +
                            "; Unicorn 2.0.1 translates guest-virtual addresses as physical once paging is on)",
                        kExitBackendUnavailable);
  }
  auto memory = std::make_unique<GuestMemory>();
  add_pc_memory(*memory, config.mem_bytes, /*shadow_ram=*/config.firmware.has_value());
  if (config.firmware) {
    sys->load_firmware(*memory);
  } else if (config.linux_boot) {
    sys->load_kernel(*memory);
  } else {
    try {
      sys->image_ = load_image(*memory, config.image_path, config.load);
    } catch (const ImageError& e) {
      throw SystemError(e.what(), kExitBadInput);
    }
    sys->images_.push_back({"guest", sys->image_.path, sys->image_.sha256, sys->image_.file_size, sys->image_.elf});
    if (config.patch_tsc) {
      if (!sys->image_.elf)
        throw SystemError("--patch-tsc needs an ELF image (its section headers say where the code is)", kExitBadInput);
      try {
        sys->tsc_scan_ = find_tsc_reads(read_regular_file(config.image_path, "guest image", 1ull << 30));
      } catch (const std::exception& e) {
        throw SystemError(std::string("--patch-tsc: ") + e.what(), kExitBadInput);
      }
      sys->tsc_patch_ = patch_tsc_reads(*memory, sys->tsc_scan_.sites);
    }
  }
  if (config.patch_tsc && config.firmware)
    throw SystemError("--patch-tsc patches an ELF guest image; firmware machines have none", kExitBadInput);
  sys->cpuid_ = config.cpuid.value_or(config.firmware     ? firmware_cpuid_table()
                                      : config.linux_boot ? linux_cpuid_table()
                                                          : default_cpuid_table());

  BackendKind kind = resolve_backend(config.backend, &sys->backend_reason_);
  // Only a backend without instruction counts needs it; on emu every logged
  // store is a hook call (bench_compute records 2x slower with it).
  if (config.log_ram_dirty && kind == BackendKind::Kvm)
    for (const auto& slot : memory->slots()) memory->set_log_dirty(slot.id, true);
  std::unique_ptr<Vcpu> vcpu;
  try {
    if (kind == BackendKind::Kvm) {
      vcpu = create_kvm_vcpu(*memory, sys->cpuid_);
      if (config.count_by_stepping) vcpu = make_stepping_vcpu(std::move(vcpu), *memory);
      sys->backend_ = "kvm";
    } else {
      vcpu = create_emu_vcpu(*memory, sys->cpuid_);
      sys->backend_ = "emu";
    }
  } catch (const std::exception& e) {
    throw SystemError(e.what(), kExitBackendError);
  }

  sys->machine_ = std::make_unique<Machine>(std::move(memory), std::move(vcpu));
  Machine& m = *sys->machine_;
  m.set_instruction_limit(config.max_instructions);
  m.set_tsc_ports(config.patch_tsc || config.linux_boot.has_value());

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
  if (config.firmware) {
    sys->vga_->set_subsystem(0x1AF4, 0x1100);  // QEMU's, as on every device there
    sys->vga_->set_option_rom(sys->vga_bios_);
  }
  sys->pci_->attach(m.ports());
  sys->pci_->add_device(2, sys->vga_.get());
  sys->vga_->attach(m.ports(), m.mmio());
  if (config.firmware) sys->build_firmware_board();
  // No BIOS runs before Linux: rrvm leaves the machine as one would. The
  // card in text mode 3 (vgacon draws on it), and the PIT's channel 0
  // counting in mode 2 with count 65536 (18.2 Hz), as SeaBIOS programs it:
  // Linux polls that count early in its boot, before it programs the PIT
  // itself, and waits forever on a counter that does not move.
  if (config.linux_boot) {
    set_vga_text_mode(*sys->vga_);
    Pit8254& pit = sys->board_->pit();
    pit.io_write(3, 1, 0x34);  // channel 0, LSB then MSB, mode 2, binary
    pit.io_write(0, 1, 0);
    pit.io_write(0, 1, 0);
  }

  // Every device with state, for snapshots (stable names: keyframes carry them).
  for (const auto& d : sys->board_->devices()) m.add_device_state(d.name, d.state);
  if (sys->firmware_)
    for (const auto& d : sys->firmware_->devices()) m.add_device_state(d.name, d.state);
  m.add_device_state("pci-host", sys->pci_.get());
  m.add_device_state("cirrus-vga", sys->vga_.get());

  m.vcpu().sync_memory_map();
  m.vcpu().set_registers(sys->image_.initial);
  return sys;
}

PcSystem::~PcSystem() = default;

// Reads every firmware and disk image (one line naming the file for any
// problem), maps the BIOS ROM and starts the CPU at the reset vector.
void PcSystem::load_firmware(GuestMemory& memory) {
  const FirmwareConfig& fw = *config_.firmware;
  auto note = [&](const std::string& role, const ImageFile& f) {
    images_.push_back({role, f.path, f.sha256, f.bytes.size(), false});
  };
  constexpr uint64_t kMaxRom = 16ull << 20, kMaxDisk = 8ull << 30;
  try {
    ImageFile bios = read_image_file(fw.bios_path, "BIOS image", kMaxRom);
    bios_slot_ = map_bios(memory, bios);
    note("bios", bios);
    ImageFile vga = read_image_file(fw.vga_bios_path, "VGA BIOS image", kMaxRom);
    if (vga.bytes.size() < 3 || vga.bytes[0] != 0x55 || vga.bytes[1] != 0xAA)
      throw ImageError("VGA BIOS image '" + vga.path + "': not an option ROM (no 55 AA signature at offset 0)");
    note("vga-bios", vga);
    vga_bios_ = std::move(vga.bytes);
    const bool boot_floppy = fw.boot == "floppy";
    if (fw.floppy_path) {
      ImageFile f = read_image_file(*fw.floppy_path, "floppy image", DiskImage::kFloppyBytes + 1);
      note("floppy", f);
      floppy_ = std::make_unique<DiskImage>(f.path, std::move(f.bytes), DiskImage::Kind::Floppy);
    }
    if (fw.disk_path) {
      ImageFile f = read_image_file(*fw.disk_path, "disk image", kMaxDisk);
      note("disk", f);
      disk_ = std::make_unique<DiskImage>(f.path, std::move(f.bytes), DiskImage::Kind::HardDisk);
    }
    if (boot_floppy && !floppy_)
      throw ImageError("--boot floppy needs --floppy IMG" + std::string(disk_ ? " (or --boot disk for the disk)" : ""));
    if (!boot_floppy && !disk_)
      throw ImageError("--boot disk needs --disk IMG" + std::string(floppy_ ? " (or --boot floppy for the floppy)" : ""));
  } catch (const ImageError& e) {
    throw SystemError(e.what(), kExitBadInput);
  } catch (const DiskImageError& e) {
    throw SystemError(e.what(), kExitBadInput);
  }
  image_ = LoadedImage{};
  image_.path = fw.bios_path;
  image_.initial = reset_vector_state();
}

void PcSystem::load_kernel(GuestMemory& memory) {
  const LinuxConfig& lc = *config_.linux_boot;
  LinuxBootOptions o{.kernel_path = lc.kernel_path, .initrd_path = lc.initrd_path,
                     .command_line = lc.command_line, .mem_bytes = config_.mem_bytes};
  try {
    kernel_ = load_linux(memory, o);
  } catch (const ImageError& e) {
    throw SystemError(e.what(), kExitBadInput);
  }
  const KernelImage& k = *kernel_->image;
  images_.push_back({"kernel", k.path, k.sha256, k.file_size, !k.bzimage});
  if (kernel_->initrd) images_.push_back({"initrd", kernel_->initrd->path, kernel_->initrd->sha256, kernel_->initrd->size, false});
  // Every TSC read of the kernel becomes an input (vmm/tsc_sites.h): KVM
  // traps none, and Linux reads the TSC whatever CPUID says.
  try {
    tsc_scan_ = find_tsc_reads(k.elf);
  } catch (const std::exception& e) {
    throw SystemError(std::string("--kernel '") + k.path + "': finding its TSC reads: " + e.what(), kExitBadInput);
  }
  tsc_patch_ = patch_tsc_reads(memory, tsc_scan_.sites);
  if (lc.after_load) lc.after_load(memory, *kernel_);
  image_ = LoadedImage{};
  image_.path = k.path;
  image_.sha256 = k.sha256;
  image_.file_size = k.file_size;
  image_.elf = !k.bzimage;
  image_.initial = kernel_->initial;
}

void PcSystem::build_firmware_board() {
  const FirmwareConfig& fw = *config_.firmware;
  FirmwareBoardConfig c;
  c.bios_slot = *bios_slot_;
  c.floppy = std::move(floppy_);
  c.disk = std::move(disk_);
  c.boot = fw.boot == "disk" ? BootDevice::Disk : BootDevice::Floppy;
  c.mem_bytes = config_.mem_bytes;
  c.bios_log = fw.bios_log;
  firmware_ = std::make_unique<FirmwareBoard>(*machine_, *board_, *pci_, std::move(c));
}

std::vector<std::pair<std::string, std::string>> PcSystem::device_descriptions() const {
  std::vector<std::pair<std::string, std::string>> d;
  for (const auto& c : board_->port_claims())
    d.emplace_back(c.device->device_name(), fmt::format("ports={:#x}-{:#x}", c.base, c.base + c.length - 1));
  d.emplace_back("pci-host", "ports=0xcf8-0xcff host-bridge=00:00.0");
  d.emplace_back("cirrus-vga", std::string("pci=00:02.0 vendor=0x1013 device=0x00b8 vram=4MiB") +
                                   (config_.firmware ? " option-rom" : ""));
  if (firmware_)
    for (auto& e : firmware_->descriptions()) d.push_back(std::move(e));
  return d;
}


}  // namespace rrvm
