// The PIIX3 PCI-to-ISA bridge at 00:01.0 (8086:7000, multi-function): the
// PIRQ route control registers 0x60-0x63 (bit 7 set: not routed; else the
// ISA IRQ a PCI interrupt line A-D reaches), the rest of its device-specific
// config bytes with QEMU's reset values, and the reset control register at
// port 0xCF9 (bit 2 resets the machine). The ELCR (0x4D0/0x4D1) that
// SeaBIOS programs next to the routes lives with the 8259 pair.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "devices/pci/pci_host.h"
#include "vmm/device_state.h"

namespace rrvm {

class Piix3IsaBridge final : public PciDevice, public DeviceState {
 public:
  explicit Piix3IsaBridge(std::function<void()> reset);
  ~Piix3IsaBridge() override;
  const char* pci_name() const override { return "piix3"; }

  // The ISA IRQ PCI interrupt line `pirq` (0-3: A-D) is routed to, if any.
  std::optional<unsigned> pirq_route(unsigned pirq) const;

  // Port 0xCF9 (wired through PciHost::set_port_cf9).
  IoDevice& reset_control() { return *rcr_; }

  // Config space and the reset control register.
  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

 protected:
  void device_config_write(unsigned offset, uint8_t value) override;
  void bar_window_changed(int, std::optional<uint64_t>) override {}

 private:
  friend class Piix3ResetControl;
  std::function<void()> reset_;
  std::unique_ptr<IoDevice> rcr_;
  uint8_t rcr_value_ = 0;
};

}  // namespace rrvm
