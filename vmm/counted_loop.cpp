#include "vmm/counted_loop.h"

#include <array>
#include <string_view>

#include "vmm/cpu_state.h"
#include "vmm/guest_memory.h"
#include "vmm/vcpu.h"

namespace rrvm {

namespace {

struct CounterName {
  std::string_view name;
  uint64_t Registers::*reg;
  uint64_t mask;
};

constexpr uint64_t k16 = 0xFFFF, k32 = 0xFFFFFFFF, k64 = ~0ull;

// Capstone's register names; the stack pointer is never a loop counter.
constexpr std::array<CounterName, 45> kCounters{{
    {"rax", &Registers::rax, k64}, {"eax", &Registers::rax, k32}, {"ax", &Registers::rax, k16},
    {"rbx", &Registers::rbx, k64}, {"ebx", &Registers::rbx, k32}, {"bx", &Registers::rbx, k16},
    {"rcx", &Registers::rcx, k64}, {"ecx", &Registers::rcx, k32}, {"cx", &Registers::rcx, k16},
    {"rdx", &Registers::rdx, k64}, {"edx", &Registers::rdx, k32}, {"dx", &Registers::rdx, k16},
    {"rsi", &Registers::rsi, k64}, {"esi", &Registers::rsi, k32}, {"si", &Registers::rsi, k16},
    {"rdi", &Registers::rdi, k64}, {"edi", &Registers::rdi, k32}, {"di", &Registers::rdi, k16},
    {"rbp", &Registers::rbp, k64}, {"ebp", &Registers::rbp, k32}, {"bp", &Registers::rbp, k16},
    {"r8", &Registers::r8, k64},   {"r8d", &Registers::r8, k32},   {"r8w", &Registers::r8, k16},
    {"r9", &Registers::r9, k64},   {"r9d", &Registers::r9, k32},   {"r9w", &Registers::r9, k16},
    {"r10", &Registers::r10, k64}, {"r10d", &Registers::r10, k32}, {"r10w", &Registers::r10, k16},
    {"r11", &Registers::r11, k64}, {"r11d", &Registers::r11, k32}, {"r11w", &Registers::r11, k16},
    {"r12", &Registers::r12, k64}, {"r12d", &Registers::r12, k32}, {"r12w", &Registers::r12, k16},
    {"r13", &Registers::r13, k64}, {"r13d", &Registers::r13, k32}, {"r13w", &Registers::r13, k16},
    {"r14", &Registers::r14, k64}, {"r14d", &Registers::r14, k32}, {"r14w", &Registers::r14, k16},
    {"r15", &Registers::r15, k64}, {"r15d", &Registers::r15, k32}, {"r15w", &Registers::r15, k16},
}};

// "MNEMONIC OPERAND": the operand when the mnemonic is `mnemonic`.
std::optional<std::string_view> operand_of(const Instruction& i, std::string_view mnemonic) {
  std::string_view t = i.text;
  if (t.size() <= mnemonic.size() + 1 || t.substr(0, mnemonic.size()) != mnemonic || t[mnemonic.size()] != ' ')
    return std::nullopt;
  return t.substr(mnemonic.size() + 1);
}

std::optional<uint64_t> jump_target(const Instruction& i, std::string_view mnemonic) {
  auto op = operand_of(i, mnemonic);
  if (!op || op->substr(0, 2) != "0x") return std::nullopt;
  uint64_t v = 0;
  for (char c : op->substr(2)) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0 || v >> 60) return std::nullopt;
    v = v << 4 | uint64_t(d);
  }
  return v;
}

std::optional<CountedLoop> dec_counter(const Instruction& i) {
  auto op = operand_of(i, "dec");
  if (!op) return std::nullopt;
  for (const CounterName& c : kCounters)
    if (c.name == *op) return CountedLoop{i.address, c.reg, c.mask, true};
  return std::nullopt;
}

std::vector<Instruction> decode_at(std::span<const uint8_t> code, uint64_t code_address, uint64_t at, CodeBits bits,
                                   size_t count) {
  if (at < code_address || at - code_address >= code.size()) return {};
  return disassemble(code.subspan(at - code_address), at, bits, count);
}

}  // namespace

std::optional<CountedLoop> find_counted_loop(std::span<const uint8_t> code, uint64_t code_address, uint64_t pc,
                                             CodeBits bits) {
  const std::vector<Instruction> here = decode_at(code, code_address, pc, bits, 2);
  if (here.empty()) return std::nullopt;
  // pc at the dec: the jnz after it jumps back to pc.
  if (here.size() == 2) {
    auto loop = dec_counter(here[0]);
    if (loop && jump_target(here[1], "jne") == pc) return loop;
  }
  // pc at `loop` to itself (a prefixed form may count in another register).
  if (jump_target(here[0], "loop") == pc && here[0].bytes.size() == 2) {
    const uint64_t mask = bits == CodeBits::k64 ? k64 : bits == CodeBits::k32 ? k32 : k16;
    return CountedLoop{pc, &Registers::rcx, mask, false};
  }
  // pc at the jnz: its target is a dec that ends at pc.
  auto target = jump_target(here[0], "jne");
  if (!target || *target >= pc || pc - *target > 4) return std::nullopt;
  const std::vector<Instruction> head = decode_at(code, code_address, *target, bits, 1);
  if (head.empty() || head[0].address + head[0].bytes.size() != pc) return std::nullopt;
  return dec_counter(head[0]);
}

std::optional<CountedLoop> counted_loop_at(Vcpu& vcpu, const GuestMemory& memory, const Registers& regs) {
  std::array<uint8_t, 24> code{};
  const uint64_t pc = regs.pc_linear();
  const uint64_t from = pc >= 8 ? pc - 8 : 0;
  const size_t n = read_linear(vcpu, memory, from, code);
  return find_counted_loop(std::span(code.data(), n), from, pc, code_bits(regs));
}

std::optional<LoopSkip> counted_loop_skip(const CountedLoop& loop, const Registers& now, const Registers& target) {
  if (now.pc_linear() != target.pc_linear()) return std::nullopt;
  if ((now.*loop.counter & ~loop.mask) != (target.*loop.counter & ~loop.mask)) return std::nullopt;
  const uint64_t have = now.*loop.counter & loop.mask, want = target.*loop.counter & loop.mask;
  const bool at_head = now.pc_linear() == loop.head;
  auto with_counter = [&](uint64_t value) {
    Registers r = now;
    r.*loop.counter = (now.*loop.counter & ~loop.mask) | value;
    return r;
  };
  // Passes only run the counter down, by one, and the loop ends at 0: from
  // `have`, the states at this pc hold every count below it down to 1 (and
  // 0 at the jump, the last pass). The arithmetic flags there (dec) follow
  // the count; same_execution_point compares only IF and DF, which no pass
  // changes.
  const bool same_execution = same_execution_point(with_counter(want), target);
  const bool reachable = same_execution && want < have && (want >= 1 || !at_head);
  if (reachable) {
    if (want + 1 == have) return std::nullopt;  // the next pass gets there
    // The flags stay now's: at the jump they say "not zero", true of every
    // count above 0; at the dec they are replaced.
    return LoopSkip{LoopSkip::Kind::PassBeforeTarget, with_counter(want + 1)};
  }
  // Ended after the next pass already: at the dec with 1 (it makes 0), at
  // the jump with 0 (not taken) or 1 (one more pass).
  if (have <= 1) return std::nullopt;
  return LoopSkip{LoopSkip::Kind::LastPass, with_counter(1)};
}

}  // namespace rrvm
