// A Linux x86_64 kernel file read into its ELF: either the vmlinux ELF
// itself or a bzImage (the boot-protocol image distributions ship as
// /boot/vmlinuz-*), whose setup header points at the compressed vmlinux
// (payload_offset/payload_length, boot protocol 2.08+). rrvm enters the ELF
// directly (vmm/linux_loader.h says why), so a bzImage's real-mode setup
// code and decompressor are never run.
//
// The ELF's bytes stay with the image: its program headers say where each
// part goes, and its section headers are what a later pass over the loaded
// kernel (patching its rdtsc sites into exits) needs to find code.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vmm/sha256.h"

namespace rrvm {

// Boot protocol facts of a bzImage's setup header (arch/x86/boot/header.S;
// Documentation/arch/x86/boot.rst), offsets into the file.
struct BzImageHeader {
  uint16_t version = 0;        // 0x206, e.g. 0x020f
  uint8_t setup_sects = 0;     // 0x1f1 (0 means 4)
  uint8_t loadflags = 0;       // 0x211
  uint32_t cmdline_size = 0;   // 0x238 (2.06+): longest command line without its NUL
  uint32_t initrd_addr_max = 0;  // 0x22c: highest address an initrd's last byte may have
  uint64_t payload_offset = 0;   // file offset of the payload (0x248 + the protected-mode start)
  uint64_t payload_length = 0;   // 0x24c
};

// Parses the setup header of `file` when it is a bzImage ("HdrS" at 0x202
// and 0xAA55 at 0x1fe); nullopt when it is not one. ImageError for a
// bzImage that cannot be booted (too old, truncated, payload out of range).
std::optional<BzImageHeader> parse_bzimage_header(std::span<const uint8_t> file, const std::string& what);

struct ElfSegment {  // one PT_LOAD
  uint64_t file_offset = 0, paddr = 0, vaddr = 0, filesz = 0, memsz = 0;
  uint32_t flags = 0;  // PF_X 1, PF_W 2, PF_R 4
};

struct ElfSection {
  std::string name;
  uint32_t type = 0;
  uint64_t flags = 0, addr = 0, file_offset = 0, size = 0;
};

struct KernelImage {
  std::string path;
  Sha256Digest sha256{};  // of the file as given (bzImage or ELF)
  uint64_t file_size = 0;
  std::optional<BzImageHeader> bzimage;  // set when the file was a bzImage
  std::string payload_format;            // bzImage: "xz", "gzip", "lzma"
  std::vector<uint8_t> elf;              // the vmlinux ELF64
  uint64_t entry = 0;                    // e_entry: phys_startup_64, a physical address
  std::vector<ElfSegment> segments;      // PT_LOADs with memsz > 0, in file order
  std::vector<ElfSection> sections;      // empty when the ELF has none
  // Lowest and one past the highest physical byte any segment occupies.
  uint64_t phys_start() const;
  uint64_t phys_end() const;
};

// Reads and parses `path` (ImageError, one line naming it, for anything
// that is not a bootable x86_64 kernel).
std::shared_ptr<const KernelImage> read_kernel_image(const std::string& path);
// The same from bytes already read (the tests' synthetic kernels).
std::shared_ptr<const KernelImage> parse_kernel_image(const std::string& path, std::vector<uint8_t> file);

}  // namespace rrvm
