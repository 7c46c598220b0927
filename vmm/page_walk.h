// Linear to guest-physical translation by walking the guest's own page
// tables, for any paging mode the CPU state selects: none (CR0.PG = 0),
// 32-bit (with 4 MiB PSE pages), PAE, and 4- or 5-level long mode (2 MiB and
// 1 GiB pages). Used where the backend has no translation of its own (emu)
// and by tools that read memory at linear addresses (divergence reports, the
// gdb server). Access rights are not checked: this is the debugger's view.
#pragma once
#include <cstdint>
#include <optional>

#include "vmm/guest_memory.h"
#include "vmm/registers.h"

namespace rrvm {

// nullopt when a table entry on the way is not present, lies outside RAM,
// or the address is not canonical (long mode).
std::optional<uint64_t> linear_to_physical(const Registers& regs, const GuestMemory& memory, uint64_t linear);

}  // namespace rrvm
