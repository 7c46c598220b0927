#include "devices/pci/i440fx.h"

#include "devices/pci/shadow_ram.h"

namespace rrvm {

I440fxHostBridge::I440fxHostBridge() : PciDevice(0x8086, 0x1237, 0x060000, 0x02) { set_subsystem(0x1AF4, 0x1100); }

void I440fxHostBridge::attach_shadow_ram(ShadowRam* shadow) {
  shadow_ = shadow;
  apply_pam();
}

// PAM0 bits 4-5 cover 0xF0000-0xFFFFF; PAM1-PAM6 hold two 16 KiB regions
// each, low nibble first, from 0xC0000 up.
uint8_t I440fxHostBridge::pam_mode(int region) const {
  if (region == 12) return (config8(kPam0) >> 4) & 3;
  if (region < 0 || region > 12) return 0;
  const uint8_t pam = config8(kPam0 + 1 + unsigned(region) / 2);
  return (region % 2 ? pam >> 4 : pam) & 3;
}

void I440fxHostBridge::device_config_write(unsigned offset, uint8_t value) {
  store_config8(offset, value);
  if (offset >= kPam0 && offset < kPam0 + 7) apply_pam();
}

void I440fxHostBridge::apply_pam() {
  if (!shadow_) return;
  for (int i = 0; i < ShadowRam::kRegions; ++i) shadow_->set_mode(i, pam_mode(i));
}

}  // namespace rrvm
