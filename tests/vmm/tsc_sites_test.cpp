// vmm/tsc_sites: the scanner finds every rdtsc/rdtscp that a linear sweep
// of the executable sections decodes as an instruction, and nothing else;
// the patch turns each into the out that exits to rrvm. The ELF images are
// assembled by the build (tests/vmm/tsc_elf/); Debian's vmlinux, where the
// nested harness cached it, is checked against objdump's disassembly.
#include "vmm/tsc_sites.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "vmm/file_read.h"
#include "vmm/guest_memory.h"

namespace rrvm {
namespace {

std::vector<uint8_t> read_all(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return {};
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  std::fclose(f);
  return out;
}

struct Expect {
  const char* path;
  uint64_t base, phys;
};

void check_image(const Expect& x, bool elf64) {
  const std::vector<uint8_t> elf = read_all(x.path);
  ASSERT_FALSE(elf.empty()) << x.path;
  const TscScan scan = find_tsc_reads(elf);
  EXPECT_EQ(scan.elf64, elf64);
  // The layout tsc_sites.asm documents (addresses as objdump lists them).
  const std::vector<TscSite> want = {
      {x.base + 0x01, x.phys + 0x01, TscReadKind::Rdtsc, 2, ".text"},
      {x.base + 0x0D, x.phys + 0x0D, TscReadKind::Rdtscp, 3, ".text"},
      {x.base + 0x13, x.phys + 0x13, TscReadKind::Rdtsc, 2, ".text"},
      {x.base + 0x22, x.phys + 0x22, TscReadKind::Rdtsc, 2, ".init.text"},
      {x.base + 0x28, x.phys + 0x28, TscReadKind::Rdtsc, 2, ".altinstr_replacement"},
      {x.base + 0x2A, x.phys + 0x2A, TscReadKind::Rdtscp, 3, ".altinstr_replacement"},
  };
  EXPECT_EQ(scan.sites, want);
  ASSERT_EQ(scan.sections.size(), 3u);  // .rodata is not executable
  EXPECT_EQ(scan.sections[0].name, ".text");
  EXPECT_EQ(scan.sections[0].rdtsc, 2u);
  EXPECT_EQ(scan.sections[0].rdtscp, 1u);
  EXPECT_EQ(scan.sections[2].name, ".altinstr_replacement");
  EXPECT_EQ(scan.sections[2].rdtsc + scan.sections[2].rdtscp, 2u);
  for (const auto& s : scan.sections) EXPECT_EQ(s.undecodable, 0u) << s.name;

  // A byte search would also take the immediates and the displacement.
  const uint8_t rdtsc[] = {0x0F, 0x31};
  size_t naive = 0;
  for (auto it = elf.begin(); (it = std::search(it, elf.end(), rdtsc, rdtsc + 2)) != elf.end(); ++it) ++naive;
  EXPECT_GE(naive, 4u + 2u + 1u);  // 4 real rdtsc, the immediate, the displacement, .rodata

  // Patched into memory loaded by the program headers (the loaded segment
  // is the file's bytes from .text's offset on).
  GuestMemory mem;
  mem.add_slot(0, 32ull << 20, "ram");
  const uint64_t text_off = x.phys == 0x100000 ? 0x1000 : 0x1000;
  ASSERT_TRUE(mem.write(x.phys, elf.data() + text_off, 0x35));
  // One site's bytes changed already: left alone.
  const uint8_t other[] = {0x90, 0x90};
  ASSERT_TRUE(mem.write(x.phys + 0x22, other, 2));
  const TscPatchResult r = patch_tsc_reads(mem, scan.sites);
  EXPECT_EQ(r.patched, 5u);
  EXPECT_EQ(r.skipped, 1u);
  uint8_t got[0x35];
  ASSERT_TRUE(mem.read(x.phys, got, sizeof got));
  EXPECT_EQ(got[0x01], 0xE6);
  EXPECT_EQ(got[0x02], kTscReadPort);
  EXPECT_EQ(got[0x0D], 0xE6);
  EXPECT_EQ(got[0x0E], kTscReadAuxPort);
  EXPECT_EQ(got[0x0F], 0x90);
  EXPECT_EQ(got[0x05], 0x0F);  // the immediate's bytes stay
  EXPECT_EQ(got[0x06], 0x31);
  EXPECT_EQ(got[0x22], 0x90);  // the site whose bytes had changed
  EXPECT_EQ(got[0x28], 0xE6);
  EXPECT_EQ(got[0x2A], 0xE6);
}

TEST(TscSites, Elf32SitesAreInstructionStartsInExecutableSections) {
  check_image({RRVM_TSC_ELF32, 0xC0100000, 0x100000}, false);
}

TEST(TscSites, Elf64SitesAreInstructionStartsInExecutableSections) {
  check_image({RRVM_TSC_ELF64, 0xffffffff81000000ull, 0x1000000}, true);
}

TEST(TscSites, PatchBytesAreTheSameLengthAndExitToTheReservedPorts) {
  EXPECT_EQ(tsc_patch_bytes(TscReadKind::Rdtsc), (std::vector<uint8_t>{0xE6, 0xE2}));
  EXPECT_EQ(tsc_patch_bytes(TscReadKind::Rdtscp), (std::vector<uint8_t>{0xE6, 0xE3, 0x90}));
}

TEST(TscSites, RejectsWhatIsNotAnX86Elf) {
  std::vector<uint8_t> junk(64, 0);
  EXPECT_THROW(find_tsc_reads(junk), std::invalid_argument);
  std::vector<uint8_t> elf = read_all(RRVM_TSC_ELF64);
  ASSERT_GT(elf.size(), 64u);
  elf[18] = 40;  // e_machine: ARM
  EXPECT_THROW(find_tsc_reads(elf), std::invalid_argument);
  elf = read_all(RRVM_TSC_ELF64);
  elf.resize(0x800);  // section headers cut off
  EXPECT_THROW(find_tsc_reads(elf), std::invalid_argument);
}

// Debian's kernel (the nested harness's cache): the sites are exactly the
// rdtsc/rdtscp instructions objdump's disassembly lists.
TEST(TscSites, DebianVmlinuxMatchesObjdump) {
  std::string cache = std::getenv("RRVM_NESTED_CACHE") ? std::getenv("RRVM_NESTED_CACHE")
                                                       : std::string(RRVM_SOURCE_DIR) + "/.cache/nested";
  const std::string vmlinux = cache + "/kernel/vmlinux";
  if (!std::filesystem::exists(vmlinux)) GTEST_SKIP() << vmlinux << " not present (tests/nested/prepare.sh)";
  const TscScan scan = find_tsc_reads(read_all(vmlinux));
  EXPECT_TRUE(scan.elf64);
  std::set<std::pair<uint64_t, std::string>> ours, theirs;
  for (const auto& s : scan.sites) {
    ours.emplace(s.vaddr, s.kind == TscReadKind::Rdtsc ? "rdtsc" : "rdtscp");
    EXPECT_TRUE(s.paddr) << std::hex << s.vaddr;
  }
  const std::string cmd = "objdump -d --no-show-raw-insn '" + vmlinux + "'";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_TRUE(p);
  char line[4096];
  while (std::fgets(line, sizeof line, p)) {
    unsigned long long addr;
    char mnem[32];
    if (std::sscanf(line, " %llx:\t%31s", &addr, mnem) != 2) continue;
    const std::string m = mnem;
    if (m == "rdtsc" || m == "rdtscp") theirs.emplace(addr, m);
  }
  ASSERT_EQ(pclose(p), 0);
  EXPECT_EQ(ours, theirs);
  std::map<std::string, uint64_t> per;
  for (const auto& s : scan.sites) ++per[s.section];
  std::string summary;
  for (const auto& [name, n] : per) summary += " " + name + "=" + std::to_string(n);
  RecordProperty("sites", std::to_string(scan.sites.size()));
  std::printf("vmlinux: %zu TSC reads:%s\n", scan.sites.size(), summary.c_str());
  for (const auto& s : scan.sections)
    std::printf("  %-24s %9llu bytes  rdtsc %llu rdtscp %llu  undecodable bytes %llu\n", s.name.c_str(),
                (unsigned long long)s.size, (unsigned long long)s.rdtsc, (unsigned long long)s.rdtscp,
                (unsigned long long)s.undecodable);
}

}  // namespace
}  // namespace rrvm
