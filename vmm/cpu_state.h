// Comparing CPU state across backends. Only architecturally
// defined state takes part: flags that instructions leave undefined differ
// between Unicorn and hardware, so they are masked out.
#pragma once
#include <cstdint>

#include "vmm/registers.h"

namespace rrvm {

// Flags every backend computes identically: CF PF ZF SF DF OF IF (AF is
// undefined after several common instructions).
constexpr uint64_t kComparableFlags = (1u << 0) | (1u << 2) | (1u << 6) | (1u << 7) | (1u << 9) |
                                      (1u << 10) | (1u << 11);

// True when `a` and `b` are the same point of execution: general registers,
// instruction pointer, segment selectors and comparable flags all equal.
bool same_execution_point(const Registers& a, const Registers& b);

}  // namespace rrvm
