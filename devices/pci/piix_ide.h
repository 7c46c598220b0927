// The PIIX3 IDE function at 00:01.1 (8086:7010) in compatibility mode
// (programming interface 0x80): its channels sit at the legacy ports with
// IRQ 14/15 (devices/ata_channel.h), whatever BAR0-3 say, so SeaBIOS
// (storage_ide_setup/piix_ide_setup) and Linux find them where a PC has
// them. BAR4, the bus-master DMA block, is sized and assigned like QEMU's
// but decodes nothing: transfers are PIO only. IDE timing registers read
// back as written.
#pragma once
#include <optional>

#include "devices/pci/pci_host.h"
#include "vmm/device_state.h"

namespace rrvm {

class PiixIde final : public PciDevice, public DeviceState {
 public:
  PiixIde();
  const char* pci_name() const override { return "piix3-ide"; }

  // Config space (BAR4 and the timing registers).
  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

 protected:
  void device_config_write(unsigned offset, uint8_t value) override { store_config8(offset, value); }
  void bar_window_changed(int, std::optional<uint64_t>) override {}
};

}  // namespace rrvm
