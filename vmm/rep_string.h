// Rep-prefixed string instructions (movs, cmps, stos, lods, scas, ins,
// outs), decoded from their bytes, and the arithmetic a replay needs to
// reach one iteration of them without stepping through the others.
//
// Between iterations the CPU takes interrupts with RIP still at the
// instruction and the count register (CX, ECX or RCX by address size)
// already decremented: the state after k iterations of an instruction that
// started with count n is RIP at it, count n - k, rSI/rDI moved k elements.
// Hardware shows it for 0 < k < n only: after the last iteration (count 0,
// or a repe/repne condition that ends it) RIP is past the instruction. KVM,
// which emulates rep ins/outs, also shows k = n (RIP at it, count 0) and
// then lets the CPU run it with no iteration (kvm_ins_batch_elements below).
#pragma once
#include <cstdint>
#include <optional>
#include <span>

#include "vmm/disassembler.h"
#include "vmm/registers.h"

namespace rrvm {

struct RepString {
  enum class Op : uint8_t { Movs, Cmps, Stos, Lods, Scas, Ins, Outs };
  // cmps/scas: repe (f3) runs while ZF = 1, repne (f2) while ZF = 0.
  enum class Cond : uint8_t { None, WhileEqual, WhileNotEqual };
  Op op = Op::Movs;
  Cond cond = Cond::None;
  uint8_t length = 0;         // bytes, prefixes included
  uint8_t element = 1;        // bytes per iteration: 1, 2, 4, 8
  uint8_t address_bytes = 2;  // width of rCX / rSI / rDI: 2, 4, 8
  int source_segment = 3;     // rSI's segment (0 es, 1 cs, 2 ss, 3 ds, 4 fs, 5 gs): ds unless overridden

  bool reads_source() const { return op == Op::Movs || op == Op::Cmps || op == Op::Lods || op == Op::Outs; }
  bool uses_destination() const { return op == Op::Movs || op == Op::Cmps || op == Op::Stos || op == Op::Scas || op == Op::Ins; }
  bool is_io() const { return op == Op::Ins || op == Op::Outs; }
  uint64_t count_mask() const { return address_bytes == 8 ? ~0ull : (1ull << (8 * address_bytes)) - 1; }
  uint64_t count(const Registers& r) const { return r.rcx & count_mask(); }
  // Whether, with the flags the last iteration left, the instruction would
  // go on to another iteration if its count allowed one.
  bool condition_continues(uint64_t rflags) const {
    const bool zf = (rflags & (1u << 6)) != 0;
    return cond == Cond::None || (cond == Cond::WhileEqual ? zf : !zf);
  }
};

// The rep string instruction at the start of `code` in a CPU of `bits`, or
// nullopt when it is something else (a string instruction without rep too).
std::optional<RepString> decode_rep_string(std::span<const uint8_t> code, CodeBits bits);

// The guest-linear byte ranges `iterations` iterations starting from `regs`
// touch through rSI (source) and rDI (destination), [begin, end); nullopt
// when an offset would wrap around its address size on the way.
struct LinearRange {
  uint64_t begin = 0, end = 0;
};
std::optional<LinearRange> rep_source_range(const RepString& s, const Registers& regs, uint64_t iterations);
std::optional<LinearRange> rep_destination_range(const RepString& s, const Registers& regs, uint64_t iterations);

// Where KVM lets an interrupt into a rep ins / rep outs (Linux 6.1,
// arch/x86/kvm/emulate.c pio_in_emulated and x86_emulate_insn's string
// tail; x86.c x86_emulate_instruction). Both backends follow it, so an
// interrupt enters at the same element whichever recorded.
//  - rep ins reads ahead: one userspace exit carries a batch of
//    min(in_page, 1024 / element, count) elements (in_page in BYTES: DF=0
//    4096 - RDI % 4096, DF=1 RDI % 4096; count the address-size-masked rCX;
//    0 becomes 1), taken with the registers before the batch. KVM emulates
//    the whole batch before it enters the guest again: an interrupt can
//    enter only after a batch's last element.
//  - rep outs: one userspace exit per element, and KVM enters the guest
//    after each (x86_emulate_instruction drops the emulator's restart when
//    an out went to userspace): an interrupt can enter after any element.
//    The restart rule of the string tail (re-enter only at rCX % 1024 == 0)
//    applies only to elements KVM completes in the kernel, which rrvm has
//    none of (no in-kernel devices).
//  - After the last element of either, RIP stays on the instruction with
//    the count at 0 (the tail skips the RIP writeback: only a repe/repne
//    condition completes a string instruction there), the guest is entered
//    there (an interrupt can enter) and runs it again with no iteration.
// Elements of the batch a rep ins at `regs` (count > 0) starts.
uint64_t kvm_ins_batch_elements(const RepString& s, const Registers& regs);
// Whether, after an element of a rep string I/O instruction with
// `batch_left` elements of its batch still to come and `count_after` the
// count register after the element, KVM goes on to the next element without
// entering the guest (no interrupt can enter there). False for the last
// element (count 0) and for everything but ins.
bool string_batch_continues(const RepString& s, uint64_t batch_left, uint64_t count_after);

}  // namespace rrvm
