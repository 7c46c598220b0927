// Comparing CPU state across backends. Only architecturally
// defined state takes part: flags that instructions leave undefined differ
// between Unicorn and hardware, so they are masked out.
#pragma once
#include <cstdint>
#include <string>

#include "vmm/registers.h"

namespace rrvm {

// Only the control flags IF and DF take part. Arithmetic flags are not
// reliable across backends: instructions leave some undefined (AF after logic
// ops), and Unicorn 2.0.1 computes them lazily, so a read from a hook stop can
// return stale values (seen: SF=1 right after a `dec` with a positive result).
// General registers and RIP identify the point; on kvm the dirty-page digest
// adds memory.
constexpr uint64_t kComparableFlags = (1u << 9) | (1u << 10);

// True when `a` and `b` are the same point of execution: general registers,
// instruction pointer, segment selectors and comparable flags all equal.
bool same_execution_point(const Registers& a, const Registers& b);

// A stable 64-bit hash of what same_execution_point compares, plus the CS
// base (so it covers the linear pc): equal points hash equal on every
// backend. Traces (format version 5) store it for asynchronous points.
uint64_t execution_point_hash(const Registers& r);

// The compared fields that differ, "name 0xwant != 0xgot, ..." (empty when
// none): for divergence reports.
std::string execution_point_difference(const Registers& want, const Registers& got);

}  // namespace rrvm
