#include "vmm/machine_snapshot.h"

namespace rrvm {

uint64_t MachineSnapshot::cost_bytes(const MachineSnapshot* neighbour) const {
  uint64_t fixed = sizeof *this + cpu.exact.size();
  for (const auto& [name, state] : devices) fixed += name.size() + state.size();
  const uint64_t pages = neighbour ? memory.pages_not_in(neighbour->memory) : memory.stored_pages();
  return fixed + pages * kPageSize;
}

}  // namespace rrvm
