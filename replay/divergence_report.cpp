#include "replay/divergence_report.h"

#include <cstdio>

namespace rrvm {

std::string DivergenceReport::headline() const {
  std::string s = "divergence at event " + std::to_string(event_ordinal) + " (exit " +
                  std::to_string(position.exit_ordinal);
  if (position.icount) s += ", icount " + std::to_string(*position.icount);
  if (position.async) s += ", inside guest execution";
  s += "): " + what + ": trace expected " + expected + ", replay gave " + actual;
  return s;
}

std::string DivergenceReport::to_string() const {
  std::string s = headline() + "\n  registers: " + format_registers(registers) + "\n  bytes at rip:";
  char b[8];
  for (uint8_t x : bytes_at_rip) {
    std::snprintf(b, sizeof b, " %02x", x);
    s += b;
  }
  if (bytes_at_rip.empty()) s += " (not in RAM)";
  s += "\n";
  if (!recent_events.empty()) {
    s += "  last events before it:\n";
    for (const auto& e : recent_events) s += "    " + e + "\n";
  }
  return s;
}

void capture_cpu(DivergenceReport& r, const Registers& regs, const GuestMemory& memory) {
  r.registers = regs;
  r.bytes_at_rip.clear();
  uint64_t pc = regs.pc_linear();
  for (int i = 0; i < 16; ++i) {
    uint8_t byte;
    if (!memory.read(pc + i, &byte, 1)) break;
    r.bytes_at_rip.push_back(byte);
  }
}

}  // namespace rrvm
