// The Linux loader without a CPU: kernels made here (a small ELF64 with a
// section table, and bzImages wrapping it XZ-, gzip- or zstd-"compressed")
// are parsed and placed, and the zero page, e820 map, command line, initrd,
// page tables and entry state are read back from guest memory. Every bad
// input gives one line naming the problem.
#include <gtest/gtest.h>
#include <lzma.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "devices/pc_board.h"
#include "vmm/file_read.h"
#include "vmm/kernel_image.h"
#include "vmm/kernel_payload.h"
#include "vmm/linux_loader.h"

using namespace rrvm;

namespace {

constexpr uint64_t kMem = 64ull << 20;
constexpr uint64_t kKernelBase = 0x1000000;

void put(std::vector<uint8_t>& b, size_t off, uint64_t v, unsigned n) {
  if (b.size() < off + n) b.resize(off + n);
  for (unsigned i = 0; i < n; ++i) b[off + i] = uint8_t(v >> (8 * i));
}
uint64_t get(const uint8_t* p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

// An x86-64 executable: one PT_LOAD (0x100 bytes of code, 0x2000 of memory)
// at kKernelBase, sections .text and .shstrtab.
std::vector<uint8_t> make_elf64() {
  std::vector<uint8_t> b(0x200, 0);
  b[0] = 0x7F, b[1] = 'E', b[2] = 'L', b[3] = 'F', b[4] = 2, b[5] = 1, b[6] = 1;
  put(b, 16, 2, 2);             // ET_EXEC
  put(b, 18, 62, 2);            // x86-64
  put(b, 20, 1, 4);
  put(b, 24, kKernelBase, 8);   // e_entry (physical, as vmlinux's)
  put(b, 32, 64, 8);            // e_phoff
  put(b, 52, 64, 2);
  put(b, 54, 56, 2);
  put(b, 56, 1, 2);
  // PT_LOAD: offset 0x100, 0x100 bytes, memsz 0x2000, R+X.
  put(b, 64, 1, 4);
  put(b, 68, 5, 4);
  put(b, 72, 0x100, 8);
  put(b, 80, 0xffffffff81000000ull, 8);
  put(b, 88, kKernelBase, 8);
  put(b, 96, 0x100, 8);
  put(b, 104, 0x2000, 8);
  for (int i = 0; i < 0x100; ++i) b[0x100 + i] = uint8_t(0x90 + (i & 7));
  // .shstrtab at 0x200, then three section headers.
  const char names[] = "\0.text\0.shstrtab\0";
  b.insert(b.end(), names, names + sizeof names);
  const uint64_t shoff = (b.size() + 7) & ~7ull;
  b.resize(shoff + 3 * 64, 0);
  put(b, shoff + 64 + 0, 1, 4);      // .text
  put(b, shoff + 64 + 4, 1, 4);      // SHT_PROGBITS
  put(b, shoff + 64 + 8, 6, 8);      // ALLOC|EXEC
  put(b, shoff + 64 + 16, 0xffffffff81000000ull, 8);
  put(b, shoff + 64 + 24, 0x100, 8);
  put(b, shoff + 64 + 32, 0x100, 8);
  put(b, shoff + 128 + 0, 7, 4);     // .shstrtab
  put(b, shoff + 128 + 4, 3, 4);
  put(b, shoff + 128 + 24, 0x200, 8);
  put(b, shoff + 128 + 32, sizeof names, 8);
  put(b, 40, shoff, 8);
  put(b, 58, 64, 2);
  put(b, 60, 3, 2);
  put(b, 62, 2, 2);
  return b;
}

std::vector<uint8_t> xz(const std::vector<uint8_t>& in) {
  std::vector<uint8_t> out(in.size() + 1024);
  size_t pos = 0;
  EXPECT_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, nullptr, in.data(), in.size(), out.data(), &pos, out.size()),
            LZMA_OK);
  out.resize(pos);
  return out;
}

std::vector<uint8_t> gzip(const std::vector<uint8_t>& in) {
  z_stream s{};
  EXPECT_EQ(deflateInit2(&s, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<uint8_t> out(deflateBound(&s, in.size()) + 64);
  s.next_in = const_cast<Bytef*>(in.data());
  s.avail_in = uInt(in.size());
  s.next_out = out.data();
  s.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

// A bzImage as the kernel's build lays it out: setup sectors with the
// header at 0x1f1, then the protected-mode part holding the payload (the
// compressed ELF plus its 4-byte uncompressed size) at payload_offset.
std::vector<uint8_t> make_bzimage(std::vector<uint8_t> payload, uint32_t uncompressed, uint16_t version = 0x020f) {
  const uint8_t setup_sects = 3;
  std::vector<uint8_t> b((setup_sects + 1) * 512, 0);
  b[0x1f1] = setup_sects;
  put(b, 0x1fe, 0xAA55, 2);
  put(b, 0x202, 0x53726448, 4);
  put(b, 0x206, version, 2);
  put(b, 0x211, 1, 1);
  put(b, 0x22c, 0x7fffffff, 4);
  put(b, 0x238, 2047, 4);
  put(b, 0x248, 0x40, 4);  // payload 0x40 bytes into the protected-mode part
  put(payload, payload.size(), uncompressed, 4);
  put(b, 0x24c, payload.size(), 4);
  b.resize(b.size() + 0x40, 0xCC);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

class TempFile {
 public:
  explicit TempFile(const std::vector<uint8_t>& bytes) {
    path_ = ::testing::TempDir() + "rrvm_linux_" + std::to_string(getpid()) + "_" + std::to_string(counter_++);
    std::ofstream(path_, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ImageError& e) {
    return e.what();
  }
  return "(no error)";
}

struct Guest {
  GuestMemory memory;
  Guest() { add_pc_memory(memory, kMem); }
  const uint8_t* at(uint64_t a) { return static_cast<const uint8_t*>(memory.host_ptr(a, 1)); }
};

LinuxBootOptions options(const std::string& kernel, std::string cmdline = "console=ttyS0") {
  LinuxBootOptions o;
  o.kernel_path = kernel;
  o.command_line = std::move(cmdline);
  o.mem_bytes = kMem;
  return o;
}

}  // namespace

TEST(KernelImage, ElfKeepsItsSegmentsAndSections) {
  auto k = parse_kernel_image("vmlinux", make_elf64());
  EXPECT_FALSE(k->bzimage);
  EXPECT_EQ(k->entry, kKernelBase);
  ASSERT_EQ(k->segments.size(), 1u);
  EXPECT_EQ(k->segments[0].paddr, kKernelBase);
  EXPECT_EQ(k->segments[0].memsz, 0x2000u);
  ASSERT_EQ(k->sections.size(), 3u);
  EXPECT_EQ(k->sections[1].name, ".text");
  EXPECT_EQ(k->sections[1].file_offset, 0x100u);
  EXPECT_EQ(k->sections[2].name, ".shstrtab");
  EXPECT_EQ(k->phys_end(), kKernelBase + 0x2000);
}

TEST(KernelImage, BzImageHeaderAndXzPayload) {
  const auto elf = make_elf64();
  const auto file = make_bzimage(xz(elf), uint32_t(elf.size()));
  auto h = parse_bzimage_header(file, "k");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->version, 0x020f);
  EXPECT_EQ(h->setup_sects, 3);
  EXPECT_EQ(h->payload_offset, 4 * 512 + 0x40u);
  EXPECT_EQ(h->cmdline_size, 2047u);
  auto k = parse_kernel_image("bz", file);
  ASSERT_TRUE(k->bzimage);
  EXPECT_EQ(k->payload_format, "xz");
  EXPECT_EQ(k->elf, elf);
  EXPECT_EQ(k->sha256, sha256(file.data(), file.size()));  // the file's, not the ELF's
  EXPECT_EQ(k->sections.size(), 3u);
}

TEST(KernelImage, GzipPayloadToo) {
  const auto elf = make_elf64();
  auto k = parse_kernel_image("bz", make_bzimage(gzip(elf), uint32_t(elf.size())));
  EXPECT_EQ(k->payload_format, "gzip");
  EXPECT_EQ(k->elf, elf);
}

TEST(KernelImage, BadInputIsOneLine) {
  const auto elf = make_elf64();
  auto bz = make_bzimage(xz(elf), uint32_t(elf.size()));
  // Truncated: the payload runs past the end.
  auto cut = bz;
  cut.resize(cut.size() - 100);
  EXPECT_NE(error_of([&] { parse_kernel_image("k", cut); }).find("truncated bzImage"), std::string::npos);
  // The header cut short.
  cut.resize(0x240);
  EXPECT_NE(error_of([&] { parse_kernel_image("k", cut); }).find("truncated bzImage"), std::string::npos);
  // A damaged XZ stream.
  auto damaged = bz;
  damaged[damaged.size() - 40] ^= 0xFF;
  EXPECT_NE(error_of([&] { parse_kernel_image("k", damaged); }).find("damaged or truncated"), std::string::npos);
  // Not a kernel at all.
  std::vector<uint8_t> text(4096, 'x');
  EXPECT_NE(error_of([&] { parse_kernel_image("k", text); }).find("not a Linux kernel"), std::string::npos);
  // A format rrvm does not decompress names itself.
  std::vector<uint8_t> zstd{0x28, 0xB5, 0x2F, 0xFD, 1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_NE(error_of([&] { parse_kernel_image("k", make_bzimage(zstd, 100)); }).find("zstd-compressed"), std::string::npos);
  // Too old a boot protocol for payload fields.
  EXPECT_NE(error_of([&] { parse_kernel_image("k", make_bzimage(xz(elf), uint32_t(elf.size()), 0x0206)); }).find("older than 2.08"),
            std::string::npos);
  // A 32-bit ELF.
  auto elf32 = elf;
  elf32[4] = 1;
  EXPECT_NE(error_of([&] { parse_kernel_image("k", elf32); }).find("32-bit ELF"), std::string::npos);
  for (const auto& e : {error_of([&] { parse_kernel_image("k", text); })}) EXPECT_EQ(e.find('\n'), std::string::npos);
}

TEST(LinuxLoader, PlacesKernelZeroPageCommandLineAndInitrd) {
  TempFile kernel(make_bzimage(xz(make_elf64()), 0));
  std::vector<uint8_t> cpio(10000, 0x5A);
  TempFile initrd(cpio);
  Guest g;
  LinuxBootOptions o = options(kernel.path(), "console=ttyS0 quiet");
  o.initrd_path = initrd.path();
  LoadedKernel k = load_linux(g.memory, o);

  // The kernel at its physical address, .bss zeroed.
  EXPECT_EQ(std::memcmp(g.at(kKernelBase), k.image->elf.data() + 0x100, 0x100), 0);
  EXPECT_EQ(*g.at(kKernelBase + 0x1000), 0);
  ASSERT_EQ(k.segment_addresses.size(), 1u);
  EXPECT_EQ(k.segment_addresses[0], kKernelBase);

  const uint8_t* zp = g.at(kBootParamsAddress);
  EXPECT_EQ(get(zp + 0x1fe, 2), 0xAA55u);
  EXPECT_EQ(get(zp + 0x202, 4), 0x53726448u);
  EXPECT_EQ(zp[0x210], 0xff);
  EXPECT_EQ(get(zp + 0x228, 4), kKernelCommandLineAddress);
  EXPECT_STREQ(reinterpret_cast<const char*>(g.at(kKernelCommandLineAddress)), "console=ttyS0 quiet");
  // screen_info: 80x25 colour VGA text.
  EXPECT_EQ(zp[0x06], 3);
  EXPECT_EQ(zp[0x07], 80);
  EXPECT_EQ(zp[0x0e], 25);
  EXPECT_EQ(zp[0x0f], 1);
  EXPECT_EQ(get(zp + 0x10, 2), 16u);
  // The initrd at the top of RAM, page aligned, as ramdisk_image/size say.
  ASSERT_TRUE(k.initrd);
  EXPECT_EQ(k.initrd->address, (kMem - 10000) & ~0xFFFull);
  EXPECT_EQ(get(zp + 0x218, 4), k.initrd->address);
  EXPECT_EQ(get(zp + 0x21c, 4), 10000u);
  EXPECT_EQ(*g.at(k.initrd->address + 9999), 0x5A);
  // e820: low RAM and RAM from 1 MiB.
  ASSERT_EQ(zp[0x1e8], 2);
  EXPECT_EQ(get(zp + 0x2d0, 8), 0u);
  EXPECT_EQ(get(zp + 0x2d8, 8), 0xA0000u);
  EXPECT_EQ(get(zp + 0x2e0, 4), 1u);
  EXPECT_EQ(get(zp + 0x2e4, 8), 0x100000u);
  EXPECT_EQ(get(zp + 0x2ec, 8), kMem - 0x100000);
  EXPECT_EQ(linux_e820_map(kMem), (std::vector<E820Entry>{{0, 0xA0000, 1}, {0x100000, kMem - 0x100000, 1}}));

  // Long mode at the entry, the zero page in RSI, identity-mapped 2 MiB pages.
  EXPECT_EQ(k.initial.rip, kKernelBase);
  EXPECT_EQ(k.initial.rsi, kBootParamsAddress);
  EXPECT_EQ(k.initial.cs.l, 1);
  EXPECT_EQ(k.initial.cs.selector, 0x10);
  EXPECT_EQ(k.initial.ds.selector, 0x18);
  EXPECT_EQ(k.initial.efer & 0x500, 0x500u);
  EXPECT_EQ(k.initial.cr3, kLinuxPageTablesAddress);
  const uint64_t pml4e = get(g.at(k.initial.cr3), 8);
  const uint64_t pdpte = get(g.at(pml4e & ~0xFFFull), 8);
  const uint64_t pde8 = get(g.at((pdpte & ~0xFFFull) + 8 * 8), 8);  // 16 MiB
  EXPECT_EQ(pde8 & ~0xFFFull, kKernelBase);
  EXPECT_EQ(pde8 & 0x83, 0x83u);
  const uint64_t gdt_code = get(g.at(kLinuxGdtAddress + 0x10), 8);
  EXPECT_EQ(gdt_code, 0x00AF9B000000FFFFull);
}

TEST(LinuxLoader, RefusesWhatCannotBoot) {
  TempFile kernel(make_elf64());
  Guest g;
  // The command line too long (x86's COMMAND_LINE_SIZE less its NUL).
  EXPECT_NE(error_of([&] { load_linux(g.memory, options(kernel.path(), std::string(2048, 'a'))); }).find("at most 2047"),
            std::string::npos);
  EXPECT_EQ(error_of([&] { load_linux(g.memory, options(kernel.path(), std::string(2047, 'a'))); }), "(no error)");
  // A missing initrd.
  LinuxBootOptions o = options(kernel.path());
  o.initrd_path = "/nonexistent/initrd.cpio";
  EXPECT_NE(error_of([&] { load_linux(g.memory, o); }).find("initrd '/nonexistent/initrd.cpio'"), std::string::npos);
  // An initrd larger than the RAM above the kernel.
  TempFile big(std::vector<uint8_t>(kMem - kKernelBase, 1));
  o.initrd_path = big.path();
  EXPECT_NE(error_of([&] { load_linux(g.memory, o); }).find("do not fit in guest RAM"), std::string::npos);
  // A kernel beyond RAM.
  GuestMemory tiny;
  add_pc_memory(tiny, 8ull << 20);
  EXPECT_NE(error_of([&] { load_linux(tiny, options(kernel.path())); }).find("outside guest RAM"), std::string::npos);
  // A missing kernel, and a file that is no kernel.
  EXPECT_NE(error_of([&] { load_linux(g.memory, options("/nonexistent/vmlinuz")); }).find("kernel '/nonexistent/vmlinuz'"),
            std::string::npos);
  TempFile text(std::vector<uint8_t>(4096, 'x'));
  EXPECT_NE(error_of([&] { load_linux(g.memory, options(text.path())); }).find("not a Linux kernel"), std::string::npos);
}
