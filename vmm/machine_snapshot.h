// A snapshot of a whole machine at an instruction boundary: the vCPU, every
// registered device, the run loop's position (exits, interrupts, where the
// loop stood) and time, and guest memory, kept page by page and sharing the
// pages that did not change with the snapshot it was taken after. Restoring
// one and running on gives the same future as the run it was taken from.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vmm/cpu_snapshot.h"
#include "vmm/ram_image.h"

namespace rrvm {

struct MachineSnapshot {
  CpuSnapshot cpu;
  uint64_t exits = 0;                // guest-caused exits handled (Position::exit_ordinal)
  uint64_t interrupts = 0;           // interrupts injected
  bool async = false;                // taken inside guest execution, not right after an exit
  bool after_interrupt = false;      // taken at on_interrupt_boundary (the run goes on from there)
  uint64_t clock_last_ns = 0;        // the latest time a device saw
  uint64_t clock_skipped_ns = 0;     // halted time the instruction clock added (emu)
  std::vector<std::pair<std::string, std::vector<uint8_t>>> devices;  // name, DeviceState bytes
  RamImage memory;

  // Bytes this snapshot costs on top of `neighbour` (its pages not shared
  // with it, and its fixed part); without one, all of it.
  uint64_t cost_bytes(const MachineSnapshot* neighbour) const;
};

}  // namespace rrvm
