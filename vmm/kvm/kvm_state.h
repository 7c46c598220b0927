// Conversion between rrvm's Registers and KVM's kvm_regs / kvm_sregs.
#pragma once
#include <linux/kvm.h>

#include "vmm/registers.h"

namespace rrvm::kvm {

Registers registers_from_kvm(const kvm_regs& regs, const kvm_sregs& sregs);
// Fills the fields Registers covers; everything else in `sregs` (APIC base,
// CR8, the pending-interrupt bitmap) is left as the caller read it from KVM.
void registers_to_kvm(const Registers& in, kvm_regs* regs, kvm_sregs* sregs);

}  // namespace rrvm::kvm
