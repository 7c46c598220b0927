// The TSC reads of a guest kernel's code, found before it runs and patched
// into exits to rrvm (KVM traps no RDTSC from the guest: issue #15).
//
// find_tsc_reads() disassembles every executable section (SHF_EXECINSTR) of
// an ELF32 or ELF64 image with Capstone, in the ELF class's mode (32- or
// 64-bit), by a linear sweep from the section's start: an rdtsc or rdtscp
// counts only where the sweep decodes an instruction starting there, so the
// bytes 0F 31 inside another instruction's immediate or displacement are
// never taken. Bytes that do not decode are stepped over one at a time.
// Linux's alternatives replacements (.altinstr_replacement: "lfence;
// rdtsc", "rdtscp" for rdtsc_ordered()) are executable sections like any
// other; patched there, the alternatives code copies the patched bytes to
// their sites at boot.
//
// patch_tsc_reads() writes over each site an instruction of the same length
// that exits to the VMM and that nothing else on a PC executes:
//   rdtsc  (0F 31)     -> out kTscReadPort, al        (E6 E2)
//   rdtscp (0F 01 F9)  -> out kTscReadAuxPort, al; nop (E6 E3 90)
// The run loop (vmm/machine.cpp) answers a one-byte write to those ports
// with EDX:EAX = the TSC (and ECX = TSC_AUX for the second) taken from the
// input authority; the exit leaves RIP after the out (and the nop runs).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vmm/guest_memory.h"

namespace rrvm {

// Ports reserved for patched TSC reads: nothing on a PC decodes 0xE2/0xE3
// (the ISA map leaves 0xE0-0xEF unassigned; 0xE9 is the debug console).
constexpr uint16_t kTscReadPort = 0xE2;
constexpr uint16_t kTscReadAuxPort = 0xE3;
// TSC_AUX as a patched rdtscp returns it: the one vCPU's number.
constexpr uint32_t kTscAux = 0;

enum class TscReadKind : uint8_t { Rdtsc, Rdtscp };

struct TscSite {
  uint64_t vaddr = 0;                 // the instruction's address as linked (sh_addr based)
  std::optional<uint64_t> paddr;      // through the PT_LOAD segment holding it; none: not loaded
  TscReadKind kind = TscReadKind::Rdtsc;
  uint8_t length = 2;                 // 2 (rdtsc) or 3 (rdtscp)
  std::string section;                // e.g. ".text", ".altinstr_replacement"
  bool operator==(const TscSite&) const = default;
};

struct TscSectionStats {
  std::string name;
  uint64_t size = 0;         // bytes swept
  uint64_t rdtsc = 0, rdtscp = 0;
  uint64_t undecodable = 0;  // bytes the sweep stepped over
};

struct TscScan {
  bool elf64 = false;
  std::vector<TscSite> sites;            // in file order
  std::vector<TscSectionStats> sections; // every executable section, in header order
};

// Throws std::invalid_argument when `elf` is not a little-endian x86 ELF32 or
// ELF64 with section headers (one line naming what is wrong).
TscScan find_tsc_reads(std::span<const uint8_t> elf);

// The bytes that replace a site (same length).
std::vector<uint8_t> tsc_patch_bytes(TscReadKind kind);

// Patches every site with a physical address in `memory`, where the bytes
// there are still the instruction's (a site whose bytes differ is left
// alone and counted as skipped). Returns the number patched.
struct TscPatchResult {
  uint64_t patched = 0;
  uint64_t skipped = 0;  // no physical address, outside RAM, or other bytes there
};
TscPatchResult patch_tsc_reads(GuestMemory& memory, std::span<const TscSite> sites);

}  // namespace rrvm
