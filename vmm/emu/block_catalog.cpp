#include "vmm/emu/block_catalog.h"

#include <stdexcept>

#include "vmm/rep_string.h"

namespace rrvm {
namespace {

int gpr32_index(unsigned reg) {
  switch (reg) {
    case X86_REG_EAX: return 0;
    case X86_REG_ECX: return 1;
    case X86_REG_EDX: return 2;
    case X86_REG_EBX: return 3;
    case X86_REG_ESP: return 4;
    case X86_REG_EBP: return 5;
    case X86_REG_ESI: return 6;
    case X86_REG_EDI: return 7;
    default: return -1;
  }
}

// Whether the instruction reads or writes memory (explicitly, or the stack
// and string operands it implies). lea and the hinting nops only compute an
// address.
bool touches_memory(const cs_insn& in) {
  switch (in.id) {
    case X86_INS_LEA: case X86_INS_NOP:
      return false;
    case X86_INS_PUSH: case X86_INS_PUSHAL: case X86_INS_PUSHAW: case X86_INS_PUSHF: case X86_INS_PUSHFD:
    case X86_INS_POP: case X86_INS_POPAL: case X86_INS_POPAW: case X86_INS_POPF: case X86_INS_POPFD:
    case X86_INS_CALL: case X86_INS_LCALL: case X86_INS_RET: case X86_INS_RETF: case X86_INS_RETFQ:
    case X86_INS_IRET: case X86_INS_IRETD: case X86_INS_ENTER: case X86_INS_LEAVE:
    case X86_INS_MOVSB: case X86_INS_MOVSW: case X86_INS_MOVSD:
    case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD:
    case X86_INS_LODSB: case X86_INS_LODSW: case X86_INS_LODSD:
    case X86_INS_CMPSB: case X86_INS_CMPSW: case X86_INS_CMPSD:
    case X86_INS_SCASB: case X86_INS_SCASW: case X86_INS_SCASD:
    case X86_INS_XLATB:
      return true;
    default:
      break;
  }
  const cs_x86& x = in.detail->x86;
  for (int i = 0; i < x.op_count; ++i)
    if (x.operands[i].type == X86_OP_MEM) return true;
  return false;
}

DecodedInsn classify(const cs_insn& in, uint64_t block_pc, bool code32) {
  DecodedInsn d;
  if (auto rep = decode_rep_string(std::span<const uint8_t>(in.bytes, in.size), code32 ? CodeBits::k32 : CodeBits::k16)) {
    d.rep_count_bytes = rep->address_bytes;
    d.rep_io = rep->is_io();
  }
  d.offset = static_cast<uint16_t>(in.address - block_pc);
  d.length = static_cast<uint8_t>(in.size);
  const cs_x86& x = in.detail->x86;
  auto reg_op = [&](int i) -> unsigned {
    return i < x.op_count && x.operands[i].type == X86_OP_REG ? static_cast<unsigned>(x.operands[i].reg) : 0u;
  };
  switch (in.id) {
    case X86_INS_IN: case X86_INS_OUT:
    case X86_INS_INSB: case X86_INS_INSW: case X86_INS_INSD:
    case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD:
      d.kind = InsnKind::Io;
      break;
    case X86_INS_STI: d.kind = InsnKind::Sti; break;
    case X86_INS_POP:
    case X86_INS_MOV:
      if (reg_op(0) == X86_REG_SS) d.kind = InsnKind::ShadowSs;
      if (in.id == X86_INS_MOV && reg_op(0) >= X86_REG_CR0 && reg_op(0) <= X86_REG_CR15 &&
          gpr32_index(reg_op(1)) >= 0) {
        d.kind = InsnKind::CrWrite;
        d.cr = static_cast<uint8_t>(reg_op(0) - X86_REG_CR0);
        d.reg = static_cast<uint8_t>(gpr32_index(reg_op(1)));
      }
      break;
    case X86_INS_RDTSC: d.kind = InsnKind::Rdtsc; break;
    case X86_INS_RDTSCP: d.kind = InsnKind::Undefined; break;
    case X86_INS_SMSW:
      if (gpr32_index(reg_op(0)) >= 0) {
        d.kind = InsnKind::Smsw32;
        d.reg = static_cast<uint8_t>(gpr32_index(reg_op(0)));
      }
      break;
    case X86_INS_WRMSR: d.kind = InsnKind::Wrmsr; break;
    case X86_INS_PUSHFD: d.kind = InsnKind::Pushfd; break;
    case X86_INS_IRET: case X86_INS_IRETD: case X86_INS_RETF:
      d.kind = InsnKind::FarTransfer;
      break;
    case X86_INS_LJMP: case X86_INS_LCALL:
      if (x.op_count == 2 && x.operands[0].type == X86_OP_IMM) {
        d.kind = InsnKind::FarTransfer;
        d.far_imm = 1;
        d.far_selector = static_cast<uint16_t>(x.operands[0].imm);
      }
      break;
    case X86_INS_INT:
      d.kind = InsnKind::SoftInt;
      d.soft_vector = x.op_count ? static_cast<uint8_t>(x.operands[0].imm) : 0;
      break;
    case X86_INS_INT3: d.kind = InsnKind::SoftInt; d.soft_vector = 3; break;
    case X86_INS_INTO: d.kind = InsnKind::SoftInt; d.soft_vector = 4; break;
    case X86_INS_INT1: d.kind = InsnKind::SoftInt; d.soft_vector = 1; break;
    default: break;
  }
  if (d.kind == InsnKind::Plain && touches_memory(in)) d.kind = InsnKind::Memory;
  switch (in.id) {
    case X86_INS_LJMP: case X86_INS_LCALL: case X86_INS_RETF: case X86_INS_RETFQ:
    case X86_INS_IRET: case X86_INS_IRETD:
      d.may_change_mode = true;
      break;
    default:
      d.may_change_mode = d.kind == InsnKind::CrWrite;
  }
  return d;
}

}  // namespace

int Block::index_at(uint64_t a) const {
  if (a < pc || a >= pc + size) return -1;
  const uint64_t off = a - pc;
  size_t lo = 0, hi = insns.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (insns[mid].offset < off) lo = mid + 1;
    else hi = mid;
  }
  return lo < insns.size() && insns[lo].offset == off ? static_cast<int>(lo) : -1;
}

int Block::index_ending_at(uint64_t a) const {
  if (a <= pc || a > pc + size) return -1;
  const int next = a == pc + size ? static_cast<int>(insns.size()) : index_at(a);
  if (next <= 0) return -1;
  const DecodedInsn& prev = insns[next - 1];
  return pc + prev.offset + prev.length == a ? next - 1 : -1;
}

BlockCatalog::BlockCatalog() : hot_table_(std::make_unique<std::array<Hot, kHotSlots>>()) {
  hot_ = hot_table_->data();
  if (cs_open(CS_ARCH_X86, CS_MODE_16, &cs16_) != CS_ERR_OK || cs_open(CS_ARCH_X86, CS_MODE_32, &cs32_) != CS_ERR_OK)
    throw std::runtime_error("emu: cannot open Capstone");
  cs_option(cs16_, CS_OPT_DETAIL, CS_OPT_ON);
  cs_option(cs32_, CS_OPT_DETAIL, CS_OPT_ON);
  scratch_ = cs_malloc(cs32_);
}

BlockCatalog::~BlockCatalog() {
  if (scratch_) cs_free(scratch_, 1);
  cs_close(&cs16_);
  cs_close(&cs32_);
}

Block* BlockCatalog::find_cold(uint64_t k) {
  auto it = blocks_.find(k);
  if (it == blocks_.end()) return nullptr;
  hot_[slot(k)] = Hot{k, &it->second};
  return &it->second;
}

void BlockCatalog::decode(Block& b, const uint8_t* code) {
  b.insns.clear();
  b.needs_precise = false;
  b.decoded_all = false;
  if (code) {
    const uint8_t* p = code;
    size_t left = b.size;
    uint64_t address = b.pc;
    csh h = b.code32 ? cs32_ : cs16_;
    while (left && b.insns.size() < b.icount && cs_disasm_iter(h, &p, &left, &address, scratch_)) {
      DecodedInsn d = classify(*scratch_, b.pc, b.code32);
      b.needs_precise |= needs_precise(d.kind);
      b.insns.push_back(d);
    }
    b.decoded_all = b.insns.size() == b.icount && left == 0;
  }
  // Where Capstone and Unicorn disagree on the instructions (bytes Capstone
  // does not know), the block is followed one instruction at a time.
  if (!b.decoded_all) b.needs_precise = true;
}

Block& BlockCatalog::record(uint64_t pc, uint32_t size, uint32_t icount, const uint8_t* code, bool code32) {
  const uint64_t k = key(pc, size, code32);
  Block& b = blocks_[k];
  b.pc = pc;
  b.size = size;
  b.icount = icount;
  b.code32 = code32;
  decode(b, code);
  hot_[slot(k)] = Hot{k, &b};
  return b;
}

void BlockCatalog::clear() {
  blocks_.clear();
  hot_table_->fill(Hot{});
}

}  // namespace rrvm
