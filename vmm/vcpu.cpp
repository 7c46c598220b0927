#include "vmm/vcpu.h"

#include <algorithm>

#include "vmm/guest_memory.h"

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

void Vcpu::set_out_results(uint32_t eax, uint32_t edx, std::optional<uint32_t> ecx) {
  Registers r = get_registers();
  r.rax = eax;
  r.rdx = edx;
  if (ecx) r.rcx = *ecx;
  set_registers(r);
}

size_t read_linear(Vcpu& vcpu, const GuestMemory& memory, uint64_t linear, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    const uint64_t at = linear + done;
    const size_t in_page = std::min<uint64_t>(out.size() - done, kPageSize - (at & (kPageSize - 1)));
    auto gpa = vcpu.translate(at);
    if (!gpa || !memory.read(*gpa, out.data() + done, in_page)) break;
    done += in_page;
  }
  return done;
}

}  // namespace rrvm
