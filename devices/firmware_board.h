// What a PC needs beyond the legacy board (devices/pc_board.h) to run real
// firmware, as QEMU's pc machine has it for SeaBIOS: the shadow RAM the
// i440FX's PAM registers steer, the PIIX3 ISA bridge (PIRQ routes, reset
// control at 0xCF9) and its IDE function, two ATA channels (a hard disk on
// the primary), the 8237 DMA pair and a floppy controller with a 1.44 MB
// drive, fw_cfg with the items SeaBIOS reads (e820 map, boot order, boot menu
// and boot-failure waits), the i8042 keyboard controller, port 0x92, the
// SeaBIOS debug port 0x402, and the CMOS bytes for floppy type, equipment and
// boot order. Everything is fixed by the configuration, so a replay built
// from the trace header's configuration is the same machine.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "devices/ata_channel.h"
#include "devices/debug_port.h"
#include "vmm/device_state.h"
#include "devices/disk_image.h"
#include "devices/floppy_controller.h"
#include "devices/fw_cfg.h"
#include "devices/i8042.h"
#include "devices/isa_dma.h"
#include "devices/pc_board.h"
#include "devices/pci/pci_host.h"
#include "devices/pci/piix3.h"
#include "devices/pci/piix_ide.h"
#include "devices/pci/shadow_ram.h"
#include "devices/port92.h"
#include "vmm/guest_dma.h"
#include "vmm/machine.h"

namespace rrvm {

enum class BootDevice : uint8_t { Floppy, Disk };

struct FirmwareBoardConfig {
  uint32_t bios_slot = 0;             // the BIOS ROM slot (vmm/firmware_loader.h map_bios)
  std::unique_ptr<DiskImage> floppy;  // drive A:, or none
  std::unique_ptr<DiskImage> disk;    // primary master, or none
  BootDevice boot = BootDevice::Floppy;
  uint64_t mem_bytes = 0;             // RAM top (below 4 GiB), as add_pc_memory was given
  std::function<void(uint8_t)> bios_log;  // bytes written to port 0x402
};

class FirmwareBoard {
 public:
  // Adds the devices to `machine`'s buses, to `pci` (00:01.0 PIIX3, 00:01.1
  // IDE) and its host bridge (PAM), and sets `board`'s CMOS bytes. Must
  // outlive every Machine::run() that uses it.
  FirmwareBoard(Machine& machine, PcBoard& board, PciHost& pci, FirmwareBoardConfig config);
  ~FirmwareBoard();
  FirmwareBoard(const FirmwareBoard&) = delete;
  FirmwareBoard& operator=(const FirmwareBoard&) = delete;

  ShadowRam& shadow_ram() { return *shadow_; }
  FwCfg& fw_cfg() { return fw_cfg_; }
  IsaDma& dma() { return dma_; }
  FloppyController& floppy_controller() { return fdc_; }
  AtaChannel& primary_ata() { return ata_[0]; }
  I8042& keyboard_controller() { return kbc_; }
  Piix3IsaBridge& isa_bridge() { return piix3_; }
  const DiskImage* floppy() const { return config_.floppy.get(); }
  const DiskImage* disk() const { return config_.disk.get(); }

  // Every device with state, by a stable name (keyframes).
  std::vector<BoardDevice> devices();
  // (name, configuration) of each device, for the trace header.
  std::vector<std::pair<std::string, std::string>> descriptions() const;

 private:
  struct Claim {
    IoBus* bus;
    uint64_t base;
  };
  void claim(IoBus& bus, uint64_t base, uint64_t length, IoDevice* device);
  void set_cmos(PcBoard& board);
  void fill_fw_cfg();

  Machine& machine_;
  PciHost& pci_;
  FirmwareBoardConfig config_;
  GuestDma guest_dma_;
  std::unique_ptr<ShadowRam> shadow_;
  Piix3IsaBridge piix3_;
  PiixIde ide_;
  IsaDma dma_;
  FloppyController fdc_;
  AtaChannel ata_[2];
  FwCfg fw_cfg_;
  I8042 kbc_;
  Port92 port92_;
  DebugConsole bios_debug_;
  std::vector<Claim> claims_;
};

}  // namespace rrvm
