#include "vmm/emu/control_registers.h"

#include "vmm/format.h"

namespace rrvm {
namespace {

constexpr uint64_t kCr0PE = 1u << 0, kCr0NW = 1u << 29, kCr0CD = 1u << 30, kCr0PG = 1u << 31;
constexpr uint64_t kEferSCE = 1u << 0, kEferLME = 1u << 8, kEferLMA = 1u << 10, kEferNXE = 1u << 11;

bool bit(uint32_t reg, int n) { return (reg >> n) & 1; }

ControlWrite gp(std::string why) { return {ControlWrite::GeneralProtection, std::move(why)}; }

}  // namespace

uint64_t cr4_allowed_bits(const std::vector<CpuidEntry>& cpuid) {
  const CpuidEntry l1 = cpuid_lookup(cpuid, 1, 0);
  const CpuidEntry max = cpuid_lookup(cpuid, 0, 0);
  const CpuidEntry l7 = max.eax >= 7 ? cpuid_lookup(cpuid, 7, 0) : CpuidEntry{};
  // Each CR4 bit and the CPUID bit that advertises it (SDM vol. 3, 2.5).
  const bool has[] = {
      bit(l1.edx, 1),  bit(l1.edx, 1),  bit(l1.edx, 4),  bit(l1.edx, 2),   // VME PVI TSD DE
      bit(l1.edx, 3),  bit(l1.edx, 6),  bit(l1.edx, 7),  bit(l1.edx, 13),  // PSE PAE MCE PGE
      true,            bit(l1.edx, 24), bit(l1.edx, 25), bit(l7.ecx, 2),   // PCE OSFXSR OSXMMEXCPT UMIP
      bit(l7.ecx, 16), bit(l1.ecx, 5),  bit(l1.ecx, 6),  false,            // LA57 VMXE SMXE (15 reserved)
      bit(l7.ebx, 0),  bit(l1.ecx, 17), bit(l1.ecx, 26), false,            // FSGSBASE PCIDE OSXSAVE KL
      bit(l7.ebx, 7),  bit(l7.ebx, 20), bit(l7.ecx, 3),  bit(l7.ecx, 7),   // SMEP SMAP PKE CET
      bit(l7.ecx, 31),                                                     // PKS
  };
  uint64_t mask = 0;
  for (size_t i = 0; i < std::size(has); ++i)
    if (has[i]) mask |= 1ull << i;
  return mask;
}

ControlWrite check_cr0_write(uint64_t v) {
  if (v >> 32) return gp("CR0 bits 63:32 are reserved");
  if ((v & kCr0PG) && !(v & kCr0PE)) return gp("CR0.PG without CR0.PE");
  if ((v & kCr0NW) && !(v & kCr0CD)) return gp("CR0.NW without CR0.CD");
  if (v & kCr0PG)
    return {ControlWrite::Unsupported,
            "guest enables paging (CR0 " + hex(v) + "), which Unicorn 2.0.1 translates wrongly; use the kvm backend"};
  return {};
}

ControlWrite check_cr4_write(uint64_t v, const std::vector<CpuidEntry>& cpuid) {
  const uint64_t bad = v & ~cr4_allowed_bits(cpuid);
  if (bad) return gp("CR4 " + hex(v) + " sets bits " + hex(bad) + " this CPU does not have (CPUID)");
  if (v & (1u << 17)) return gp("CR4.PCIDE outside long mode");
  return {};
}

ControlWrite check_efer_write(uint64_t v, const std::vector<CpuidEntry>& cpuid) {
  const CpuidEntry max = cpuid_lookup(cpuid, 0x80000000u, 0);
  const CpuidEntry e1 = max.eax >= 0x80000001u ? cpuid_lookup(cpuid, 0x80000001u, 0) : CpuidEntry{};
  uint64_t allowed = kEferLMA;  // read-only: writes of its current value are fine
  if (bit(e1.edx, 11)) allowed |= kEferSCE;
  if (bit(e1.edx, 20)) allowed |= kEferNXE;
  if (bit(e1.edx, 29)) allowed |= kEferLME;
  const uint64_t bad = v & ~allowed;
  if (bad) return gp("EFER " + hex(v) + " sets bits " + hex(bad) + " this CPU does not have (CPUID)");
  if (v & kEferLME)
    return {ControlWrite::Unsupported, "guest enables long mode (EFER.LME), which a 32-bit Unicorn engine cannot run; use the kvm backend"};
  if (v & (kEferSCE | kEferNXE))
    return {ControlWrite::Unsupported, "guest sets EFER " + hex(v) + " (SCE/NXE), which Unicorn 2.0.1 masks; use the kvm backend"};
  return {};
}

}  // namespace rrvm
