// The emu vCPU backend: a software x86 CPU on Unicorn 2.0.1 for real-mode and
// flat 32-bit protected-mode guests (no paging, no privilege changes), with
// an exact instruction count. See /work/shared/notes/unicorn-2.0.1.md.
#pragma once
#include <memory>
#include <vector>

#include "vmm/cpuid.h"
#include "vmm/guest_memory.h"
#include "vmm/vcpu.h"

namespace rrvm {

// `memory` must outlive the vCPU. Throws std::runtime_error if Unicorn
// cannot be opened.
std::unique_ptr<Vcpu> create_emu_vcpu(GuestMemory& memory, std::vector<CpuidEntry> cpuid);

}  // namespace rrvm
