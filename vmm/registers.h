// Architectural x86 CPU state shared by every backend. Both backends fill
// and accept exactly this structure, so traces, checkpoints and divergence
// reports never depend on which CPU ran the guest.
#pragma once
#include <cstdint>
#include <string>

namespace rrvm {

struct Segment {
  uint16_t selector = 0;
  uint64_t base = 0;
  uint32_t limit = 0xFFFF;
  // Access rights in KVM's decoded form.
  uint8_t type = 0x3;  // data read/write accessed
  uint8_t present = 1;
  uint8_t dpl = 0;
  uint8_t db = 0;   // default operation size (1 = 32-bit)
  uint8_t s = 1;    // code/data (1) vs system (0)
  uint8_t l = 0;    // long-mode code
  uint8_t g = 0;    // limit granularity (1 = 4 KiB units)
  uint8_t avl = 0;
  bool operator==(const Segment&) const = default;
};

struct DescriptorTable {
  uint64_t base = 0;
  uint16_t limit = 0xFFFF;
  bool operator==(const DescriptorTable&) const = default;
};

struct Registers {
  uint64_t rax = 0, rbx = 0, rcx = 0, rdx = 0;
  uint64_t rsi = 0, rdi = 0, rsp = 0, rbp = 0;
  uint64_t r8 = 0, r9 = 0, r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
  uint64_t rip = 0;
  uint64_t rflags = 0x2;  // bit 1 is always set
  Segment cs, ds, es, fs, gs, ss, tr, ldt;
  DescriptorTable gdt, idt;
  uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0, efer = 0;
  bool operator==(const Registers&) const = default;

  static constexpr uint64_t kFlagIF = 1u << 9;
  static constexpr uint64_t kFlagTF = 1u << 8;
  bool interrupts_enabled() const { return (rflags & kFlagIF) != 0; }
  bool protected_mode() const { return (cr0 & 1) != 0; }
  // Linear address of the current instruction.
  uint64_t pc_linear() const { return cs.base + rip; }
};

// One-line human summary for error messages and divergence reports.
std::string format_registers(const Registers& r);

}  // namespace rrvm
