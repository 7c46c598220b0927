// Booting a Linux x86_64 kernel without firmware, by the boot protocol's
// 64-bit entry (Documentation/arch/x86/boot.rst, "64-bit Boot Protocol"):
// the vmlinux ELF's PT_LOADs at their physical addresses, a zero page
// (struct boot_params) with the command line, the initrd and an e820 map,
// identity-mapping page tables and a GDT with the boot protocol's selectors
// (0x10 code, 0x18 data), and the CPU in long mode at e_entry
// (phys_startup_64) with RSI = the zero page.
//
// Why this entry and not PVH (the ELF's Xen note, 32-bit, a start_info):
// both skip the bzImage's decompressor (and its KASLR, which reads the TSC)
// and keep the ELF for a later patch of the kernel's code, but Linux's PVH
// path builds its zero page itself and leaves screen_info empty, so vgacon
// finds "no VGA" and the Cirrus text console stays dark. Here rrvm fills
// screen_info: an 80x25 colour VGA text console, which rrvm's machine sets
// up before the kernel starts (as a BIOS would). The price is three pages of
// page tables rrvm writes; the kernel replaces them in its first
// instructions.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vmm/guest_memory.h"
#include "vmm/kernel_image.h"
#include "vmm/registers.h"
#include "vmm/sha256.h"

namespace rrvm {

// Guest-physical layout rrvm writes below 1 MiB (the e820 map gives it to
// the kernel as RAM; the kernel copies what it needs before reusing it).
constexpr uint64_t kLinuxGdtAddress = 0x500;
constexpr uint64_t kBootParamsAddress = 0x7000;  // the zero page, 4 KiB
constexpr uint64_t kLinuxBootStackTop = 0x7000;  // below the zero page
constexpr uint64_t kLinuxPageTablesAddress = 0x9000;  // PML4, PDPT, 4 PDs: 0-4 GiB in 2 MiB pages
constexpr uint64_t kKernelCommandLineAddress = 0x20000;
// x86's COMMAND_LINE_SIZE (2048) less the NUL; a bzImage's cmdline_size
// says its own.
constexpr uint64_t kDefaultCommandLineMax = 2047;

struct LinuxBootOptions {
  std::string kernel_path;
  std::optional<std::string> initrd_path;
  std::string command_line;
  uint64_t mem_bytes = 0;  // RAM is [0, 0xA0000) and [1 MiB, mem_bytes)
};

struct LoadedInitrd {
  std::string path;
  Sha256Digest sha256{};
  uint64_t size = 0;
  uint64_t address = 0;  // guest-physical, page aligned
};

// What load_linux did, kept for whatever works on the loaded kernel after
// loading (the rdtsc patcher): the ELF with its section headers, and where
// each PT_LOAD went (image->segments[i] at segment_addresses[i]; today
// always its p_paddr: no relocation).
struct LoadedKernel {
  std::shared_ptr<const KernelImage> image;
  std::vector<uint64_t> segment_addresses;
  std::string command_line;
  std::optional<LoadedInitrd> initrd;
  Registers initial;  // long mode at the ELF's entry, RSI = kBootParamsAddress
};

// Loads everything into `memory` (RAM must already be there). ImageError,
// one line, for a file that is not a bootable kernel, an initrd that cannot
// be read or does not fit, a command line that is too long, a kernel that
// does not fit in RAM.
LoadedKernel load_linux(GuestMemory& memory, const LinuxBootOptions& options);
// The same with the kernel already parsed (tests).
LoadedKernel load_linux(GuestMemory& memory, std::shared_ptr<const KernelImage> kernel,
                        const LinuxBootOptions& options);

// The e820 map load_linux writes for `mem_bytes` of RAM: (address, size,
// type) with type 1 = usable RAM.
struct E820Entry {
  uint64_t address = 0, size = 0;
  uint32_t type = 0;
  bool operator==(const E820Entry&) const = default;
};
std::vector<E820Entry> linux_e820_map(uint64_t mem_bytes);

// The CPU state at the 64-bit entry.
Registers linux_entry_state(uint64_t entry);

}  // namespace rrvm
