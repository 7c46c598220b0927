// The i440FX host bridge at 00:00.0 (8086:1237, QEMU's pc machine), with
// QEMU's subsystem ID 1af4:1100 (what SeaBIOS checks to take its QEMU
// paths). Device-specific config bytes (0x40-0xFF) read back as written;
// once the firmware machine gives it the shadow memory, PAM0-PAM6 (0x59-
// 0x5F) steer 0xC0000-0xFFFFF (devices/pci/shadow_ram.h).
#pragma once
#include <cstdint>
#include <optional>

#include "devices/pci/pci_host.h"

namespace rrvm {

class ShadowRam;

class I440fxHostBridge final : public PciDevice {
 public:
  static constexpr unsigned kPam0 = 0x59;  // PAM0-PAM6: 0x59-0x5F

  I440fxHostBridge();
  const char* pci_name() const override { return "i440fx"; }

  // PAM writes from now on steer `shadow` (not owned); applies the current
  // PAM bytes.
  void attach_shadow_ram(ShadowRam* shadow);

  // The mode (ShadowRam::kReadRam | kWriteRam) PAM gives shadow region
  // `region` (ShadowRam's numbering).
  uint8_t pam_mode(int region) const;

 protected:
  void device_config_write(unsigned offset, uint8_t value) override;
  void bar_window_changed(int, std::optional<uint64_t>) override {}

 private:
  void apply_pam();
  ShadowRam* shadow_ = nullptr;
};

}  // namespace rrvm
