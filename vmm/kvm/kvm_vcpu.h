// The kvm vCPU backend: one vCPU on /dev/kvm with a userspace interrupt
// controller (no in-kernel irqchip or PIT), so every interrupt the guest sees
// was injected by rrvm through the Vcpu interface.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "vmm/cpuid.h"
#include "vmm/guest_memory.h"
#include "vmm/vcpu.h"

namespace rrvm {

// True when /dev/kvm opens, speaks API version 12 and has the capabilities
// the backend needs; otherwise false with a one-line reason in *why_not.
bool kvm_available(std::string* why_not);

// Creates a VM over `memory` (its mapped slots become KVM memslots; dirty
// logging is fed into memory.collect_dirty) and one vCPU with `cpuid`.
// `memory` must outlive the Vcpu. Throws std::runtime_error with one line.
std::unique_ptr<Vcpu> create_kvm_vcpu(GuestMemory& memory, const std::vector<CpuidEntry>& cpuid);

}  // namespace rrvm
