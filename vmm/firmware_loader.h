// Firmware and disk image files: read whole (their SHA-256 identifies them in
// the trace header), and the system BIOS mapped as ROM where a PC's reset
// vector finds it: at 4 GiB minus its size (read-only; its last 128 KiB
// also show below 1 MiB through the shadow RAM, devices/pci/shadow_ram.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "vmm/guest_memory.h"
#include "vmm/image_loader.h"
#include "vmm/registers.h"
#include "vmm/sha256.h"

namespace rrvm {

struct ImageFile {
  std::string path;
  std::vector<uint8_t> bytes;
  Sha256Digest sha256{};
};

// Reads `path` whole. `what` names it in errors ("BIOS image"): one line,
// ImageError, when it cannot be read, is empty or exceeds `max_bytes`.
ImageFile read_image_file(const std::string& path, const std::string& what, uint64_t max_bytes);

// Maps `bios` as the read-only slot "bios" ending at 4 GiB; its size must be a
// multiple of 64 KiB between 64 KiB and 16 MiB (QEMU's rule). Returns the
// slot id. Throws ImageError.
uint32_t map_bios(GuestMemory& memory, const ImageFile& bios);

// The CPU at the reset vector: real mode at F000:FFF0. CS.base is 0xF0000,
// the low alias of 0xFFFFFFF0 (the same bytes; the emu backend's real mode
// always derives CS.base from the selector), so the BIOS starts alike on
// both backends.
Registers reset_vector_state();

}  // namespace rrvm
