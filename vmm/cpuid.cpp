#include "vmm/cpuid.h"

#include <cstring>

namespace rrvm {

namespace {
uint32_t four(const char* s) {
  uint32_t v;
  std::memcpy(&v, s, 4);
  return v;
}
}  // namespace

std::vector<CpuidEntry> default_cpuid_table() {
  std::vector<CpuidEntry> t;
  // Leaf 0: max basic leaf 1, vendor "rrvmRRVMrrvm" in EBX, EDX, ECX order.
  t.push_back({0, 0, 1, four("rrvm"), four("rrvm"), four("RRVM")});
  // Leaf 1: family 6 model 0x0f stepping 1; EDX FPU|TSC|CX8|CMOV|MMX|FXSR|SSE|SSE2.
  constexpr uint32_t edx1 = (1u << 0) | (1u << 4) | (1u << 8) | (1u << 15) | (1u << 23) |
                            (1u << 24) | (1u << 25) | (1u << 26);
  t.push_back({1, 0, 0x000006f1, 0x00000800, 0, edx1});
  // Extended leaves: max 0x80000001, no extended features.
  t.push_back({0x80000000u, 0, 0x80000001u, 0, 0, 0});
  t.push_back({0x80000001u, 0, 0, 0, 0, 0});
  return t;
}

bool cpuid_leaf_has_subleaves(uint32_t function) {
  switch (function) {
    case 0x4: case 0x7: case 0xb: case 0xd: case 0xf: case 0x10: case 0x12: case 0x14:
    case 0x17: case 0x18: case 0x1d: case 0x1e: case 0x1f: case 0x20: case 0x8000001d:
      return true;
    default:
      return false;
  }
}

std::vector<CpuidEntry> firmware_cpuid_table() {
  std::vector<CpuidEntry> t = default_cpuid_table();
  for (CpuidEntry& e : t)
    if (e.function == 1) e.edx &= ~(1u << 4);  // TSC
  return t;
}

std::vector<CpuidEntry> linux_cpuid_table() {
  std::vector<CpuidEntry> t;
  t.push_back({0, 0, 7, four("rrvm"), four("rrvm"), four("RRVM")});
  // Leaf 1 EDX: FPU, DE, PSE, MSR, PAE, CX8, PGE, CMOV, PAT, CLFLUSH, MMX,
  // FXSR, SSE, SSE2; ECX: SSE3, CX16. EBX: CLFLUSH line 8 quadwords.
  constexpr uint32_t edx1 = (1u << 0) | (1u << 2) | (1u << 3) | (1u << 5) | (1u << 6) | (1u << 8) |
                            (1u << 13) | (1u << 15) | (1u << 16) | (1u << 19) | (1u << 23) | (1u << 24) |
                            (1u << 25) | (1u << 26);
  constexpr uint32_t ecx1 = (1u << 0) | (1u << 13);
  t.push_back({1, 0, 0x000006f1, 0x00000800, ecx1, edx1});
  // Leaves 2-6 answer zeros. Leaf 7 EBX: ERMS (enhanced rep movsb/stosb), a
  // hint every x86 CPU can act on: the kernel then clears pages, sets and
  // copies memory with `rep stosb`/`rep movsb` (clear_page_erms and the
  // like) instead of unrolled loops (clear_page_orig: 64 passes a page), and
  // a kick point inside a rep is found in a few stops (Machine::
  // rep_search_step), not one per pass.
  t.push_back({7, 0, 0, 1u << 9, 0, 0});
  t.push_back({0x80000000u, 0, 0x80000008u, 0, 0, 0});
  // SYSCALL, NX, LM.
  t.push_back({0x80000001u, 0, 0, 0, 0, (1u << 11) | (1u << 20) | (1u << 29)});
  t.push_back({0x80000008u, 0, 0x3024, 0, 0, 0});  // 48-bit linear, 36-bit physical
  return t;
}

CpuidEntry cpuid_lookup(const std::vector<CpuidEntry>& table, uint32_t function, uint32_t index) {
  uint32_t max_basic = 0, max_ext = 0;
  for (const auto& e : table) {
    if (e.function == 0) max_basic = e.eax;
    if (e.function == 0x80000000u) max_ext = e.eax;
  }
  bool extended = function >= 0x80000000u;
  if ((!extended && function > max_basic) || (extended && function > max_ext)) function = max_basic;
  for (const auto& e : table)
    if (e.function == function && e.index == index) return e;
  if (!cpuid_leaf_has_subleaves(function))
    for (const auto& e : table)
      if (e.function == function) return CpuidEntry{function, index, e.eax, e.ebx, e.ecx, e.edx};
  return {function, index, 0, 0, 0, 0};
}

}  // namespace rrvm
