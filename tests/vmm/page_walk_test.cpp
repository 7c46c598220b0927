// linear_to_physical against page tables built by hand in guest memory, in
// every paging mode, with the large-page sizes and the ways a walk fails.
#include "vmm/page_walk.h"

#include <gtest/gtest.h>

namespace rrvm {
namespace {

constexpr uint64_t kP = 1, kRw = 2, kPs = 1ull << 7;

class PageWalk : public ::testing::Test {
 protected:
  void SetUp() override { mem.add_slot(0, 16ull << 20, "ram"); }
  void put64(uint64_t gpa, uint64_t v) { ASSERT_TRUE(mem.write(gpa, &v, 8)); }
  void put32(uint64_t gpa, uint32_t v) { ASSERT_TRUE(mem.write(gpa, &v, 4)); }
  std::optional<uint64_t> tr(uint64_t linear) { return linear_to_physical(regs, mem, linear); }
  GuestMemory mem;
  Registers regs;
};

TEST_F(PageWalk, NoPagingIsIdentityWithin4GiB) {
  regs.cr0 = 0x11;
  EXPECT_EQ(tr(0x7C00), 0x7C00u);
  EXPECT_EQ(tr(0x1'0000'1234ull), 0x1234u);  // 32-bit linear addresses wrap
}

TEST_F(PageWalk, ThirtyTwoBitWith4KiBAnd4MiBPages) {
  regs.cr0 = 0x80000011;
  regs.cr3 = 0x10000;
  regs.cr4 = 1u << 4;                         // PSE
  put32(0x10000 + 1 * 4, 0x20000 | kP | kRw);  // PDE for 0x00400000..: a page table
  put32(0x20000 + 3 * 4, 0x345000 | kP);       // PTE 3 -> frame 0x345000
  put32(0x10000 + 2 * 4, 0x00C00000 | kP | kPs);  // 4 MiB page for 0x00800000..
  EXPECT_EQ(tr(0x00403ABC), 0x345ABCu);
  EXPECT_EQ(tr(0x008FFFFF), 0xCFFFFFu);
  EXPECT_EQ(tr(0x00404000), std::nullopt);  // PTE 4 not present
  EXPECT_EQ(tr(0x00000000), std::nullopt);  // PDE 0 not present
  // Without CR4.PSE the PS bit is ignored: the entry names a page table.
  regs.cr4 = 0;
  put32(0x00C00000 + 0xFF * 4, 0x111000 | kP);  // PTE 0xff of 0x008FF000
  EXPECT_EQ(tr(0x008FFFFF), 0x111FFFu);
}

TEST_F(PageWalk, Pse36HighBitsOfA4MiBPage) {
  regs.cr0 = 0x80000011;
  regs.cr3 = 0x10000;
  regs.cr4 = 1u << 4;
  put32(0x10000, 0x00400000u | (0x3u << 13) | kP | kPs);  // physical bits 33:32 = 3
  EXPECT_EQ(tr(0x1234), 0x3'0040'1234ull);
}

TEST_F(PageWalk, PaeWith2MiBAnd4KiBPages) {
  regs.cr0 = 0x80000011;
  regs.cr4 = 1u << 5;  // PAE
  regs.cr3 = 0x30000;
  put64(0x30000 + 1 * 8, 0x40000 | kP);              // PDPTE 1: linear 0x40000000..
  put64(0x40000 + 0 * 8, 0x600000 | kP | kRw | kPs);  // 2 MiB page
  put64(0x40000 + 1 * 8, 0x50000 | kP | kRw);         // a page table
  put64(0x50000 + 7 * 8, 0x789000 | kP);
  EXPECT_EQ(tr(0x40012345), 0x612345u);
  EXPECT_EQ(tr(0x40207FFF), 0x789FFFu);
  EXPECT_EQ(tr(0x00000000), std::nullopt);  // PDPTE 0 not present
}

TEST_F(PageWalk, LongModeFourLevelsWithLargePagesAndCanonicalCheck) {
  regs.cr0 = 0x80000011;
  regs.cr4 = 1u << 5;
  regs.efer = (1u << 8) | (1u << 10);  // LME | LMA
  regs.cr3 = 0x100000;
  // Higher half: linear 0xFFFFFFFF80000000 = PML4 511, PDPT 510, PD 0.
  put64(0x100000 + 511 * 8, 0x101000 | kP | kRw);
  put64(0x101000 + 510 * 8, 0x102000 | kP | kRw);
  put64(0x102000 + 0 * 8, 0x200000 | kP | kRw | kPs);  // 2 MiB at 0x200000
  put64(0x102000 + 1 * 8, 0x103000 | kP | kRw);
  put64(0x103000 + 2 * 8, 0xABC000 | kP);
  // Low: PML4 0, PDPT 1 -> a 1 GiB page at 0x40000000.
  put64(0x100000 + 0 * 8, 0x104000 | kP | kRw);
  put64(0x104000 + 1 * 8, 0x40000000 | kP | kRw | kPs);
  EXPECT_EQ(tr(0xFFFFFFFF80012345ull), 0x212345u);
  EXPECT_EQ(tr(0xFFFFFFFF80202FEDull), 0xABCFEDu);
  EXPECT_EQ(tr(0x7FFFFFFFull), 0x7FFFFFFFu);
  EXPECT_EQ(tr(0x0000800000000000ull), std::nullopt);  // not canonical
  EXPECT_EQ(tr(0xFFFFFFFF80400000ull), std::nullopt);  // PD 2 not present
  // A table entry that points outside RAM ends the walk.
  put64(0x104000 + 2 * 8, 0x7000000000ull | kP | kRw);
  EXPECT_EQ(tr(0x80000000ull), std::nullopt);
}

TEST_F(PageWalk, FiveLevelsWithLa57) {
  regs.cr0 = 0x80000011;
  regs.cr4 = (1u << 5) | (1u << 12);
  regs.efer = (1u << 8) | (1u << 10);
  regs.cr3 = 0x100000;
  put64(0x100000, 0x101000 | kP);  // PML5 0
  put64(0x101000, 0x102000 | kP);  // PML4 0
  put64(0x102000, 0x103000 | kP);  // PDPT 0
  put64(0x103000, 0x000000 | kP | kPs);  // 2 MiB identity
  EXPECT_EQ(tr(0x1FFFFF), 0x1FFFFFu);
  EXPECT_EQ(tr(0x0100000000000000ull), std::nullopt);  // canonical for 57 bits but PML5 1 absent
}

}  // namespace
}  // namespace rrvm
