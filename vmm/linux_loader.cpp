#include "vmm/linux_loader.h"

#include <cstring>

#include "vmm/file_read.h"
#include "vmm/format.h"

namespace rrvm {

namespace {

// struct boot_params (arch/x86/include/uapi/asm/bootparam.h) and its
// screen_info, offsets into the zero page.
constexpr uint64_t kScreenOrigVideoMode = 0x06, kScreenOrigVideoCols = 0x07, kScreenOrigVideoLines = 0x0e;
constexpr uint64_t kScreenOrigVideoIsVga = 0x0f, kScreenOrigVideoPoints = 0x10;
constexpr uint64_t kExtRamdiskImage = 0x0c0, kExtRamdiskSize = 0x0c4, kExtCmdLinePtr = 0x0c8;
constexpr uint64_t kE820Entries = 0x1e8, kBootFlag = 0x1fe, kHeaderMagic = 0x202, kVersion = 0x206;
constexpr uint64_t kTypeOfLoader = 0x210, kLoadflags = 0x211, kRamdiskImage = 0x218, kRamdiskSize = 0x21c;
constexpr uint64_t kCmdLinePtr = 0x228, kKernelAlignment = 0x230, kCmdlineSize = 0x238;
constexpr uint64_t kE820Table = 0x2d0, kE820EntrySize = 20, kE820MaxEntries = 128;
constexpr uint8_t kLoadedHigh = 0x01;
constexpr uint8_t kLoaderUndefined = 0xff;  // "no assigned ID"
constexpr uint16_t kProtocolVersion = 0x020f;
constexpr uint32_t kE820Ram = 1;

constexpr uint64_t kMaxInitrdBytes = 1ull << 30;
constexpr uint64_t kLowRamEnd = 0xA0000, kHighRamStart = 0x100000;
// What rrvm writes below 1 MiB, which no kernel segment may cover.
constexpr uint64_t kBootDataEnd = kKernelCommandLineAddress + kDefaultCommandLineMax + 1;

void put(std::vector<uint8_t>& page, uint64_t off, uint64_t value, unsigned bytes) {
  for (unsigned i = 0; i < bytes; ++i) page[off + i] = uint8_t(value >> (8 * i));
}

void write(GuestMemory& memory, uint64_t address, const uint8_t* data, uint64_t size, const std::string& what) {
  if (size && !memory.write(address, data, size))
    throw ImageError(what + " [" + hex(address) + ", " + hex(address + size) + ") is outside guest RAM");
}

void write_page_tables(GuestMemory& memory) {
  // PML4[0] -> PDPT; PDPT[0..3] -> four PDs of 2 MiB pages: 0-4 GiB identity.
  constexpr uint64_t kPresentWritable = 0x3, kLargePage = 0x80;
  std::vector<uint8_t> tables(6 * kPageSize, 0);
  const uint64_t pml4 = kLinuxPageTablesAddress, pdpt = pml4 + kPageSize, pd = pdpt + kPageSize;
  put(tables, 0, pdpt | kPresentWritable, 8);
  for (uint64_t i = 0; i < 4; ++i) {
    put(tables, kPageSize + i * 8, (pd + i * kPageSize) | kPresentWritable, 8);
    for (uint64_t j = 0; j < 512; ++j)
      put(tables, 2 * kPageSize + i * kPageSize + j * 8, ((i << 30) + (j << 21)) | kPresentWritable | kLargePage, 8);
  }
  write(memory, pml4, tables.data(), tables.size(), "the boot page tables");
}

void write_linux_gdt(GuestMemory& memory) {
  // The boot protocol's selectors: 0x10 64-bit code, 0x18 data (accessed bits
  // set, so the CPU never writes the table back).
  const uint64_t gdt[4] = {0, 0, 0x00AF9B000000FFFFull, 0x00CF93000000FFFFull};
  uint8_t bytes[sizeof gdt];
  for (size_t i = 0; i < sizeof bytes; ++i) bytes[i] = uint8_t(gdt[i / 8] >> (8 * (i % 8)));
  write(memory, kLinuxGdtAddress, bytes, sizeof bytes, "the boot GDT");
}

LoadedInitrd place_initrd(GuestMemory& memory, const std::string& path, uint64_t kernel_end, uint64_t highest_end) {
  std::vector<uint8_t> bytes = read_regular_file(path, "initrd", kMaxInitrdBytes);
  LoadedInitrd r{.path = path, .sha256 = sha256(bytes.data(), bytes.size()), .size = bytes.size()};
  // Highest page-aligned place, as boot loaders do: clear of the kernel's
  // memory, which grows after its image (brk, early page tables).
  const uint64_t need = (bytes.size() + kPageSize - 1) & ~(kPageSize - 1);
  if (need > highest_end || highest_end - need < kernel_end)
    throw ImageError("initrd '" + path + "': " + std::to_string(bytes.size()) + " bytes do not fit in guest RAM between the kernel's end (" +
                     hex(kernel_end) + ") and " + hex(highest_end) + "; give the guest more --mem");
  r.address = highest_end - need;
  write(memory, r.address, bytes.data(), bytes.size(), "initrd '" + path + "'");
  return r;
}

}  // namespace

std::vector<E820Entry> linux_e820_map(uint64_t mem_bytes) {
  std::vector<E820Entry> map{{0, kLowRamEnd, kE820Ram}};
  if (mem_bytes > kHighRamStart) map.push_back({kHighRamStart, mem_bytes - kHighRamStart, kE820Ram});
  return map;
}

Registers linux_entry_state(uint64_t entry) {
  Registers r;
  Segment data{.selector = 0x18, .base = 0, .limit = 0xFFFFFFFF, .type = 0x3, .db = 1, .g = 1};
  for (Segment* s : {&r.ds, &r.es, &r.fs, &r.gs, &r.ss}) *s = data;
  r.cs = Segment{.selector = 0x10, .base = 0, .limit = 0xFFFFFFFF, .type = 0xB, .db = 0, .l = 1, .g = 1};
  r.tr = Segment{.type = 0xB, .s = 0};
  r.ldt = Segment{.type = 0x2, .s = 0};
  r.gdt = {kLinuxGdtAddress, 4 * 8 - 1};
  r.idt = {0, 0};  // the kernel loads its own before it enables interrupts
  r.cr0 = 0x80000011;  // PG, ET, PE
  r.cr3 = kLinuxPageTablesAddress;
  r.cr4 = 0x20;         // PAE
  r.efer = 0x500;       // LMA, LME
  r.rflags = 0x2;       // IF=0
  r.rip = entry;
  r.rsi = kBootParamsAddress;
  r.rsp = kLinuxBootStackTop;
  return r;
}

LoadedKernel load_linux(GuestMemory& memory, const LinuxBootOptions& options) {
  return load_linux(memory, read_kernel_image(options.kernel_path), options);
}

LoadedKernel load_linux(GuestMemory& memory, std::shared_ptr<const KernelImage> kernel,
                        const LinuxBootOptions& options) {
  const std::string what = "kernel '" + kernel->path + "'";
  LoadedKernel out;
  out.command_line = options.command_line;
  const uint64_t cmdline_max =
      kernel->bzimage && kernel->bzimage->cmdline_size ? kernel->bzimage->cmdline_size : kDefaultCommandLineMax;
  if (options.command_line.size() > std::min(cmdline_max, kDefaultCommandLineMax))
    throw ImageError("--append: the kernel command line is " + std::to_string(options.command_line.size()) +
                     " bytes; this kernel takes at most " + std::to_string(std::min(cmdline_max, kDefaultCommandLineMax)));
  if (options.command_line.find('\0') != std::string::npos)
    throw ImageError("--append: the kernel command line holds a NUL byte");

  for (const ElfSegment& s : kernel->segments) {
    const std::string seg = what + ": segment at " + hex(s.paddr) + "-" + hex(s.paddr + s.memsz);
    if (s.paddr < kBootDataEnd)
      throw ImageError(seg + " overlaps the boot data rrvm writes below " + hex(kBootDataEnd));
    if (memory.host_ptr(s.paddr, s.memsz) == nullptr)
      throw ImageError(seg + " is outside guest RAM (" + std::to_string(options.mem_bytes >> 20) +
                       " MiB); give the guest more --mem");
    write(memory, s.paddr, kernel->elf.data() + s.file_offset, s.filesz, seg);
    if (s.memsz > s.filesz) {
      const std::vector<uint8_t> zeros(s.memsz - s.filesz, 0);  // .bss
      write(memory, s.paddr + s.filesz, zeros.data(), zeros.size(), seg);
    }
    out.segment_addresses.push_back(s.paddr);
  }
  if (memory.host_ptr(kernel->entry, 1) == nullptr)
    throw ImageError(what + ": entry " + hex(kernel->entry) + " is outside guest RAM");

  if (options.initrd_path) {
    // Below 4 GiB, where a 32-bit ramdisk_image reaches, and below the
    // bzImage's initrd_addr_max.
    uint64_t highest = std::min<uint64_t>(options.mem_bytes, 1ull << 32);
    if (kernel->bzimage && kernel->bzimage->initrd_addr_max)
      highest = std::min<uint64_t>(highest, uint64_t(kernel->bzimage->initrd_addr_max) + 1);
    out.initrd = place_initrd(memory, *options.initrd_path, kernel->phys_end(), highest & ~(kPageSize - 1));
  }

  std::vector<uint8_t> zero_page(kPageSize, 0);
  // An 80x25 colour VGA text console, as a BIOS leaves it (mode 3, 16-line
  // font): vgacon takes it from here.
  put(zero_page, kScreenOrigVideoMode, 3, 1);
  put(zero_page, kScreenOrigVideoCols, 80, 1);
  put(zero_page, kScreenOrigVideoLines, 25, 1);
  put(zero_page, kScreenOrigVideoIsVga, 1, 1);
  put(zero_page, kScreenOrigVideoPoints, 16, 2);
  put(zero_page, kBootFlag, 0xAA55, 2);
  put(zero_page, kHeaderMagic, 0x53726448, 4);  // "HdrS"
  put(zero_page, kVersion, kProtocolVersion, 2);
  put(zero_page, kTypeOfLoader, kLoaderUndefined, 1);
  put(zero_page, kLoadflags, kLoadedHigh, 1);
  put(zero_page, kKernelAlignment, 0x200000, 4);
  put(zero_page, kCmdLinePtr, kKernelCommandLineAddress, 4);
  put(zero_page, kExtCmdLinePtr, 0, 4);
  put(zero_page, kCmdlineSize, cmdline_max, 4);
  if (out.initrd) {
    put(zero_page, kRamdiskImage, out.initrd->address & 0xFFFFFFFF, 4);
    put(zero_page, kExtRamdiskImage, out.initrd->address >> 32, 4);
    put(zero_page, kRamdiskSize, out.initrd->size & 0xFFFFFFFF, 4);
    put(zero_page, kExtRamdiskSize, out.initrd->size >> 32, 4);
  }
  const std::vector<E820Entry> map = linux_e820_map(options.mem_bytes);
  static_assert(kE820Table + kE820MaxEntries * kE820EntrySize <= kPageSize);
  put(zero_page, kE820Entries, map.size(), 1);
  for (size_t i = 0; i < map.size(); ++i) {
    put(zero_page, kE820Table + i * kE820EntrySize, map[i].address, 8);
    put(zero_page, kE820Table + i * kE820EntrySize + 8, map[i].size, 8);
    put(zero_page, kE820Table + i * kE820EntrySize + 16, map[i].type, 4);
  }
  write(memory, kBootParamsAddress, zero_page.data(), zero_page.size(), "the zero page");
  std::vector<uint8_t> cmdline(options.command_line.begin(), options.command_line.end());
  cmdline.push_back(0);
  write(memory, kKernelCommandLineAddress, cmdline.data(), cmdline.size(), "the kernel command line");
  write_page_tables(memory);
  write_linux_gdt(memory);

  out.image = std::move(kernel);
  out.initial = linux_entry_state(out.image->entry);
  return out;
}

}  // namespace rrvm
