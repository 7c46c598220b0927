// A vCPU's whole state at an instruction boundary, for snapshots: the
// architectural part every backend understands (registers, x87/SSE, the
// interrupt shadow, the instruction count), and the backend's own exact
// state for a restore into the same backend in the same process
// (checkpoints), where the portable part may not say everything (Unicorn's
// API cannot write the x87 data registers in 2.0.1).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vmm/registers.h"

namespace rrvm {

// x87 and SSE state in FXSAVE's terms (KVM_GET_FPU's layout).
struct FpuState {
  uint16_t fcw = 0x037F;  // control word after FNINIT
  uint16_t fsw = 0;       // status word, TOP in bits 13:11
  uint8_t ftw = 0;        // abridged tag: bit i set = physical register i holds a value
  uint16_t fop = 0;
  uint64_t fip = 0, fdp = 0;
  std::array<std::array<uint8_t, 16>, 8> st{};  // ST(0)..ST(7), 10 bytes used each
  std::array<std::array<uint8_t, 16>, 16> xmm{};
  uint32_t mxcsr = 0x1F80;
  bool operator==(const FpuState&) const = default;
};

struct CpuSnapshot {
  Registers regs;
  FpuState fpu;
  bool interrupt_shadow = false;   // the last instruction was sti (IF 0->1), mov ss or pop ss
  std::optional<uint64_t> icount;  // instructions retired (backends that count)
  std::string backend;             // backend_name() of the vCPU that took it
  std::vector<uint8_t> exact;      // that backend's own state; empty when not taken
};

}  // namespace rrvm
