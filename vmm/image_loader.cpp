// Guest image loading: raw boot-sector style images and ELF32 executables.
// Every value read from the file is treated as hostile: offsets and sizes are
// checked in 64-bit arithmetic (no wrap) before anything is copied.
#include "vmm/image_loader.h"

#include <cstring>
#include <vector>

#include "vmm/file_read.h"
#include "vmm/format.h"

namespace rrvm {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw ImageError("guest image '" + path + "': " + what);
}

// No image is larger than the largest guest RAM (3 GiB).
constexpr uint64_t kMaxImageBytes = 3ull << 30;

uint16_t le16(const std::vector<uint8_t>& b, uint64_t off) {
  return static_cast<uint16_t>(b[off] | b[off + 1] << 8);
}
uint32_t le32(const std::vector<uint8_t>& b, uint64_t off) {
  return static_cast<uint32_t>(b[off]) | static_cast<uint32_t>(b[off + 1]) << 8 |
         static_cast<uint32_t>(b[off + 2]) << 16 | static_cast<uint32_t>(b[off + 3]) << 24;
}

bool is_elf(const std::vector<uint8_t>& b) {
  return b.size() >= 4 && b[0] == 0x7F && b[1] == 'E' && b[2] == 'L' && b[3] == 'F';
}

// ELF32 constants (System V ABI, i386 supplement).
constexpr uint64_t kElf32HeaderSize = 52;
constexpr uint64_t kElf32PhdrSize = 32;
constexpr uint8_t kElfClass32 = 1, kElfClass64 = 2, kElfDataLsb = 1;
constexpr uint16_t kElfTypeExec = 2, kElfMachine386 = 3;
constexpr uint32_t kPtLoad = 1;
constexpr uint64_t kFlatGdtSize = 3 * 8;

uint64_t load_elf(GuestMemory& memory, const std::string& path, const std::vector<uint8_t>& b) {
  const uint64_t size = b.size();
  if (size < kElf32HeaderSize) fail(path, "truncated ELF header (" + std::to_string(size) + " bytes)");
  if (b[4] == kElfClass64) fail(path, "64-bit ELF is not supported; link with ld -m elf_i386");
  if (b[4] != kElfClass32) fail(path, "unknown ELF class " + std::to_string(b[4]));
  if (b[5] != kElfDataLsb) fail(path, "big-endian ELF is not supported");
  if (le16(b, 16) != kElfTypeExec) fail(path, "ELF is not an executable (e_type " + std::to_string(le16(b, 16)) + ")");
  if (le16(b, 18) != kElfMachine386)
    fail(path, "ELF machine " + std::to_string(le16(b, 18)) + " is not i386 (3)");
  const uint64_t entry = le32(b, 24);
  const uint64_t phoff = le32(b, 28);
  const uint64_t phentsize = le16(b, 42);
  const uint64_t phnum = le16(b, 44);
  if (phnum == 0) fail(path, "ELF has no program headers");
  if (phentsize < kElf32PhdrSize) fail(path, "ELF program header size " + std::to_string(phentsize) + " is too small");
  if (phoff > size || phnum * phentsize > size - phoff)
    fail(path, "ELF program headers at " + hex(phoff) + " run past the end of the file");

  unsigned loaded = 0;
  for (uint64_t i = 0; i < phnum; ++i) {
    const uint64_t ph = phoff + i * phentsize;
    if (le32(b, ph) != kPtLoad) continue;
    const uint64_t offset = le32(b, ph + 4), paddr = le32(b, ph + 12);
    const uint64_t filesz = le32(b, ph + 16), memsz = le32(b, ph + 20);
    const std::string seg = "segment " + std::to_string(i) + " ";
    if (filesz > memsz) fail(path, seg + "has p_filesz > p_memsz");
    if (offset > size || filesz > size - offset) fail(path, seg + "data runs past the end of the file");
    if (memsz == 0) continue;
    if (memory.host_ptr(paddr, memsz) == nullptr)
      fail(path, seg + "[" + hex(paddr) + ", " + hex(paddr + memsz) + ") is outside guest RAM");
    if (paddr < kFlatGdtAddress + kFlatGdtSize && kFlatGdtAddress < paddr + memsz)
      fail(path, seg + "overlaps the GDT rrvm writes at " + hex(kFlatGdtAddress));
    // Zero-length copies are skipped: GuestMemory::write passes them to memcpy.
    if (filesz > 0) memory.write(paddr, b.data() + offset, filesz);
    if (memsz > filesz) {
      const std::vector<uint8_t> zeros(memsz - filesz, 0);  // .bss
      memory.write(paddr + filesz, zeros.data(), zeros.size());
    }
    ++loaded;
  }
  if (loaded == 0) fail(path, "ELF has no loadable (PT_LOAD) segment");
  return entry;
}

}  // namespace

Registers real_mode_state(uint16_t cs, uint16_t ip) {
  Registers r;
  Segment data;  // defaults: limit 0xFFFF, read/write data, present
  for (Segment* s : {&r.ds, &r.es, &r.fs, &r.gs, &r.ss}) *s = data;
  r.cs = data;
  r.cs.type = 0xB;  // execute/read, accessed (what the CPU's reset state has)
  r.cs.selector = cs;
  r.cs.base = static_cast<uint64_t>(cs) << 4;
  // The system segments as the CPU leaves them at reset: KVM rejects
  // entry with a non-present TR/LDT in some modes.
  r.tr = Segment{.type = 0xB, .s = 0};
  r.ldt = Segment{.type = 0x2, .s = 0};
  r.rip = ip;
  r.rsp = kRealModeStackTop;
  r.rflags = 0x2;  // IF=0: the guest enables interrupts when it is ready
  r.gdt = {0, 0xFFFF};  // reset values; the IVT is at 0
  r.idt = {0, 0xFFFF};
  return r;
}

Registers flat32_state(uint32_t entry) {
  Registers r = real_mode_state(0, 0);
  Segment flat{.selector = 0x10, .base = 0, .limit = 0xFFFFFFFF, .type = 0x3, .db = 1, .g = 1};
  for (Segment* s : {&r.ds, &r.es, &r.fs, &r.gs, &r.ss}) *s = flat;
  r.cs = flat;
  r.cs.selector = 0x08;
  r.cs.type = 0xB;
  r.gdt = {kFlatGdtAddress, static_cast<uint16_t>(kFlatGdtSize - 1)};
  r.idt = {0, 0};  // no IDT until the guest installs one: a stray fault shuts down cleanly
  r.cr0 = 1;       // PE, no paging
  r.rip = entry;
  r.rsp = kFlat32StackTop;
  return r;
}

void write_flat_gdt(GuestMemory& memory) {
  // Access bytes 0x9B/0x93 have the accessed bit set, so the CPU never writes
  // back into the table and the hidden parts in flat32_state match exactly.
  const uint64_t gdt[3] = {
      0,
      0x00CF9B000000FFFFull,  // 0x08: code, base 0, limit 4 GiB, 32-bit
      0x00CF93000000FFFFull,  // 0x10: data, base 0, limit 4 GiB
  };
  uint8_t bytes[sizeof gdt];
  for (size_t i = 0; i < sizeof bytes; ++i) bytes[i] = static_cast<uint8_t>(gdt[i / 8] >> (8 * (i % 8)));
  if (!memory.write(kFlatGdtAddress, bytes, sizeof bytes))
    throw ImageError("guest RAM does not cover the flat GDT at " + hex(kFlatGdtAddress));
}

LoadedImage load_image(GuestMemory& memory, const std::string& path, const LoadOptions& options) {
  const std::vector<uint8_t> bytes = read_regular_file(path, "guest image", kMaxImageBytes);
  LoadedImage image;
  image.path = path;
  image.file_size = bytes.size();
  image.sha256 = sha256(bytes.data(), bytes.size());
  image.elf = is_elf(bytes);

  if (image.elf) {
    if (options.load_address) fail(path, "--load-addr applies to raw images only; an ELF says where it goes");
    const uint64_t elf_entry = load_elf(memory, path, bytes);
    const uint64_t entry = options.entry.value_or(elf_entry);
    if (entry > 0xFFFFFFFF) fail(path, "entry " + hex(entry) + " is beyond 4 GiB");
    if (memory.host_ptr(entry, 1) == nullptr) fail(path, "entry " + hex(entry) + " is outside guest RAM");
    write_flat_gdt(memory);
    image.initial = flat32_state(static_cast<uint32_t>(entry));
    return image;
  }

  const uint64_t at = options.load_address.value_or(kBootSectorAddress);
  if (memory.host_ptr(at, bytes.size()) == nullptr)
    fail(path, std::to_string(bytes.size()) + " bytes at " + hex(at) + " do not fit in guest RAM");
  memory.write(at, bytes.data(), bytes.size());
  const uint64_t entry = options.entry.value_or(at);
  // Real mode reaches 1 MiB: entries below 64 KiB run as 0000:entry (like a
  // boot sector), higher ones as (entry>>4):(entry&15).
  if (entry >= 0x100000) fail(path, "entry " + hex(entry) + " is not reachable in real mode (must be < 1 MiB)");
  if (memory.host_ptr(entry, 1) == nullptr) fail(path, "entry " + hex(entry) + " is outside guest RAM");
  image.initial = entry < 0x10000 ? real_mode_state(0, static_cast<uint16_t>(entry))
                                  : real_mode_state(static_cast<uint16_t>(entry >> 4),
                                                    static_cast<uint16_t>(entry & 0xF));
  return image;
}

}  // namespace rrvm
