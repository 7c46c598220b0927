// Hidden segment state that Unicorn 2.0.1 cannot report: rebuilt from the
// selector (real mode) or from the descriptor in guest memory (protected
// mode), in the Registers struct's KVM-style decoded form.
#pragma once
#include <cstdint>
#include <optional>

#include "vmm/guest_memory.h"
#include "vmm/registers.h"

namespace rrvm {

// Real mode: base = selector << 4, 64 KiB limit; code is execute/read.
Segment real_mode_segment(uint16_t selector, bool code);

// Decodes an 8-byte GDT/LDT descriptor (limit scaled by G).
Segment decode_descriptor(uint16_t selector, uint64_t descriptor);

// Reads the descriptor `selector` names from the GDT (or the LDT when TI is
// set); nullopt when it lies outside the table or outside RAM.
std::optional<uint64_t> read_descriptor(const GuestMemory& memory, const DescriptorTable& gdt,
                                        const Segment& ldt, uint16_t selector);

// The protected-mode segment for `selector`: a null selector gives an
// unusable (not present) segment, an unreadable descriptor likewise.
Segment protected_mode_segment(const GuestMemory& memory, const DescriptorTable& gdt,
                               const Segment& ldt, uint16_t selector);

// QEMU's packed access-rights word (descriptor high dword without base/limit
// bits), as Unicorn's uc_x86_mmr.flags carries it for TR and LDTR.
uint32_t segment_to_qemu_flags(const Segment& s);
void segment_from_qemu_flags(uint32_t flags, Segment* s);

}  // namespace rrvm
