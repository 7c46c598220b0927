#include "vmm/vcpu.h"

namespace rrvm {

const char* exit_kind_name(ExitKind kind) {
  switch (kind) {
    case ExitKind::PortIo: return "port-io";
    case ExitKind::Mmio: return "mmio";
    case ExitKind::Halt: return "halt";
    case ExitKind::IrqWindowOpen: return "irq-window";
    case ExitKind::Shutdown: return "shutdown";
    case ExitKind::Debug: return "debug";
    case ExitKind::StopAtPosition: return "stop-at-position";
    case ExitKind::Kicked: return "kicked";
  }
  return "unknown";
}

}  // namespace rrvm
