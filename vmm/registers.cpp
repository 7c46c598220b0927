#include "vmm/registers.h"

#include <cstdio>

namespace rrvm {

std::string format_registers(const Registers& r) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "eax=%08llx ebx=%08llx ecx=%08llx edx=%08llx esi=%08llx edi=%08llx "
                "esp=%08llx ebp=%08llx eip=%08llx eflags=%08llx cs=%04x ds=%04x ss=%04x cr0=%08llx",
                (unsigned long long)r.rax, (unsigned long long)r.rbx, (unsigned long long)r.rcx,
                (unsigned long long)r.rdx, (unsigned long long)r.rsi, (unsigned long long)r.rdi,
                (unsigned long long)r.rsp, (unsigned long long)r.rbp, (unsigned long long)r.rip,
                (unsigned long long)r.rflags, r.cs.selector, r.ds.selector, r.ss.selector,
                (unsigned long long)r.cr0);
  return buf;
}

}  // namespace rrvm
