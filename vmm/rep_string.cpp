#include "vmm/rep_string.h"

#include <algorithm>

namespace rrvm {

std::optional<RepString> decode_rep_string(std::span<const uint8_t> code, CodeBits bits) {
  RepString s;
  bool operand_toggle = false, address_toggle = false, rex_w = false;
  uint8_t rep = 0;
  size_t i = 0;
  for (; i < code.size() && i < 15; ++i) {
    const uint8_t b = code[i];
    if (b == 0x66) operand_toggle = true;
    else if (b == 0x67) address_toggle = true;
    else if (b == 0xF2 || b == 0xF3) rep = b;
    else if (b == 0xF0) continue;
    else if (b == 0x26) s.source_segment = 0;
    else if (b == 0x2E) s.source_segment = 1;
    else if (b == 0x36) s.source_segment = 2;
    else if (b == 0x3E) s.source_segment = 3;
    else if (b == 0x64) s.source_segment = 4;
    else if (b == 0x65) s.source_segment = 5;
    else if (bits == CodeBits::k64 && (b & 0xF0) == 0x40) {
      // REX counts only right before the opcode.
      if (i + 1 < code.size() && (code[i + 1] & 0xF0) != 0x40 && code[i + 1] != 0x66 && code[i + 1] != 0x67 &&
          code[i + 1] != 0xF2 && code[i + 1] != 0xF3)
        rex_w = (b & 0x08) != 0;
      else
        rex_w = false;
    } else
      break;
  }
  if (i >= code.size() || !rep) return std::nullopt;
  const uint8_t op = code[i];
  switch (op & 0xFE) {
    case 0xA4: s.op = RepString::Op::Movs; break;
    case 0xA6: s.op = RepString::Op::Cmps; break;
    case 0xAA: s.op = RepString::Op::Stos; break;
    case 0xAC: s.op = RepString::Op::Lods; break;
    case 0xAE: s.op = RepString::Op::Scas; break;
    case 0x6C: s.op = RepString::Op::Ins; break;
    case 0x6E: s.op = RepString::Op::Outs; break;
    default: return std::nullopt;
  }
  if (s.op == RepString::Op::Cmps || s.op == RepString::Op::Scas)
    s.cond = rep == 0xF3 ? RepString::Cond::WhileEqual : RepString::Cond::WhileNotEqual;
  s.length = static_cast<uint8_t>(i + 1);
  const bool wide = op & 1;
  const bool io = s.op == RepString::Op::Ins || s.op == RepString::Op::Outs;
  if (!wide) s.element = 1;
  else if (bits == CodeBits::k64 && rex_w && !io) s.element = 8;
  else if (bits == CodeBits::k16) s.element = operand_toggle ? 4 : 2;
  else s.element = operand_toggle ? 2 : 4;
  switch (bits) {
    case CodeBits::k16: s.address_bytes = address_toggle ? 4 : 2; break;
    case CodeBits::k32: s.address_bytes = address_toggle ? 2 : 4; break;
    case CodeBits::k64: s.address_bytes = address_toggle ? 4 : 8; break;
  }
  return s;
}

namespace {
std::optional<LinearRange> range_from(const RepString& s, const Registers& regs, uint64_t offset, uint64_t base,
                                      uint64_t iterations) {
  const uint64_t mask = s.count_mask();
  offset &= mask;
  if (iterations == 0) return LinearRange{base + offset, base + offset};
  if (iterations > mask / s.element) return std::nullopt;
  const uint64_t bytes = iterations * s.element;
  const bool down = (regs.rflags & (1u << 10)) != 0;  // DF
  if (!down) {
    if (mask - offset < bytes - 1) return std::nullopt;
    return LinearRange{base + offset, base + offset + bytes};
  }
  // Downwards: the first element at offset, the last at offset - (n-1)*element.
  const uint64_t lowest_step = (iterations - 1) * s.element;
  if (offset < lowest_step || mask - offset < uint64_t{s.element} - 1) return std::nullopt;
  return LinearRange{base + offset - lowest_step, base + offset + s.element};
}

const Segment& segment(const Registers& r, int index) {
  switch (index) {
    case 0: return r.es;
    case 1: return r.cs;
    case 2: return r.ss;
    case 4: return r.fs;
    case 5: return r.gs;
    default: return r.ds;
  }
}
}  // namespace

std::optional<LinearRange> rep_source_range(const RepString& s, const Registers& regs, uint64_t iterations) {
  return range_from(s, regs, regs.rsi, segment(regs, s.source_segment).base, iterations);
}

std::optional<LinearRange> rep_destination_range(const RepString& s, const Registers& regs, uint64_t iterations) {
  return range_from(s, regs, regs.rdi, regs.es.base, iterations);
}

uint64_t kvm_ins_batch_elements(const RepString& s, const Registers& regs) {
  constexpr uint64_t kPage = 4096, kReadAhead = 1024;  // PAGE_SIZE, sizeof(read_cache::data)
  const uint64_t offset = regs.rdi % kPage;
  const bool down = (regs.rflags & (1u << 10)) != 0;
  const uint64_t in_page = down ? offset : kPage - offset;  // bytes, compared with elements (KVM's quirk)
  const uint64_t n = std::min({in_page, kReadAhead / s.element, s.count(regs)});
  return n == 0 ? 1 : n;
}

bool string_batch_continues(const RepString& s, uint64_t batch_left, uint64_t count_after) {
  if (count_after == 0) return false;
  return s.op == RepString::Op::Ins && batch_left > 0;
}

}  // namespace rrvm
