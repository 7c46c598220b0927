// Delivers an interrupt or exception to the guest the way the CPU would,
// because Unicorn 2.0.1 only reports vectors and never uses the IVT/IDT:
// real mode through the IVT, 32-bit protected mode through the IDT at the
// same privilege level. Guest memory is accessed directly (RAM only).
#pragma once
#include <unicorn/unicorn.h>

#include <cstdint>
#include <string>

#include "vmm/guest_memory.h"

namespace rrvm {

struct DeliveryResult {
  enum Kind {
    Delivered,
    Fault,        // the IVT/IDT entry or the stack is unusable (#GP/#NP/#SS)
    Unsupported,  // Unicorn cannot do it (privilege change, task gate, v8086)
  } kind = Delivered;
  std::string message;  // why, for Fault / Unsupported
};

// Vectors for which a CPU exception pushes an error code.
bool exception_has_error_code(uint8_t vector);

// Fault-class exceptions: the EFLAGS image the CPU pushes for them has RF set
// (so that returning to the faulting instruction skips its breakpoint).
bool exception_is_fault(uint8_t vector);

// Pushes the return frame (and `error_code` when set) and jumps to the
// handler. Must be called while Unicorn is not emulating.
DeliveryResult deliver_interrupt(uc_engine* uc, GuestMemory& memory, uint8_t vector,
                                 bool push_error_code, uint32_t error_code, bool fault_rf = false);

}  // namespace rrvm
