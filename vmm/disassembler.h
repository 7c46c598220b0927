// Guest code as instructions (Capstone), in the mode the CPU state selects:
// 16-bit in real mode and in protected mode with a 16-bit code segment,
// 32-bit with CS.D = 1, 64-bit with CS.L = 1 in long mode. For divergence
// reports and the debugger; not on any hot path.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vmm/registers.h"

namespace rrvm {

enum class CodeBits : uint8_t { k16 = 16, k32 = 32, k64 = 64 };
CodeBits code_bits(const Registers& regs);

struct Instruction {
  uint64_t address = 0;  // as given (e.g. the linear address of the first byte)
  std::vector<uint8_t> bytes;
  std::string text;      // "mov eax, dword ptr [ebx + 4]"
};

// Up to `max_instructions` from the start of `code`; stops early at bytes
// that do not decode (the rest is left out, never guessed).
std::vector<Instruction> disassemble(std::span<const uint8_t> code, uint64_t address, CodeBits bits,
                                     size_t max_instructions);

}  // namespace rrvm
