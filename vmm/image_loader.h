// Loading a guest image into GuestMemory and producing the initial CPU state.
//  - raw image: copied to 0x7C00 (or --load-addr), started in real mode at
//    0000:7C00 (or --entry), like a boot sector;
//  - ELF32 (detected by its magic): PT_LOAD segments copied by their physical
//    addresses, started in flat 32-bit protected mode at e_entry with a GDT
//    rrvm writes at kFlatGdtAddress (selectors 0x08 code, 0x10 data).
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "vmm/file_read.h"
#include "vmm/guest_memory.h"
#include "vmm/registers.h"
#include "vmm/sha256.h"

namespace rrvm {

constexpr uint64_t kBootSectorAddress = 0x7C00;
constexpr uint64_t kFlatGdtAddress = 0x500;  // in the BIOS-data hole
// Initial stack pointers: just below the boot sector in both start modes, so
// 0x518..0x7BFF (29 KiB of conventional memory) is stack, clear of the GDT,
// of a raw image at 0x7C00 and of an ELF linked at 1 MiB.
constexpr uint64_t kRealModeStackTop = 0x7C00;
constexpr uint64_t kFlat32StackTop = 0x7C00;

struct LoadOptions {
  std::optional<uint64_t> load_address;  // raw images only
  std::optional<uint64_t> entry;         // overrides the default entry point
};

struct LoadedImage {
  std::string path;
  Sha256Digest sha256{};
  uint64_t file_size = 0;
  bool elf = false;
  Registers initial;  // state to start the vCPU in
};

LoadedImage load_image(GuestMemory& memory, const std::string& path, const LoadOptions& options);

// Initial states (also used by tests that build guests in memory).
Registers real_mode_state(uint16_t cs, uint16_t ip);
Registers flat32_state(uint32_t entry);
// Writes the flat GDT that flat32_state's selectors refer to.
void write_flat_gdt(GuestMemory& memory);

}  // namespace rrvm
