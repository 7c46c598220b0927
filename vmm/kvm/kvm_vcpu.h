// The kvm vCPU backend: one vCPU on /dev/kvm with a userspace interrupt
// controller (no in-kernel irqchip or PIT), so every interrupt the guest sees
// was injected by rrvm through the Vcpu interface.
//
// Behaviour worth knowing:
//  - At a PortIo/Mmio exit the registers still show the instruction (RIP at
//    it); KVM finishes it on the next run(). Each element of a rep ins/outs is
//    its own exit.
//  - Kicked (kick() or RunLimits::deadline_host_ns) leaves an exact state:
//    a pending I/O instruction is completed first, nothing else runs.
//  - The dirty log may also report a page the guest only read, when that read
//    first mapped an already-populated page (KVM maps it writable).
//  - KVM keeps some CPUID bits dynamic: OSXSAVE follows CR4, APIC follows the
//    APIC base (rrvm sets it from the table's leaf 1 APIC bit). Leaves absent
//    from the table read as zeros, also above the maximum basic leaf.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "vmm/cpuid.h"
#include "vmm/guest_memory.h"
#include "vmm/kvm/kvm_host.h"
#include "vmm/vcpu.h"

namespace rrvm {

// Whether the kvm backend can run here. It needs /dev/kvm to open, speak API
// version 12 and have the capabilities the backend uses, and to be hardware
// KVM (kvm_host.h): kvm_intel or kvm_amd. Another kind (PVM, unknown) is
// usable only when `allow_unsupported` (the RRVM_ALLOW_UNSUPPORTED_KVM
// opt-in); `hardware` then stays false.
struct KvmAvailability {
  bool usable = false;
  bool hardware = false;
  KvmHostKind kind = KvmHostKind::None;
  std::string detail;  // one clause: what was found (and why not usable)
};
KvmAvailability kvm_availability(bool allow_unsupported);

// kvm_availability(unsupported_kvm_allowed()).usable, with the reason in
// *why_not when false. The kvm tests decide whether to run by this.
bool kvm_available(std::string* why_not);

// Creates a VM over `memory` (its mapped slots become KVM memslots; dirty
// logging is fed into memory.collect_dirty) and one vCPU with `cpuid`.
// `memory` must outlive the Vcpu. Throws std::runtime_error with one line.
std::unique_ptr<Vcpu> create_kvm_vcpu(GuestMemory& memory, const std::vector<CpuidEntry>& cpuid);

}  // namespace rrvm
