// Loads a test snippet into fresh guest RAM and drives an emu vCPU directly.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "vmm/emu/emu_vcpu.h"
#include "vmm/guest_memory.h"
#include "vmm/vcpu.h"

namespace rrvm::emutest {

enum class Mode { Real, Flat32 };

struct Harness {
  // Real mode: RAM 0..0x80000, snippet at 0x7C00. Flat32: RAM 0..1 MiB,
  // snippet at 0x10000, flat GDT.
  Harness(const std::string& snippet, Mode mode, bool log_dirty = false);
  std::unique_ptr<GuestMemory> memory;
  std::unique_ptr<Vcpu> cpu;
  uint64_t entry = 0;

  Exit run(RunLimits limits = {}) { return cpu->run(limits); }
  // Runs, answering reads with `read_value`, until an exit that is not port
  // I/O / MMIO; the I/O exits seen are appended to `io`.
  Exit run_collect(std::vector<Exit>* io, uint64_t read_value = 0);
  uint32_t read32(uint64_t gpa) const;
};

std::string snippet_path(const std::string& name);

}  // namespace rrvm::emutest
