// Every value read from the file is hostile: offsets and sizes are checked
// in 64-bit arithmetic (no wrap) before they are used.
#include "vmm/kernel_image.h"

#include <algorithm>

#include "vmm/file_read.h"
#include "vmm/format.h"
#include "vmm/kernel_payload.h"

namespace rrvm {

namespace {

// A kernel file or its decompressed ELF is far below this (Debian's
// vmlinux: 66 MB with its sections).
constexpr uint64_t kMaxKernelBytes = 512ull << 20;

uint64_t le(std::span<const uint8_t> b, uint64_t off, unsigned bytes) {
  uint64_t v = 0;
  for (unsigned i = 0; i < bytes; ++i) v |= uint64_t(b[off + i]) << (8 * i);
  return v;
}

// The boot protocol's setup header (Documentation/arch/x86/boot.rst).
constexpr uint64_t kSetupSectsOffset = 0x1f1, kBootFlagOffset = 0x1fe, kHeaderMagicOffset = 0x202;
constexpr uint64_t kVersionOffset = 0x206, kLoadflagsOffset = 0x211, kInitrdAddrMaxOffset = 0x22c;
constexpr uint64_t kCmdlineSizeOffset = 0x238, kPayloadOffsetOffset = 0x248, kPayloadLengthOffset = 0x24c;
constexpr uint64_t kSetupHeaderEnd = 0x250;
constexpr uint16_t kPayloadFieldsVersion = 0x0208;

// ELF64 (System V ABI; x86-64 psABI).
constexpr uint64_t kElf64HeaderSize = 64, kElf64PhdrSize = 56, kElf64ShdrSize = 64;
constexpr uint8_t kElfClass64 = 2, kElfDataLsb = 1;
constexpr uint16_t kElfTypeExec = 2, kElfMachineX8664 = 62;
constexpr uint32_t kPtLoad = 1;

std::vector<ElfSection> parse_sections(std::span<const uint8_t> b, const std::string& what) {
  const uint64_t size = b.size();
  const uint64_t shoff = le(b, 40, 8), shentsize = le(b, 58, 2), shnum = le(b, 60, 2), shstrndx = le(b, 62, 2);
  std::vector<ElfSection> sections;
  if (shoff == 0 || shnum == 0) return sections;
  if (shentsize < kElf64ShdrSize) throw ImageError(what + ": ELF section header size " + std::to_string(shentsize) + " is too small");
  if (shoff > size || shnum * shentsize > size - shoff)
    throw ImageError(what + ": ELF section headers at " + hex(shoff) + " run past the end of the file");
  uint64_t names = 0, names_size = 0;
  if (shstrndx < shnum) {
    const uint64_t sh = shoff + shstrndx * shentsize;
    names = le(b, sh + 24, 8);
    names_size = le(b, sh + 32, 8);
    if (names > size || names_size > size - names) names = names_size = 0;  // unnamed, not fatal
  }
  for (uint64_t i = 0; i < shnum; ++i) {
    const uint64_t sh = shoff + i * shentsize;
    ElfSection s;
    const uint64_t name = le(b, sh, 4);
    if (name < names_size) {
      const auto* first = b.data() + names + name;
      const auto* last = std::find(first, b.data() + names + names_size, uint8_t(0));
      s.name.assign(first, last);
    }
    s.type = uint32_t(le(b, sh + 4, 4));
    s.flags = le(b, sh + 8, 8);
    s.addr = le(b, sh + 16, 8);
    s.file_offset = le(b, sh + 24, 8);
    s.size = le(b, sh + 32, 8);
    sections.push_back(std::move(s));
  }
  return sections;
}

void parse_elf(KernelImage& k, const std::string& what) {
  std::span<const uint8_t> b = k.elf;
  const uint64_t size = b.size();
  if (size < kElf64HeaderSize) throw ImageError(what + ": truncated ELF header (" + std::to_string(size) + " bytes)");
  if (b[4] != kElfClass64) throw ImageError(what + ": a 32-bit ELF is not an x86_64 kernel (rrvm boots 64-bit Linux)");
  if (b[5] != kElfDataLsb) throw ImageError(what + ": big-endian ELF is not an x86_64 kernel");
  if (le(b, 16, 2) != kElfTypeExec) throw ImageError(what + ": ELF is not an executable (e_type " + std::to_string(le(b, 16, 2)) + ")");
  if (le(b, 18, 2) != kElfMachineX8664)
    throw ImageError(what + ": ELF machine " + std::to_string(le(b, 18, 2)) + " is not x86-64 (62)");
  k.entry = le(b, 24, 8);
  const uint64_t phoff = le(b, 32, 8), phentsize = le(b, 54, 2), phnum = le(b, 56, 2);
  if (phnum == 0) throw ImageError(what + ": ELF has no program headers");
  if (phentsize < kElf64PhdrSize) throw ImageError(what + ": ELF program header size " + std::to_string(phentsize) + " is too small");
  if (phoff > size || phnum * phentsize > size - phoff)
    throw ImageError(what + ": ELF program headers at " + hex(phoff) + " run past the end of the file");
  for (uint64_t i = 0; i < phnum; ++i) {
    const uint64_t ph = phoff + i * phentsize;
    if (le(b, ph, 4) != kPtLoad) continue;
    ElfSegment s{.file_offset = le(b, ph + 8, 8), .paddr = le(b, ph + 24, 8), .vaddr = le(b, ph + 16, 8),
                 .filesz = le(b, ph + 32, 8), .memsz = le(b, ph + 40, 8), .flags = uint32_t(le(b, ph + 4, 4))};
    const std::string seg = "ELF segment " + std::to_string(i) + " ";
    if (s.filesz > s.memsz) throw ImageError(what + ": " + seg + "has p_filesz > p_memsz");
    if (s.file_offset > size || s.filesz > size - s.file_offset) throw ImageError(what + ": " + seg + "data runs past the end of the file");
    if (s.paddr > (1ull << 40) || s.memsz > (1ull << 40)) throw ImageError(what + ": " + seg + "lies beyond 1 TiB");
    if (s.memsz > 0) k.segments.push_back(s);
  }
  if (k.segments.empty()) throw ImageError(what + ": ELF has no loadable (PT_LOAD) segment");
  k.sections = parse_sections(b, what);
}

}  // namespace

uint64_t KernelImage::phys_start() const {
  uint64_t lo = UINT64_MAX;
  for (const ElfSegment& s : segments) lo = std::min(lo, s.paddr);
  return lo;
}

uint64_t KernelImage::phys_end() const {
  uint64_t hi = 0;
  for (const ElfSegment& s : segments) hi = std::max(hi, s.paddr + s.memsz);
  return hi;
}

std::optional<BzImageHeader> parse_bzimage_header(std::span<const uint8_t> f, const std::string& what) {
  if (f.size() < kHeaderMagicOffset + 4 || le(f, kHeaderMagicOffset, 4) != 0x53726448 /* "HdrS" */ ||
      le(f, kBootFlagOffset, 2) != 0xAA55)
    return std::nullopt;
  BzImageHeader h;
  if (f.size() < kSetupHeaderEnd)
    throw ImageError(what + ": truncated bzImage (" + std::to_string(f.size()) + " bytes, the setup header alone is " +
                     std::to_string(kSetupHeaderEnd) + ")");
  h.version = uint16_t(le(f, kVersionOffset, 2));
  if (h.version < kPayloadFieldsVersion)
    throw ImageError(what + ": boot protocol " + std::to_string(h.version >> 8) + "." + std::to_string(h.version & 0xff) +
                     " is older than 2.08, whose header says where the compressed kernel is");
  h.setup_sects = uint8_t(f[kSetupSectsOffset]);
  h.loadflags = uint8_t(f[kLoadflagsOffset]);
  h.initrd_addr_max = uint32_t(le(f, kInitrdAddrMaxOffset, 4));
  h.cmdline_size = uint32_t(le(f, kCmdlineSizeOffset, 4));
  const uint64_t protected_mode_start = (uint64_t(h.setup_sects ? h.setup_sects : 4) + 1) * 512;
  h.payload_offset = protected_mode_start + le(f, kPayloadOffsetOffset, 4);
  h.payload_length = le(f, kPayloadLengthOffset, 4);
  if (h.payload_length < 4 || h.payload_offset > f.size() || h.payload_length > f.size() - h.payload_offset)
    throw ImageError(what + ": truncated bzImage: its payload [" + hex(h.payload_offset) + ", " +
                     hex(h.payload_offset + h.payload_length) + ") runs past the end of the file (" +
                     std::to_string(f.size()) + " bytes)");
  return h;
}

std::shared_ptr<const KernelImage> parse_kernel_image(const std::string& path, std::vector<uint8_t> file) {
  const std::string what = "kernel '" + path + "'";
  auto k = std::make_shared<KernelImage>();
  k->path = path;
  k->file_size = file.size();
  k->sha256 = sha256(file.data(), file.size());
  const bool elf = file.size() >= 4 && file[0] == 0x7F && file[1] == 'E' && file[2] == 'L' && file[3] == 'F';
  if (elf) {
    k->elf = std::move(file);
  } else if ((k->bzimage = parse_bzimage_header(file, what))) {
    std::span<const uint8_t> payload(file.data() + k->bzimage->payload_offset, k->bzimage->payload_length);
    k->payload_format = kernel_payload_format(payload);
    k->elf = decompress_kernel_payload(payload, what, kMaxKernelBytes);
    if (k->elf.size() < 4 || k->elf[0] != 0x7F || k->elf[1] != 'E' || k->elf[2] != 'L' || k->elf[3] != 'F')
      throw ImageError(what + ": the decompressed bzImage payload is not an ELF");
  } else {
    throw ImageError(what + ": not a Linux kernel (neither an ELF nor a bzImage: no \"HdrS\" setup header at 0x202)");
  }
  parse_elf(*k, what);
  return k;
}

std::shared_ptr<const KernelImage> read_kernel_image(const std::string& path) {
  return parse_kernel_image(path, read_regular_file(path, "kernel", kMaxKernelBytes));
}

}  // namespace rrvm
