// A vCPU that counts the instructions it retires by single-stepping another
// one (kvm: without a PMU it has no instruction count): the backend of a
// timeline on kvm (system/replay_timeline.h), where every point must be an
// instruction boundary reached again the same way.
//
// What it does per instruction: arm the inner vCPU's single step, run it,
// count the trap, take the trap flag back out of the guest's flags. Three
// things the trap flag would change for the guest are done without it:
//  - an interrupt the machine injects is delivered with the single step off
//    and a breakpoint on the handler's first instruction (read from the IVT
//    or IDT), so that delivery is synchronous (as on emu) and the flags the
//    CPU pushes carry no trap flag;
//  - `int n`, `int3`, `into` (taken) and `int1` go the same way;
//  - `pushf` has the trap flag cleared in the image it stored.
// Limits (documented in docs/design.md): an exception an instruction raises
// (#DE, #GP, #PF...) is delivered with the trap flag set, so its handler runs
// within that instruction's step and the flags image it pushed keeps the
// flag; a guest that sets the trap flag itself is not supported.
//
// Breakpoints (the replay's search breakpoint, a debugger's code
// breakpoints) are compared with the linear PC before each instruction, so
// nothing is patched into guest memory. Write watchpoints compare the
// watched bytes before and after each instruction (a store of the value
// already there is not seen); read watchpoints are refused.
#pragma once
#include <memory>

#include "vmm/guest_memory.h"
#include "vmm/vcpu.h"

namespace rrvm {

std::unique_ptr<Vcpu> make_stepping_vcpu(std::unique_ptr<Vcpu> inner, GuestMemory& memory);

// The linear address of the first instruction of the handler of `vector`
// (real mode: the IVT; protected and long mode: the IDT's interrupt or trap
// gate and the code segment's base from the GDT or LDT); nullopt for a task
// gate, a gate that is not present or a table that cannot be read.
std::optional<uint64_t> interrupt_handler_linear(Vcpu& vcpu, const GuestMemory& memory, const Registers& regs,
                                                 uint8_t vector);

}  // namespace rrvm
