#include "vmm/kvm/kvm_exit.h"

#include <fmt/format.h>

#include <cstring>

namespace rrvm::kvm {

namespace {
DecodedExit failure(std::string message) {
  DecodedExit d;
  d.kind = DecodedExit::Kind::Failure;
  d.message = std::move(message);
  return d;
}
DecodedExit of_kind(DecodedExit::Kind kind) {
  DecodedExit d;
  d.kind = kind;
  return d;
}
}  // namespace

DecodedExit decode_kvm_exit(const kvm_run& run, size_t run_size) {
  using Kind = DecodedExit::Kind;
  switch (run.exit_reason) {
    case KVM_EXIT_IO: {
      const auto& io = run.io;
      const uint64_t bytes = uint64_t(io.size) * io.count;
      if ((io.size != 1 && io.size != 2 && io.size != 4) || io.count == 0 || io.data_offset > run_size ||
          bytes > run_size - io.data_offset)
        return failure(fmt::format("KVM reported a malformed I/O exit (port {:#x}, size {}, count {}, data offset {:#x})",
                                   io.port, io.size, io.count, io.data_offset));
      DecodedExit d = of_kind(Kind::PortIo);
      d.is_write = io.direction == KVM_EXIT_IO_OUT;
      d.port = io.port;
      d.size = io.size;
      d.count = io.count;
      d.data_offset = io.data_offset;
      return d;
    }
    case KVM_EXIT_MMIO: {
      const auto& m = run.mmio;
      if (m.len == 0 || m.len > 8)
        return failure(fmt::format("KVM reported an MMIO exit of {} bytes at {:#x}", m.len, m.phys_addr));
      DecodedExit d = of_kind(Kind::Mmio);
      d.is_write = m.is_write;
      d.size = uint8_t(m.len);
      d.address = m.phys_addr;
      if (m.is_write) std::memcpy(&d.data, m.data, m.len);
      return d;
    }
    case KVM_EXIT_HLT: return of_kind(Kind::Halt);
    case KVM_EXIT_IRQ_WINDOW_OPEN: return of_kind(Kind::IrqWindowOpen);
    case KVM_EXIT_INTR: return of_kind(Kind::Interrupted);
    case KVM_EXIT_DEBUG: return of_kind(Kind::Debug);
    case KVM_EXIT_SHUTDOWN: {
      DecodedExit d = of_kind(Kind::Shutdown);
      d.message = "triple fault";
      return d;
    }
    case KVM_EXIT_SYSTEM_EVENT: {
      DecodedExit d = of_kind(Kind::Shutdown);
      const char* what = run.system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN ? "shutdown"
                         : run.system_event.type == KVM_SYSTEM_EVENT_RESET  ? "reset"
                         : run.system_event.type == KVM_SYSTEM_EVENT_CRASH  ? "crash"
                                                                            : "event";
      d.message = fmt::format("KVM system event {} (type {})", what, run.system_event.type);
      return d;
    }
    case KVM_EXIT_FAIL_ENTRY:
      return failure(fmt::format("KVM could not enter the guest (KVM_EXIT_FAIL_ENTRY, hardware reason {:#x}); the "
                                 "register state is not valid for this CPU",
                                 run.fail_entry.hardware_entry_failure_reason));
    case KVM_EXIT_INTERNAL_ERROR: {
      const auto& ie = run.internal;
      std::string msg = fmt::format("KVM internal error (KVM_EXIT_INTERNAL_ERROR, suberror {}", ie.suberror);
      if (ie.suberror == KVM_INTERNAL_ERROR_EMULATION) msg += ": instruction emulation failed";
      const uint32_t n = ie.ndata < 16 ? ie.ndata : 16;
      if (n) msg += ", data";
      for (uint32_t i = 0; i < n; ++i) msg += fmt::format(" {:#x}", ie.data[i]);
      return failure(msg + ")");
    }
    default: return failure(fmt::format("unhandled KVM exit reason {}", run.exit_reason));
  }
}

}  // namespace rrvm::kvm
