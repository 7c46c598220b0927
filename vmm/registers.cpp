#include "vmm/registers.h"

#include <fmt/format.h>

namespace rrvm {

std::string format_registers(const Registers& r) {
  const bool long_mode = (r.efer & (1ull << 10)) && r.cs.l;
  if (long_mode)
    return fmt::format(
        "rax={:016x} rbx={:016x} rcx={:016x} rdx={:016x} rsi={:016x} rdi={:016x} rsp={:016x} rbp={:016x} "
        "r8={:016x} r9={:016x} r10={:016x} r11={:016x} r12={:016x} r13={:016x} r14={:016x} r15={:016x} "
        "rip={:016x} rflags={:08x} cs={:04x} ss={:04x} cr0={:08x} cr3={:x} cr4={:x}",
        r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14,
        r.r15, r.rip, r.rflags, r.cs.selector, r.ss.selector, r.cr0, r.cr3, r.cr4);
  return fmt::format(
      "eax={:08x} ebx={:08x} ecx={:08x} edx={:08x} esi={:08x} edi={:08x} esp={:08x} ebp={:08x} eip={:08x} "
      "eflags={:08x} cs={:04x} ds={:04x} ss={:04x} cr0={:08x}",
      r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp, r.rip, r.rflags, r.cs.selector, r.ds.selector,
      r.ss.selector, r.cr0);
}

}  // namespace rrvm
