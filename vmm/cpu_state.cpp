#include "vmm/cpu_state.h"

#include <cstdio>

namespace rrvm {

namespace {
constexpr const char* kComparedNames[] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
                                          "rip", "rflags(IF,DF)", "cs", "ds", "es", "ss", "fs", "gs",
                                          "cs.base"};

// The compared fields in a fixed order (kComparedNames). cs.base takes part
// in the hash and the difference only: same_execution_point never compared
// it (the selectors and rip decide there), and a hash must cover the linear
// pc that a breakpoint search uses.
template <typename F>
void for_each_compared(const Registers& r, F&& f, bool with_cs_base = false) {
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
  if (with_cs_base) f(r.cs.base);
}
}  // namespace

uint64_t execution_point_hash(const Registers& r) {
  // A fixed 64-bit mix (splitmix64's finalizer per field, chained): stable
  // across builds and hosts, because traces store it.
  uint64_t h = 0x72727661'73796e63ull;
  for_each_compared(
      r,
      [&](uint64_t v) {
        uint64_t z = (h ^ v) + 0x9E3779B97F4A7C15ull;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        h = z ^ (z >> 31);
      },
      true);
  return h;
}

std::string execution_point_difference(const Registers& want, const Registers& got) {
  uint64_t va[32], vb[32];
  int na = 0, nb = 0;
  for_each_compared(want, [&](uint64_t v) { va[na++] = v; }, true);
  for_each_compared(got, [&](uint64_t v) { vb[nb++] = v; }, true);
  std::string s;
  for (int i = 0; i < na; ++i) {
    if (va[i] == vb[i]) continue;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s%s 0x%llx != 0x%llx", s.empty() ? "" : ", ", kComparedNames[i],
                  static_cast<unsigned long long>(va[i]), static_cast<unsigned long long>(vb[i]));
    s += buf;
  }
  return s;
}

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
