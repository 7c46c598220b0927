// The CPUID table rrvm presents to every guest, identical on every host and on
// both backends (a determinism input: recorded in the trace header).
#pragma once
#include <cstdint>
#include <vector>

namespace rrvm {

struct CpuidEntry {
  uint32_t function = 0;
  uint32_t index = 0;  // sub-leaf (ECX) for leaves that have them
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
  bool operator==(const CpuidEntry&) const = default;
};

// A plain family-6 CPU: FPU, TSC, CX8, CMOV, MMX, FXSR, SSE, SSE2; no
// hypervisor-specific leaves. Vendor string "rrvmRRVMrrvm".
std::vector<CpuidEntry> default_cpuid_table();

// The table for firmware machines: the same CPU without the TSC flag.
// SeaBIOS times itself with RDTSC when CPUID offers a TSC, and KVM does not
// trap RDTSC, so a kvm recording could not replay; without it SeaBIOS reads
// the PIT (port reads, recorded like any other). Used on both backends, so
// emu and kvm recordings of a firmware boot are the same and replay on
// either.
std::vector<CpuidEntry> firmware_cpuid_table();

// The table for Linux machines (--kernel): an x86-64 CPU with what a 64-bit
// kernel requires (arch/x86/include/asm/required-features.h: FPU, PAE, MSR,
// CX8, PGE, CMOV, FXSR, SSE, SSE2, LM) and what it uses when offered (PSE,
// PAT, CLFLUSH, MMX, SSE3, CX16, SYSCALL, NX), 36-bit physical and 48-bit
// linear addresses. Left out on purpose: the local APIC (rrvm's machine has
// the 8259 pair and the 8254 only), TSC, RDTSCP, RDRAND and RDSEED (KVM
// traps none of them: each would be an unrecorded input), the hypervisor
// leaves (no kvmclock, no paravirtual features), XSAVE, MTRR and MCA; with
// ERMS (leaf 7), so that the kernel's page clearing and memset/memcpy are
// rep string instructions.
std::vector<CpuidEntry> linux_cpuid_table();

// Looks up (function, index) the way KVM and Intel hardware do: a leaf above
// the maximum basic or extended leaf answers as the highest basic leaf; a
// missing sub-leaf of a leaf that has sub-leaves answers zeros; other leaves
// ignore the index. Both backends answer exactly this.
// Leaves whose answer depends on ECX (KVM_CPUID_FLAG_SIGNIFCANT_INDEX).
bool cpuid_leaf_has_subleaves(uint32_t function);

CpuidEntry cpuid_lookup(const std::vector<CpuidEntry>& table, uint32_t function, uint32_t index);

}  // namespace rrvm
