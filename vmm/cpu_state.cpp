#include "vmm/cpu_state.h"

namespace rrvm {

namespace {
template <typename F>
void for_each_compared(const Registers& r, F&& f) {
  const uint64_t gprs[] = {r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp,
                           r.r8,  r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15};
  for (uint64_t v : gprs) f(v);
  f(r.rip);
  f(r.rflags & kComparableFlags);
  f(r.cs.selector);
  f(r.ds.selector);
  f(r.es.selector);
  f(r.ss.selector);
  f(r.fs.selector);
  f(r.gs.selector);
}
}  // namespace

bool same_execution_point(const Registers& a, const Registers& b) {
  uint64_t va[32], vb[32];
  int na = 0, nb = 0;
  for_each_compared(a, [&](uint64_t v) { va[na++] = v; });
  for_each_compared(b, [&](uint64_t v) { vb[nb++] = v; });
  for (int i = 0; i < na; ++i)
    if (va[i] != vb[i]) return false;
  return true;
}

}  // namespace rrvm
