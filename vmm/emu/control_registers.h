// What the CPU does with a write to CR0, CR4 or EFER, judged against the
// CPUID table the guest sees: hardware raises #GP for reserved bits and for
// features CPUID does not advertise; what the emu backend cannot run
// (paging, long mode) is refused at the instruction that asks for it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "vmm/cpuid.h"

namespace rrvm {

struct ControlWrite {
  enum Verdict { Ok, GeneralProtection, Unsupported } verdict = Ok;
  std::string why;  // for GeneralProtection and Unsupported, one line
};

// CR4 bits a write may set under `cpuid`.
uint64_t cr4_allowed_bits(const std::vector<CpuidEntry>& cpuid);

ControlWrite check_cr0_write(uint64_t value);
ControlWrite check_cr4_write(uint64_t value, const std::vector<CpuidEntry>& cpuid);
ControlWrite check_efer_write(uint64_t value, const std::vector<CpuidEntry>& cpuid);

}  // namespace rrvm
