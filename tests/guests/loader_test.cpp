// Image loader: raw and ELF32 images land where they should, start in the
// right CPU state, and every malformed file is refused with one clear line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "tests/guests/guest_oracle.h"
#include "vmm/image_loader.h"

using namespace rrvm;

namespace {

constexpr uint64_t kRam = 4 * 1024 * 1024;

// A file in the test's temporary directory, removed afterwards.
class TempFile {
 public:
  explicit TempFile(const std::vector<uint8_t>& bytes) {
    path_ = ::testing::TempDir() + "rrvm_loader_" + std::to_string(getpid()) + "_" +
            std::to_string(counter_++) + ".img";
    std::ofstream out(path_, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

void put16(std::vector<uint8_t>& b, size_t off, uint16_t v) {
  b[off] = v & 0xFF;
  b[off + 1] = v >> 8;
}
void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

struct Segment32 {
  uint32_t type = 1;  // PT_LOAD
  uint32_t paddr = 0;
  std::vector<uint8_t> data;
  uint32_t memsz = 0;  // 0: same as data size
};

// Builds an ELF32 i386 executable byte by byte (layout per the System V ABI):
// header, program headers, then the segment data.
std::vector<uint8_t> make_elf(uint32_t entry, const std::vector<Segment32>& segs) {
  const size_t phoff = 52, phsize = 32;
  size_t data_off = phoff + phsize * segs.size();
  std::vector<uint8_t> b(data_off, 0);
  const uint8_t ident[] = {0x7F, 'E', 'L', 'F', 1, 1, 1};
  std::memcpy(b.data(), ident, sizeof ident);
  put16(b, 16, 2);  // ET_EXEC
  put16(b, 18, 3);  // EM_386
  put32(b, 20, 1);
  put32(b, 24, entry);
  put32(b, 28, phoff);
  put16(b, 40, 52);
  put16(b, 42, phsize);
  put16(b, 44, static_cast<uint16_t>(segs.size()));
  for (size_t i = 0; i < segs.size(); ++i) {
    const size_t ph = phoff + i * phsize;
    put32(b, ph, segs[i].type);
    put32(b, ph + 4, static_cast<uint32_t>(b.size()));
    put32(b, ph + 8, segs[i].paddr);
    put32(b, ph + 12, segs[i].paddr);
    put32(b, ph + 16, static_cast<uint32_t>(segs[i].data.size()));
    put32(b, ph + 20, segs[i].memsz ? segs[i].memsz : static_cast<uint32_t>(segs[i].data.size()));
    b.insert(b.end(), segs[i].data.begin(), segs[i].data.end());
  }
  return b;
}

LoadOptions options(std::optional<uint64_t> load_address, std::optional<uint64_t> entry) {
  LoadOptions o;
  o.load_address = load_address;
  o.entry = entry;
  return o;
}

std::vector<uint8_t> good_elf() {
  return make_elf(0x100010, {{1, 0x100000, std::vector<uint8_t>(64, 0x90), 0x2000}});
}

// Runs the loader on `bytes` and returns the ImageError message ("" if none).
std::string load_error(const std::vector<uint8_t>& bytes, LoadOptions options = {}) {
  GuestMemory mem;
  mem.add_slot(0, kRam, "ram");
  TempFile f(bytes);
  try {
    load_image(mem, f.path(), options);
  } catch (const ImageError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(f.path()), std::string::npos) << "message must name the file: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "message must be one line: " << msg;
    return msg;
  }
  return "";
}

}  // namespace

TEST(RealModeState, SegmentsAreSelectorTimes16) {
  Registers r = real_mode_state(0x1234, 0x10);
  EXPECT_EQ(r.cs.selector, 0x1234);
  EXPECT_EQ(r.cs.base, 0x12340u);
  EXPECT_EQ(r.cs.limit, 0xFFFFu);
  EXPECT_EQ(r.pc_linear(), 0x12350u);
  EXPECT_EQ(r.ds.base, 0u);
  EXPECT_EQ(r.ss.limit, 0xFFFFu);
  EXPECT_FALSE(r.protected_mode());
  EXPECT_FALSE(r.interrupts_enabled());
  EXPECT_EQ(r.rsp, 0x7C00u);
}

TEST(Flat32State, FlatSegmentsAndGdtMatch) {
  Registers r = flat32_state(0x100000);
  EXPECT_TRUE(r.protected_mode());
  EXPECT_FALSE(r.interrupts_enabled());
  EXPECT_EQ(r.rip, 0x100000u);
  EXPECT_EQ(r.cs.selector, 0x08);
  EXPECT_EQ(r.cs.db, 1);
  EXPECT_EQ(r.cs.type & 0x8, 0x8);  // code
  for (const Segment* s : {&r.cs, &r.ds, &r.es, &r.fs, &r.gs, &r.ss}) {
    EXPECT_EQ(s->base, 0u);
    EXPECT_EQ(s->limit, 0xFFFFFFFFu);
    EXPECT_EQ(s->g, 1);
    EXPECT_EQ(s->db, 1);
    EXPECT_EQ(s->present, 1);
  }
  for (const Segment* s : {&r.ds, &r.es, &r.fs, &r.gs, &r.ss}) EXPECT_EQ(s->selector, 0x10);
  EXPECT_EQ(r.gdt.base, kFlatGdtAddress);
  EXPECT_EQ(r.gdt.limit, 23);
  EXPECT_GT(r.rsp, kFlatGdtAddress + 24);

  // The descriptors in memory must decode to the hidden parts above, or a
  // guest reloading DS would change its segment.
  GuestMemory mem;
  mem.add_slot(0, 0x10000, "ram");
  write_flat_gdt(mem);
  uint64_t gdt[3];
  ASSERT_TRUE(mem.read(kFlatGdtAddress, gdt, sizeof gdt));
  EXPECT_EQ(gdt[0], 0u);
  for (int sel : {1, 2}) {
    const uint64_t d = gdt[sel];
    const uint32_t limit = (d & 0xFFFF) | ((d >> 48) & 0xF) << 16;
    const uint32_t base = ((d >> 16) & 0xFFFFFF) | ((d >> 56) & 0xFF) << 24;
    const Segment& s = sel == 1 ? r.cs : r.ds;
    EXPECT_EQ(base, s.base);
    EXPECT_EQ(limit, 0xFFFFFu);  // 4 KiB units: 4 GiB
    EXPECT_EQ((d >> 40) & 0xF, s.type);
    EXPECT_EQ((d >> 44) & 1, s.s);
    EXPECT_EQ((d >> 47) & 1, s.present);
    EXPECT_EQ((d >> 54) & 1, s.db);
    EXPECT_EQ((d >> 55) & 1, s.g);
  }
}

TEST(LoadImage, RawImageAtBootSector) {
  std::vector<uint8_t> bytes(1024);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7);
  GuestMemory mem;
  mem.add_slot(0, kRam, "ram");
  TempFile f(bytes);
  LoadedImage img = load_image(mem, f.path(), {});
  EXPECT_FALSE(img.elf);
  EXPECT_EQ(img.file_size, 1024u);
  EXPECT_EQ(img.sha256, sha256(bytes.data(), bytes.size()));
  std::vector<uint8_t> back(1024);
  ASSERT_TRUE(mem.read(0x7C00, back.data(), back.size()));
  EXPECT_EQ(back, bytes);
  EXPECT_EQ(img.initial, real_mode_state(0, 0x7C00));
}

TEST(LoadImage, RawImageLoadAddressAndEntry) {
  std::vector<uint8_t> bytes(16, 0xF4);
  GuestMemory mem;
  mem.add_slot(0, kRam, "ram");
  TempFile f(bytes);
  LoadedImage img = load_image(mem, f.path(), options(0x20000, 0x20004));
  uint8_t b = 0;
  ASSERT_TRUE(mem.read(0x2000F, &b, 1));
  EXPECT_EQ(b, 0xF4);
  EXPECT_EQ(img.initial.pc_linear(), 0x20004u);
  EXPECT_FALSE(img.initial.protected_mode());
}

TEST(LoadImage, RawImageErrors) {
  EXPECT_NE(load_error({}).find("empty"), std::string::npos);
  EXPECT_NE(load_error(std::vector<uint8_t>(16), options(kRam - 8, std::nullopt)).find("do not fit"),
            std::string::npos);
  EXPECT_NE(load_error(std::vector<uint8_t>(16), options(~0ull - 4, std::nullopt)).find("do not fit"),
            std::string::npos);
  EXPECT_NE(load_error(std::vector<uint8_t>(16), options(std::nullopt, 0x100000)).find("real mode"), std::string::npos);

  GuestMemory mem;
  mem.add_slot(0, kRam, "ram");
  try {
    load_image(mem, "/nonexistent/rrvm/guest.bin", {});
    FAIL() << "no error for a missing file";
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/rrvm/guest.bin"), std::string::npos);
  }
}

TEST(LoadImage, ElfSegmentsByPhysicalAddressWithBssZeroed) {
  GuestMemory mem;
  mem.add_slot(0, kRam, "ram");
  // Dirt where .bss goes proves the loader clears it rather than trusting RAM.
  std::vector<uint8_t> dirt(0x3000, 0xCC);
  mem.write(0x100000, dirt.data(), dirt.size());
  std::vector<uint8_t> text = {0xB0, 0x01, 0xE6, 0xF4};
  std::vector<uint8_t> data = {1, 2, 3, 4, 5};
  auto bytes = make_elf(0x100000, {{1, 0x100000, text, 0}, {4 /*PT_NOTE*/, 0x300000, {9, 9}, 0},
                                   {1, 0x101000, data, 0x1800}});
  TempFile f(bytes);
  LoadedImage img = load_image(mem, f.path(), {});
  EXPECT_TRUE(img.elf);
  EXPECT_EQ(img.sha256, sha256(bytes.data(), bytes.size()));
  std::vector<uint8_t> back(4);
  mem.read(0x100000, back.data(), 4);
  EXPECT_EQ(back, text);
  std::vector<uint8_t> seg2(0x1800);
  mem.read(0x101000, seg2.data(), seg2.size());
  EXPECT_TRUE(std::equal(data.begin(), data.end(), seg2.begin()));
  EXPECT_TRUE(std::all_of(seg2.begin() + 5, seg2.end(), [](uint8_t v) { return v == 0; }));
  uint8_t after = 0;
  mem.read(0x102800, &after, 1);
  EXPECT_EQ(after, 0xCC);  // nothing written past p_memsz
  uint8_t note = 0;
  mem.read(0x300000, &note, 1);
  EXPECT_EQ(note, 0);  // non-PT_LOAD headers are not loaded

  Registers expected = flat32_state(0x100000);
  EXPECT_EQ(img.initial, expected);
  uint64_t code_descriptor = 0;
  mem.read(kFlatGdtAddress + 8, &code_descriptor, 8);
  EXPECT_EQ(code_descriptor, 0x00CF9B000000FFFFull);

  LoadedImage over = load_image(mem, f.path(), options(std::nullopt, 0x100002));
  EXPECT_EQ(over.initial.rip, 0x100002u);
}

TEST(LoadImage, CorruptElfRefused) {
  auto expect_error = [](std::vector<uint8_t> bytes, const char* word) {
    std::string msg = load_error(bytes);
    EXPECT_NE(msg.find(word), std::string::npos) << "wanted '" << word << "' in: " << msg;
  };
  auto good = good_elf();
  ASSERT_EQ(load_error(good), "");

  expect_error({0x7F, 'E', 'L', 'F', 1, 1}, "truncated");
  auto b64 = good;
  b64[4] = 2;
  expect_error(b64, "64-bit");
  auto arm = good;
  put16(arm, 18, 40);
  expect_error(arm, "i386");
  auto rel = good;
  put16(rel, 16, 1);
  expect_error(rel, "executable");
  auto big_endian = good;
  big_endian[5] = 2;
  expect_error(big_endian, "big-endian");
  auto phoff = good;
  put32(phoff, 28, 0xFFFFFFF0);
  expect_error(phoff, "past the end");
  auto phnum = good;
  put16(phnum, 44, 0xFFFF);
  expect_error(phnum, "past the end");
  auto small_ph = good;
  put16(small_ph, 42, 8);
  expect_error(small_ph, "too small");
  auto no_ph = good;
  put16(no_ph, 44, 0);
  expect_error(no_ph, "no program headers");
  auto trunc = good;
  trunc.erase(trunc.end() - 10, trunc.end());  // not resize(size() - 10): GCC 12 -O1 + ASan warns it might grow
  expect_error(trunc, "past the end of the file");
  auto offset_wrap = good;
  put32(offset_wrap, 52 + 4, 0xFFFFFFFF);
  expect_error(offset_wrap, "past the end of the file");
  auto filesz = good;
  put32(filesz, 52 + 16, 0x3000);
  expect_error(filesz, "p_filesz > p_memsz");
  auto outside = good;
  put32(outside, 52 + 12, kRam - 0x100);
  expect_error(outside, "outside guest RAM");
  auto wrap = good;
  put32(wrap, 52 + 12, 0xFFFFF000);
  put32(wrap, 52 + 20, 0xFFFFFFFF);
  expect_error(wrap, "outside guest RAM");
  auto gdt = good;
  put32(gdt, 52 + 12, 0x400);
  expect_error(gdt, "GDT");
  auto entry = good;
  put32(entry, 24, 0xF0000000);
  expect_error(entry, "entry");
  auto note_only = good;
  put32(note_only, 52, 4);
  expect_error(note_only, "PT_LOAD");
  EXPECT_NE(load_error(good, options(0x1000, std::nullopt)).find("raw images only"), std::string::npos);
}

// The flat32 guest, linked by the real toolchain (nasm + ld -m elf_i386).
TEST(LoadImage, ToolchainBuiltElfGuest) {
  GuestMemory mem;
  mem.add_slot(0, kRam, "ram");
  LoadedImage img = load_image(mem, RRVM_GUEST_DIR "/flat32.elf", {});
  EXPECT_TRUE(img.elf);
  EXPECT_TRUE(img.initial.protected_mode());
  EXPECT_GE(img.initial.rip, 0x100000u);
  // The multiboot header (magic 0x1BADB002) is the first thing at 1 MiB.
  uint32_t magic = 0;
  mem.read(0x100000, &magic, 4);
  EXPECT_EQ(magic, 0x1BADB002u);
}

// Every raw guest must boot both ways: as a BIOS boot sector (0xAA55 at 510,
// whole sectors for int 13h) and from rrvm's whole-file load, where the
// "RRVM" word at the start of sector 2 tells the stub not to call the BIOS.
TEST(LoadImage, RawGuestsAreDualBootable) {
  for (const auto& spec : guests::load_guest_specs()) {
    if (spec.elf) continue;
    SCOPED_TRACE(spec.name);
    GuestMemory mem;
    mem.add_slot(0, kRam, "ram");
    LoadedImage img = load_image(mem, spec.image_path, {});
    EXPECT_FALSE(img.elf);
    EXPECT_EQ(img.file_size % 512, 0u);
    EXPECT_GE(img.file_size, 1024u);
    EXPECT_LE(img.file_size, 63u * 512);  // stub reads at most 62 sectors in one track
    uint16_t boot_signature = 0;
    uint32_t rest_signature = 0;
    mem.read(0x7C00 + 510, &boot_signature, 2);
    mem.read(0x7C00 + 512, &rest_signature, 4);
    EXPECT_EQ(boot_signature, 0xAA55);
    EXPECT_EQ(rest_signature, 0x4D565252u);  // "RRVM"
    EXPECT_EQ(img.initial, real_mode_state(0, 0x7C00));
  }
}
