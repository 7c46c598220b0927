#include "vmm/disassembler.h"

#include <capstone/capstone.h>

namespace rrvm {

CodeBits code_bits(const Registers& regs) {
  if (!regs.protected_mode()) return CodeBits::k16;
  if ((regs.efer & (1ull << 10)) && regs.cs.l) return CodeBits::k64;
  return regs.cs.db ? CodeBits::k32 : CodeBits::k16;
}

std::vector<Instruction> disassemble(std::span<const uint8_t> code, uint64_t address, CodeBits bits,
                                     size_t max_instructions) {
  std::vector<Instruction> out;
  const cs_mode mode = bits == CodeBits::k64 ? CS_MODE_64 : bits == CodeBits::k32 ? CS_MODE_32 : CS_MODE_16;
  csh handle;
  if (cs_open(CS_ARCH_X86, mode, &handle) != CS_ERR_OK) return out;
  cs_insn* insn = nullptr;
  const size_t n = cs_disasm(handle, code.data(), code.size(), address, max_instructions, &insn);
  for (size_t i = 0; i < n; ++i) {
    Instruction ins;
    ins.address = insn[i].address;
    ins.bytes.assign(insn[i].bytes, insn[i].bytes + insn[i].size);
    ins.text = insn[i].mnemonic;
    if (insn[i].op_str[0]) ins.text += std::string(" ") + insn[i].op_str;
    out.push_back(std::move(ins));
  }
  if (n) cs_free(insn, n);
  cs_close(&handle);
  return out;
}

}  // namespace rrvm
