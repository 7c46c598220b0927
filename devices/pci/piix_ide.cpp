#include "devices/pci/piix_ide.h"

namespace rrvm {

PiixIde::PiixIde() : PciDevice(0x8086, 0x7010, 0x010180, 0x00) {
  set_subsystem(0x1AF4, 0x1100);
  declare_bar(4, PciBarKind::Io, 16);
}

std::vector<uint8_t> PiixIde::save_state() const {
  ByteWriter w;
  w.header("PIDE", 1);
  w.bytes(config_space());
  return w.take();
}

void PiixIde::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "piix3-ide state");
  r.header("PIDE", 1);
  std::array<uint8_t, 256> config{};
  r.bytes(config);
  r.finish();
  restore_config_space(config);
}

}  // namespace rrvm
