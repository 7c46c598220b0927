// Tight counted loops: `dec REG; jnz` back to the dec, and `loop` to itself.
// A pass changes nothing but the counter (and, for dec, the arithmetic
// flags): no memory, no other register. Linux spins in one for every
// udelay() and for its BogoMIPS calibration at boot (delay_loop, used where
// the CPU has no TSC), millions of passes long, and firmware waits in them.
//
// A replay without an instruction count finds a point inside guest
// execution by a breakpoint at its pc and a state compare at every stop
// there; inside such a loop that is one stop per pass. Where the point's
// registers are known, the pass before the point is computed instead: the
// counter set one above the point's, one pass run, and the compare says yes;
// an execution of the loop that cannot hold the point is run to its end the
// same way. Skipping passes hides nothing: a pass writes only the counter
// and the flags, which come out as the passes would have left them.
#pragma once
#include <cstdint>
#include <optional>
#include <span>

#include "vmm/disassembler.h"
#include "vmm/registers.h"

namespace rrvm {

class GuestMemory;
class Vcpu;

struct CountedLoop {
  uint64_t head = 0;                    // linear address of the loop's first instruction
  uint64_t Registers::*counter = nullptr;
  uint64_t mask = 0;                    // the counter's width: 0xFFFF, 0xFFFFFFFF or all bits
  bool sets_flags = false;              // dec: PF, AF, ZF, SF and OF follow the counter
};

// Whether the instruction at linear `pc` belongs to a counted loop: `code`
// holds the bytes from linear `code_address` on and must cover pc - 8 to
// pc + 16 where mapped (fewer bytes just find fewer loops). 16-bit
// registers in 16-bit code, any general register but the stack pointer.
std::optional<CountedLoop> find_counted_loop(std::span<const uint8_t> code, uint64_t code_address, uint64_t pc,
                                             CodeBits bits);
// The same for the instruction at `regs`' pc, read from the guest's memory
// as the vCPU sees it (the recorder at a point, the replay at a wrong hit).
std::optional<CountedLoop> counted_loop_at(Vcpu& vcpu, const GuestMemory& memory, const Registers& regs);

// How a replay at a wrong hit inside a counted loop gets on: `now` and
// `target` both at the loop's instruction at their pc (`loop.head` or the
// jump after it).
struct LoopSkip {
  enum class Kind : uint8_t {
    // The target is a later pass of this execution of the loop: `regs` is
    // the pass before it (the counter at target's plus one), from which one
    // pass reaches target.
    PassBeforeTarget,
    // This execution never reaches the target (a register the loop does not
    // change differs from target's, or the counter is already at or below
    // target's): `regs` has the counter at 1, so that the next pass is the
    // last and the loop ends as it would have, with the counter at 0.
    LastPass,
  };
  Kind kind;
  Registers regs;
};
// nullopt: no passes to skip (the next pass is the last or reaches the
// target already), or nothing certain (the counter's bits outside its width
// differ: a 32-bit dec in 64-bit code clears them at its first pass).
std::optional<LoopSkip> counted_loop_skip(const CountedLoop& loop, const Registers& now, const Registers& target);

}  // namespace rrvm
