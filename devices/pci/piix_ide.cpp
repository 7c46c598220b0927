#include "devices/pci/piix_ide.h"

namespace rrvm {

PiixIde::PiixIde() : PciDevice(0x8086, 0x7010, 0x010180, 0x00) {
  set_subsystem(0x1AF4, 0x1100);
  declare_bar(4, PciBarKind::Io, 16);
}

}  // namespace rrvm
