// What a user needs first when replay and trace disagree: which event, where
// (exit ordinal, instruction count), what the trace expected and what
// happened, the registers, the code at RIP (bytes and their disassembly in
// the guest's current mode), and the events just before.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vmm/guest_memory.h"
#include "vmm/registers.h"
#include "vmm/run_tap.h"
#include "vmm/vcpu.h"

namespace rrvm {

struct DivergenceReport {
  uint64_t event_ordinal = 0;  // ordinal of the trace event that disagreed
  Position position;
  std::string what;      // e.g. "port-in value", "exit sequence"
  std::string expected;  // from the trace
  std::string actual;    // from the replay
  Registers registers;
  std::vector<uint8_t> bytes_at_rip;  // up to 16 bytes at CS:RIP (through paging)
  std::optional<uint64_t> rip_physical;  // where the first of them lies
  std::vector<std::string> recent_events;

  // The one-line summary ("divergence at event N (exit E, icount I): what:
  // expected X, got Y").
  std::string headline() const;
  // The full multi-line report.
  std::string to_string() const;
};

// Fills registers and the code at RIP from the live machine (RIP's linear
// address translated by the vCPU).
void capture_cpu(DivergenceReport& r, Vcpu& vcpu, const GuestMemory& memory);

}  // namespace rrvm
