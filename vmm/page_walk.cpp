#include "vmm/page_walk.h"

namespace rrvm {

namespace {
constexpr uint64_t kCr0Pg = 1ull << 31;
constexpr uint64_t kCr4Pse = 1ull << 4, kCr4Pae = 1ull << 5, kCr4La57 = 1ull << 12;
constexpr uint64_t kEferLma = 1ull << 10;
constexpr uint64_t kPresent = 1, kPageSizeBit = 1ull << 7;
constexpr uint64_t kAddressMask = 0x000FFFFFFFFFF000ull;  // bits 51:12 of a 64-bit entry

std::optional<uint64_t> entry64(const GuestMemory& memory, uint64_t table, uint64_t index) {
  uint64_t e = 0;
  if (!memory.read(table + index * 8, &e, 8) || !(e & kPresent)) return std::nullopt;
  return e;
}

// Levels of 9 bits each, from the top: `levels` = 4 or 5 (long mode), or 2
// below a PAE page-directory-pointer entry. A PS bit ends the walk at the
// levels where large pages exist (1 GiB at level 3, 2 MiB at level 2).
std::optional<uint64_t> walk64(const GuestMemory& memory, uint64_t table, uint64_t linear, int levels) {
  for (int level = levels; level >= 1; --level) {
    const int shift = 12 + 9 * (level - 1);
    auto e = entry64(memory, table, (linear >> shift) & 0x1FF);
    if (!e) return std::nullopt;
    if (level == 1) return (*e & kAddressMask) | (linear & 0xFFF);
    if ((level == 2 || level == 3) && (*e & kPageSizeBit)) {
      const uint64_t page_mask = (1ull << shift) - 1;
      return (*e & kAddressMask & ~page_mask) | (linear & page_mask);
    }
    table = *e & kAddressMask;
  }
  return std::nullopt;
}

std::optional<uint64_t> walk32(const GuestMemory& memory, uint64_t cr3, uint64_t cr4, uint32_t linear) {
  uint32_t pde = 0;
  if (!memory.read((cr3 & 0xFFFFF000u) + ((linear >> 22) & 0x3FF) * 4, &pde, 4) || !(pde & kPresent))
    return std::nullopt;
  if ((cr4 & kCr4Pse) && (pde & kPageSizeBit)) {
    // PSE-36: bits 20:13 of the entry are physical address bits 39:32.
    const uint64_t high = uint64_t((pde >> 13) & 0xFF) << 32;
    return high | (pde & 0xFFC00000u) | (linear & 0x3FFFFF);
  }
  uint32_t pte = 0;
  if (!memory.read((pde & 0xFFFFF000u) + ((linear >> 12) & 0x3FF) * 4, &pte, 4) || !(pte & kPresent))
    return std::nullopt;
  return uint64_t(pte & 0xFFFFF000u) | (linear & 0xFFF);
}
}  // namespace

std::optional<uint64_t> linear_to_physical(const Registers& regs, const GuestMemory& memory, uint64_t linear) {
  if (!(regs.cr0 & kCr0Pg)) return linear & 0xFFFFFFFFull;
  if (regs.efer & kEferLma) {
    const int bits = (regs.cr4 & kCr4La57) ? 57 : 48;
    const int64_t sign_extended = int64_t(linear << (64 - bits)) >> (64 - bits);
    if (uint64_t(sign_extended) != linear) return std::nullopt;  // not canonical
    return walk64(memory, regs.cr3 & kAddressMask, linear, bits == 57 ? 5 : 4);
  }
  const uint32_t linear32 = uint32_t(linear);
  if (regs.cr4 & kCr4Pae) {
    auto pdpte = entry64(memory, regs.cr3 & 0xFFFFFFE0u, (linear32 >> 30) & 3);
    if (!pdpte) return std::nullopt;
    return walk64(memory, *pdpte & kAddressMask, linear32, 2);
  }
  return walk32(memory, regs.cr3, regs.cr4, linear32);
}

}  // namespace rrvm
