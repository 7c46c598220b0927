#include "replay/divergence_report.h"

#include <fmt/format.h>

#include "vmm/disassembler.h"

namespace rrvm {

namespace {
constexpr size_t kCodeBytes = 16;
constexpr size_t kInstructionsShown = 3;
}  // namespace

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
  for (uint8_t x : bytes_at_rip) s += fmt::format(" {:02x}", x);
  if (bytes_at_rip.empty()) s += " (not in RAM)";
  s += "\n";
  const uint64_t pc = registers.pc_linear();
  auto code = disassemble(bytes_at_rip, pc, code_bits(registers), kInstructionsShown);
  if (!code.empty()) {
    s += fmt::format("  code at rip ({}-bit", int(code_bits(registers)));
    if (rip_physical && *rip_physical != pc) s += fmt::format(", physical {:#x}", *rip_physical);
    s += "):\n";
    for (const auto& ins : code) s += fmt::format("    {:#x}: {}\n", ins.address, ins.text);
  }
  if (!recent_events.empty()) {
    s += "  last events before it:\n";
    for (const auto& e : recent_events) s += "    " + e + "\n";
  }
  return s;
}

void capture_cpu(DivergenceReport& r, Vcpu& vcpu, const GuestMemory& memory) {
  r.registers = vcpu.get_registers();
  r.bytes_at_rip.clear();
  r.rip_physical.reset();
  // Linear addresses go through the guest's paging; each page on its own.
  const uint64_t pc = r.registers.pc_linear();
  r.bytes_at_rip.resize(kCodeBytes);
  r.bytes_at_rip.resize(read_linear(vcpu, memory, pc, r.bytes_at_rip));
  if (!r.bytes_at_rip.empty()) r.rip_physical = vcpu.translate(pc);
}

}  // namespace rrvm
